"""PCMH: FFS + care-management PMPM (tiered by recognition level) + performance incentive,
from hand-worked numbers (docs/payment-models.md, "Patient-centered medical home"), and
``valuecare settle pcmh`` end to end."""

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
from valuecare.payment.pcmh import PcmhContract, Practice, settle_pcmh
from valuecare.payment.pcmh_csv import INPUT_COLUMNS, RESULT_COLUMNS, settle_file

EXAMPLES = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"))
CONTRACT = EXAMPLES / "pcmh_tiered.yaml"
PRACTICES = EXAMPLES / "pcmh_practices.csv"
MEASURES = EXAMPLES / "pcmh_measures.csv"
runner = CliRunner()


def test_example() -> None:
    """PRACTICE-A (level 3, $5.00 x 24,000 = $120,000): CMS122 36/240 = 0.15 -> 1; CMS165
    210/300 = 0.70 -> 0.5; CMS2 0.85 -> 0.5 + 0.5 x 0.35/0.40 = 0.9375; score 0.8125;
    bonus $1.50 x 24,000 x 0.8125 = $29,250; total $3,200,000 + $120,000 + $29,250.
    PRACTICE-B (level 1, $18,000): 1/3, 0 (66/110 = 0.60 at the threshold), 0.75 ->
    13/36; $13,500 x 13/36 = $4,875. PRACTICE-C: not recognized ($0); its only result has
    18 < 20 patients, so nothing is scored."""
    contract = load_contract(CONTRACT, PcmhContract, "PCMH contract")
    got = {s.entity: s for _, s in settle_file(contract, PRACTICES, MEASURES).rows}
    a, b, c = got["PRACTICE-A"], got["PRACTICE-B"], got["PRACTICE-C"]
    assert (a.care_management_fee, a.performance_incentive, a.total_payment) == (
        D("120000.00"), D("29250.00"), D("3349250.00"))
    assert a.performance is not None and a.performance.score == D("0.8125")
    assert (b.care_management_fee, b.performance_incentive, b.total_payment) == (
        D("18000.00"), D("4875.00"), D("1172875.00"))
    assert (c.care_management_fee, c.performance_incentive, c.total_payment) == (
        D("0.00"), D("0.00"), D("420000.00"))


def _flat(**more: object) -> PcmhContract:
    return PcmhContract.model_validate({
        "kind": "pcmh", "contract_id": "F", "payer": "P",
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "care_management": {"pmpm": "4.25"}, **more})


def test_flat_fee_without_incentive() -> None:
    """$4.25 x 1,001 member months = $4,254.25, on top of FFS."""
    settled, outcome = settle_pcmh([Practice("X", D(1001), D("1000.00"))], _flat())
    assert outcome is None
    assert (settled[0].care_management_fee, settled[0].total_payment) == (
        D("4254.25"), D("5254.25"))


def test_unknown_level_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PRACTICES.read_text(encoding="utf-8").replace("level_1", "level_4"),
                    encoding="utf-8")
    contract = load_contract(CONTRACT, PcmhContract, "PCMH contract")
    with pytest.raises(InvalidInput, match=r"row 2 \(line 3\), column recognition_level: "
                       r".*'level_4' is not in the contract; use one of not_recognized"):
        settle_file(contract, path, MEASURES)


@pytest.mark.parametrize(("change", "message"), [
    ({"care_management": {}}, "give either pmpm"),
    ({"care_management": {"pmpm": "1", "by_recognition_level": {"a": "1"}}},
     "give either pmpm"),
    ({"care_management": {"by_recognition_level": {"a": 2.5}}}, "binary float"),
    ({"care_management": {"pmpm": "-1"}}, "negative"),
])
def test_bad_contract(tmp_path: Path, change: dict[str, object], message: str) -> None:
    import yaml

    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_contract(path, PcmhContract, "PCMH contract")
    text = str(err.value)
    assert text.startswith(f"{path}: invalid PCMH contract: field ")
    assert "care_management" in text and message in text


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli(tmp_path: Path) -> None:
    res = _invoke("settle", "pcmh", str(CONTRACT), str(PRACTICES), "--measures", str(MEASURES))
    assert res.exit_code == 0, res.output
    assert "3,349,250.00" in res.output
    out = tmp_path / "r.csv"
    res = _invoke("settle", "pcmh", str(CONTRACT), str(PRACTICES), "-m", str(MEASURES),
                  "--out", str(out))
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(rows[0]) == sorted([*INPUT_COLUMNS, *RESULT_COLUMNS])
    assert {k: rows[1][k] for k in RESULT_COLUMNS} == {
        "care_management_pmpm": "2.00", "care_management_fee": "18000.00",
        "quality_score": "0.361111", "bonus": "4875.00", "withheld": "0.00",
        "withhold_returned": "0.00", "performance_incentive": "4875.00",
        "total_payment": "1172875.00"}


def test_cli_needs_measures_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    res = _invoke("settle", "pcmh", str(CONTRACT), str(PRACTICES), "--out", str(out))
    assert isinstance(res.exception, InvalidInput)
    assert "--measures" in str(res.exception)
    assert not out.exists()


@pytest.mark.parametrize(("old", "new", "where"), [
    ("PRACTICE-B,level_1,9000,", "PRACTICE-B,level_1,-9000,", "column member_months"),
    ("1150000.00", "1.150.000", "column ffs_revenue"),
    ("PRACTICE-C,", "PRACTICE-A,", "column entity"),
])
def test_bad_practices(tmp_path: Path, old: str, new: str, where: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PRACTICES.read_text(encoding="utf-8").replace(old, new, 1),
                    encoding="utf-8")
    out = tmp_path / "r.csv"
    res = _invoke("settle", "pcmh", str(CONTRACT), str(path), "-m", str(MEASURES),
                  "-o", str(out))
    assert isinstance(res.exception, InvalidInput), res.output
    assert str(res.exception).startswith(f"{path}: row ") and where in str(res.exception)
    assert list(tmp_path.iterdir()) == [path]
