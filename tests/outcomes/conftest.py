"""Workspaces for the outcome tests: the hand-built data of ``outcome_data.py`` loaded and
run through ``member_months``, ``care_cycles`` and ``outcomes``, once per session and
backend (DuckDB always, Spark when installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import spark_available
from tests.outcomes.outcome_data import write
from valuecare import Workspace


def _build(tmp: Path, backend: str):
    ws = Workspace(tmp / "ws", backend=backend)
    load = ws.load(write(tmp / "data"))
    report = ws.run(["member_months", "care_cycles", "outcomes"])
    return ws, load, report


@pytest.fixture(scope="session")
def oc_duckdb(tmp_path_factory: pytest.TempPathFactory):
    ws, load, report = _build(tmp_path_factory.mktemp("outcomes_duck"), "duckdb")
    yield ws, load, report
    ws.close()


@pytest.fixture(scope="session")
def oc_pyspark(tmp_path_factory: pytest.TempPathFactory):
    if not spark_available():
        pytest.skip("pyspark or java not installed")
    ws, load, report = _build(tmp_path_factory.mktemp("outcomes_spark"), "pyspark")
    yield ws, load, report
    ws.close()
