"""The MSSP benchmark from historical per-capita expenditures (42 CFR 425.601; for agreement
periods from 2024, §425.652-.660), as pure functions on per-capita inputs.

Per enrollment type (ESRD, disabled, aged/dual, aged/non-dual; §425.601(a)):

1. **Truncation.** Each assigned beneficiary's annual Parts A+B FFS expenditures are
   truncated at the 99th percentile of national FFS expenditures for assignable
   beneficiaries (legacy §425.604(a)(4)/§425.610(a)(4) text, read) -- :func:`truncate`,
   :func:`truncated_per_capita`.
2. **Restating to BY3.** Each benchmark year's per-capita expenditure is trended to BY3
   (national-regional growth, given as a factor) and risk-adjusted to BY3 with CMS-HCC
   prospective risk scores: ``x trend x RS(BY3) / RS(BYi)`` [M: unverified].
3. **Weighting.** BY1, BY2, BY3 weighted 10%, 30%, 60% (Pathways final rule, 83 FR 67816,
   per Milliman's summary of it [T]); that summary has later (renewed) agreement periods
   weighting them equally -- pass ``weights`` -- :func:`historical_benchmark`.
4. **Update to the performance year.** ``x update factor x RS(PY) / RS(BY3)`` where a
   positive risk change is capped at +3% over the agreement period (§425.610(a)(2)(i)-(ii),
   read, for agreement periods starting 1 July 2019 to 2023; the BASIC track's
   §425.605(a)(1) mirrors it [M]; applied per enrollment type [M]). From 2024 the cap is
   3% plus the ACO's demographic risk growth, applied in aggregate (``aggregate_cap=True``)
   [M: unverified].
5. **PY mix.** The updated benchmarks are weighted by the performance year's person years
   per enrollment type -- :func:`updated_benchmark`.

Not built here: the regional adjustment, the prior-savings adjustment, the ACPT
three-way trend blend and the population (health-equity) adjustment; give their effect
through ``update_factor`` if you need it. Values are exact Decimals; nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from valuecare.errors import InvalidInput

EnrollmentType = Literal["esrd", "disabled", "aged_dual", "aged_non_dual"]
ENROLLMENT_TYPES: tuple[str, ...] = get_args(EnrollmentType)

ZERO, ONE = Decimal(0), Decimal(1)
#: BY1, BY2, BY3 weights (83 FR 67816).
DEFAULT_WEIGHTS: tuple[Decimal, Decimal, Decimal] = (Decimal("0.1"), Decimal("0.3"),
                                                     Decimal("0.6"))
#: Cap on positive risk-score change from BY3 to a performance year (§425.610(a)(2)(i)).
RISK_CAP = Decimal("0.03")


def truncate(amounts: Iterable[Decimal], threshold: Decimal) -> list[Decimal]:
    """Each beneficiary's annual expenditure, truncated at ``threshold`` (the 99th
    percentile of national FFS expenditures for assignable beneficiaries)."""
    if threshold <= 0:
        raise InvalidInput(f"the truncation threshold must be positive, not {threshold}")
    return [min(a, threshold) for a in amounts]


def truncated_per_capita(amounts: Iterable[Decimal], person_years: Decimal,
                         threshold: Decimal) -> Decimal:
    """Per-capita expenditure after truncation: the truncated total over person years."""
    if person_years <= 0:
        raise InvalidInput(f"person years must be positive, not {person_years}")
    return sum(truncate(amounts, threshold), ZERO) / person_years


@dataclass(frozen=True)
class BenchmarkYear:
    """One benchmark year of one enrollment type: truncated per-capita expenditure, mean
    prospective CMS-HCC risk score, and the trend factor restating it to BY3 dollars
    (1 for BY3 itself)."""

    per_capita: Decimal
    risk_score: Decimal
    trend_to_by3: Decimal = ONE

    def __post_init__(self) -> None:
        if self.per_capita < 0:
            raise InvalidInput(f"per-capita expenditure cannot be negative ({self.per_capita})")
        if self.risk_score <= 0 or self.trend_to_by3 <= 0:
            raise InvalidInput("risk scores and trend factors must be positive "
                               f"({self.risk_score}, {self.trend_to_by3})")


def historical_benchmark(years: Sequence[BenchmarkYear],
                         weights: Sequence[Decimal] = DEFAULT_WEIGHTS) -> Decimal:
    """The historical benchmark of one enrollment type, in BY3 dollars and BY3 risk:
    ``sum(w_i x pc_i x trend_i x RS(BY3)/RS(BY_i))`` over BY1..BY3."""
    if len(years) != 3 or len(weights) != 3:
        raise InvalidInput("the benchmark needs three benchmark years (BY1, BY2, BY3) and "
                           "three weights")
    if sum(weights, ZERO) != ONE or any(w < 0 for w in weights):
        raise InvalidInput(f"benchmark-year weights must be non-negative and sum to 1, not "
                           f"{', '.join(map(str, weights))}")
    by3 = years[-1].risk_score
    return sum((w * y.per_capita * y.trend_to_by3 * by3 / y.risk_score
                for w, y in zip(weights, years, strict=True)), ZERO)


def capped_risk_ratio(by3_risk: Decimal, py_risk: Decimal, cap: Decimal = RISK_CAP) -> Decimal:
    """The risk adjustment from BY3 to the performance year, ``RS(PY)/RS(BY3)``, with a
    positive change capped at ``cap`` (3%); a fall in risk applies in full."""
    if by3_risk <= 0 or py_risk <= 0:
        raise InvalidInput(f"risk scores must be positive ({by3_risk}, {py_risk})")
    return min(py_risk / by3_risk, ONE + cap)


@dataclass(frozen=True)
class EnrollmentInputs:
    """One enrollment type: its three benchmark years, the BY3-to-PY update factor, the
    performance year's mean prospective risk score and person years."""

    years: tuple[BenchmarkYear, BenchmarkYear, BenchmarkYear]
    update_factor: Decimal
    performance_risk_score: Decimal
    performance_person_years: Decimal

    def __post_init__(self) -> None:
        if self.update_factor <= 0 or self.performance_risk_score <= 0:
            raise InvalidInput("the update factor and the performance-year risk score must "
                               "be positive")
        if self.performance_person_years < 0:
            raise InvalidInput("performance-year person years cannot be negative")


@dataclass(frozen=True)
class UpdatedBenchmark:
    """Per enrollment type: historical benchmark, the risk ratio applied (after the cap)
    and the updated benchmark; ``per_capita`` weighted by the performance-year mix."""

    historical: dict[str, Decimal]
    risk_ratio: dict[str, Decimal]
    updated: dict[str, Decimal]
    per_capita: Decimal


def updated_benchmark(inputs: Mapping[str, EnrollmentInputs], *,
                      weights: Sequence[Decimal] = DEFAULT_WEIGHTS,
                      risk_cap: Decimal = RISK_CAP, aggregate_cap: bool = False,
                      demographic_growth: Decimal = ZERO) -> UpdatedBenchmark:
    """The updated benchmark per capita for a performance year (steps 2-5 of the module).

    ``aggregate_cap=False`` caps each enrollment type's risk growth at ``risk_cap``
    (agreement periods starting July 2019-2023). ``aggregate_cap=True`` (from 2024,
    unverified) caps the person-year-weighted mean risk ratio at ``1 + risk_cap +
    demographic_growth`` and scales every type's ratio by the same factor when it binds.
    """
    unknown = sorted(set(inputs) - set(ENROLLMENT_TYPES))
    if unknown or not inputs:
        raise InvalidInput(f"enrollment types must be among {', '.join(ENROLLMENT_TYPES)}"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    total_py = sum((i.performance_person_years for i in inputs.values()), ZERO)
    if total_py <= 0:
        raise InvalidInput("the performance year has no person years")
    historical = {t: historical_benchmark(i.years, weights) for t, i in inputs.items()}
    raw = {t: i.performance_risk_score / i.years[-1].risk_score for t, i in inputs.items()}
    if aggregate_cap:
        mean = sum((raw[t] * i.performance_person_years for t, i in inputs.items()),
                   ZERO) / total_py
        limit = ONE + risk_cap + demographic_growth
        scale = limit / mean if mean > limit else ONE
        ratio = {t: r * scale for t, r in raw.items()}
    else:
        ratio = {t: capped_risk_ratio(i.years[-1].risk_score, i.performance_risk_score,
                                      risk_cap) for t, i in inputs.items()}
    updated = {t: historical[t] * i.update_factor * ratio[t] for t, i in inputs.items()}
    per_capita = sum((updated[t] * i.performance_person_years for t, i in inputs.items()),
                     ZERO) / total_py
    return UpdatedBenchmark(historical, ratio, updated, per_capita)
