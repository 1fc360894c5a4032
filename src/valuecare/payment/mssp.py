"""MSSP shared savings and losses for one ACO and one performance year ("Pathways to Success").

:func:`settle_mssp` follows 42 CFR 425.605 (BASIC track, levels A-E) and 425.610 (ENHANCED
track), with the quality rules of 42 CFR 425.512 and the CMS *Shared Savings and Losses,
Assignment and Quality Performance Standard Methodology Specifications*:

1. Savings rate = (updated benchmark - assigned expenditures) / updated benchmark, per
   capita; the totals are the per-capita amounts times the performance year's person years.
2. Minimum savings/loss rate: one-sided levels (BASIC A-B) use the variable MSR of the
   §425.604(b) table by assigned beneficiaries; two-sided tracks the MSR/MLR the ACO chose
   (0%, 0.5%-2.0% or variable), variable anyway below 5,000 beneficiaries (§425.110(b)).
   "By at least": a savings rate equal to the MSR qualifies.
3. Quality (§425.512, PY2024+): quality performance standard met -> the track's maximum
   sharing rate; only the alternative standard met -> maximum x quality score / 100;
   neither -> no shared savings (and the ENHANCED loss rate is 75%).
4. Savings are shared from the first dollar once the MSR is met, up to the performance
   payment limit (a share of the updated benchmark). A low-revenue BASIC ACO with at least
   5,000 beneficiaries that has savings below its MSR shares them at half the rate
   (§425.605(h)).
5. Losses (two-sided only) are shared from the first dollar once the MLR is met: BASIC C-E
   at 30%; ENHANCED at 1 - 0.75 x quality score / 100 bounded to 40%-75% (75% when both
   quality standards fail); up to the loss sharing limit, the lesser of a share of the ACO
   participants' Parts A+B FFS revenue and a share of the updated benchmark.
6. Sequestration, when in force, reduces earned shared savings (not shared losses) by its
   rate, after the performance payment limit [M: unverified for MSSP; read only in a CMS
   Innovation Center model agreement].

Money is :class:`~decimal.Decimal` throughout and exact until the amounts reported:
earned savings, sequestration, shared savings, shared losses and the limits are rounded
once each to the cent, half up (the regulation prescribes no rounding and CMS publishes
whole dollars, so where CMS rounds is unverified). Rates are exact. The parameters and
how far each was verified are in :mod:`valuecare.payment.mssp_params`;
docs/payment-models.md lists what is unverified.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from valuecare.errors import InvalidInput
from valuecare.payment.mssp_params import MsspParams, Track, TrackParams, load_params, variable_msr

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class AcoInputError(InvalidInput):
    """One ACO's input cannot be settled; ``column`` names the offending field."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


def cents(amount: Decimal) -> Decimal:
    """Round money to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AcoPerformance:
    """One ACO's performance year, ACO-level inputs only.

    ``msr_mlr_option`` is ``None`` for the variable MSR/MLR, or the chosen fixed fraction.
    ``quality_score`` is on the 0-100 scale. ``participant_revenue`` (the ACO
    participants' total Parts A+B FFS revenue) is needed only when a BASIC ACO owes losses.
    """

    aco_id: str
    track: Track
    assigned_beneficiaries: int
    person_years: Decimal
    benchmark_per_capita: Decimal
    expenditure_per_capita: Decimal
    msr_mlr_option: Decimal | None
    quality_score: Decimal
    qps_met: bool
    alt_qps_met: bool
    participant_revenue: Decimal | None = None
    low_revenue: bool = False

    def __post_init__(self) -> None:
        if not self.aco_id.strip():
            raise AcoInputError("the ACO id is empty", "aco_id")
        if self.assigned_beneficiaries < 0:
            raise AcoInputError(f"assigned beneficiaries cannot be negative "
                                f"({self.assigned_beneficiaries})", "assigned_beneficiaries")
        if self.person_years <= 0:
            raise AcoInputError(f"person years must be positive ({self.person_years})",
                                "person_years")
        if self.benchmark_per_capita <= 0:
            raise AcoInputError(f"the benchmark must be positive "
                                f"({self.benchmark_per_capita})", "benchmark_per_capita")
        if self.expenditure_per_capita < 0:
            raise AcoInputError(f"expenditures cannot be negative "
                                f"({self.expenditure_per_capita})", "expenditure_per_capita")
        if not ZERO <= self.quality_score <= HUNDRED:
            raise AcoInputError(f"the quality score is on the 0-100 scale, not "
                                f"{self.quality_score}", "quality_score")
        if self.participant_revenue is not None and self.participant_revenue < 0:
            raise AcoInputError(f"revenue cannot be negative ({self.participant_revenue})",
                                "participant_revenue")


@dataclass(frozen=True)
class MsspSettlement:
    """The settlement of one ACO. Money in dollars rounded to the cent; rates exact.

    ``gross_savings`` is negative for losses. ``final_sharing_rate`` is the share of gross
    savings paid (0 when no savings are earned); ``mlr``, ``shared_loss_rate`` and
    ``loss_limit`` are ``None`` where they do not apply. ``earned_savings`` =
    ``shared_savings`` + ``sequestration`` to the cent.
    """

    aco_id: str
    track: Track
    savings_rate: Decimal
    msr: Decimal
    mlr: Decimal | None
    qualified: bool
    final_sharing_rate: Decimal
    total_benchmark: Decimal
    gross_savings: Decimal
    performance_payment_limit: Decimal
    earned_savings: Decimal
    sequestration: Decimal
    shared_savings: Decimal
    shared_loss_rate: Decimal | None
    loss_limit: Decimal | None
    shared_losses: Decimal
    low_revenue_exception: bool
    note: str

    @property
    def medicare_net_savings(self) -> Decimal:
        """What Medicare keeps: gross savings less earned shared savings plus shared losses
        owed (negative when Medicare bears a loss), so that ``gross_savings =
        earned_savings - shared_losses + medicare_net_savings`` to the cent."""
        return self.gross_savings - self.earned_savings + self.shared_losses


def msr_mlr(aco: AcoPerformance, params: MsspParams) -> tuple[Decimal, Decimal | None]:
    """The ACO's minimum savings rate and minimum loss rate (``None`` when one-sided).

    42 CFR 425.605(b): one-sided levels use the variable MSR (§425.604(b) table); two-sided
    tracks the symmetrical MSR/MLR chosen for the agreement period, from
    ``fixed_msr_mlr_options`` or variable; below 5,000 beneficiaries the variable one
    applies (§425.110(b)).
    """
    track = params.tracks[aco.track]
    option = aco.msr_mlr_option
    if not track.two_sided:
        if option is not None:
            raise AcoInputError(
                f"{aco.track.value} is one-sided: its MSR is set by the number of assigned "
                "beneficiaries (42 CFR 425.605(b)(1)); write 'variable'", "msr_mlr_option")
        return variable_msr(aco.assigned_beneficiaries, params.msr_table), None
    allowed = params.fixed_msr_mlr_options.values
    if option is not None and option not in allowed:
        raise AcoInputError(
            f"{option} is not an MSR/MLR option of a two-sided track; use variable or one of "
            f"{', '.join(str(v) for v in allowed)} (fractions: 0.02 is 2%)", "msr_mlr_option")
    if option is None or aco.assigned_beneficiaries < params.variable_below_beneficiaries.value:
        rate = variable_msr(aco.assigned_beneficiaries, params.msr_table)
        return rate, rate
    return option, option


def quality_factor(aco: AcoPerformance) -> Decimal:
    """Share of the maximum sharing rate quality earns (42 CFR 425.512; §425.605(d),
    §425.610(d)): 1 if the quality performance standard is met, score/100 if only the
    alternative standard is, else 0."""
    if aco.qps_met:
        return ONE
    if aco.alt_qps_met:
        return aco.quality_score / HUNDRED
    return ZERO


def shared_loss_rate(aco: AcoPerformance, track: TrackParams) -> Decimal:
    """The shared loss rate: flat for BASIC C-E (30%, not quality-adjusted,
    §425.605(d)(1)(iii)-(v)); for ENHANCED ``1 - 0.75 x score/100`` bounded to 40%-75%, or
    75% when neither quality standard is met (§425.610(f))."""
    rule = track.shared_loss_rate
    if rule is None:
        raise InvalidInput(f"{aco.track.value} is one-sided and shares no losses")
    if rule.flat is not None:
        return rule.flat
    factor, floor, ceiling, failed = (rule.quality_factor, rule.floor, rule.ceiling,
                                      rule.quality_failed)
    if factor is None or floor is None or ceiling is None or failed is None:
        raise InvalidInput(f"{aco.track.value}: the loss rate needs quality_factor, floor, "
                           "ceiling and quality_failed in the MSSP parameter file")
    if not (aco.qps_met or aco.alt_qps_met):
        return failed
    return min(max(ONE - factor * aco.quality_score / HUNDRED, floor), ceiling)


def loss_sharing_limit(aco: AcoPerformance, track: TrackParams,
                       total_benchmark: Decimal) -> Decimal:
    """The loss sharing limit, exact: the lesser of ``share_of_revenue`` x participant
    revenue and ``share_of_benchmark`` x total updated benchmark (§425.605(d),
    §425.610(e))."""
    limit = track.loss_limit
    if limit is None:
        raise InvalidInput(f"{aco.track.value} is one-sided and shares no losses")
    caps: list[Decimal] = []
    if limit.share_of_benchmark is not None:
        caps.append(limit.share_of_benchmark * total_benchmark)
    if limit.share_of_revenue is not None:
        if aco.participant_revenue is None:
            raise AcoInputError(
                f"ACO {aco.aco_id} owes shared losses and {aco.track.value}'s loss sharing "
                "limit is a share of the ACO participants' Parts A+B FFS revenue: give "
                "participant_revenue", "participant_revenue")
        caps.append(limit.share_of_revenue * aco.participant_revenue)
    return min(caps)


def settle_mssp(aco: AcoPerformance, *, sequestration: Decimal = ZERO,
                params: MsspParams | None = None) -> MsspSettlement:
    """Settle one ACO's performance year under 42 CFR 425.605 / 425.610 (see the module
    docstring for the steps). ``sequestration`` is the across-the-board reduction of
    shared savings payments in force (e.g. ``Decimal("0.02")``), 0 by default."""
    if not ZERO <= sequestration < ONE:
        raise InvalidInput(f"sequestration is a fraction in [0, 1), e.g. 0.02, not "
                           f"{sequestration}")
    params = params or load_params()
    track = params.tracks[aco.track]
    msr, mlr = msr_mlr(aco, params)
    bm, ex = aco.benchmark_per_capita, aco.expenditure_per_capita
    per_capita = bm - ex
    total_benchmark = bm * aco.person_years
    gross = per_capita * aco.person_years
    payment_limit = track.performance_payment_limit * total_benchmark
    quality_ok = aco.qps_met or aco.alt_qps_met

    qualified = low_revenue_exception = False
    rate = earned = owed = ZERO
    loss_rate: Decimal | None = None
    loss_limit: Decimal | None = None
    notes: list[str] = []
    if per_capita > 0:
        meets_msr = per_capita >= msr * bm
        low_revenue_exception = (
            not meets_msr and aco.track.is_basic and aco.low_revenue
            and aco.assigned_beneficiaries >= params.low_revenue.min_beneficiaries)
        if not (meets_msr or low_revenue_exception):
            notes.append("savings below the MSR")
        elif not quality_ok:
            low_revenue_exception = False
            notes.append("quality standards not met: no shared savings")
        else:
            qualified = True
            rate = track.max_sharing_rate * quality_factor(aco)
            if low_revenue_exception:
                rate *= params.low_revenue.sharing_rate_factor
                notes.append("low-revenue exception: savings below the MSR shared at half "
                             "the rate")
            earned = min(rate * gross, payment_limit)
            if rate * gross > payment_limit:
                notes.append("performance payment limit binds")
    elif per_capita < 0:
        if mlr is None:
            notes.append("one-sided: losses are not shared")
        elif -per_capita >= mlr * bm:
            loss_rate = shared_loss_rate(aco, track)
            loss_limit = loss_sharing_limit(aco, track, total_benchmark)
            owed = min(loss_rate * -gross, loss_limit)
            if loss_rate * -gross > loss_limit:
                notes.append("loss sharing limit binds")
        else:
            notes.append("losses below the MLR")
    earned_cents = cents(earned)
    shared = cents(earned * (ONE - sequestration))
    return MsspSettlement(
        aco_id=aco.aco_id, track=aco.track, savings_rate=per_capita / bm, msr=msr, mlr=mlr,
        qualified=qualified, final_sharing_rate=rate, total_benchmark=total_benchmark,
        gross_savings=cents(gross), performance_payment_limit=cents(payment_limit),
        earned_savings=earned_cents, sequestration=earned_cents - shared,
        shared_savings=shared, shared_loss_rate=loss_rate,
        loss_limit=None if loss_limit is None else cents(loss_limit),
        shared_losses=cents(owed), low_revenue_exception=low_revenue_exception,
        note="; ".join(notes))
