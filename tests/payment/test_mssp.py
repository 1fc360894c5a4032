"""MSSP settlement of one ACO against the reference sheet's worked numbers.

Expected values come from ../shared/reference/payment-and-measures.md §1.5 (TV-1 to TV-5,
arithmetic recomputed there independently) unless a test's docstring says otherwise;
TV-6 (the MSR table) is in test_mssp_params.py.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.mssp import AcoInputError, AcoPerformance, settle_mssp, shared_loss_rate
from valuecare.payment.mssp_params import Track, load_params


def aco(**overrides: object) -> AcoPerformance:
    """An ENHANCED ACO meeting the quality standard, settled at TV-1's numbers."""
    base = AcoPerformance(
        aco_id="A1", track=Track.ENHANCED, assigned_beneficiaries=20_000,
        person_years=D(20_000), benchmark_per_capita=D(12_000),
        expenditure_per_capita=D(11_400), msr_mlr_option=D("0.02"), quality_score=D(90),
        qps_met=True, alt_qps_met=False)
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_tv1_enhanced_savings() -> None:
    """TV-1: 5% savings over a 2% MSR; 75% of $12M = $9M, the 20% cap ($48M) not binding."""
    s = settle_mssp(aco())
    assert s.savings_rate == D("0.05")
    assert (s.msr, s.mlr) == (D("0.02"), D("0.02"))
    assert s.qualified
    assert s.gross_savings == D("12000000.00")
    assert s.final_sharing_rate == D("0.75")
    assert s.performance_payment_limit == D("48000000.00")
    assert s.shared_savings == D("9000000.00")
    assert s.shared_losses == D("0.00")


@pytest.mark.parametrize(("beneficiaries", "msr", "shared"), [
    (10_000, D("0.030"), D("1320000.00")),   # TV-2: savings rate exactly the MSR qualifies
    (9_999, D("0.030"), D("1320000.00")),    # the band's high end is 3.0% too
    (9_000, D("0.031"), D("0.00")),          # 3.1%: the ACO gets nothing
])
def test_tv2_basic_a_at_the_msr_edge(beneficiaries: int, msr: D, shared: D) -> None:
    """TV-2: BASIC A, benchmark $11,000, expenditures $10,670 (3.0% savings), 10,000
    person years; 40% of $3.3M = $1.32M, under the 10% cap ($11M)."""
    s = settle_mssp(aco(track=Track.BASIC_A, assigned_beneficiaries=beneficiaries,
                        person_years=D(10_000), benchmark_per_capita=D(11_000),
                        expenditure_per_capita=D(10_670), msr_mlr_option=None))
    assert s.savings_rate == D("0.03")
    assert s.msr == msr
    assert s.mlr is None
    assert s.shared_savings == shared
    assert s.qualified is (shared > 0)
    assert s.performance_payment_limit == D("11000000.00")


def test_tv3_alternative_quality_standard() -> None:
    """TV-3: BASIC E, quality score 60, only the alternative standard met: 0.50 x 0.60 =
    30%. (Savings of 4% on $11,500 x 15,000 are ours: 0.30 x $6.9M = $2.07M.)"""
    s = settle_mssp(aco(track=Track.BASIC_E, assigned_beneficiaries=15_000,
                        person_years=D(15_000), benchmark_per_capita=D(11_500),
                        expenditure_per_capita=D(11_040), quality_score=D(60), qps_met=False,
                        alt_qps_met=True))
    assert s.final_sharing_rate == D("0.30")
    assert s.shared_savings == D("2070000.00")


def test_tv4_enhanced_loss() -> None:
    """TV-4: 4% over a $12,000 benchmark, MLR 2%, quality 70: loss rate 1 - 0.75 x 0.70 =
    0.475; owed 0.475 x $480 x 20,000 = $4.56M, the 15% cap ($36M) not binding."""
    s = settle_mssp(aco(expenditure_per_capita=D(12_480), quality_score=D(70)))
    assert s.savings_rate == D("-0.04")
    assert s.shared_loss_rate == D("0.475")
    assert s.loss_limit == D("36000000.00")
    assert s.shared_losses == D("4560000.00")
    assert s.shared_savings == D("0.00")
    assert not s.qualified


def test_tv5_basic_c_loss_capped_by_revenue() -> None:
    """TV-5: BASIC C, 5% loss on $110M, revenue $40M: 30% x $5.5M = $1.65M, limited to
    min(2% x $40M, 1% x $110M) = $0.8M."""
    s = settle_mssp(aco(track=Track.BASIC_C, assigned_beneficiaries=10_000,
                        person_years=D(10_000), benchmark_per_capita=D(11_000),
                        expenditure_per_capita=D(11_550), msr_mlr_option=None,
                        participant_revenue=D(40_000_000)))
    assert (s.msr, s.mlr) == (D("0.030"), D("0.030"))
    assert s.shared_loss_rate == D("0.30")
    assert s.loss_limit == D("800000.00")
    assert s.shared_losses == D("800000.00")
    assert "loss sharing limit binds" in s.note


def test_basic_loss_limit_by_benchmark_when_revenue_is_high() -> None:
    """TV-5's ACO with $200M revenue: min(2% x $200M, 1% x $110M) = $1.1M < $1.65M."""
    s = settle_mssp(aco(track=Track.BASIC_C, assigned_beneficiaries=10_000,
                        person_years=D(10_000), benchmark_per_capita=D(11_000),
                        expenditure_per_capita=D(11_550), msr_mlr_option=None,
                        participant_revenue=D(200_000_000)))
    assert s.shared_losses == D("1100000.00")


@pytest.mark.parametrize(("track", "revenue_share", "benchmark_share"), [
    (Track.BASIC_D, D("0.04"), D("0.02")),
    (Track.BASIC_E, D("0.08"), D("0.04")),
])
def test_basic_d_and_e_loss_limits(track: Track, revenue_share: D, benchmark_share: D) -> None:
    """Loss limits of levels D and E (reference sheet §1.2): revenue share binds at $10M
    revenue, benchmark share at $1B; a 20% loss on $110M leaves 30% x $22M = $6.6M above
    both."""
    base = aco(track=track, assigned_beneficiaries=10_000, person_years=D(10_000),
               benchmark_per_capita=D(11_000), expenditure_per_capita=D(13_200))
    low = settle_mssp(replace(base, participant_revenue=D(10_000_000)))
    high = settle_mssp(replace(base, participant_revenue=D(1_000_000_000)))
    assert low.shared_losses == revenue_share * D(10_000_000)
    assert high.shared_losses == benchmark_share * D(110_000_000)


@pytest.mark.parametrize(("qps", "alt", "score", "rate"), [
    (True, False, D(70), D("0.475")),
    (True, False, D(90), D("0.40")),     # 1 - 0.675 = 0.325, floored at 40%
    (False, True, D(10), D("0.75")),     # 1 - 0.075 = 0.925, capped at 75%
    (False, True, D(50), D("0.625")),
    (False, False, D(95), D("0.75")),    # neither standard met: 75%
])
def test_enhanced_loss_rate_floor_and_ceiling(qps: bool, alt: bool, score: D, rate: D) -> None:
    """ENHANCED loss rate 1 - 0.75 x score/100 within 40%-75%, 75% when both quality
    standards fail (reference sheet §1.2-§1.3)."""
    a = aco(qps_met=qps, alt_qps_met=alt, quality_score=score)
    assert shared_loss_rate(a, load_params().tracks[Track.ENHANCED]) == rate


def test_basic_loss_rate_is_not_quality_adjusted() -> None:
    a = aco(track=Track.BASIC_C, qps_met=False, quality_score=D(5))
    assert shared_loss_rate(a, load_params().tracks[Track.BASIC_C]) == D("0.30")


def test_performance_payment_limit_binds() -> None:
    """ENHANCED with 30% savings: 0.75 x $72M = $54M > 20% x $240M = $48M."""
    s = settle_mssp(aco(expenditure_per_capita=D(8_400)))
    assert s.shared_savings == D("48000000.00")
    assert "performance payment limit binds" in s.note


def test_enhanced_loss_limit_binds() -> None:
    """ENHANCED with a 40% loss at 75%: 0.75 x $96M = $72M > 15% x $240M = $36M."""
    s = settle_mssp(aco(expenditure_per_capita=D(16_800), qps_met=False))
    assert s.shared_losses == D("36000000.00")


def test_quality_failed_means_no_savings() -> None:
    s = settle_mssp(aco(qps_met=False, alt_qps_met=False))
    assert not s.qualified
    assert s.final_sharing_rate == 0
    assert s.shared_savings == D("0.00")
    assert "quality standards not met" in s.note


def test_one_sided_track_shares_no_losses() -> None:
    s = settle_mssp(aco(track=Track.BASIC_B, msr_mlr_option=None,
                        expenditure_per_capita=D(14_000)))
    assert s.shared_losses == D("0.00")
    assert s.mlr is None
    assert "one-sided" in s.note


def test_losses_below_the_mlr_are_not_shared() -> None:
    s = settle_mssp(aco(expenditure_per_capita=D(12_200)))  # 1.67% over, MLR 2%
    assert s.shared_losses == D("0.00")
    assert "below the MLR" in s.note


def test_zero_msr_shares_from_the_first_dollar() -> None:
    """0% MSR/MLR: $1 of savings per capita is shared; $1 of losses is owed."""
    saved = settle_mssp(aco(msr_mlr_option=D(0), expenditure_per_capita=D(11_999)))
    lost = settle_mssp(aco(msr_mlr_option=D(0), expenditure_per_capita=D(12_001),
                           quality_score=D(80)))
    assert saved.shared_savings == D("15000.00")      # 0.75 x $1 x 20,000
    assert lost.shared_losses == D("8000.00")         # 0.40 x $1 x 20,000


def test_two_sided_variable_option_uses_the_table() -> None:
    s = settle_mssp(aco(msr_mlr_option=None, assigned_beneficiaries=13_151))
    assert s.msr == s.mlr
    assert s.msr.quantize(D("0.000001")) == D("0.028109")  # TV-6


def test_fixed_option_gives_way_below_5000_beneficiaries() -> None:
    """42 CFR 425.110(b): under 5,000 assigned beneficiaries the MSR/MLR is variable."""
    s = settle_mssp(aco(assigned_beneficiaries=4_999))
    assert (s.msr, s.mlr) == (D("0.039"), D("0.039"))


def test_low_revenue_exception_half_rate() -> None:
    """§425.605(h): a low-revenue BASIC ACO (>= 5,000 beneficiaries) with 2% savings below
    its 3.2% MSR shares them at 40% / 2 = 20%: 0.20 x $200 x 8,000 = $320,000."""
    base = aco(track=Track.BASIC_B, assigned_beneficiaries=8_000, person_years=D(8_000),
               benchmark_per_capita=D(10_000), expenditure_per_capita=D(9_800),
               msr_mlr_option=None, low_revenue=True)
    s = settle_mssp(base)
    assert s.msr == D("0.032")
    assert s.low_revenue_exception and s.qualified
    assert s.final_sharing_rate == D("0.20")
    assert s.shared_savings == D("320000.00")
    assert settle_mssp(replace(base, low_revenue=False)).shared_savings == 0
    assert settle_mssp(replace(base, assigned_beneficiaries=4_999)).shared_savings == 0
    assert settle_mssp(replace(base, qps_met=False)).shared_savings == 0
    # meeting the MSR: the full rate
    full = settle_mssp(replace(base, expenditure_per_capita=D(9_600)))
    assert full.final_sharing_rate == D("0.40") and not full.low_revenue_exception


def test_low_revenue_exception_is_basic_only() -> None:
    s = settle_mssp(aco(low_revenue=True, expenditure_per_capita=D(11_900)))  # 0.83% < 2%
    assert s.shared_savings == 0 and not s.low_revenue_exception


def test_sequestration_reduces_savings_not_losses() -> None:
    """2% sequestration after the cap: $9M -> $8.82M; losses unchanged."""
    s = settle_mssp(aco(), sequestration=D("0.02"))
    assert s.earned_savings == D("9000000.00")
    assert s.sequestration == D("180000.00")
    assert s.shared_savings == D("8820000.00")
    loss = settle_mssp(aco(expenditure_per_capita=D(12_480), quality_score=D(70)),
                       sequestration=D("0.02"))
    assert loss.shared_losses == D("4560000.00")


def test_rounding_once_to_the_cent() -> None:
    """Fractional person years and cents: gross $123.45 x 1,000.5 = $123,511.725 ->
    $123,511.73 (half up); 75% = $92,633.79375 -> $92,633.79 earned; with 2% sequestration
    $90,781.117875 -> $90,781.12 paid and $1,852.67 sequestered."""
    s = settle_mssp(aco(person_years=D("1000.5"), expenditure_per_capita=D("11876.55"),
                        msr_mlr_option=D(0)), sequestration=D("0.02"))
    assert s.gross_savings == D("123511.73")
    assert s.earned_savings == D("92633.79")
    assert s.shared_savings == D("90781.12")
    assert s.sequestration == D("1852.67")


def test_missing_revenue_is_an_error_only_when_basic_losses_are_owed() -> None:
    basic = aco(track=Track.BASIC_C, msr_mlr_option=D("0.02"))
    assert settle_mssp(basic).shared_savings > 0          # savings: revenue not needed
    with pytest.raises(AcoInputError, match="participant_revenue") as info:
        settle_mssp(replace(basic, expenditure_per_capita=D(12_600)))
    assert info.value.column == "participant_revenue"
    # ENHANCED's limit is benchmark-based only
    assert settle_mssp(aco(expenditure_per_capita=D(12_600))).shared_losses > 0


@pytest.mark.parametrize(("overrides", "column"), [
    ({"track": Track.BASIC_A, "msr_mlr_option": D("0.02")}, "msr_mlr_option"),
    ({"msr_mlr_option": D("0.03")}, "msr_mlr_option"),
    ({"msr_mlr_option": D("2")}, "msr_mlr_option"),
])
def test_options_not_allowed(overrides: dict[str, object], column: str) -> None:
    with pytest.raises(AcoInputError) as info:
        settle_mssp(aco(**overrides))
    assert info.value.column == column


@pytest.mark.parametrize(("overrides", "column"), [
    ({"assigned_beneficiaries": -1}, "assigned_beneficiaries"),
    ({"person_years": D(0)}, "person_years"),
    ({"benchmark_per_capita": D(0)}, "benchmark_per_capita"),
    ({"expenditure_per_capita": D(-1)}, "expenditure_per_capita"),
    ({"quality_score": D("100.5")}, "quality_score"),
    ({"participant_revenue": D(-1)}, "participant_revenue"),
    ({"aco_id": " "}, "aco_id"),
])
def test_bad_inputs_name_their_column(overrides: dict[str, object], column: str) -> None:
    with pytest.raises(AcoInputError) as info:
        aco(**overrides)
    assert info.value.column == column


@pytest.mark.parametrize("rate", [D("-0.01"), D(1)])
def test_bad_sequestration(rate: D) -> None:
    with pytest.raises(InvalidInput, match="sequestration"):
        settle_mssp(aco(), sequestration=rate)
