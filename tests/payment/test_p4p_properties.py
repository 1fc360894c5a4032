"""Invariants of P4P and PCMH settlements over generated schemes and results (hypothesis):

- a better rate on one measure (higher, or lower for an inverse measure) never lowers an
  entity's score, bonus, withhold return or PCMH total, whatever the scale and basis;
- limits hold: 0 <= score <= 1; bonus <= its maximum; returned <= withheld;
- money is conserved to the cent: a pool is paid plus retained, never overspent; a PCMH
  total is FFS + care-management fee + incentive.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from valuecare.payment.p4p import (
    EntityBasis,
    MeasureResult,
    MeasureTerm,
    P4pScheme,
    settle_p4p,
)
from valuecare.payment.pcmh import PcmhContract, Practice, settle_pcmh

rates = st.decimals(min_value=0, max_value=1, places=3)


@st.composite
def terms(draw: st.DrawFn, name: str) -> MeasureTerm:
    up = draw(st.booleans())
    a, b = sorted(draw(st.lists(rates, min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        scale = {"type": "linear", "threshold": str(a if up else b),
                 "benchmark": str(b if up else a),
                 "credit_at_threshold": str(draw(st.decimals(0, 1, places=2)))}
    else:
        cuts = sorted(draw(st.lists(rates, min_size=1, max_size=10, unique=True)),
                      reverse=not up)
        points = sorted(draw(st.lists(st.integers(0, 10), min_size=len(cuts),
                                      max_size=len(cuts))))
        points[-1] = max(points[-1], 1)
        scale = {"type": "tiered", "tiers": [{"cutoff": str(c), "points": str(p)}
                                             for c, p in zip(cuts, points, strict=True)]}
    return MeasureTerm.model_validate({
        "measure": name, "higher_is_better": up, "weight": str(draw(st.integers(1, 5))),
        "min_denominator": draw(st.integers(0, 30)), "scale": scale})


INCENTIVES = [
    {"type": "bonus", "basis": "per_member_month", "amount": "2.75"},
    {"type": "bonus", "basis": "share_of_revenue", "amount": "0.03"},
    {"type": "bonus", "basis": "per_entity", "amount": "12345.67"},
    {"type": "bonus", "basis": "total_pool", "amount": "250000.01",
     "allocation": "member_months", "unearned": "retained"},
    {"type": "bonus", "basis": "total_pool", "amount": "99999.99", "allocation": "equal",
     "unearned": "redistributed"},
    {"type": "withhold", "rate": "0.02"},
]


@st.composite
def cases(draw: st.DrawFn) -> tuple[P4pScheme, list[MeasureResult], list[EntityBasis]]:
    measures = [draw(terms(f"M{i}")) for i in range(draw(st.integers(1, 4)))]
    scheme = P4pScheme.model_validate({
        "measures": [m.model_dump() for m in measures],
        "incentive": draw(st.sampled_from(INCENTIVES)),
        "missing_measures": draw(st.sampled_from(["reweight", "zero"])),
        "minimum_score": str(draw(st.sampled_from(["0", "0.3"])))})
    names = [f"E{i}" for i in range(draw(st.integers(1, 5)))]
    results = [MeasureResult(e, m.measure, draw(rates), draw(st.none() | st.integers(0, 60)))
               for e in names for m in measures if draw(st.booleans())]
    bases = [EntityBasis(e, D(draw(st.integers(0, 50000))),
                         draw(st.decimals(0, D("9000000"), places=2))) for e in names]
    return scheme, results, bases


@settings(max_examples=300, deadline=None)
@given(cases())
def test_limits_hold_and_pools_are_conserved(case) -> None:
    scheme, results, bases = case
    out = settle_p4p(results, scheme, bases)
    for s in out.settlements:
        assert 0 <= s.score <= 1
        assert 0 <= s.bonus <= s.max_incentive
        assert 0 <= s.withhold_returned <= s.withheld
    if out.pool is not None:
        assert out.pool_paid is not None and out.pool_retained is not None
        assert out.pool_paid + out.pool_retained == out.pool
        assert 0 <= out.pool_paid <= out.pool


@settings(max_examples=400, deadline=None)
@given(cases(), st.data())
def test_a_better_rate_never_lowers_the_incentive(case, data: st.DataObject) -> None:
    scheme, results, bases = case
    assume(results)
    i = data.draw(st.integers(0, len(results) - 1))
    r = results[i]
    up = next(t for t in scheme.measures if t.measure == r.measure).higher_is_better
    other = data.draw(rates)
    better = max(r.rate, other) if up else min(r.rate, other)
    improved = [*results[:i], replace(r, rate=better), *results[i + 1:]]
    before = {s.entity: s for s in settle_p4p(results, scheme, bases).settlements}
    after = {s.entity: s for s in settle_p4p(improved, scheme, bases).settlements}
    assert after[r.entity].score >= before[r.entity].score
    assert after[r.entity].bonus >= before[r.entity].bonus
    assert after[r.entity].net_incentive >= before[r.entity].net_incentive


@settings(max_examples=150, deadline=None)
@given(cases(), st.data())
def test_pcmh_total_is_its_parts_and_monotone(case, data: st.DataObject) -> None:
    scheme, results, bases = case
    contract = PcmhContract.model_validate({
        "kind": "pcmh", "contract_id": "X", "payer": "P",
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "care_management": {"by_recognition_level": {"l1": "2.00", "l2": "3.33"}},
        "performance_incentive": scheme.model_dump()})
    practices = [Practice(b.entity, b.member_months or D(0), b.ffs_revenue or D(0),
                          data.draw(st.sampled_from(["l1", "l2"]))) for b in bases]
    settled, _ = settle_pcmh(practices, contract, results)
    for s in settled:
        assert s.total_payment == (s.ffs_revenue + s.care_management_fee
                                   + s.performance_incentive)
        assert s.care_management_fee == (s.care_management_pmpm * next(
            p.member_months for p in practices if p.entity == s.entity)).quantize(
            D("0.01"), rounding=ROUND_HALF_UP)
    if results:
        r = results[0]
        up = next(t for t in scheme.measures if t.measure == r.measure).higher_is_better
        improved = [replace(r, rate=D(1) if up else D(0)), *results[1:]]
        again, _ = settle_pcmh(practices, contract, improved)
        old = next(s for s in settled if s.entity == r.entity)
        new = next(s for s in again if s.entity == r.entity)
        assert new.total_payment >= old.total_payment
