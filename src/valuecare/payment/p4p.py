"""Pay for performance: a bonus or a withhold return earned from quality-measure results.

A scheme (:class:`P4pScheme`, the measures and incentive of a P4P contract or of a PCMH
contract's performance incentive) is settled per entity (clinician, practice, group):

1. **Credit per measure**, 0..1, from the entity's rate (``numerator / denominator``, as a
   fraction; ``measure_results.rate``):

   - ``linear``: 0 when the rate is worse than the ``threshold``; from
     ``credit_at_threshold`` (default 0) at the threshold rising linearly to 1 at the
     ``benchmark`` and above: ``c0 + (1 - c0) x (rate - threshold) / (benchmark -
     threshold)``, clipped. For an inverse measure (``higher_is_better: false``, e.g.
     CMS122 HbA1c poor control, where a lower rate is better) the threshold is above the
     benchmark and the same formula applies.
   - ``tiered``: tiers from worst to best, each a ``cutoff`` and ``points`` (e.g. deciles
     worth 1..10 points); the entity earns the points of the best tier whose cutoff it
     reaches (``rate >= cutoff``, or ``<=`` for an inverse measure), 0 below the first;
     credit = points / the most points of any tier.

   A result whose denominator is below the measure's ``min_denominator`` is not scored.
2. **Score** = ``sum(weight x credit) / sum(weight)`` over the measures scored
   (``missing_measures: reweight``, the default) or over every measure of the scheme
   (``zero``: a measure not scored earns nothing). A score below ``minimum_score`` (a
   gate) pays nothing.
3. **Money** (:class:`Bonus` or :class:`Withhold`):

   - bonus ``per_member_month``: ``amount x member months x score``;
   - bonus ``share_of_revenue``: ``amount x FFS revenue x score``;
   - bonus ``per_entity``: ``amount x score``;
   - bonus ``total_pool``: a pool shared by all entities settled together. With
     ``unearned: retained`` each entity's allocation (by member months, or equal) is
     earned in proportion to its score and the payer keeps the rest; with
     ``redistributed`` the whole pool is shared in proportion to ``score x allocation``.
     Allocations are rounded *down* to the cent, so the payer keeps the cents left over
     and ``pool = paid + retained`` exactly;
   - ``withhold``: ``rate x FFS revenue`` is withheld and ``withheld x score`` returned.

Every scale and every amount is the contract's (YAML); nothing is hard-coded. Sources: the
arithmetic of attainment scales as commonly written into P4P contracts (linear
interpolation between an attainment threshold and a benchmark, as in CMS value-based
purchasing attainment points; decile points, as in MIPS quality benchmarks); those
programs' own constants are not used. Money is :class:`~decimal.Decimal`; rates, credits
and scores are exact; each amount is rounded once to the cent (half up, pools down).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import (
    ContractHeader,
    ContractModel,
    cents,
    cents_down,
    fraction,
    non_negative,
)

ZERO = Decimal(0)
ONE = Decimal(1)


class LinearScale(ContractModel):
    """Credit from ``credit_at_threshold`` at ``threshold`` to 1 at ``benchmark``."""

    type: Literal["linear"]
    threshold: Decimal
    benchmark: Decimal
    credit_at_threshold: Decimal = ZERO

    @model_validator(mode="after")
    def _rates(self) -> LinearScale:
        fraction(self.threshold, "threshold")
        fraction(self.benchmark, "benchmark")
        fraction(self.credit_at_threshold, "credit_at_threshold")
        if self.threshold == self.benchmark:
            raise ValueError("threshold and benchmark must differ")
        return self


class Tier(ContractModel):
    cutoff: Decimal
    points: Decimal

    @model_validator(mode="after")
    def _values(self) -> Tier:
        fraction(self.cutoff, "cutoff")
        non_negative(self.points, "points")
        return self


class TieredScale(ContractModel):
    """Tiers from worst to best; the points of the best tier reached."""

    type: Literal["tiered"]
    tiers: tuple[Tier, ...]

    @model_validator(mode="after")
    def _tiers(self) -> TieredScale:
        if not self.tiers:
            raise ValueError("give at least one tier")
        if max(t.points for t in self.tiers) <= 0:
            raise ValueError("at least one tier must be worth points")
        for worse, better in zip(self.tiers, self.tiers[1:], strict=False):
            if better.points < worse.points:
                raise ValueError("points must not fall from a tier to a better one (list "
                                 "tiers from worst to best)")
        return self

    @property
    def max_points(self) -> Decimal:
        return max(t.points for t in self.tiers)


Scale = Annotated[LinearScale | TieredScale, Field(discriminator="type")]


class MeasureTerm(ContractModel):
    """One measure of a scheme: its id as in ``measure_results.measure`` (e.g. CMS122),
    its direction, weight, minimum denominator and scale."""

    measure: str
    name: str = ""
    higher_is_better: bool
    weight: Decimal
    min_denominator: int = 0
    scale: Scale

    @model_validator(mode="after")
    def _direction(self) -> MeasureTerm:
        if not self.measure.strip():
            raise ValueError("measure must not be empty")
        if self.weight <= 0:
            raise ValueError(f"weight must be positive, not {self.weight}")
        if self.min_denominator < 0:
            raise ValueError("min_denominator cannot be negative")
        up = self.higher_is_better
        scale = self.scale
        if isinstance(scale, LinearScale):
            if (scale.benchmark > scale.threshold) != up:
                raise ValueError(
                    f"measure {self.measure}: the benchmark (full credit) must be "
                    f"{'above' if up else 'below'} the threshold when higher_is_better is "
                    f"{'true' if up else 'false'}")
        else:
            for worse, better in zip(scale.tiers, scale.tiers[1:], strict=False):
                if (better.cutoff > worse.cutoff) != up or better.cutoff == worse.cutoff:
                    raise ValueError(
                        f"measure {self.measure}: tier cutoffs must "
                        f"{'rise' if up else 'fall'} from worst to best when "
                        f"higher_is_better is {'true' if up else 'false'}")
        return self


class Bonus(ContractModel):
    """A bonus at full score: ``amount`` per member month, as a share of FFS revenue, per
    entity, or a ``total_pool`` (with ``allocation`` and ``unearned``)."""

    type: Literal["bonus"]
    basis: Literal["per_member_month", "share_of_revenue", "per_entity", "total_pool"]
    amount: Decimal
    allocation: Literal["member_months", "equal"] | None = None
    unearned: Literal["retained", "redistributed"] | None = None

    @model_validator(mode="after")
    def _basis(self) -> Bonus:
        non_negative(self.amount, "amount")
        if self.basis == "share_of_revenue":
            fraction(self.amount, "amount (a share of revenue)")
        pool = self.basis == "total_pool"
        if pool and (self.allocation is None or self.unearned is None):
            raise ValueError("a total_pool needs allocation (member_months or equal) and "
                             "unearned (retained or redistributed)")
        if not pool and (self.allocation is not None or self.unearned is not None):
            raise ValueError("allocation and unearned apply to basis total_pool only")
        return self


class Withhold(ContractModel):
    """``rate`` of FFS revenue withheld; ``withheld x score`` returned."""

    type: Literal["withhold"]
    rate: Decimal

    @model_validator(mode="after")
    def _rate(self) -> Withhold:
        fraction(self.rate, "rate")
        return self


Incentive = Annotated[Bonus | Withhold, Field(discriminator="type")]


class P4pScheme(ContractModel):
    """Measures, how missing ones count, the gate and the money."""

    measures: tuple[MeasureTerm, ...]
    incentive: Incentive
    missing_measures: Literal["reweight", "zero"] = "reweight"
    minimum_score: Decimal = ZERO

    @model_validator(mode="after")
    def _measures(self) -> P4pScheme:
        if not self.measures:
            raise ValueError("give at least one measure")
        ids = [m.measure for m in self.measures]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"measure(s) listed twice: {', '.join(repeated)}")
        fraction(self.minimum_score, "minimum_score")
        return self

    @property
    def needs_member_months(self) -> bool:
        inc = self.incentive
        return isinstance(inc, Bonus) and (inc.basis == "per_member_month" or (
            inc.basis == "total_pool" and inc.allocation == "member_months"))

    @property
    def needs_revenue(self) -> bool:
        inc = self.incentive
        return isinstance(inc, Withhold) or inc.basis == "share_of_revenue"


class P4pContract(ContractHeader, P4pScheme):
    """A pay-for-performance contract (YAML ``kind: p4p``)."""

    kind: Literal["p4p"]


@dataclass(frozen=True)
class MeasureResult:
    """One entity's result on one measure: ``rate`` as a fraction; ``denominator`` (the
    performance denominator) may be ``None`` when only the rate is known."""

    entity: str
    measure: str
    rate: Decimal
    denominator: int | None = None

    def __post_init__(self) -> None:
        if not ZERO <= self.rate <= ONE:
            raise InvalidInput(f"{self.entity} {self.measure}: a rate is a fraction between "
                               f"0 and 1 (0.72 for 72%), not {self.rate}")


@dataclass(frozen=True)
class EntityBasis:
    """What an entity's incentive is computed on; either may be ``None`` when the scheme
    does not use it."""

    entity: str
    member_months: Decimal | None = None
    ffs_revenue: Decimal | None = None


@dataclass(frozen=True)
class MeasureScore:
    measure: str
    weight: Decimal
    rate: Decimal | None
    denominator: int | None
    scored: bool
    credit: Decimal
    points: Decimal | None
    reason: str


@dataclass(frozen=True)
class P4pSettlement:
    """One entity: its score (exact, 0..1, after the gate), the most it could earn, the
    bonus, the withhold and its return (money to the cent), and per-measure detail.
    ``net_incentive`` = bonus + returned - withheld."""

    entity: str
    measures_scored: int
    score: Decimal
    max_incentive: Decimal
    bonus: Decimal
    withheld: Decimal
    withhold_returned: Decimal
    measures: tuple[MeasureScore, ...]
    note: str

    @property
    def net_incentive(self) -> Decimal:
        return self.bonus + self.withhold_returned - self.withheld


@dataclass(frozen=True)
class P4pOutcome:
    """Every entity's settlement, and for a total pool what was paid and retained
    (``pool = paid + retained`` to the cent)."""

    settlements: tuple[P4pSettlement, ...]
    pool: Decimal | None
    pool_paid: Decimal | None
    pool_retained: Decimal | None


def measure_credit(term: MeasureTerm, rate: Decimal) -> tuple[Decimal, Decimal | None]:
    """Credit (0..1) and, on a tiered scale, the points of ``rate`` on ``term``."""
    scale = term.scale
    up = term.higher_is_better
    if isinstance(scale, LinearScale):
        t, b, c0 = scale.threshold, scale.benchmark, scale.credit_at_threshold
        if (rate < t) if up else (rate > t):
            return ZERO, None
        share = min((rate - t) / (b - t), ONE)
        return c0 + (ONE - c0) * share, None
    points = ZERO
    for tier in scale.tiers:
        if (rate >= tier.cutoff) if up else (rate <= tier.cutoff):
            points = tier.points
    return points / scale.max_points, points


def score_entity(results: Mapping[str, MeasureResult], scheme: P4pScheme
                 ) -> tuple[Decimal, tuple[MeasureScore, ...], str]:
    """The entity's score after the gate, per-measure detail, and a note."""
    detail: list[MeasureScore] = []
    earned = weights = ZERO
    for term in scheme.measures:
        res = results.get(term.measure)
        if res is None:
            detail.append(MeasureScore(term.measure, term.weight, None, None, False, ZERO,
                                       None, "no result"))
        elif res.denominator is not None and res.denominator < term.min_denominator:
            detail.append(MeasureScore(
                term.measure, term.weight, res.rate, res.denominator, False, ZERO, None,
                f"denominator {res.denominator} below {term.min_denominator}"))
        else:
            credit, points = measure_credit(term, res.rate)
            detail.append(MeasureScore(term.measure, term.weight, res.rate, res.denominator,
                                       True, credit, points, ""))
            earned += term.weight * credit
            weights += term.weight
    if scheme.missing_measures == "zero":
        weights = sum((t.weight for t in scheme.measures), ZERO)
    notes = []
    score = earned / weights if weights else ZERO
    if not weights:
        notes.append("no measure scored")
    if ZERO < score < scheme.minimum_score:
        notes.append(f"score below the minimum {scheme.minimum_score}: nothing earned")
        score = ZERO
    return score, tuple(detail), "; ".join(notes)


def _basis_value(basis: EntityBasis, field: str) -> Decimal:
    value = getattr(basis, field)
    if value is None:
        raise InvalidInput(f"entity {basis.entity}: the incentive is computed on {field}; "
                           f"give {field}")
    return value


def settle_p4p(results: Sequence[MeasureResult], scheme: P4pScheme,
               entities: Sequence[EntityBasis] | None = None) -> P4pOutcome:
    """Settle every entity of ``entities`` (default: those with results) under ``scheme``.

    Results for measures the scheme does not list are ignored; an entity listed in
    ``entities`` without results scores 0; a result for an entity not in ``entities`` is
    an error, as is a second result for the same entity and measure.
    """
    by_entity: dict[str, dict[str, MeasureResult]] = {}
    for r in results:
        got = by_entity.setdefault(r.entity, {})
        if r.measure in got:
            raise InvalidInput(f"entity {r.entity} has two results for {r.measure}")
        got[r.measure] = r
    if entities is None:
        entities = [EntityBasis(e) for e in by_entity]
    names = [e.entity for e in entities]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInput(f"entit(ies) listed twice: {', '.join(repeated)}")
    unknown = sorted(set(by_entity) - set(names))
    if unknown:
        raise InvalidInput(f"results for entities not in the entity list: "
                           f"{', '.join(unknown[:5])}")
    scored = [(e, *score_entity(by_entity.get(e.entity, {}), scheme)) for e in entities]
    inc = scheme.incentive
    pool = paid = retained = None
    out: list[P4pSettlement] = []
    if isinstance(inc, Bonus) and inc.basis == "total_pool":
        pool = inc.amount
        alloc = [ONE if inc.allocation == "equal" else _basis_value(e, "member_months")
                 for e, *_ in scored]
        total_alloc = sum(alloc, ZERO)
        if inc.unearned == "retained":
            shares = [a / total_alloc * s if total_alloc else ZERO
                      for a, (_, s, _, _) in zip(alloc, scored, strict=True)]
            caps = [cents_down(pool * a / total_alloc) if total_alloc else ZERO for a in alloc]
        else:
            weighted = [a * s for a, (_, s, _, _) in zip(alloc, scored, strict=True)]
            total = sum(weighted, ZERO)
            shares = [w / total if total else ZERO for w in weighted]
            caps = [pool] * len(scored)
        for (e, s, detail, note), share, cap in zip(scored, shares, caps, strict=True):
            out.append(P4pSettlement(e.entity, sum(d.scored for d in detail), s, cap,
                                     cents_down(pool * share), ZERO, ZERO, detail, note))
        paid = sum((p.bonus for p in out), ZERO)
        retained = pool - paid
    else:
        for e, s, detail, note in scored:
            withheld = returned = bonus = ZERO
            if isinstance(inc, Withhold):
                withheld = cents(inc.rate * _basis_value(e, "ffs_revenue"))
                returned = cents(withheld * s)
                top = withheld
            else:
                base = (_basis_value(e, "member_months") if inc.basis == "per_member_month"
                        else _basis_value(e, "ffs_revenue") if inc.basis == "share_of_revenue"
                        else ONE)
                top = cents(inc.amount * base)
                bonus = cents(inc.amount * base * s)
            out.append(P4pSettlement(e.entity, sum(d.scored for d in detail), s, top, bonus,
                                     withheld, returned, detail, note))
    return P4pOutcome(tuple(out), pool, paid, retained)
