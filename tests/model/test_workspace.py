"""The workspace: where it lives, the run ledger, and results that survive failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from valuecare import RunFailed, UnknownTable, Workspace, WorkspaceError
from valuecare.pipeline import registry
from valuecare.pipeline.registry import Stage

#: Stages enough for the ledger and atomicity tests (the full pipeline is run in
#: test_runs_are_recorded_with_inputs_and_counts and the end-to-end tests).
FOUNDATION = ["member_months", "claim_header", "pmpm"]

def _pmpm(ws: Workspace) -> list[dict]:
    return ws.table("pmpm").order_by(["year", "payer", "service_category_2"]) \
        .to_pyarrow().to_pylist()


def test_workspace_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Workspace() as ws:
        assert ws.path == tmp_path
    assert (tmp_path / "valuecare.duckdb").exists()
    monkeypatch.setenv("VALUECARE_WORKSPACE", str(tmp_path / "env"))
    with Workspace() as ws:
        assert ws.path == tmp_path / "env"
    with Workspace(tmp_path / "explicit") as ws:
        assert ws.path == tmp_path / "explicit"


def test_unknown_backend_and_table(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="unknown backend 'oracle'"):
        Workspace(tmp_path, backend="oracle")  # type: ignore[arg-type]
    with Workspace(tmp_path) as ws, pytest.raises(UnknownTable, match="no table 'pmpm'"):
        ws.table("pmpm")


def test_runs_are_recorded_with_inputs_and_counts(tmp_path: Path, tiny_dir: Path) -> None:
    with Workspace(tmp_path / "ws") as ws:
        ws.load(tiny_dir)
        ws.run()
        runs = ws.runs()
    assert list(runs["kind"]) == ["run", "load"]
    assert set(runs["status"]) == {"succeeded"}
    load = runs.iloc[1]
    inputs = json.loads(load["inputs"])
    assert {Path(i["path"]).name for i in inputs} == {
        "member.csv", "provider.csv", "eligibility.csv", "medical_claim.csv",
        "pharmacy_claim.csv"}
    assert all(len(i["sha256"]) == 64 for i in inputs)
    assert json.loads(load["row_counts"])["medical_claim"] == 8
    run = runs.iloc[0]
    assert json.loads(run["row_counts"])["pmpm"] == 4
    assert set(json.loads(run["timings"])) == {"member_months", "claim_header", "pmpm",
                                               "care_cycles", "condition_volumes",
                                               "site_of_care", "cycle_costs", "outcomes",
                                               "measure_results",
                                               "utilization", "risk_scores", "comparison"}
    assert run["package_version"]


def test_failed_run_keeps_previous_results(tmp_path: Path, tiny_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.load(tiny_dir)
    ws.run(FOUNDATION)
    before = _pmpm(ws)
    tables_before = ws.row_counts()

    def boom(run):  # a stage that writes a result, then fails
        run.write("pmpm", run.table("member_months").limit(1))
        raise ZeroDivisionError("planted failure")

    stages = [*registry.registered(), Stage("boom", (), ("pmpm",), boom, "fails")]
    monkeypatch.setattr(registry, "STAGES", stages)
    with pytest.raises(RunFailed, match="planted failure.*previous results are unchanged"):
        ws.run([*FOUNDATION, "boom"])
    assert _pmpm(ws) == before
    assert ws.row_counts() == tables_before
    runs = ws.runs()
    assert runs.iloc[0]["status"] == "failed"
    # no half-written tables are left behind
    assert sorted(ws.engine.physical_tables()) == sorted(ws._catalog().values())
    ws.close()


def test_killed_run_keeps_previous_results(tmp_path: Path, tiny_dir: Path) -> None:
    """A process killed with SIGKILL in the middle of a run leaves the last results."""
    wsdir = tmp_path / "ws"
    with Workspace(wsdir) as ws:
        ws.load(tiny_dir)
        ws.run(FOUNDATION)
        before = _pmpm(ws)
    env = {**os.environ, "VALUECARE_DEBUG_HANG_AFTER": "claim_header"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "valuecare.cli", "--workspace", str(wsdir), "run"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    marker = wsdir / ".hang-claim_header"
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"run ended before the hang point: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run never reached the hang point")
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Workspace(wsdir) as ws:
        assert _pmpm(ws) == before
        runs = ws.runs()
        assert runs.iloc[0]["status"] == "killed"
        assert sorted(ws.engine.physical_tables()) == sorted(ws._catalog().values())
        ws.run(FOUNDATION)  # and the workspace works again
        assert _pmpm(ws) == before


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    wsdir = tmp_path / "ws"
    with Workspace(wsdir):
        code = ("from valuecare import Workspace, WorkspaceError\n"
                f"try:\n    Workspace({str(wsdir)!r})\n"
                "except WorkspaceError as e:\n    print('ERR', e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
    assert "another valuecare process is using this workspace" in out.stdout
