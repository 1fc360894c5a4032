"""Pay for performance: measure credit on linear and tiered scales (inverse measures too),
scores, bonuses, withholds and pools from hand-worked numbers (docs/payment-models.md,
"Pay for performance"), contract validation, and ``valuecare settle p4p`` end to end."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import load_contract
from valuecare.payment.p4p import (
    EntityBasis,
    MeasureResult,
    MeasureTerm,
    P4pContract,
    P4pScheme,
    measure_credit,
    settle_p4p,
)
from valuecare.payment.p4p_csv import DETAIL_COLUMNS, RESULT_COLUMNS

EXAMPLES = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"))
BONUS = EXAMPLES / "p4p_quality_bonus.yaml"
WITHHOLD = EXAMPLES / "p4p_withhold.yaml"
MEASURES = EXAMPLES / "p4p_measures.csv"
ENTITIES = EXAMPLES / "p4p_entities.csv"
runner = CliRunner()

LINEAR_UP = {"measure": "M", "higher_is_better": True, "weight": "1",
             "scale": {"type": "linear", "threshold": "0.60", "benchmark": "0.80"}}
LINEAR_DOWN = {"measure": "M", "higher_is_better": False, "weight": "1",
               "scale": {"type": "linear", "threshold": "0.30", "benchmark": "0.15"}}
DECILES = {"measure": "M", "higher_is_better": True, "weight": "1",
           "scale": {"type": "tiered", "tiers": [
               {"cutoff": f"0.{d}", "points": str(d)} for d in range(1, 10)]}}


@pytest.mark.parametrize(("term", "rate", "credit"), [
    (LINEAR_UP, "0.59", "0"), (LINEAR_UP, "0.60", "0"), (LINEAR_UP, "0.70", "0.5"),
    (LINEAR_UP, "0.80", "1"), (LINEAR_UP, "0.95", "1"),
    (LINEAR_DOWN, "0.31", "0"), (LINEAR_DOWN, "0.30", "0"), (LINEAR_DOWN, "0.18", "0.8"),
    (LINEAR_DOWN, "0.15", "1"), (LINEAR_DOWN, "0.05", "1"),
    ({**LINEAR_UP, "scale": {**LINEAR_UP["scale"], "credit_at_threshold": "0.5"}}, "0.70",
     "0.75"),
    ({**LINEAR_UP, "scale": {**LINEAR_UP["scale"], "credit_at_threshold": "0.5"}}, "0.59",
     "0"),
    (DECILES, "0.05", "0"), (DECILES, "0.10", "1"), (DECILES, "0.47", "4"),
    (DECILES, "0.999", "9"),
])
def test_measure_credit(term: dict[str, object], rate: str, credit: str) -> None:
    """Linear: (rate - threshold) / (benchmark - threshold), clipped; inverse measure
    0.18 on 0.30 -> 0.15 earns 0.12 / 0.15 = 0.8. Deciles: points/9 of the best tier."""
    t = MeasureTerm.model_validate(term)
    got, points = measure_credit(t, D(rate))
    if t.scale.type == "tiered":
        assert points == D(credit) and got == D(credit) / 9
    else:
        assert got == D(credit)


def _settle(path: Path):
    contract = load_contract(path, P4pContract, "P4P contract")
    from valuecare.payment.p4p_csv import settle_file

    return {s.entity: s for _, s in settle_file(contract, MEASURES, ENTITIES).rows}


def test_example_bonus() -> None:
    """CLINIC-1: 0.3 x 2/3 (CMS122 0.20) + 0.3 x 0.75 (CMS165 150/200) + 0.2 x 4/10
    (CMS130 0.68) + 0.2 x 6/10 (CMS125 74/100) = 0.625; $3 x 10,000 x 0.625 = $18,750.
    CLINIC-2: CMS122 has 12 < 20 patients and drops out: (0.3 + 0.2) / 0.7 = 5/7;
    $3 x 6,000 x 5/7 = $12,857.14. CLINIC-3: 0.2 x 0.2 + 0.2 x 0.3 = 0.1 -> $1,200."""
    got = _settle(BONUS)
    assert (got["CLINIC-1"].score.quantize(D("1e-20")), got["CLINIC-1"].bonus) == (
        D("0.625").quantize(D("1e-20")), D("18750.00"))
    assert got["CLINIC-1"].max_incentive == D("30000.00")
    assert got["CLINIC-2"].measures_scored == 3
    assert got["CLINIC-2"].bonus == D("12857.14")
    assert (got["CLINIC-3"].score, got["CLINIC-3"].bonus) == (D("0.1"), D("1200.00"))


def test_example_withhold_with_gate() -> None:
    """2% of revenue withheld: $50,000 / $30,000 / $20,000; returned by score: $31,250,
    $30,000 x 5/7 = $21,428.57, and nothing for CLINIC-3 (0.1 < the 0.40 gate)."""
    got = _settle(WITHHOLD)
    assert [(got[e].withheld, got[e].withhold_returned) for e in sorted(got)] == [
        (D("50000.00"), D("31250.00")), (D("30000.00"), D("21428.57")),
        (D("20000.00"), D("0.00"))]
    assert got["CLINIC-3"].net_incentive == D("-20000.00")
    assert "minimum" in got["CLINIC-3"].note


def _scheme(incentive: dict[str, object], **more: object) -> P4pScheme:
    return P4pScheme.model_validate({"measures": [LINEAR_UP], "incentive": incentive, **more})


RESULTS = [MeasureResult("A", "M", D("0.80")), MeasureResult("B", "M", D("0.70")),
           MeasureResult("C", "M", D("0.50"))]
BASES = [EntityBasis("A", D(1000)), EntityBasis("B", D(3000)), EntityBasis("C", D(1000))]


def test_total_pool_retained() -> None:
    """$100,000 allocated by member months (20% / 60% / 20%) and earned by score (1, 0.5,
    0): $20,000 + $30,000 + $0; the payer keeps $50,000."""
    out = settle_p4p(RESULTS, _scheme({"type": "bonus", "basis": "total_pool",
                                       "amount": "100000", "allocation": "member_months",
                                       "unearned": "retained"}), BASES)
    assert [s.bonus for s in out.settlements] == [D("20000.00"), D("30000.00"), D("0.00")]
    assert (out.pool_paid, out.pool_retained) == (D("50000.00"), D("50000.00"))


def test_total_pool_redistributed_rounds_down() -> None:
    """The whole $100,000 by score x allocation: 1,000 : 1,500 : 0 -> $40,000, $60,000.
    $100 equally among three full scores: $33.33 each, rounded down; the payer keeps the
    cent left over."""
    pool = {"type": "bonus", "basis": "total_pool", "amount": "100000",
            "allocation": "member_months", "unearned": "redistributed"}
    out = settle_p4p(RESULTS, _scheme(pool), BASES)
    assert [s.bonus for s in out.settlements] == [D("40000.00"), D("60000.00"), D("0.00")]
    thirds = settle_p4p([MeasureResult(e, "M", D("0.80")) for e in "XYZ"], _scheme(
        {**pool, "amount": "100", "allocation": "equal"}))
    assert [s.bonus for s in thirds.settlements] == [D("33.33")] * 3
    assert (thirds.pool_paid, thirds.pool_retained) == (D("99.99"), D("0.01"))


def test_missing_measures_zero_versus_reweight() -> None:
    two = [LINEAR_UP, {**LINEAR_UP, "measure": "N"}]
    res = [MeasureResult("A", "M", D("0.80"))]
    per = {"type": "bonus", "basis": "per_entity", "amount": "1000"}
    reweight = P4pScheme.model_validate({"measures": two, "incentive": per})
    zero = P4pScheme.model_validate({"measures": two, "incentive": per,
                                     "missing_measures": "zero"})
    assert settle_p4p(res, reweight).settlements[0].bonus == D("1000.00")
    assert settle_p4p(res, zero).settlements[0].bonus == D("500.00")


def test_share_of_revenue_and_missing_basis() -> None:
    scheme = _scheme({"type": "bonus", "basis": "share_of_revenue", "amount": "0.01"})
    out = settle_p4p(RESULTS[:1], scheme, [EntityBasis("A", None, D("123456.78"))])
    assert out.settlements[0].bonus == D("1234.57")
    with pytest.raises(InvalidInput, match="ffs_revenue"):
        settle_p4p(RESULTS[:1], scheme, [EntityBasis("A", D(10))])


@pytest.mark.parametrize(("change", "message"), [
    ({"measures": [{**LINEAR_UP, "higher_is_better": False}]}, "must be below"),
    ({"measures": [{**DECILES, "higher_is_better": False}]}, "must fall"),
    ({"measures": [LINEAR_UP, LINEAR_UP]}, "listed twice"),
    ({"measures": [{**LINEAR_UP, "weight": "0"}]}, "weight must be positive"),
    ({"measures": [{**LINEAR_UP, "scale": {"type": "linear", "threshold": "60",
                                           "benchmark": "80"}}]}, "fraction"),
    ({"incentive": {"type": "bonus", "basis": "total_pool", "amount": "10"}}, "allocation"),
    ({"incentive": {"type": "withhold", "rate": "2"}}, "fraction"),
    ({"incentive": {"type": "penalty", "rate": "0.02"}}, "incentive"),
    ({"measures": [{**LINEAR_UP, "scale": {"type": "tiered", "tiers": [
        {"cutoff": "0.5", "points": "5"}, {"cutoff": "0.6", "points": "3"}]}}]},
     "must not fall"),
])
def test_bad_contract(tmp_path: Path, change: dict[str, object], message: str) -> None:
    import yaml

    data = yaml.safe_load(BONUS.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "p4p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_contract(path, P4pContract, "P4P contract")
    assert str(err.value).startswith(f"{path}: invalid P4P contract: field ")
    assert message in str(err.value)


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli_table_and_files(tmp_path: Path) -> None:
    res = _invoke("settle", "p4p", str(BONUS), str(MEASURES), "--entities", str(ENTITIES))
    assert res.exit_code == 0, res.output
    assert "18,750.00" in res.output and "12,857.14" in res.output
    out, detail = tmp_path / "r.csv", tmp_path / "d.csv"
    res = _invoke("settle", "p4p", str(WITHHOLD), str(MEASURES), "-e", str(ENTITIES),
                  "--out", str(out), "--detail", str(detail))
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["entity", "member_months", "ffs_revenue", *RESULT_COLUMNS]
    assert {k: rows[1][k] for k in RESULT_COLUMNS} == {
        "measures_scored": "3", "score": "0.714286", "max_incentive": "30000.00",
        "bonus": "0.00", "withheld": "30000.00", "withhold_returned": "21428.57",
        "net_incentive": "-8571.43"}
    with detail.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    assert list(lines[0]) == list(DETAIL_COLUMNS)
    cms122 = next(r for r in lines if r["entity"] == "CLINIC-2" and r["measure"] == "CMS122")
    assert (cms122["scored"], cms122["reason"]) == ("false", "denominator 12 below 20")


def test_cli_per_entity_bonus_needs_no_entity_file(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(BONUS.read_text(encoding="utf-8"))
    data["incentive"] = {"type": "bonus", "basis": "per_entity", "amount": "10000"}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = _invoke("settle", "p4p", str(path), str(MEASURES))
    assert res.exit_code == 0, res.output
    assert "6,250.00" in res.output


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("CLINIC-1,CMS122,0.20,,", "CLINIC-1,CMS122,20,,", "row 1 (line 2), column rate",
     "0.72 for 72%"),
    ("CLINIC-1,CMS165,,150,200", "CLINIC-1,CMS165,0.9,150,200",
     "row 2 (line 3), column rate", "does not match"),
    ("CLINIC-1,CMS165,,150,200", "CLINIC-1,CMS165,,250,200", "column numerator",
     "above the denominator"),
    ("CLINIC-1,CMS165,,150,200", "CLINIC-1,CMS165,,150,", "column denominator", "together"),
    ("CLINIC-1,CMS165,,150,200", "CLINIC-1,CMS122,,150,200", "column measure", "row 1 too"),
    ("CLINIC-1,CMS165,,150,200", "CLINIC-1,CMS165,,150,20.5", "column denominator",
     "whole number"),
    ("CLINIC-3,CMS125", "CLINIC-9,CMS125", "not in", "CLINIC-9"),
])
def test_bad_measures_write_nothing(tmp_path: Path, old: str, new: str, where: str,
                                    message: str) -> None:
    text = MEASURES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "m.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "r.csv"
    res = _invoke("settle", "p4p", str(BONUS), str(path), "-e", str(ENTITIES), "-o", str(out))
    assert isinstance(res.exception, InvalidInput), res.output
    assert str(res.exception).startswith(f"{path}:")
    assert where in str(res.exception) and message in str(res.exception)
    assert list(tmp_path.iterdir()) == [path]


def test_incentive_on_member_months_needs_entities() -> None:
    res = _invoke("settle", "p4p", str(BONUS), str(MEASURES))
    assert isinstance(res.exception, InvalidInput)
    assert "--entities" in str(res.exception)


def test_detail_needs_out(tmp_path: Path) -> None:
    res = _invoke("settle", "p4p", str(BONUS), str(MEASURES), "-e", str(ENTITIES),
                  "--detail", str(tmp_path / "d.csv"))
    assert res.exit_code == 2 and "--out" in res.output
