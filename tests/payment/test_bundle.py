"""Bundled-payment reconciliation (CJR style): the reference sheet's TV-7
(../shared/reference/payment-and-measures.md §2.1) and the CJR rules of 42 CFR 510.300(c),
510.305(e)-(g) and 510.315(f) as read in the CFR text, on numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.bundle import (
    Episode,
    EpisodeInputError,
    high_cost_ceilings,
    limit_npra,
    settle_bundle,
)
from valuecare.payment.bundle_terms import (
    BundleTerms,
    HighCostCap,
    ProviderTerms,
    cjr_terms,
    parse_contract,
)


def _eps(provider: str, n: int, target: str, spend: str, kind: str = "DRG470",
         claims: str = "0") -> list[Episode]:
    return [Episode(f"{provider}-{i}", provider, D(target), D(spend), D(claims), kind)
            for i in range(n)]


def test_tv7_npra_paid_when_quality_acceptable() -> None:
    """TV-7 (PY4-like): 100 episodes at a quality-adjusted target of $25,000 (after the 3%
    discount), actual $2,300,000: NPRA +$200,000; stop-gain 20% x $2.5M = $500,000 does
    not bind; paid if CQS >= 5.0."""
    eps = _eps("H", 100, "25000.00", "23000.00")
    [s] = settle_bundle(eps, cjr_terms(4), {"H": ProviderTerms(quality_score=D("5.0"))},
                        basis="discounted")
    assert s.target_total == D("2500000.00")
    assert s.actual_after_cap_total == D("2300000.00")
    assert s.npra_before_limits == s.npra_after_limits == D("200000.00")
    assert s.stop_gain_limit == D("500000.00")
    assert s.quality_category == "acceptable" and s.effective_discount == D("0.03")
    assert s.reconciliation_amount == D("200000.00")


def test_tv7_not_paid_below_acceptable() -> None:
    """TV-7 with CQS 4.99 (< 5.0): the NPRA is not paid (§510.305(g))."""
    [s] = settle_bundle(_eps("H", 100, "25000.00", "23000.00"), cjr_terms(4),
                        {"H": ProviderTerms(quality_score=D("4.99"))}, basis="discounted")
    assert s.npra_after_limits == D("200000.00")
    assert s.quality_category == "below_acceptable"
    assert s.reconciliation_amount == D("0.00")


@pytest.mark.parametrize(("score", "category", "pay", "rep"), [
    ("0", "below_acceptable", "0.03", "0.02"),
    ("4.99", "below_acceptable", "0.03", "0.02"),
    ("5.0", "acceptable", "0.03", "0.02"),
    ("6.89", "acceptable", "0.03", "0.02"),
    ("6.9", "good", "0.02", "0.01"),
    ("15.0", "good", "0.02", "0.01"),
    ("15.01", "excellent", "0.015", "0.005"),
    ("20", "excellent", "0.015", "0.005"),
])
def test_cjr_quality_categories_and_discounts_py2(score: str, category: str, pay: str,
                                                  rep: str) -> None:
    """§510.305(f)(2): acceptable >= 5.00 and < 6.9, good >= 6.9 and <= 15.0, excellent >
    15.0; §510.300(c): 3.0% for payments, 2.0% for repayments in PY2; §510.315(f): good
    -1.0, excellent -1.5 percentage points."""
    from valuecare.payment.bundle import effective_discounts
    cat, p, r = effective_discounts(cjr_terms(2), D(score))
    assert (cat.name, p, r) == (category, D(pay), D(rep))


@pytest.mark.parametrize(("year", "gain", "loss", "reduced", "rep"), [
    (1, "0.05", None, None, None),
    (2, "0.05", "0.05", "0.03", "0.02"),
    (3, "0.10", "0.10", "0.05", "0.02"),
    (4, "0.20", "0.20", "0.05", "0.03"),
    (5, "0.20", "0.20", "0.05", "0.03"),
])
def test_cjr_limits_by_year(year: int, gain: str, loss: str | None, reduced: str | None,
                            rep: str | None) -> None:
    """§510.305(e)(1)(v)(A)-(C) and §510.300(c)(3), read in the CFR text."""
    t = cjr_terms(year)
    assert t.stop_gain == D(gain)
    assert t.stop_loss == (None if loss is None else D(loss))
    assert t.reduced_stop_loss == (None if reduced is None else D(reduced))
    assert t.repayment_discount == (None if rep is None else D(rep))
    assert t.verification == "V"


def test_unknown_performance_year() -> None:
    with pytest.raises(InvalidInput, match="PY6-8 extension"):
        cjr_terms(6)


def test_high_cost_cap_two_sd() -> None:
    """Nine episodes at $40,000 and one at $140,000: mean $50,000, population SD $30,000,
    ceiling $50,000 + 2 x $30,000 = $110,000 (§510.300(b)(5))."""
    eps = _eps("A", 9, "48500.00", "40000.00", "DRG469") + _eps("B", 1, "48500.00",
                                                                "140000.00", "DRG469")
    assert high_cost_ceilings(eps, HighCostCap(standard_deviations=D(2))) == {
        "DRG469": D("110000.00")}
    assert high_cost_ceilings(eps, None) == {}


def test_rural_repayment_capped_at_reduced_stop_loss() -> None:
    """PY4, good quality (CQS 7.5 -> 2%), 4 episodes at a discounted target of $48,500
    (benchmark $50,000 -> $49,000 each, $196,000); spend 3 x $40,000 + $140,000 capped at
    $110,000 = $230,000; NPRA -$34,000; rural limit 5% x $196,000 = $9,800 owed."""
    others = _eps("O", 6, "48500.00", "40000.00", "DRG469")
    rural = _eps("R", 3, "48500.00", "40000.00", "DRG469") + [
        Episode("R-big", "R", D("48500.00"), D("140000.00"), D("0"), "DRG469")]
    providers = {"O": ProviderTerms(quality_score=D(10)),
                 "R": ProviderTerms(quality_score=D("7.5"), reduced_stop_loss=True)}
    s = {p.provider: p for p in settle_bundle(others + rural, cjr_terms(4), providers,
                                               basis="discounted")}["R"]
    assert (s.side, s.effective_discount, s.target_total) == ("repayment", D("0.02"),
                                                              D("196000.00"))
    assert (s.actual_total, s.actual_after_cap_total, s.capped_episodes) == (
        D("260000.00"), D("230000.00"), 1)
    assert s.npra_before_limits == D("-34000.00")
    assert s.stop_loss_limit == D("9800.00") and s.reconciliation_amount == D("-9800.00")


def test_py2_repayment_recomputed_at_the_repayment_discount() -> None:
    """PY2, acceptable: benchmark $10,000 x 10 episodes, spend $9,750 each. At the 3%
    payment discount the NPRA is $97,000 - $97,500 = -$500; at the 2% repayment discount
    $98,000 - $97,500 = +$500, so nothing is owed. Spend $9,850: -$500 at 2% is owed
    (within the 5% x $98,000 = $4,900 limit)."""
    terms = cjr_terms(2)
    q = {"H": ProviderTerms(quality_score=D(6))}
    [s] = settle_bundle(_eps("H", 10, "10000.00", "9750.00"), terms, q)
    assert (s.side, s.reconciliation_amount) == ("repayment", D("0"))
    assert "nothing owed" in s.note
    [s] = settle_bundle(_eps("H", 10, "10000.00", "9850.00"), terms, q)
    assert (s.target_total, s.npra_after_limits, s.stop_loss_limit) == (
        D("98000.00"), D("-500.00"), D("4900.00"))


def test_py1_has_no_repayment() -> None:
    """§510.305(f)(3): repayment waived in PY1."""
    [s] = settle_bundle(_eps("H", 2, "10000.00", "12000.00"), cjr_terms(1),
                        {"H": ProviderTerms(quality_score=D(10))})
    assert s.npra_before_limits == D("-4400.00") and s.reconciliation_amount == D("0")
    assert "one-sided" in s.note


def test_warranty_charged_after_the_limits() -> None:
    """NPRA $19,400 - $10,000 = $9,400 (PY1, acceptable: 2 x $10,000 x 0.97), limited to
    5% x $19,400 = $970;
    warranty claims $1,000 x 60% = $600 charged on top: $370."""
    eps = [Episode("a", "H", D("10000"), D("5000"), D("1000.00")),
           Episode("b", "H", D("10000"), D("5000"), D("0"))]
    [s] = settle_bundle(eps, cjr_terms(1), {"H": ProviderTerms(quality_score=D(6))},
                        warranty_share=D("0.6"))
    assert (s.npra_before_limits, s.npra_after_limits) == (D("9400.00"), D("970.00"))
    assert (s.warranty_charge, s.reconciliation_amount) == (D("600.00"), D("370.00"))


def test_limit_npra() -> None:
    assert limit_npra(D(100), D(1000), D("0.05"), D("0.05")) == (D(50), D("50.00"),
                                                                 D("50.00"))
    assert limit_npra(D(-100), D(1000), D("0.05"), None) == (D(0), D("50.00"), None)


@pytest.mark.parametrize(("kwargs", "column"), [
    ({"target_price": D("-1")}, "target_price"),
    ({"target_price": D("0")}, "target_price"),
    ({"actual_spend": D("-5")}, "actual_spend"),
    ({"actual_spend": D("1.005")}, "actual_spend"),
    ({"warranty_claims": D("-1")}, "warranty_claims"),
    ({"provider": " "}, "provider"),
])
def test_bad_episode(kwargs: dict[str, object], column: str) -> None:
    base: dict[str, object] = {"episode_id": "e", "provider": "H", "target_price": D(1),
                               "actual_spend": D(1)}
    with pytest.raises(EpisodeInputError) as info:
        Episode(**{**base, **kwargs})  # type: ignore[arg-type]
    assert info.value.column == column


def test_provider_without_quality_score() -> None:
    with pytest.raises(InvalidInput, match="no entry under providers"):
        settle_bundle(_eps("X", 1, "1.00", "1.00"), cjr_terms(4), {})


CONTRACT = """\
contract_id: C1
payer: Acme Health
episode_definition: hip and knee replacement, 90 days
period: {start: 2024-01-01, end: 2024-12-31}
terms:
  payment_discount: "0.02"
  repayment_discount: "0.02"
  stop_gain: "0.10"
  stop_loss: "0.10"
  quality_categories:
    - {name: all, min_score: null, eligible_for_payment: true, discount_reduction: "0"}
providers:
  H: {quality_score: "1"}
"""


def test_contract_with_explicit_terms() -> None:
    c = parse_contract(CONTRACT, "c.yaml")
    assert c.resolved_terms().payment_discount == D("0.02")
    assert c.target_price_basis == "benchmark"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("payer: Acme Health", "payer: Acme Health\nsurprise: 1", "field surprise"),
    ('stop_gain: "0.10"', "stop_gain: 0.10", "binary float"),
    ('stop_gain: "0.10"', 'stop_gain: "-0.10"', "field terms"),
    ('stop_loss: "0.10"', "stop_loss: null", "together"),
    ('quality_score: "1"', 'quality_score: "-1"', "field providers.H"),
    ("terms:", "program: cjr\nperformance_year: 9\nxterms:", "field xterms"),
    ("end: 2024-12-31", "end: 2023-12-31", "field period"),
])
def test_bad_contract_names_file_and_field(old: str, new: str, message: str) -> None:
    assert old in CONTRACT
    with pytest.raises(InvalidInput) as info:
        parse_contract(CONTRACT.replace(old, new, 1), "c.yaml")
    assert str(info.value).startswith("c.yaml:") and message in str(info.value)


def test_contract_unknown_performance_year() -> None:
    text = CONTRACT[:CONTRACT.index("terms:")] + (
        "program: cjr\nperformance_year: 7\nproviders:\n  H: {quality_score: \"1\"}\n")
    with pytest.raises(InvalidInput, match="c.yaml: field performance_year"):
        parse_contract(text, "c.yaml")


def test_terms_reject_categories_that_reward_worse_quality() -> None:
    with pytest.raises(ValueError, match="better quality"):
        BundleTerms(payment_discount=D("0.03"), repayment_discount=None, stop_gain=D("0.1"),
                    stop_loss=None, quality_categories=(
                        {"name": "low", "min_score": None, "eligible_for_payment": True,
                         "discount_reduction": D("0.01")},
                        {"name": "high", "min_score": D(5), "eligible_for_payment": True,
                         "discount_reduction": D("0")}))  # type: ignore[arg-type]
