"""Shared fixtures: the backends every engine test runs on, and small data sets.

``backend`` is parametrised over DuckDB (always) and Spark local mode (when PySpark and
Java are installed), so an engine test is written once and runs on both (DESIGN.md §3).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

# Small-data Spark settings for the test JVMs (no adaptive re-planning, one shuffle
# partition, no whole-stage code generation, no constraint propagation): plan choices
# only, results are the same; about a fifth less time on the parity tests' deep plans.
os.environ.setdefault("VALUECARE_SPARK_CONF", ",".join((
    "spark.sql.adaptive.enabled=false", "spark.sql.shuffle.partitions=1",
    "spark.sql.codegen.wholeStage=false", "spark.sql.constraintPropagation.enabled=false")))

TINY = Path(__file__).parent / "data" / "tiny"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None


BACKENDS = [
    "duckdb",
    pytest.param("pyspark", marks=[
        pytest.mark.spark,
        pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed"),
    ]),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A private copy of the hand-made tiny data set (tests may corrupt it)."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest
