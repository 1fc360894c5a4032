"""Risk adjustment: CMS-HCC risk scores (V24, V28) computed in the engine."""

from valuecare.risk.hcc import (
    MA_CODING_ADJUSTMENT,
    NORMALIZATION_FACTORS,
    PHASE_IN,
    blend,
    hcc_scores,
)
from valuecare.risk.hcc_tables import HccTables, load_tables

__all__ = [
    "MA_CODING_ADJUSTMENT",
    "NORMALIZATION_FACTORS",
    "PHASE_IN",
    "HccTables",
    "blend",
    "hcc_scores",
    "load_tables",
]
