"""``valuecare settle mssp``: the shipped example settles to the reference sheet's worked
numbers (TV-1 to TV-5, ../shared/reference/payment-and-measures.md §1.5), the output CSV
has the agreed columns, and bad input fails naming file, row and column, leaving no file."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.errors import InvalidInput
from valuecare.payment.mssp_csv import INPUT_COLUMNS, RESULT_COLUMNS

runner = CliRunner()
EXAMPLE = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"
                   / "acos.csv"))


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_example_prints_a_table() -> None:
    res = _invoke("settle", "mssp", str(EXAMPLE))
    assert res.exit_code == 0, res.output
    for text in ("9,000,000.00", "1,320,000.00", "4,560,000.00", "800,000.00",
                 "low-revenue exception"):
        assert text in res.output


def test_example_writes_the_agreed_columns(tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    res = _invoke("settle", "mssp", str(EXAMPLE), "--out", str(out))
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [*INPUT_COLUMNS, *RESULT_COLUMNS]
    rows = {r["aco_id"]: r for r in _read(out)}
    tv1 = rows["TV1-ENHANCED-SAVINGS"]
    assert {k: tv1[k] for k in RESULT_COLUMNS} == {
        "savings_rate": "0.05", "msr": "0.02", "mlr": "0.02", "qualified": "true",
        "final_sharing_rate": "0.75", "shared_savings": "9000000.00", "shared_losses": "0.00"}
    tv2 = rows["TV2-BASIC-A-MSR-EDGE"]
    assert (tv2["savings_rate"], tv2["msr"], tv2["mlr"], tv2["shared_savings"]) == (
        "0.03", "0.03", "", "1320000.00")
    assert rows["TV3-BASIC-E-ALT-QPS"]["final_sharing_rate"] == "0.3"
    tv4 = rows["TV4-ENHANCED-LOSS"]
    assert (tv4["qualified"], tv4["shared_losses"]) == ("false", "4560000.00")
    assert rows["TV5-BASIC-C-LOSS-CAP"]["shared_losses"] == "800000.00"
    low = rows["LOW-REVENUE-BELOW-MSR"]   # 0.20 x $200 x 7,950.5 person years
    assert (low["msr"], low["final_sharing_rate"], low["shared_savings"]) == (
        "0.032", "0.2", "318020.00")
    assert rows["BASIC-D-QUALITY-FAILED"]["qualified"] == "false"
    assert rows["TV1-ENHANCED-SAVINGS"]["participant_revenue"] == ""   # input kept as is


def test_sequestration_option(tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    res = _invoke("settle", "mssp", str(EXAMPLE), "--out", str(out), "--sequestration", "0.02")
    assert res.exit_code == 0, res.output
    rows = {r["aco_id"]: r for r in _read(out)}
    assert rows["TV1-ENHANCED-SAVINGS"]["shared_savings"] == "8820000.00"
    assert rows["TV4-ENHANCED-LOSS"]["shared_losses"] == "4560000.00"


@pytest.mark.parametrize("value", ["2", "-0.01", "abc", "nan"])
def test_bad_sequestration_is_a_usage_error(value: str) -> None:
    res = _invoke("settle", "mssp", str(EXAMPLE), "--sequestration", value)
    assert res.exit_code == 2
    assert "sequestration" in res.output


def _bad(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "acos.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("TV2-BASIC-A-MSR-EDGE,BASIC_A", "TV2,BASIC_F", "row 2 (line 3), column track",
     "not an MSSP track"),
    ("TV2-BASIC-A-MSR-EDGE,BASIC_A", "TV2,basic_a", "row 2 (line 3), column track",
     "write BASIC_A"),
    ("BASIC_A,10000,", "BASIC_A,-10000,", "row 2 (line 3), column assigned_beneficiaries",
     "negative"),
    ("BASIC_A,10000,", "BASIC_A,10000.5,", "row 2 (line 3), column assigned_beneficiaries",
     "whole number"),
    ("12000.00,11400.00", "12000.00,11.400,00", "row 1 (line 2)", "fields"),
    ("12000.00,11400.00", "12000.00,$11400", "row 1 (line 2), column expenditure_per_capita",
     "not a number"),
    ("11000.00,10670.00,variable", "11000.00,10670.00,0.02",
     "row 2 (line 3), column msr_mlr_option", "one-sided"),
    (",0.02,90,", ",0.03,90,", "row 1 (line 2), column msr_mlr_option",
     "not an MSR/MLR option"),
    (",90,true,false,,false", ",90,yes,false,,false", "row 1 (line 2), column qps_met",
     "true or false"),
    (",90,true,", ",190,true,", "row 1 (line 2), column quality_score", "0-100"),
    (",40000000.00,false", ",,false", "row 5 (line 6), column participant_revenue",
     "participant_revenue"),
    ("TV2-BASIC-A-MSR-EDGE,", "TV1-ENHANCED-SAVINGS,", "row 2 (line 3), column aco_id",
     "also in row 1"),
    (",low_revenue\n", ",low_revenue_flag\n", "missing column(s) low_revenue", "header"),
    (",low_revenue\n", ",low_revenue,shared_savings\n", "shared_savings",
     "results of the settlement"),
])
def test_bad_input_names_file_row_and_column(tmp_path: Path, old: str, new: str, where: str,
                                             message: str) -> None:
    path = _bad(tmp_path, old, new)
    out = tmp_path / "result.csv"
    res = _invoke("settle", "mssp", str(path), "--out", str(out))
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidInput)
    text = str(res.exception)
    assert text.startswith(f"{path}:")
    assert where in text and message in text
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]    # no temporary file left behind


def test_failed_run_keeps_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    out.write_text("previous\n", encoding="utf-8")
    path = _bad(tmp_path, "BASIC_A,10000,", "BASIC_A,-1,")
    assert _invoke("settle", "mssp", str(path), "--out", str(out)).exit_code != 0
    assert out.read_text(encoding="utf-8") == "previous\n"


@pytest.mark.parametrize("text", ["", "aco_id,track\n", ",".join(INPUT_COLUMNS) + "\n"])
def test_empty_or_headless_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "acos.csv"
    path.write_text(text, encoding="utf-8")
    res = _invoke("settle", "mssp", str(path))
    assert isinstance(res.exception, InvalidInput)
    assert str(path) in str(res.exception)


def test_settle_without_a_command_shows_help() -> None:
    res = _invoke("settle")
    assert "mssp" in res.output


def test_expected_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    """Through the real entry point: one line on stderr, status 2, no traceback."""
    path = _bad(tmp_path, "TV2-BASIC-A-MSR-EDGE,BASIC_A", "TV2,BASIC_F")
    out = tmp_path / "result.csv"
    res = subprocess.run([sys.executable, "-m", "valuecare.cli", "settle", "mssp", str(path),
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "column track" in lines[0]
    assert not out.exists()
