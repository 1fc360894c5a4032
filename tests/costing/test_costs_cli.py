"""``valuecare costs``: cost per cycle by provider and phase, and the opportunities."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.errors import InvalidInput

runner = CliRunner()


def _invoke(ws, *args: str):
    return runner.invoke(app, ["-w", str(ws.path), "costs", *args], env={"COLUMNS": "200"})


def test_cost_per_cycle_by_facility_and_phase(worked_duckdb) -> None:
    """H1 has P1 (13,865.08, standard 12,812.08, paid 40,080.00) and P2 (12,546.50,
    11,832.50, paid 40 + 20,000 - 20,000 + 20,500 + 1,420 = 21,960.00): 13,205.79 a cycle,
    31,020.00 paid, cost/paid 0.43, cost index 26,411.58 / 24,644.58 = 1.072; intervene
    (13,768.00 + 12,539.00) / 2 = 13,153.50."""
    res = _invoke(worked_duckdb[0], "--condition", "hip_knee")
    assert res.exit_code == 0, res.output
    for text in ("TDABC cost per cycle: hip_knee, by facility", "1000000001", "13,205.79",
                 "31,020.00", "0.43", "1.072", "13,153.50", "recover_rehabilitate"):
        assert text in res.output, text


def test_overall_and_by_clinician(worked_duckdb) -> None:
    res = _invoke(worked_duckdb[0], "--condition", "cabg", "--by", "overall")
    assert res.exit_code == 0, res.output
    assert "25,032.64" in res.output
    res = _invoke(worked_duckdb[0], "--condition", "hip_knee", "--by", "clinician")
    assert "2000000001" in res.output


def test_opportunities(worked_duckdb) -> None:
    res = _invoke(worked_duckdb[0], "--opportunities", "--top", "3")
    assert res.exit_code == 0, res.output
    assert "64,053.00" in res.output  # unused nurse_x capacity at H1, the largest
    assert "2,091.00" in res.output  # a ward day above the target
    assert "22.08" not in res.output  # beyond the top 3
    res = _invoke(worked_duckdb[0], "--opportunities", "--condition", "hip_knee")
    assert "22.08" in res.output and "64,053.00" not in res.output


@pytest.mark.parametrize(("args", "message"), [
    ((), "give --condition"),
    (("--condition", "low_back_pain"), "no costed cycles of 'low_back_pain'"),
    (("--condition", "hip_knee", "--by", "nurse"), "--by must be one of"),
])
def test_bad_options(worked_duckdb, args: tuple[str, ...], message: str) -> None:
    res = _invoke(worked_duckdb[0], *args)
    assert isinstance(res.exception, InvalidInput)
    assert message in str(res.exception)


def test_expected_error_is_one_line(worked_duckdb) -> None:
    res = subprocess.run([sys.executable, "-m", "valuecare.cli", "-w",
                          str(worked_duckdb[0].path), "costs"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error:") and "Traceback" not in res.stderr
