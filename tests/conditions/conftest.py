"""Shared fixtures: the edge-case workspaces, built once per session and backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conditions.edge_data import write
from tests.conftest import spark_available
from valuecare import Workspace


def _build(tmp: Path, backend: str):
    ws = Workspace(tmp / "ws", backend=backend)
    ws.load(write(tmp / "data"))
    report = ws.run(["member_months", "care_cycles", "condition_volumes", "site_of_care"])
    return ws, report


@pytest.fixture(scope="session")
def ws_duckdb(tmp_path_factory: pytest.TempPathFactory):
    ws, report = _build(tmp_path_factory.mktemp("edge_duck"), "duckdb")
    yield ws, report
    ws.close()


@pytest.fixture(scope="session")
def ws_pyspark(tmp_path_factory: pytest.TempPathFactory):
    if not spark_available():
        pytest.skip("pyspark or java not installed")
    ws, report = _build(tmp_path_factory.mktemp("edge_spark"), "pyspark")
    yield ws, report
    ws.close()


