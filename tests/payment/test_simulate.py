"""Payer-mix simulation: one-year scenarios per contract type, worked by hand.

Every scenario: one year, no trend, full effect, provider cost ratio 0.80. The expected
numbers are worked in each docstring from the rules of docs/payment-models.md ("Payer-mix
simulation"); captures are provider = change in margin, payer = fall in spending, patient =
fall in cost sharing, and they add up to the net saving of resources (0.80 x the fall in
utilization - the added cost).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.simulate import ContractYear, captures, simulate
from valuecare.payment.simulate_scenario import Scenario, load_scenario

D = Decimal
TERMS = {"payment_discount": "0.03", "repayment_discount": "0.03", "stop_gain": "0.05",
         "stop_loss": "0.05", "quality_categories": [
             {"name": "acceptable", "min_score": None, "eligible_for_payment": True,
              "discount_reduction": "0"}]}


def one_year(contract: dict[str, Any], **redesign: Any) -> ContractYear:
    scenario = Scenario.model_validate({
        "scenario_id": "T", "provider": {"name": "P", "cost_ratio": "0.80"},
        "horizon_years": 1, "redesign": {"name": "R", **redesign},
        "contracts": [{"id": "C", "payer": "Payer", **contract}]})
    (row,) = simulate(scenario)
    return row


POPULATION = {"population": {"added_cost_pmpy": "10.00", "utilization_change_pmpy": "-50.00"}}


def test_ffs_provider_loses_payer_captures() -> None:
    """1,000 members at $100 PMPM, patient 20%: allowed $1,200,000 -> $1,150,000. Payer
    $960,000 -> $920,000; patient $240,000 -> $230,000; cost $960,000 -> 0.8 x 1,150,000 +
    10,000 = $930,000; margin $240,000 -> $220,000."""
    r = one_year({"kind": "ffs", "members": 1000, "baseline_pmpm": "100.00",
                  "patient_share": "0.20"}, **POPULATION)
    assert (r.baseline.margin, r.redesign.margin) == (D("240000.00"), D("220000.00"))
    assert r.provider_capture == D("-20000.00")
    assert r.payer_capture == D("40000.00") and r.patient_capture == D("10000.00")
    assert r.net_savings == D("30000.00")


def test_capitation_provider_captures() -> None:
    """$100 PMPM x 12,000 member months = $1,200,000; cost 0.8 x $1,320,000 = $1,056,000
    -> 0.8 x 1,270,000 + 10,000 = $1,026,000: the provider keeps the $30,000."""
    r = one_year({"kind": "capitation", "members": 1000, "pmpm": "100.00",
                  "baseline_pmpm": "110.00"}, **POPULATION)
    assert r.redesign.payer_spending == r.baseline.payer_spending == D("1200000.00")
    assert r.provider_capture == D("30000.00") and r.payer_capture == 0
    assert r.redesign.margin == D("174000.00")


def mssp(utilization: str) -> ContractYear:
    return one_year({"kind": "mssp", "track": "ENHANCED", "assigned_beneficiaries": 10000,
                     "benchmark_per_capita": "10000.00", "expenditure_per_capita": "9900.00",
                     "msr_mlr_option": "0.02", "provider_share": "0.50",
                     "patient_share": "0.20"},
                    population={"added_cost_pmpy": "10.00",
                                "utilization_change_pmpy": utilization})


def test_mssp_shared_once_the_msr_is_passed() -> None:
    """ENHANCED, MSR 2%, benchmark $10,000, 10,000 person years. Baseline spending $9,900
    (1%, below the MSR): nothing shared. -$250 allowed = -$200 paid -> $9,700, 3%: 75% of
    $3,000,000 = $2,250,000 shared, from the first dollar -- so the payer, which kept the
    first 1% before, now spends $250,000 more. Provider: FFS $61,875,000 -> $59,375,000,
    cost $49,500,000 -> $47,600,000, + $2,250,000: margin +$1,650,000."""
    r = mssp("-250.00")
    assert (r.baseline.settlement, r.redesign.settlement) == (0, D("2250000.00"))
    assert r.provider_capture == D("1650000.00")
    assert r.payer_capture == D("-250000.00") and r.patient_capture == D("500000.00")
    assert r.net_savings == D("1900000.00")


def test_mssp_below_the_msr_the_payer_keeps_it() -> None:
    """-$50 allowed = -$40 paid: 1.4% savings, below the 2% MSR: nothing shared; the
    provider loses $50 x 10,000 x 0.2 + $100,000 = $200,000 like under FFS."""
    r = mssp("-50.00")
    assert r.redesign.settlement == 0
    assert r.provider_capture == D("-200000.00") and r.payer_capture == D("400000.00")


def test_bundle_per_the_reconciliation() -> None:
    """10 episodes, FFS $10,000 each, target $10,000 less 3% = $9,700. Baseline NPRA
    10 x -$300 = -$3,000 repaid. Redesign: reoperations 10% -> 5% x $20,000 = -$1,000 an
    episode: NPRA 10 x $700 = $7,000, limited to the 5% stop-gain, $4,850. Provider
    revenue $97,000 -> $94,850, cost $80,000 -> $73,000: +$4,850; the payer keeps the
    $2,150 above the stop-gain."""
    r = one_year({"kind": "bundle", "episodes": 10, "episode_price": "10000.00",
                  "target_price": "10000.00", "quality_score": "10", "terms": TERMS},
                 episode={"added_cost_per_episode": "100.00", "outcomes": [
                     {"name": "reoperation", "baseline_rate": "0.10",
                      "redesigned_rate": "0.05", "cost_per_event": "20000.00"}]})
    assert (r.baseline.settlement, r.redesign.settlement) == (D("-3000.00"), D("4850.00"))
    assert r.provider_capture == D("4850.00") and r.payer_capture == D("2150.00")
    assert r.net_savings == D("7000.00")


EXAMPLES = Path(__file__).parents[2] / "src/valuecare/reference/payment/examples"


@pytest.mark.parametrize(("name", "expected"), [
    ("scenario_behavioral_health.yaml",
     {"ffs": "payer", "mssp": "payer", "capitation": "provider"}),
    ("scenario_intraop_pathology.yaml",
     {"ffs": "payer", "bundle": "provider", "mssp": "payer", "capitation": "provider"}),
])
def test_shipped_scenarios_report_who_captures(name: str, expected: dict[str, str]) -> None:
    """FFS: the provider loses and the payer gains; capitation and bundles: the provider
    gains; MSSP: in the behavioral-health ACO the provider gains a little (savings pass the
    MSR and are shared) while the payer keeps most; in the pathology ACO the savings stay
    below the MSR and the provider loses."""
    rows = simulate(load_scenario(EXAMPLES / name))
    by_kind = {c.group: c for c in captures(rows)}
    assert {k: by_kind[k].captured_by for k in expected} == expected
    assert by_kind["ffs"].provider < 0 < by_kind["capitation"].provider
    mssp_provider = by_kind["mssp"].provider
    assert (mssp_provider > 0) == (name == "scenario_behavioral_health.yaml")
    total = by_kind["total"]
    assert total.net == sum((c.net for g, c in by_kind.items() if g != "total"), D(0))


@pytest.mark.parametrize(("patch", "field"), [
    ({"horizon_years": 0}, "horizon_years"),
    ({"contracts": [{"kind": "ffs", "id": "X", "payer": "P", "members": 10}]}, "contracts.0"),
    ({"contracts": [{"kind": "swap", "id": "X", "payer": "P"}]}, "contracts.0"),
    ({"trend": 0.03}, "binary float"),
])
def test_bad_scenario_names_file_and_field(tmp_path: Path, patch: dict[str, Any],
                                           field: str) -> None:
    import yaml

    data = yaml.safe_load((EXAMPLES / "scenario_behavioral_health.yaml").read_text())
    data.update(patch)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInput, match="bad.yaml") as exc:
        load_scenario(path)
    assert field in str(exc.value)
