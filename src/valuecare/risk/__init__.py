"""Risk adjustment: CMS-HCC risk scores (V24, V28) and comorbidity indices (Elixhauser with
van Walraven weights, Charlson) computed in the engine."""

from valuecare.risk.comorbidity import charlson, elixhauser
from valuecare.risk.comorbidity_tables import ComorbidityTables, load_comorbidity_tables
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
    "ComorbidityTables",
    "HccTables",
    "blend",
    "charlson",
    "elixhauser",
    "hcc_scores",
    "load_comorbidity_tables",
    "load_tables",
]
