"""Invariants of the MSSP settlement over generated ACOs (hypothesis).

- More savings never lower shared savings (until the performance payment limit, where
  they stay at the limit), and never raise shared losses.
- Limits always hold: shared savings <= the performance payment limit; shared losses <=
  the loss sharing limit; one-sided tracks never owe; savings and losses never both.
- Money is conserved to the cent: earned = paid + sequestered, and gross savings =
  earned - owed + what Medicare keeps.
- Better quality never lowers shared savings nor raises shared losses.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from valuecare.payment.mssp import AcoPerformance, MsspSettlement, cents, settle_mssp
from valuecare.payment.mssp_params import Track, load_params

PARAMS = load_params()
OPTIONS = [None, *PARAMS.fixed_msr_mlr_options.values]
money = st.decimals(min_value=D("1000.00"), max_value=D("60000.00"), places=2)


@st.composite
def acos(draw: st.DrawFn) -> AcoPerformance:
    track = draw(st.sampled_from(list(Track)))
    two_sided = PARAMS.tracks[track].two_sided
    qps = draw(st.booleans())
    return AcoPerformance(
        aco_id="P", track=track,
        assigned_beneficiaries=draw(st.integers(min_value=0, max_value=120_000)),
        person_years=draw(st.decimals(min_value=D("1.0"), max_value=D("200000.0"), places=1)),
        benchmark_per_capita=draw(money),
        expenditure_per_capita=draw(money),
        msr_mlr_option=draw(st.sampled_from(OPTIONS)) if two_sided else None,
        quality_score=draw(st.decimals(min_value=0, max_value=100, places=2)),
        qps_met=qps, alt_qps_met=draw(st.booleans()),
        participant_revenue=draw(st.decimals(min_value=0, max_value=D("1e9"), places=2)),
        low_revenue=draw(st.booleans()))


sequestrations = st.sampled_from([D(0), D("0.02"), D("0.0173")])


def check_limits(s: MsspSettlement, aco: AcoPerformance) -> None:
    assert s.shared_savings >= 0 and s.shared_losses >= 0
    assert s.shared_savings <= s.earned_savings <= s.performance_payment_limit
    assert s.performance_payment_limit == cents(
        PARAMS.tracks[aco.track].performance_payment_limit * s.total_benchmark)
    assert not (s.shared_savings > 0 and s.shared_losses > 0)
    if s.shared_losses > 0:
        assert s.loss_limit is not None and s.shared_losses <= s.loss_limit
    if not PARAMS.tracks[aco.track].two_sided:
        assert s.shared_losses == 0 and s.mlr is None
    if s.final_sharing_rate > 0:
        assert s.final_sharing_rate <= PARAMS.tracks[aco.track].max_sharing_rate


@settings(max_examples=300, deadline=None)
@given(acos(), sequestrations)
def test_limits_hold_and_money_is_conserved(aco: AcoPerformance, seq: D) -> None:
    s = settle_mssp(aco, sequestration=seq)
    check_limits(s, aco)
    assert s.earned_savings == s.shared_savings + s.sequestration
    assert s.gross_savings == s.earned_savings - s.shared_losses + s.medicare_net_savings
    assert s.gross_savings == cents((aco.benchmark_per_capita - aco.expenditure_per_capita)
                                    * aco.person_years)
    if seq == 0:
        assert s.sequestration == 0


@settings(max_examples=300, deadline=None)
@given(acos(), money, money, sequestrations)
def test_more_savings_never_lower_shared_savings(aco: AcoPerformance, e1: D, e2: D,
                                                 seq: D) -> None:
    low, high = sorted((e1, e2))   # lower expenditure = more savings
    more = settle_mssp(replace(aco, expenditure_per_capita=low), sequestration=seq)
    less = settle_mssp(replace(aco, expenditure_per_capita=high), sequestration=seq)
    assert more.shared_savings >= less.shared_savings
    assert more.shared_losses <= less.shared_losses


@settings(max_examples=300, deadline=None)
@given(acos(), st.decimals(min_value=0, max_value=100, places=2),
       st.decimals(min_value=0, max_value=100, places=2))
def test_better_quality_never_hurts(aco: AcoPerformance, q1: D, q2: D) -> None:
    low, high = sorted((q1, q2))
    worse = settle_mssp(replace(aco, quality_score=low))
    better = settle_mssp(replace(aco, quality_score=high))
    assert better.shared_savings >= worse.shared_savings
    assert better.shared_losses <= worse.shared_losses
    met, as_is = settle_mssp(replace(aco, qps_met=True)), settle_mssp(aco)
    assert met.shared_savings >= as_is.shared_savings
    assert met.shared_losses <= as_is.shared_losses
