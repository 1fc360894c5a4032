"""Invariants of the bundle reconciliation over generated episodes (hypothesis), with the
packaged CJR terms of every performance year:

- Better quality never raises the effective payment or repayment discount, and never
  turns an eligible provider ineligible.
- Limits always hold: the limited NPRA lies within the stop-gain and stop-loss limits;
  nothing is repaid in a one-sided year; an ineligible provider is never paid.
- Money is conserved to the cent: per-episode amounts add up to the provider totals, and
  the reconciliation amount is the payment or repayment less the warranty charge.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from valuecare.payment.bundle import Episode, effective_discounts, settle_bundle
from valuecare.payment.bundle_terms import BundleTerms, ProviderTerms, cjr_terms

YEARS = [1, 2, 3, 4, 5]
money = st.decimals(min_value=D("100.00"), max_value=D("90000.00"), places=2)
scores = st.decimals(min_value=0, max_value=20, places=2)


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Episode], dict[str, ProviderTerms]]:
    providers = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3,
                              unique=True))
    episodes = []
    for i in range(draw(st.integers(min_value=1, max_value=25))):
        episodes.append(Episode(
            f"e{i}", draw(st.sampled_from(providers)), draw(money), draw(money),
            draw(st.sampled_from([D(0), D("0.01"), D("1500.00"), D("23999.99")])),
            draw(st.sampled_from(["DRG469", "DRG470"]))))
    perf = {p: ProviderTerms(quality_score=draw(scores), reduced_stop_loss=draw(st.booleans()))
            for p in providers}
    return episodes, perf


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(YEARS), scores, scores)
def test_better_quality_never_raises_the_discount(year: int, s1: D, s2: D) -> None:
    terms = cjr_terms(year)
    low, high = sorted((s1, s2))
    worse, better = effective_discounts(terms, low), effective_discounts(terms, high)
    assert better[1] <= worse[1]
    if worse[2] is not None and better[2] is not None:
        assert better[2] <= worse[2]
    assert better[0].eligible_for_payment >= worse[0].eligible_for_payment


def _check(terms: BundleTerms, s, perf: ProviderTerms) -> None:  # noqa: ANN001
    assert s.stop_gain_limit >= 0
    assert s.npra_after_limits <= s.stop_gain_limit
    if s.stop_loss_limit is None:
        assert s.npra_after_limits >= 0
    else:
        assert s.npra_after_limits >= -s.stop_loss_limit
        share = terms.loss_limit_share(perf.reduced_stop_loss)
        assert share is not None and s.stop_loss_limit <= share * s.target_total + D("0.005")
    if terms.repayment_discount is None:
        assert s.payment_or_repayment >= 0
    if not s.eligible_for_payment:
        assert s.payment_or_repayment <= 0
    assert s.payment_or_repayment in (D(0), s.npra_after_limits)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(YEARS), books(), st.sampled_from(["benchmark", "discounted"]),
       st.sampled_from([D(1), D("0.5"), D(0)]))
def test_limits_hold_and_money_is_conserved(year: int, book, basis: str,  # noqa: ANN001
                                            share: D) -> None:
    episodes, perf = book
    terms = cjr_terms(year)
    settled = settle_bundle(episodes, terms, perf, basis=basis,  # type: ignore[arg-type]
                            warranty_share=share)
    assert sum(s.episodes for s in settled) == len(episodes)
    for s in settled:
        _check(terms, s, perf[s.provider])
        r = s.episode_results
        assert sum((e.quality_adjusted_target for e in r), D(0)) == s.target_total
        assert sum((e.actual_after_cap for e in r), D(0)) == s.actual_after_cap_total
        assert sum((e.actual_spend for e in r), D(0)) == s.actual_total
        assert sum((e.warranty_claims for e in r), D(0)) == s.warranty_claims_total
        assert all(e.quality_adjusted_target == e.quality_adjusted_target.quantize(D("0.01"))
                   for e in r)
        assert s.capped_episodes == sum(e.capped for e in r)
        assert s.actual_after_cap_total <= s.actual_total
        assert s.reconciliation_amount == s.payment_or_repayment - s.warranty_charge
        assert s.warranty_charge <= s.warranty_claims_total


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(YEARS), books(), scores, scores)
def test_better_quality_never_lowers_a_payment_within_the_limits(year, book, s1, s2  # noqa: ANN001
                                                                 ) -> None:
    """With the same episodes, a better score never raises the effective discount of the
    side used for the same side, and never lowers the summed target prices."""
    episodes, perf = book
    low, high = sorted((s1, s2))
    terms = cjr_terms(year)
    worse = settle_bundle(episodes, terms, {p: ProviderTerms(quality_score=low)
                                            for p in perf})
    better = settle_bundle(episodes, terms, {p: ProviderTerms(quality_score=high)
                                             for p in perf})
    for w, b in zip(worse, better, strict=True):
        assert b.payment_discount <= w.payment_discount
        if w.side == b.side:
            assert b.effective_discount <= w.effective_discount
            assert b.target_total >= w.target_total
        if w.side == "payment" and w.npra_before_limits >= 0:
            assert b.payment_or_repayment >= w.payment_or_repayment
