"""Exact Poisson intervals for observed counts and O/E, and SRTR's Bayesian program flags.

Sources
-------
* Garwood F. Fiducial limits for the Poisson distribution. *Biometrika* 1936;28:437-442:
  the exact (central) interval for a Poisson count O is
  ``[chi2(α/2; 2O)/2, chi2(1-α/2; 2O+2)/2]``, with the lower limit 0 when O = 0.
  Dividing by a fixed expected count E gives the interval for O/E (reference sheet §8.1).
* Salkowski N, Snyder JJ, Zaun DA, et al. A scientific registry of transplant recipients
  Bayesian method for identifying underperforming transplant programs. *Am J Transplant*
  2014;14:1310-1317 (reference sheet §8.3): the program hazard ratio has a Gamma(2, 2)
  prior, so with O observed and E expected events the posterior is Gamma(O + 2, E + 2)
  (shape, rate), the point estimate is (O + 2)/(E + 2), and a program is flagged when
  P(HR > 1.2) > 0.75 or P(HR > 2.5) > 0.10.  Checked against TV-11.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from valuecare.errors import InvalidInput

__all__ = [
    "SRTR_PRIOR",
    "SrtrFlag",
    "poisson_ci",
    "ratio_ci",
    "srtr_flag",
    "srtr_flags",
]

#: Gamma(shape, rate) prior on the hazard ratio used by SRTR since January 2015.
SRTR_PRIOR: tuple[float, float] = (2.0, 2.0)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise InvalidInput(
            f"confidence level {level!r} is not between 0 and 1; pass e.g. level=0.95"
        )


def poisson_ci(observed: ArrayLike, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) two-sided confidence interval for a Poisson count.

    ``lower = chi2.ppf(α/2, 2O)/2`` (0 when O = 0) and ``upper = chi2.ppf(1-α/2, 2O+2)/2``
    with ``α = 1 - level``.  Source: Garwood, *Biometrika* 1936;28:437.  Returns arrays
    (lower, upper) of the same shape as ``observed``.
    """
    _check_level(level)
    o = np.asarray(observed, dtype=float)
    if np.any(o < 0) or np.any(~np.isfinite(o)):
        raise InvalidInput("observed counts must be finite and non-negative")
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        lower = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    return lower, upper


def ratio_ci(
    observed: ArrayLike, expected: ArrayLike, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for O/E: the Garwood interval for O divided by E.

    E is treated as known (it comes from a risk model fit on a large reference population),
    as in the reference sheet §8.1.
    """
    e = np.asarray(expected, dtype=float)
    if np.any(e <= 0) or np.any(~np.isfinite(e)):
        raise InvalidInput("expected counts must be finite and positive to form O/E")
    lower, upper = poisson_ci(observed, level=level)
    return lower / e, upper / e


@dataclass(frozen=True)
class SrtrFlag:
    """SRTR Bayesian assessment of one program (Salkowski et al., AJT 2014)."""

    observed: float
    expected: float
    hr_estimate: float
    p_hr_gt_1_2: float
    p_hr_gt_2_5: float
    flagged: bool


def srtr_flag(
    observed: float,
    expected: float,
    *,
    prior: tuple[float, float] = SRTR_PRIOR,
    threshold_1_2: float = 0.75,
    threshold_2_5: float = 0.10,
) -> SrtrFlag:
    """Flag one program with SRTR's Bayesian rule.

    Posterior HR ~ Gamma(O + a, rate E + b) with prior Gamma(a, b) = Gamma(2, 2); the
    estimate is (O + a)/(E + b); flagged when P(HR > 1.2) > 0.75 or P(HR > 2.5) > 0.10.
    Source: Salkowski et al., *Am J Transplant* 2014;14:1310 (reference sheet §8.3, TV-11).
    """
    row = srtr_flags(
        pd.DataFrame({"observed": [observed], "expected": [expected]}),
        prior=prior,
        threshold_1_2=threshold_1_2,
        threshold_2_5=threshold_2_5,
    ).iloc[0]
    return SrtrFlag(
        observed=float(observed),
        expected=float(expected),
        hr_estimate=float(row["hr_estimate"]),
        p_hr_gt_1_2=float(row["p_hr_gt_1_2"]),
        p_hr_gt_2_5=float(row["p_hr_gt_2_5"]),
        flagged=bool(row["flagged"]),
    )


def srtr_flags(
    df: pd.DataFrame,
    *,
    observed: str = "observed",
    expected: str = "expected",
    prior: tuple[float, float] = SRTR_PRIOR,
    threshold_1_2: float = 0.75,
    threshold_2_5: float = 0.10,
) -> pd.DataFrame:
    """SRTR Bayesian flags for every row of ``df`` (one row per program or provider).

    Returns a copy of ``df`` with columns ``hr_estimate`` ((O+2)/(E+2)), ``hr_lower_95`` and
    ``hr_upper_95`` (central 95% posterior interval), ``p_hr_gt_1_2``, ``p_hr_gt_2_5`` and
    ``flagged``.  Source: Salkowski et al., *Am J Transplant* 2014;14:1310 (reference
    sheet §8.3).
    """
    for col in (observed, expected):
        if col not in df.columns:
            raise InvalidInput(
                f"column {col!r} is missing from the flag input (columns: {list(df.columns)}); "
                f"pass observed=... and expected=... naming the O and E columns"
            )
    a, b = prior
    if a <= 0 or b <= 0:
        raise InvalidInput(f"prior {prior!r} must have positive shape and rate")
    o = df[observed].to_numpy(dtype=float)
    e = df[expected].to_numpy(dtype=float)
    if np.any(o < 0) or np.any(e < 0) or np.any(~np.isfinite(o)) or np.any(~np.isfinite(e)):
        raise InvalidInput("observed and expected must be finite and non-negative")
    shape, rate = o + a, e + b
    out = df.copy()
    out["hr_estimate"] = shape / rate
    out["hr_lower_95"] = stats.gamma.ppf(0.025, shape) / rate
    out["hr_upper_95"] = stats.gamma.ppf(0.975, shape) / rate
    out["p_hr_gt_1_2"] = stats.gamma.sf(1.2 * rate, shape)
    out["p_hr_gt_2_5"] = stats.gamma.sf(2.5 * rate, shape)
    out["flagged"] = (out["p_hr_gt_1_2"] > threshold_1_2) | (out["p_hr_gt_2_5"] > threshold_2_5)
    return out
