"""Capitation and global budgets: worked numbers, the ACA risk-corridor bands as a sourced
vector, contract validation, and ``valuecare settle capitation`` end to end.

Expected numbers are worked by hand in docs/payment-models.md ("Capitation and global
budgets"); the corridor vector follows the Affordable Care Act §1342(b) (Pub. L. 111-148,
124 Stat. 212; 42 U.S.C. 18062(b))."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.errors import InvalidInput
from valuecare.payment.capitation import (
    CapitatedEntity,
    CapitationContract,
    settle_capitation,
    settle_capitation_all,
)
from valuecare.payment.capitation_csv import INPUT_COLUMNS, RESULT_COLUMNS, settle_file
from valuecare.payment.contract_io import load_contract

EXAMPLES = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"))
GLOBAL_YAML = EXAMPLES / "capitation_global.yaml"
GLOBAL_CSV = EXAMPLES / "capitation_global.csv"
runner = CliRunner()


def _contract(**changes: object) -> CapitationContract:
    base: dict[str, object] = {
        "kind": "capitation", "contract_id": "C", "payer": "P",
        "period": {"start": "2024-01-01", "end": "2024-12-31"}, "scope": "global",
        "pmpm": "1000", "risk_adjustment": {"method": "none"}}
    base.update(changes)
    return CapitationContract.model_validate(base)


def _entity(months: str = "1000", score: str | None = None, cost: str = "0") -> CapitatedEntity:
    return CapitatedEntity("E", D(months), None if score is None else D(score), D(cost))


ACA = {"gains": [{"up_to": "0.03", "provider_share": "1"},
                 {"up_to": "0.08", "provider_share": "0.5"},
                 {"up_to": None, "provider_share": "0.2"}],
       "losses": [{"up_to": "0.03", "provider_share": "1"},
                  {"up_to": "0.08", "provider_share": "0.5"},
                  {"up_to": None, "provider_share": "0.2"}]}


@pytest.mark.parametrize(("cost", "adjustment"), [
    ("990000.00", "0.00"),        # within 3%: the plan keeps it all
    ("970000.00", "0.00"),        # exactly 97% of the target
    ("950000.00", "-10000.00"),   # 50% x (97% x T - C) = 50% x 20,000
    ("920000.00", "-25000.00"),   # 50% x 50,000 at the 92% edge
    ("900000.00", "-41000.00"),   # 2.5% x T + 80% x (92% x T - C) = 25,000 + 16,000
    ("1050000.00", "10000.00"),   # loss side: 50% x (C - 103% x T)
    ("1100000.00", "41000.00"),   # 2.5% x T + 80% x (C - 108% x T) = 25,000 + 16,000
])
def test_aca_risk_corridor_bands(cost: str, adjustment: str) -> None:
    """ACA §1342(b)(2) "payments in": allowable costs below 97% of the target pay 50% of
    the excess of 97% of the target over costs, below 92% 2.5% of the target plus 80% of
    the excess of 92% over costs. Target T = the capitation payment, $1,000,000. The loss
    side, §1342(b)(1) (42 U.S.C. 18062(b)(1)): above 108%, 2.5% of T + 80% of the costs in
    excess of 108% of T."""
    contract = _contract(pmpm="1000", corridors=ACA)
    s = settle_capitation(_entity("1000", cost=cost), contract)
    assert s.capitation_payment == D("1000000.00")
    assert s.corridor_adjustment == D(adjustment)
    assert s.payer_spending == s.capitation_payment + s.corridor_adjustment
    assert s.provider_margin == s.payer_spending - D(cost)


def test_example_global_contract() -> None:
    """Worked by hand (docs/payment-models.md): GROUP-A $850 x 1.10 x 12,000 =
    $11,220,000, gain $720,000 = 6.42%: keeps 3% ($336,600) and half of the next $383,400;
    GROUP-B loses $755,000 on $4,845,000 (15.6%): bears $145,350 + 50% x $339,150 + 20% x
    $270,500 = $369,025; GROUP-C inside the first band."""
    contract = load_contract(GLOBAL_YAML, CapitationContract, "capitation contract")
    got = {s.entity: s for _, s in settle_file(contract, GLOBAL_CSV).rows}
    a, b, c = got["GROUP-A-GAIN"], got["GROUP-B-LOSS"], got["GROUP-C-INSIDE"]
    assert (a.adjusted_rate, a.capitation_payment, a.gain) == (
        D("935.00"), D("11220000.00"), D("720000.00"))
    assert (a.corridor_adjustment, a.payer_spending, a.provider_margin) == (
        D("-191700.00"), D("11028300.00"), D("528300.00"))
    assert (b.capitation_payment, b.corridor_adjustment, b.payer_spending,
            b.provider_margin) == (D("4845000.00"), D("385975.00"), D("5230975.00"),
                                   D("-369025.00"))
    assert (c.adjusted_rate, c.capitation_payment, c.corridor_adjustment,
            c.provider_margin) == (D("1051.45"), D("2523480.00"), D("0"), D("23480.00"))


def test_condition_capitation_is_budget_neutral() -> None:
    """capitation_diabetes: $4,800 per patient-year; mean risk (3,600 x 1.20 + 2,400 x
    0.90) / 6,000 = 1.08; ENDO-NORTH 1.20/1.08 x $4,800 x 300 patient-years = $1,600,000,
    ENDO-SOUTH 0.90/1.08 x $4,800 x 200 = $800,000: together $4,800 x 500."""
    contract = load_contract(EXAMPLES / "capitation_diabetes.yaml", CapitationContract, "x")
    got = {s.entity: s for _, s in settle_file(
        contract, EXAMPLES / "capitation_diabetes.csv").rows}
    assert got["ENDO-NORTH"].capitation_payment == D("1600000.00")
    assert got["ENDO-SOUTH"].capitation_payment == D("800000.00")
    assert got["ENDO-NORTH"].provider_margin == D("-150000.00")   # no corridors: full risk
    assert got["ENDO-SOUTH"].payer_spending == D("800000.00")


def test_normalization_factor_and_no_risk_adjustment() -> None:
    """$1,000 PMPM x 1.113 / 1.05 = $1,060 x 100 months; without adjustment $100,000."""
    scored = _contract(risk_adjustment={"method": "risk_score",
                                        "normalization_factor": "1.05"})
    s = settle_capitation(_entity("100", "1.113"), scored)
    assert (s.risk_factor, s.capitation_payment) == (D("1.06"), D("106000.00"))
    flat = settle_capitation(_entity("100", "1.5"), _contract())
    assert (flat.risk_factor, flat.capitation_payment) == (D(1), D("100000.00"))


def test_payment_rounds_once_to_the_cent() -> None:
    """$850 x 1.0573 = $898.705 PMPM: x 1,234 months = $1,109,001.97 exactly; x 1 month =
    $898.71 (half up, not half even); a third of a month at $1,000 = $333.33."""
    contract = _contract(pmpm="850", risk_adjustment={"method": "risk_score"})
    assert settle_capitation(_entity("1234", "1.0573"), contract).capitation_payment == D(
        "1109001.97")
    assert settle_capitation(_entity("1", "1.0573"), contract).capitation_payment == D(
        "898.71")
    assert settle_capitation(_entity("0.33333"), _contract()).capitation_payment == D(
        "333.33")


def test_risk_adjusted_contract_needs_scores() -> None:
    contract = _contract(risk_adjustment={"method": "risk_score"})
    with pytest.raises(InvalidInput, match="avg_risk_score"):
        settle_capitation(_entity("10"), contract)
    norm = _contract(risk_adjustment={"method": "risk_score", "normalize_to_population": True})
    with pytest.raises(InvalidInput, match="avg_risk_score"):
        settle_capitation_all([_entity("10", "1.0"), _entity("10")], norm)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"pmpm": 850.5}, "(top level)", "pmpm: 850.5 is a binary float"),
    ({"pmpm": None}, "(top level)", "give pmpm"),
    ({"scope": "condition"}, "(top level)", "annual_price_per_patient"),
    ({"kind": "bundle"}, "kind", "capitation"),
    ({"risk_adjustment": {"method": "none", "normalization_factor": "1.1"}},
     "risk_adjustment", "method none"),
    ({"corridors": {"gains": [{"up_to": "0.05", "provider_share": "1"},
                              {"up_to": "0.03", "provider_share": "0.5"},
                              {"up_to": None, "provider_share": "0"}]}},
     "corridors", "must rise"),
    ({"corridors": {"losses": [{"up_to": "0.05", "provider_share": "1"}]}},
     "corridors", "open-ended"),
    ({"corridors": {"gains": [{"up_to": None, "provider_share": "1.5"}]}},
     "corridors.gains.0", "provider_share"),
    ({"pmpm_rate": "850"}, "pmpm_rate", "Extra inputs"),
    ({"period": {"start": "2024-12-31", "end": "2024-01-01"}}, "period", "before it starts"),
])
def test_bad_contract_names_file_and_field(tmp_path: Path, change: dict[str, object],
                                           field: str, message: str) -> None:
    import yaml

    data = yaml.safe_load(GLOBAL_YAML.read_text(encoding="utf-8"))
    data.update(change)
    if data.get("pmpm") is None:
        data.pop("pmpm", None)
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_contract(path, CapitationContract, "capitation contract")
    text = str(err.value)
    assert text.startswith(f"{path}: invalid capitation contract")
    assert f"field {field}" in text and message in text


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli_prints_the_example() -> None:
    res = _invoke("settle", "capitation", str(GLOBAL_YAML), str(GLOBAL_CSV))
    assert res.exit_code == 0, res.output
    for text in ("11,220,000.00", "-191,700.00", "385,975.00", "-369,025.00"):
        assert text in res.output


def test_cli_writes_the_columns(tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    res = _invoke("settle", "capitation", str(GLOBAL_YAML), str(GLOBAL_CSV), "--out", str(out))
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0])
    assert header == [*INPUT_COLUMNS, *RESULT_COLUMNS]
    a = rows[0]
    assert {k: a[k] for k in RESULT_COLUMNS} == {
        "risk_factor": "1.1", "adjusted_rate": "935.00", "capitation_payment": "11220000.00",
        "gain": "720000.00", "corridor_adjustment": "-191700.00",
        "payer_spending": "11028300.00", "provider_margin": "528300.00"}


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("GROUP-B-LOSS,6000,", "GROUP-B-LOSS,-6000,", "row 2 (line 3), column member_months",
     "positive"),
    ("GROUP-B-LOSS,6000,0.95,", "GROUP-B-LOSS,6000,,", "row 2 (line 3), column avg_risk_score",
     "empty"),
    ("5600000.00", "$5,600,000", "row 2 (line 3)", "fields"),
    ("5600000.00", "5.6M", "row 2 (line 3), column actual_cost", "not a number"),
    ("GROUP-B-LOSS,", "GROUP-A-GAIN,", "row 2 (line 3), column entity", "also in row 1"),
    (",avg_risk_score,", ",risk,", "missing column(s) avg_risk_score", "header"),
    (",actual_cost\n", ",actual_cost,provider_margin\n", "provider_margin", "results"),
])
def test_bad_input_names_row_and_column_and_writes_nothing(
        tmp_path: Path, old: str, new: str, where: str, message: str) -> None:
    text = GLOBAL_CSV.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "in.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "result.csv"
    res = _invoke("settle", "capitation", str(GLOBAL_YAML), str(path), "--out", str(out))
    assert isinstance(res.exception, InvalidInput), res.output
    assert str(res.exception).startswith(f"{path}:")
    assert where in str(res.exception) and message in str(res.exception)
    assert list(tmp_path.iterdir()) == [path]


def test_missing_contract_file(tmp_path: Path) -> None:
    res = _invoke("settle", "capitation", str(tmp_path / "nope.yaml"), str(GLOBAL_CSV))
    assert "no such file" in str(res.exception)
