"""The command line: thin over the library, one clean line for expected errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from valuecare.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_load_run_status(tmp_path: Path, tiny_dir: Path) -> None:
    ws = str(tmp_path / "ws")
    res = _invoke("--workspace", ws, "load", str(tiny_dir))
    assert res.exit_code == 0, res.output
    assert "Load reconciles" in res.output
    assert "14,160.00" in res.output  # medical paid in = loaded
    res = _invoke("run", "--workspace", ws)  # options after the command work too
    assert res.exit_code == 0, res.output
    assert "1,100.00" in res.output  # Medicare PMPM paid (tests/pipeline worked numbers)
    res = _invoke("status", "-w", ws)
    assert res.exit_code == 0, res.output
    for word in ("succeeded", "medical_claim", "pmpm", "Quarantine: empty"):
        assert word in res.output


def test_run_selected_stage(tmp_path: Path, tiny_dir: Path) -> None:
    ws = str(tmp_path / "ws")
    assert _invoke("-w", ws, "load", str(tiny_dir)).exit_code == 0
    res = _invoke("-w", ws, "run", "--stage", "member_months")
    assert res.exit_code == 0, res.output
    res = _invoke("-w", ws, "run", "--stage", "nope")
    assert res.exit_code != 0


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "valuecare.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_expected_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    res = _cli("load", str(tmp_path / "missing"), cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().startswith("error:")
    assert "no such folder" in res.stderr
    res = _cli("run", cwd=tmp_path)
    assert res.returncode == 2
    assert "load data first" in res.stderr
    assert "Traceback" not in res.stderr


def test_quarantine_summary_in_status(tmp_path: Path, tiny_dir: Path) -> None:
    path = tiny_dir / "medical_claim.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2024-02-10,2024-02-13,2024-02-10", "2024-02-31,2024-02-13,"
                                "2024-02-10", 1)
    path.write_text("\n".join(lines) + "\n")
    ws = str(tmp_path / "ws")
    res = _invoke("-w", ws, "load", str(tiny_dir))
    assert res.exit_code == 0, res.output
    assert "medical_claim: bad_date 1" in res.output
    res = _invoke("-w", ws, "status")
    assert "bad_date" in res.output


def test_version() -> None:
    res = _invoke("--version")
    assert res.exit_code == 0
    assert res.output.startswith("valuecare ")
