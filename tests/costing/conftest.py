"""Workspaces for the costing tests, built once per session.

- ``worked_duckdb`` / ``worked_pyspark``: the hand-built claims and costing folder of
  ``cost_data.py`` through ``member_months``, ``care_cycles`` and ``cycle_costs``;
- ``planted``: a seeded synthetic population enriched in surgical episodes, with the
  generator's costing folder in the workspace, through the same stages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import spark_available
from tests.costing.cost_data import write, write_costing
from valuecare import Workspace
from valuecare.synth import SynthConfig, generate

STAGES = ["member_months", "care_cycles", "cycle_costs"]
#: enough hip/knee (~350) and CABG (~80) cycles at 14 hospitals, in well under a minute
PLANTED = SynthConfig(members=4000, years=3, seed=2024, episode_scale=10.0)


def _worked(tmp: Path, backend: str):
    ws = Workspace(tmp / "ws", backend=backend)
    write_costing(tmp / "ws" / "costing")
    ws.load(write(tmp / "data"))
    report = ws.run(STAGES)
    return ws, report


@pytest.fixture(scope="session")
def worked_duckdb(tmp_path_factory: pytest.TempPathFactory):
    ws, report = _worked(tmp_path_factory.mktemp("cost_duck"), "duckdb")
    yield ws, report
    ws.close()


@pytest.fixture(scope="session")
def worked_pyspark(tmp_path_factory: pytest.TempPathFactory):
    if not spark_available():
        pytest.skip("pyspark or java not installed")
    ws, report = _worked(tmp_path_factory.mktemp("cost_spark"), "pyspark")
    yield ws, report
    ws.close()


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory):
    """(workspace, population folder) of the planted population."""
    tmp = tmp_path_factory.mktemp("cost_planted")
    pop = tmp / "pop"
    generate(PLANTED, out=pop)
    shutil.copytree(pop / "costing", tmp / "ws" / "costing")
    ws = Workspace(tmp / "ws")
    ws.load(pop)
    ws.run(STAGES)
    yield ws, pop
    ws.close()
