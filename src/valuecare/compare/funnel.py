"""Funnel-plot control limits for proportions and indirectly standardized ratios.

Source: Spiegelhalter DJ. Funnel plots for comparing institutional performance.
*Stat Med* 2005;24:1185-1202 (reference sheet §8.2, checked against TV-10), and
Spiegelhalter DJ. Handling over-dispersion of performance indicators. *Qual Saf Health
Care* 2005;14:347-351 for the winsorized φ and the DerSimonian-Laird τ².

* Proportion, target p0, precision n: ``p0 ± z·sqrt(p0(1-p0)/n)`` (normal) or exact
  binomial limits with the paper's interpolation (appendix A.1.1).
* Ratio O/E, target 1, precision E: ``1 ± z·sqrt(1/E)`` (normal) or exact Poisson limits
  ``(r_p - α)/E`` with the same interpolation.
* Interpolation: for tail probability p, ``r_p`` is the smallest integer with
  ``F(r_p) >= p`` and ``α = (F(r_p) - p)/(F(r_p) - F(r_p - 1))``; the limit is
  ``(r_p - α)/precision``.
* Overdispersion, multiplicative: ``φ = (1/I) Σ z_w²`` over z-scores winsorized at 10% in
  each tail; the limits become ``target ± z·sqrt(φ)·s`` and are used only when φ > 1.
* Overdispersion, additive (random effects): ``τ² = (Iφ - (I-1)) / (Σw - Σw²/Σw)`` with
  ``w = 1/s²`` (truncated at 0), and limits ``target ± z·sqrt(s² + τ²)``.

Ratios are handled on the ratio scale (s = sqrt(1/E)), as in the reference sheet; the log
and square-root transforms some reports use (SHMI, FunnelPlotR's default) are not applied.
All limits are truncated at 0, and proportion limits at 1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from valuecare.errors import InvalidInput

__all__ = [
    "LEVELS",
    "Kind",
    "Label",
    "Method",
    "Overdispersion",
    "dersimonian_laird_tau2",
    "exact_binomial_limits",
    "exact_poisson_limits",
    "funnel_table",
    "proportion_limits",
    "ratio_limits",
    "winsorized_phi",
    "z_for_level",
]

Kind = Literal["proportion", "ratio"]
Method = Literal["normal", "exact"]
Overdispersion = Literal["none", "multiplicative", "additive"]
Label = Literal["better than expected", "as expected", "worse than expected"]

#: The two conventional two-sided levels and the column suffix each gets in a funnel table.
LEVELS: dict[str, float] = {"95": 0.95, "998": 0.998}


def z_for_level(level: float) -> float:
    """Two-sided normal quantile: 1.960 for 95%, 3.090 for 99.8%."""
    if not 0.0 < level < 1.0:
        raise InvalidInput(f"level {level!r} is not between 0 and 1; pass e.g. 0.95 or 0.998")
    return float(stats.norm.ppf(1.0 - (1.0 - level) / 2.0))


def _interpolated_quantile(dist: stats.rv_discrete, p: float) -> np.ndarray:
    """Spiegelhalter (2005) appendix A.1.1: ``r_p - α`` for a discrete distribution."""
    r = dist.ppf(p)  # smallest integer r with F(r) >= p
    f_r = dist.cdf(r)
    f_below = dist.cdf(r - 1)
    alpha = (f_r - p) / (f_r - f_below)
    return np.asarray(r - alpha, dtype=float)


def exact_binomial_limits(
    p0: float, n: ArrayLike, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial funnel limits with interpolation, truncated to [0, 1].

    Source: Spiegelhalter, *Stat Med* 2005;24:1185, appendix A.1.1.
    """
    _check_p0(p0)
    n_arr = np.asarray(n, dtype=float)
    if np.any(n_arr <= 0) or np.any(n_arr != np.round(n_arr)):
        raise InvalidInput("exact binomial limits need positive whole-number denominators n")
    z_for_level(level)
    tail = (1.0 - level) / 2.0
    dist = stats.binom(n_arr, p0)
    lower = _interpolated_quantile(dist, tail) / n_arr
    upper = _interpolated_quantile(dist, 1.0 - tail) / n_arr
    return np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)


def exact_poisson_limits(
    expected: ArrayLike, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson funnel limits for O/E around 1, with interpolation, truncated at 0.

    O ~ Poisson(E) under the target; limit = (r_p - α)/E.  Source: Spiegelhalter,
    *Stat Med* 2005;24:1185, appendix A.1.1.
    """
    e = _check_precision(expected, "expected")
    z_for_level(level)
    tail = (1.0 - level) / 2.0
    dist = stats.poisson(e)
    lower = _interpolated_quantile(dist, tail) / e
    upper = _interpolated_quantile(dist, 1.0 - tail) / e
    return np.maximum(lower, 0.0), np.maximum(upper, 0.0)


def proportion_limits(
    p0: float,
    n: ArrayLike,
    *,
    level: float = 0.95,
    method: Method = "normal",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for a proportion with target ``p0`` and precision ``n``.

    Normal: ``p0 ± z·sqrt(φ·s² + τ²)`` with ``s² = p0(1-p0)/n`` (φ = 1, τ² = 0 without
    overdispersion); exact: interpolated binomial limits.  Truncated to [0, 1].
    Source: Spiegelhalter, *Stat Med* 2005;24:1185 (TV-10).
    """
    _check_p0(p0)
    if method == "exact":
        _no_overdispersion_with_exact(phi, tau2)
        return exact_binomial_limits(p0, n, level=level)
    _check_method(method)
    n_arr = _check_precision(n, "n")
    s2 = p0 * (1.0 - p0) / n_arr
    half = z_for_level(level) * np.sqrt(phi * s2 + tau2)
    return np.clip(p0 - half, 0.0, 1.0), np.clip(p0 + half, 0.0, 1.0)


def ratio_limits(
    expected: ArrayLike,
    *,
    target: float = 1.0,
    level: float = 0.95,
    method: Method = "normal",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for an indirectly standardized ratio O/E (target θ = 1, precision E).

    Normal: ``θ ± z·sqrt(φ·θ/E + τ²)``; exact: interpolated quantiles of
    O ~ Poisson(θE), divided by E.  Truncated at 0.
    Source: Spiegelhalter, *Stat Med* 2005;24:1185 (TV-10, SMR row).
    """
    if target <= 0:
        raise InvalidInput(f"ratio target {target!r} must be positive")
    e = _check_precision(expected, "expected")
    if method == "exact":
        _no_overdispersion_with_exact(phi, tau2)
        lo, hi = exact_poisson_limits(target * e, level=level)
        return lo * target, hi * target
    _check_method(method)
    half = z_for_level(level) * np.sqrt(phi * target / e + tau2)
    return np.maximum(target - half, 0.0), target + half


def winsorized_phi(z: ArrayLike, *, winsor: float = 0.10) -> float:
    """Multiplicative overdispersion φ = mean of squared winsorized z-scores.

    The ``k = floor(winsor·I)`` smallest z-scores are set to the (k+1)-th smallest and the
    k largest to the (k+1)-th largest.  Source: Spiegelhalter, *Qual Saf Health Care*
    2005;14:347 (10% each tail), reference sheet §8.2.
    """
    arr = np.asarray(z, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or np.any(~np.isfinite(arr)):
        raise InvalidInput("winsorized_phi needs a non-empty 1-D array of finite z-scores")
    if not 0.0 <= winsor < 0.5:
        raise InvalidInput(f"winsor={winsor!r} must be in [0, 0.5); the default is 0.10")
    ordered = np.sort(arr)
    k = int(np.floor(winsor * arr.size))
    clipped = np.clip(arr, ordered[k], ordered[arr.size - 1 - k])
    return float(np.mean(clipped**2))


def dersimonian_laird_tau2(phi: float, s: ArrayLike) -> float:
    """Additive between-unit variance τ² = (Iφ - (I-1)) / (Σw - Σw²/Σw), w = 1/s², ≥ 0.

    Source: DerSimonian & Laird, *Control Clin Trials* 1986;7:177, in the form of
    Spiegelhalter, *Qual Saf Health Care* 2005;14:347 (reference sheet §8.2).
    """
    s_arr = np.asarray(s, dtype=float)
    if s_arr.size < 2 or np.any(s_arr <= 0):
        raise InvalidInput("τ² needs at least two units with positive standard errors")
    w = 1.0 / s_arr**2
    i = s_arr.size
    denom = w.sum() - (w**2).sum() / w.sum()
    if denom <= 0:
        return 0.0
    return float(max(0.0, (i * phi - (i - 1)) / denom))


def funnel_table(
    df: pd.DataFrame,
    kind: Kind = "proportion",
    *,
    unit: str = "unit",
    numerator: str | None = None,
    denominator: str | None = None,
    target: float | None = None,
    method: Method = "normal",
    overdispersion: Overdispersion = "none",
    winsor: float = 0.10,
    label_level: Literal["95", "998"] = "998",
    higher_is_better: bool = False,
) -> pd.DataFrame:
    """Funnel-plot table: one row per unit with its value, limits, z-score and label.

    Inputs (one row per unit): for ``kind="proportion"`` the event count and denominator
    (defaults ``events`` and ``n``); for ``kind="ratio"`` observed and expected counts
    (defaults ``observed`` and ``expected``).  The proportion target defaults to the pooled
    rate Σevents/Σn; the ratio target is 1.

    Returns columns ``unit`` (the name given), ``numerator``, ``precision`` (n or E),
    ``value`` (proportion or O/E), ``target``, ``lower_95``, ``upper_95``, ``lower_998``,
    ``upper_998``, ``z`` (overdispersion-adjusted when it applies), ``outside_95``,
    ``outside_998`` and ``label`` (``better than expected`` / ``as expected`` /
    ``worse than expected`` against the ``label_level`` limits; for a lower-is-better
    measure a value above the upper limit is worse).  ``attrs`` holds ``kind``, ``target``,
    ``method``, ``overdispersion``, ``phi``, ``tau2`` and ``higher_is_better`` so a chart can
    redraw the limit curves.  Source: Spiegelhalter, *Stat Med* 2005;24:1185.
    """
    if kind not in ("proportion", "ratio"):
        raise InvalidInput(f"kind={kind!r} is unknown; use 'proportion' or 'ratio'")
    if overdispersion not in ("none", "multiplicative", "additive"):
        raise InvalidInput(
            f"overdispersion={overdispersion!r} is unknown; "
            "use 'none', 'multiplicative' or 'additive'"
        )
    if label_level not in LEVELS:
        raise InvalidInput(f"label_level={label_level!r} is unknown; use '95' or '998'")
    _check_method(method)
    if method == "exact" and overdispersion != "none":
        raise InvalidInput(
            "overdispersion-adjusted limits are normal-approximation limits; "
            "use method='normal' with overdispersion, or overdispersion='none' with 'exact'"
        )
    num_col = numerator or ("events" if kind == "proportion" else "observed")
    den_col = denominator or ("n" if kind == "proportion" else "expected")
    missing = [c for c in (unit, num_col, den_col) if c not in df.columns]
    if missing:
        raise InvalidInput(
            f"funnel_table input lacks column(s) {missing} (has {list(df.columns)}); "
            f"name them with unit=, numerator=, denominator="
        )
    if df.empty:
        raise InvalidInput("funnel_table got no units; pass at least one row")
    num = df[num_col].to_numpy(dtype=float)
    den = _check_precision(df[den_col].to_numpy(dtype=float), den_col)
    if np.any(num < 0) or np.any(~np.isfinite(num)):
        raise InvalidInput(f"column {num_col!r} must hold finite, non-negative counts")

    if kind == "proportion":
        if np.any(num > den):
            raise InvalidInput(f"{num_col!r} exceeds {den_col!r} for some unit")
        p0 = float(num.sum() / den.sum()) if target is None else float(target)
        _check_p0(p0)
        value = num / den
        s = np.sqrt(p0 * (1.0 - p0) / den)
    else:
        p0 = 1.0 if target is None else float(target)
        value = num / den
        s = np.sqrt(p0 / den)

    z_raw = (value - p0) / s
    phi, tau2 = 1.0, 0.0
    if overdispersion != "none":
        phi = winsorized_phi(z_raw, winsor=winsor)
    if overdispersion == "multiplicative":
        phi = max(phi, 1.0)
        z_adj = z_raw / np.sqrt(phi)
    elif overdispersion == "additive":
        tau2 = dersimonian_laird_tau2(phi, s) if len(s) > 1 else 0.0
        z_adj = (value - p0) / np.sqrt(s**2 + tau2)
    else:
        z_adj = z_raw
    phi_used = phi if overdispersion == "multiplicative" else 1.0

    out = pd.DataFrame(
        {
            unit: df[unit].to_numpy(),
            "numerator": num,
            "precision": den,
            "value": value,
            "target": p0,
        }
    )
    for suffix, level in LEVELS.items():
        if kind == "proportion":
            lo, hi = proportion_limits(
                p0, den, level=level, method=method, phi=phi_used, tau2=tau2
            )
        else:
            lo, hi = ratio_limits(
                den, target=p0, level=level, method=method, phi=phi_used, tau2=tau2
            )
        out[f"lower_{suffix}"] = lo
        out[f"upper_{suffix}"] = hi
    out["z"] = z_adj
    for suffix in LEVELS:
        out[f"outside_{suffix}"] = (out["value"] < out[f"lower_{suffix}"]) | (
            out["value"] > out[f"upper_{suffix}"]
        )
    above = out["value"] > out[f"upper_{label_level}"]
    below = out["value"] < out[f"lower_{label_level}"]
    high_label, low_label = (
        ("better than expected", "worse than expected")
        if higher_is_better
        else ("worse than expected", "better than expected")
    )
    out["label"] = np.select([above, below], [high_label, low_label], default="as expected")
    out.attrs.update(
        kind=kind,
        target=p0,
        method=method,
        overdispersion=overdispersion,
        phi=float(phi),
        tau2=float(tau2),
        higher_is_better=higher_is_better,
        label_level=label_level,
        unit=unit,
    )
    return out


def _check_p0(p0: float) -> None:
    if not 0.0 < p0 < 1.0:
        raise InvalidInput(
            f"target proportion {p0!r} must be strictly between 0 and 1; "
            "pass target= or check that some units have events and some do not"
        )


def _check_precision(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise InvalidInput(
            f"precision column {name!r} must be finite and positive for every unit; "
            "drop units with no denominator or expected count before building a funnel"
        )
    return arr


def _check_method(method: str) -> None:
    if method not in ("normal", "exact"):
        raise InvalidInput(f"method={method!r} is unknown; use 'normal' or 'exact'")


def _no_overdispersion_with_exact(phi: float, tau2: float) -> None:
    if phi != 1.0 or tau2 != 0.0:
        raise InvalidInput(
            "exact limits cannot carry φ or τ²; use method='normal' for overdispersed limits"
        )
