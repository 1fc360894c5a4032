"""Fair comparison of providers: expected outcomes, O/E, funnel limits and Bayesian flags.

Stage "comparison & value" of DESIGN.md §1, following the reference sheet §8:
indirect standardization (:mod:`.expected`), funnel plots after Spiegelhalter 2005
(:mod:`.funnel`, :mod:`.charts`) and exact Poisson intervals with SRTR's Bayesian flags
(:mod:`.flags`).  Everything here works on small per-provider pandas frames pulled from
the engine.
"""

from valuecare.compare.expected import (
    ExpectedModel,
    estimate_gamma_strength,
    fit_expected,
    provider_oe,
    random_intercept_pe,
)
from valuecare.compare.flags import SrtrFlag, poisson_ci, ratio_ci, srtr_flag, srtr_flags
from valuecare.compare.funnel import (
    dersimonian_laird_tau2,
    exact_binomial_limits,
    exact_poisson_limits,
    funnel_table,
    proportion_limits,
    ratio_limits,
    winsorized_phi,
    z_for_level,
)

_CHARTS = ("funnel_chart", "limit_curves", "save_chart", "value_chart")


def __getattr__(name: str) -> object:
    """Chart helpers load altair on first use only (pipeline runs need no charts)."""
    if name in _CHARTS:
        from valuecare.compare import charts

        return getattr(charts, name)
    raise AttributeError(f"module 'valuecare.compare' has no attribute {name!r}")


__all__ = [
    "ExpectedModel",
    "SrtrFlag",
    "dersimonian_laird_tau2",
    "estimate_gamma_strength",
    "exact_binomial_limits",
    "exact_poisson_limits",
    "fit_expected",
    "funnel_chart",
    "funnel_table",
    "limit_curves",
    "poisson_ci",
    "proportion_limits",
    "provider_oe",
    "ratio_ci",
    "random_intercept_pe",
    "ratio_limits",
    "save_chart",
    "srtr_flag",
    "srtr_flags",
    "value_chart",
    "winsorized_phi",
    "z_for_level",
]
