"""``valuecare settle bundle``: the shipped CJR example settles to the numbers worked by
hand in docs/payment-models.md (TV-7 among them, reference sheet §2.1), the output CSV has
the agreed columns and totals, and bad input fails naming file, row and column or field,
leaving no file."""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal as D
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.errors import InvalidInput, MissingFile
from valuecare.payment.bundle_csv import RESULT_COLUMNS, settle_files

runner = CliRunner()
EXAMPLES = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"))
CONTRACT, EPISODES = EXAMPLES / "cjr_contract.yaml", EXAMPLES / "cjr_episodes.csv"


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _read(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["provider"]: r for r in csv.DictReader(fh)}


def test_example_prints_a_table() -> None:
    res = _invoke("settle", "bundle", str(CONTRACT), str(EPISODES))
    assert res.exit_code == 0, res.output
    for text in ("200,000.00", "9,850.00", "31,000.00", "-12,300.00", "stop-loss limit binds",
                 "not eligible"):
        assert text in res.output


def test_example_writes_the_agreed_columns(tmp_path: Path) -> None:
    """Hand-worked (docs/payment-models.md): TV-7 +$200,000; stop-gain binds at 20% x
    $49,250 = $9,850; excellent $197,000 - $160,000 = $37,000 less $6,000 warranty;
    below acceptable $17,000 not paid; rural -$34,000 limited to 5% x $196,000 = -$9,800
    less $2,500 warranty."""
    out = tmp_path / "result.csv"
    res = _invoke("settle", "bundle", str(CONTRACT), str(EPISODES), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "net reconciliation 228,550.00" in res.output
    with out.open(newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(RESULT_COLUMNS)
    rows = _read(out)
    tv7 = rows["TV7-HOSPITAL"]
    assert {k: tv7[k] for k in ("episodes", "quality_category", "effective_discount",
                                "target_total", "actual_after_cap_total",
                                "npra_before_limits", "stop_gain_limit", "npra_after_limits",
                                "reconciliation_amount")} == {
        "episodes": "100", "quality_category": "acceptable", "effective_discount": "0.03",
        "target_total": "2500000.00", "actual_after_cap_total": "2300000.00",
        "npra_before_limits": "200000.00", "stop_gain_limit": "500000.00",
        "npra_after_limits": "200000.00", "reconciliation_amount": "200000.00"}
    gain = rows["GAIN-CAPPED-HOSPITAL"]
    assert (gain["effective_discount"], gain["target_total"], gain["npra_before_limits"],
            gain["npra_after_limits"]) == ("0.015", "49250.00", "29250.00", "9850.00")
    exc = rows["EXCELLENT-HOSPITAL"]
    assert (exc["npra_after_limits"], exc["warranty_charge"], exc["reconciliation_amount"]
            ) == ("37000.00", "6000.00", "31000.00")
    below = rows["BELOW-ACCEPTABLE-HOSPITAL"]
    assert (below["npra_after_limits"], below["payment_or_repayment"]) == ("17000.00", "0.00")
    rural = rows["RURAL-HOSPITAL"]
    assert {k: rural[k] for k in ("side", "effective_discount", "actual_total",
                                  "actual_after_cap_total", "capped_episodes",
                                  "npra_before_limits", "stop_loss_limit",
                                  "npra_after_limits", "warranty_charge",
                                  "reconciliation_amount")} == {
        "side": "repayment", "effective_discount": "0.02", "actual_total": "260000.00",
        "actual_after_cap_total": "230000.00", "capped_episodes": "1",
        "npra_before_limits": "-34000.00", "stop_loss_limit": "9800.00",
        "npra_after_limits": "-9800.00", "warranty_charge": "2500.00",
        "reconciliation_amount": "-12300.00"}


def test_episode_sums_equal_provider_totals() -> None:
    settled = settle_files(CONTRACT, EPISODES)
    for p in settled.providers:
        eps = [e for e in settled.episodes if e.provider == p.provider]
        assert sum((e.actual_spend for e in eps), D(0)) == p.actual_total
        assert sum((e.warranty_claims for e in eps), D(0)) == p.warranty_claims_total
    assert settled.total == D("228550.00")


def _copy(tmp_path: Path, source: Path, old: str, new: str, count: int = 1) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("TV7-001,TV7-HOSPITAL,DRG470,25000.00", "TV7-001,TV7-HOSPITAL,DRG470,-25000.00",
     "row 1 (line 2), column target_price", "positive"),
    ("TV7-002,TV7-HOSPITAL,DRG470,25000.00,23000.00",
     "TV7-002,TV7-HOSPITAL,DRG470,25000.00,$23000",
     "row 2 (line 3), column actual_spend", "not a number"),
    ("TV7-003,TV7-HOSPITAL,DRG470,25000.00,23000.00",
     "TV7-003,TV7-HOSPITAL,DRG470,25000.00,23000.001",
     "row 3 (line 4), column actual_spend", "fractions of a cent"),
    ("TV7-004,TV7-HOSPITAL,DRG470,25000.00,23000.00,0.00",
     "TV7-004,TV7-HOSPITAL,DRG470,25000.00,23000.00,",
     "row 4 (line 5), column warranty_claims", "empty"),
    ("TV7-005,", "TV7-001,", "row 5 (line 6), column episode_id", "also in row 1"),
    (",warranty_claims\n", ",warranty_claims,extra\n", "row 1 (line 2)", "fields"),
    ("actual_spend,", "spend,", "missing column(s) actual_spend", "header"),
    ("RURAL-4,RURAL-HOSPITAL", "RURAL-4,NEW-HOSPITAL", "NEW-HOSPITAL", "no entry under providers"),
])
def test_bad_episodes_name_file_row_and_column(tmp_path: Path, old: str, new: str, where: str,
                                               message: str) -> None:
    path = _copy(tmp_path, EPISODES, old, new)
    out = tmp_path / "result.csv"
    res = _invoke("settle", "bundle", str(CONTRACT), str(path), "--out", str(out))
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidInput)
    text = str(res.exception)
    assert text.startswith(f"{path}")
    assert where in text and message in text
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]    # no temporary file left behind


@pytest.mark.parametrize(("old", "new", "message"), [
    ("payer: Medicare", "payer: Medicare\ndiscount: \"0.05\"", "field discount"),
    ('TV7-HOSPITAL: {quality_score: "6.0"}', "TV7-HOSPITAL: {quality_score: 6.0}",
     "binary float"),
    ('TV7-HOSPITAL: {quality_score: "6.0"}', 'TV7-HOSPITAL: {quality_score: "-6"}',
     "field providers.TV7-HOSPITAL"),
    ("performance_year: 4", "performance_year: 8", "field performance_year"),
    ("target_price_basis: discounted", "target_price_basis: list_price",
     "field target_price_basis"),
])
def test_bad_contract_names_file_and_field(tmp_path: Path, old: str, new: str,
                                           message: str) -> None:
    path = _copy(tmp_path, CONTRACT, old, new)
    out = tmp_path / "result.csv"
    res = _invoke("settle", "bundle", str(path), str(EPISODES), "--out", str(out))
    assert isinstance(res.exception, InvalidInput)
    assert str(res.exception).startswith(f"{path}:") and message in str(res.exception)
    assert not out.exists()


def test_missing_files(tmp_path: Path) -> None:
    res = _invoke("settle", "bundle", str(tmp_path / "none.yaml"), str(EPISODES))
    assert isinstance(res.exception, MissingFile)
    res = _invoke("settle", "bundle", str(CONTRACT), str(tmp_path / "none.csv"))
    assert isinstance(res.exception, MissingFile)


def test_failed_run_keeps_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    out.write_text("previous\n", encoding="utf-8")
    path = _copy(tmp_path, EPISODES, "TV7-001,TV7-HOSPITAL,DRG470,25000.00",
                 "TV7-001,TV7-HOSPITAL,DRG470,-1")
    assert _invoke("settle", "bundle", str(CONTRACT), str(path), "--out",
                   str(out)).exit_code != 0
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_expected_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    """Through the real entry point: one line on stderr, status 2, no traceback."""
    path = _copy(tmp_path, CONTRACT, "payer: Medicare", "payer: Medicare\nsurprise: 1")
    res = subprocess.run([sys.executable, "-m", "valuecare.cli", "settle", "bundle", str(path),
                          str(EPISODES)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "surprise" in lines[0]
