"""Invariants of the capitation settlement over generated contracts and entities
(hypothesis):

- corridors hold: the provider keeps between none and all of a gain, bears between none
  and all of a loss, and exactly its band shares' worth (to the cent);
- money is conserved to the cent: gain = provider margin + (capitation - payer spending),
  payer spending = capitation + corridor adjustment;
- lower actual cost never lowers the provider's margin nor raises the payer's spending;
- a population-normalized risk adjustment is budget neutral to within a cent per entity.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from valuecare.payment.capitation import (
    CapitatedEntity,
    CapitationContract,
    CorridorBand,
    Corridors,
    RiskAdjustment,
    provider_part,
    settle_capitation,
    settle_capitation_all,
)
from valuecare.payment.contract_io import Period, cents

shares = st.decimals(min_value=0, max_value=1, places=2)
money = st.decimals(min_value=0, max_value=D("50000000"), places=2)


@st.composite
def bands(draw: st.DrawFn) -> tuple[CorridorBand, ...]:
    edges = sorted(set(draw(st.lists(st.decimals(min_value=D("0.01"), max_value=D("0.5"),
                                                 places=2), max_size=3))))
    ups: list[D | None] = [*edges, None]
    return tuple(CorridorBand(up_to=u, provider_share=draw(shares)) for u in ups)


@st.composite
def contracts(draw: st.DrawFn) -> CapitationContract:
    corridors = draw(st.none() | st.builds(Corridors, gains=bands(), losses=bands()))
    scope = draw(st.sampled_from(["global", "condition"]))
    price = draw(st.decimals(min_value=D("10"), max_value=D("9000"), places=2))
    risk = draw(st.sampled_from([RiskAdjustment(method="none"),
                                 RiskAdjustment(method="risk_score"),
                                 RiskAdjustment(method="risk_score",
                                                normalization_factor=D("1.047"))]))
    return CapitationContract(
        kind="capitation", contract_id="C", payer="P",
        period=Period(start="2024-01-01", end="2024-12-31"), scope=scope,
        condition="diabetes" if scope == "condition" else None,
        pmpm=price if scope == "global" else None,
        annual_price_per_patient=price if scope == "condition" else None,
        risk_adjustment=risk, corridors=corridors)


entities = st.builds(
    CapitatedEntity, entity=st.just("E"),
    member_months=st.decimals(min_value=D("1"), max_value=D("500000"), places=0),
    avg_risk_score=st.decimals(min_value=D("0.3"), max_value=D("4"), places=3),
    actual_cost=money)


@settings(max_examples=300, deadline=None)
@given(contracts(), entities)
def test_corridors_hold_and_money_is_conserved(contract: CapitationContract,
                                               entity: CapitatedEntity) -> None:
    s = settle_capitation(entity, contract)
    assert s.gain == s.capitation_payment - entity.actual_cost
    assert s.payer_spending == s.capitation_payment + s.corridor_adjustment
    assert s.provider_margin == s.payer_spending - entity.actual_cost
    assert s.gain == s.provider_margin + (s.capitation_payment - s.payer_spending)
    if s.gain >= 0:
        assert 0 <= s.provider_margin <= s.gain and s.corridor_adjustment <= 0
    else:
        assert s.gain <= s.provider_margin <= 0 and s.corridor_adjustment >= 0
    if contract.corridors is None:
        assert s.provider_margin == s.gain
    else:
        side = contract.corridors.gains if s.gain > 0 else contract.corridors.losses
        kept = provider_part(abs(s.gain), s.capitation_payment, side)
        assert abs(abs(s.provider_margin) - kept) <= D("0.005")


@settings(max_examples=300, deadline=None)
@given(contracts(), entities, money, money)
def test_lower_cost_never_hurts_the_provider_or_costs_the_payer(
        contract: CapitationContract, entity: CapitatedEntity, c1: D, c2: D) -> None:
    low, high = sorted((c1, c2))
    cheap = settle_capitation(replace(entity, actual_cost=low), contract)
    dear = settle_capitation(replace(entity, actual_cost=high), contract)
    assert cheap.provider_margin >= dear.provider_margin
    assert cheap.payer_spending <= dear.payer_spending


@settings(max_examples=200, deadline=None)
@given(contracts(), st.lists(entities, min_size=1, max_size=6))
def test_population_normalization_is_budget_neutral(contract: CapitationContract,
                                                    group: list[CapitatedEntity]) -> None:
    normalized = contract.model_copy(update={"risk_adjustment": RiskAdjustment(
        method="risk_score", normalize_to_population=True)})
    group = [replace(e, entity=f"E{i}") for i, e in enumerate(group)]
    paid = sum((s.capitation_payment for s in settle_capitation_all(group, normalized)), D(0))
    months = sum((e.member_months for e in group), D(0))
    expected = cents(normalized.base_rate * months / normalized.months_per_rate)
    assert abs(paid - expected) <= D("0.01") * len(group)
