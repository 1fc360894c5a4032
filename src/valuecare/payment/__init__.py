"""Payment: settling value-based contracts on results of the stages before it.

- :func:`settle_mssp` -- Medicare Shared Savings Program shared savings and losses for one
  ACO (42 CFR 425.605, 425.610), from :class:`AcoPerformance` to :class:`MsspSettlement`;
  :func:`settle_file` settles a CSV of ACOs (``valuecare settle mssp``).
- :func:`updated_benchmark` and :func:`historical_benchmark` -- the MSSP benchmark from
  per-capita expenditures (42 CFR 425.601).
- :func:`load_params` -- the packaged MSSP parameters, each with its source and whether it
  was verified.

See docs/payment-models.md.
"""

from __future__ import annotations

from valuecare.payment.mssp import AcoPerformance, MsspSettlement, settle_mssp
from valuecare.payment.mssp_benchmark import (
    BenchmarkYear,
    EnrollmentInputs,
    UpdatedBenchmark,
    historical_benchmark,
    updated_benchmark,
)
from valuecare.payment.mssp_csv import settle_file, write_settlements
from valuecare.payment.mssp_params import MsspParams, Track, load_params, variable_msr

__all__ = [
    "AcoPerformance",
    "BenchmarkYear",
    "EnrollmentInputs",
    "MsspParams",
    "MsspSettlement",
    "Track",
    "UpdatedBenchmark",
    "historical_benchmark",
    "load_params",
    "settle_file",
    "settle_mssp",
    "updated_benchmark",
    "variable_msr",
    "write_settlements",
]
