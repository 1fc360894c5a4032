"""The two engines a workspace runs on, behind one small interface.

Pipelines are Ibis expressions and never see which engine runs them.  An engine only
knows how to store a table under a *physical* name, read it back, drop it, and expose a
physical table under its *logical* name.  Which physical table a logical name means is
decided by the workspace catalog (``valuecare.model.workspace``), which lives in the
workspace's DuckDB file for both engines, so a swap is one DuckDB transaction.

- ``duckdb``: physical tables live in schema ``store`` of ``valuecare.duckdb``; logical
  names are views in schema ``main``, replaced inside the publishing transaction.
- ``pyspark``: physical tables are Parquet folders under ``<workspace>/spark/``; logical
  names are Spark temporary views registered when the workspace opens.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Literal

import ibis
import pyarrow as pa

from valuecare.errors import BackendUnavailable, WorkspaceError

BackendName = Literal["duckdb", "pyspark"]
STORE_SCHEMA = "store"


class Meta:
    """A DuckDB cursor for catalog and ledger statements; every statement is fully fetched
    (DuckDB refuses new work on a connection with an unfinished result)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        result = self.cursor.execute(sql, params or [])
        try:
            return result.fetchall()
        except Exception:  # statements without a result set
            return []

    def df(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.cursor.execute(sql, params or []).df()


def _default_memory_limit() -> str:
    """Half the machine's memory (at least 1 GB) for DuckDB."""
    try:
        import psutil

        total = psutil.virtual_memory().total
    except Exception:  # psutil missing or no /proc: let DuckDB decide
        return "4GB"
    return f"{max(1, int(total * 0.5 / 2**30))}GB"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBEngine:
    """Tables inside the workspace's DuckDB file."""

    name: BackendName = "duckdb"

    def __init__(self, db_path: Path) -> None:
        import duckdb

        try:
            self.con = ibis.duckdb.connect(str(db_path))
        except duckdb.IOException as exc:
            raise WorkspaceError(
                f"cannot open {db_path}: another valuecare process is using this workspace "
                "(DuckDB allows one writer). Wait for it to finish or use another "
                "--workspace."
            ) from exc
        self.raw = Meta(self.con.con.cursor())
        self.raw.execute(f"CREATE SCHEMA IF NOT EXISTS {STORE_SCHEMA}")
        # Leave room for the Python side (Arrow batches) and spill big joins to disk in the
        # workspace rather than failing: DuckDB's own default is 80% of RAM.
        limit = os.environ.get("VALUECARE_DUCKDB_MEMORY_LIMIT") or _default_memory_limit()
        self.con.con.execute(f"SET memory_limit = '{limit}'")
        spill = db_path.parent / ".duckdb_tmp"
        self.con.con.execute(f"SET temp_directory = '{spill.as_posix()}'")

    @property
    def meta(self) -> Meta:
        """The DuckDB cursor holding the catalog and the runs table."""
        return self.raw

    def write(self, physical: str, obj: ibis.Table | pa.Table) -> int:
        self.con.create_table(physical, obj, database=STORE_SCHEMA)
        return self.count(physical)

    def write_parquet(self, physical: str, paths: list[str]) -> int:
        files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        self.raw.execute(
            f"CREATE TABLE {STORE_SCHEMA}.{_quote(physical)} AS "
            f"SELECT * FROM read_parquet([{files}], union_by_name = true)"
        )
        return self.count(physical)

    def read(self, physical: str) -> ibis.Table:
        return self.con.table(physical, database=STORE_SCHEMA)

    def count(self, physical: str) -> int:
        rows = self.raw.execute(f"SELECT count(*) FROM {STORE_SCHEMA}.{_quote(physical)}")
        return int(rows[0][0])

    def drop(self, physical: str) -> None:
        self.raw.execute(f"DROP TABLE IF EXISTS {STORE_SCHEMA}.{_quote(physical)}")

    def physical_tables(self) -> list[str]:
        rows = self.raw.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = ? AND table_type = 'BASE TABLE'",
            [STORE_SCHEMA],
        )
        return [r[0] for r in rows]

    def expose_sql(self, name: str, physical: str) -> str | None:
        """SQL run inside the publishing transaction to point ``name`` at ``physical``."""
        return (
            f"CREATE OR REPLACE VIEW main.{_quote(name)} AS "
            f"SELECT * FROM {STORE_SCHEMA}.{_quote(physical)}"
        )

    def expose(self, name: str, physical: str) -> None:  # views persist in the file
        return None

    def close(self) -> None:
        self.con.disconnect()


def spark_session(master: str | None = None) -> Any:
    """A Spark session for valuecare: local mode with two cores unless ``master`` says."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BackendUnavailable(
            "the pyspark backend needs PySpark and Java 17: "
            'pip install "valuecare[spark]"'
        ) from exc
    master = master or os.environ.get("VALUECARE_SPARK_MASTER") or "local[2]"
    builder = (
        SparkSession.builder.master(master)
        .appName("valuecare")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.memory", os.environ.get("VALUECARE_SPARK_DRIVER_MEMORY", "4g"))
    )
    # more settings as "key=value,key=value" (e.g. a cluster's, or small-data tuning in tests)
    for item in filter(None, os.environ.get("VALUECARE_SPARK_CONF", "").split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BackendUnavailable(f"VALUECARE_SPARK_CONF: {item!r} is not key=value")
        builder = builder.config(key.strip(), value.strip())
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Tables as Parquet folders under ``<workspace>/spark``, queried by Spark."""

    name: BackendName = "pyspark"

    def __init__(self, root: Path, meta: Any, master: str | None = None) -> None:
        self.root = root / "spark"
        self.root.mkdir(parents=True, exist_ok=True)
        self.session = spark_session(master)
        self.con = ibis.pyspark.connect(self.session)
        self.meta = meta

    def _path(self, physical: str) -> str:
        return str(self.root / physical)

    def write(self, physical: str, obj: ibis.Table | pa.Table) -> int:
        if isinstance(obj, pa.Table):
            tmp = self.root / f"_arrow_{physical}"
            tmp.mkdir(parents=True, exist_ok=True)
            import pyarrow.parquet as pq

            pq.write_table(obj, tmp / "part-0.parquet")
            df = self.session.read.parquet(str(tmp))
            df.write.mode("error").parquet(self._path(physical))
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            self.con.to_parquet(obj, self._path(physical))
        return self.count(physical)

    def write_parquet(self, physical: str, paths: list[str]) -> int:
        df = self.session.read.option("mergeSchema", "true").parquet(*paths)
        df.write.mode("error").parquet(self._path(physical))
        return self.count(physical)

    def read(self, physical: str) -> ibis.Table:
        return self.con.read_parquet(self._path(physical), table_name=f"_p_{physical}")

    def count(self, physical: str) -> int:
        return int(self.session.read.parquet(self._path(physical)).count())

    def drop(self, physical: str) -> None:
        shutil.rmtree(self._path(physical), ignore_errors=True)

    def physical_tables(self) -> list[str]:
        return [p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("_")]

    def expose_sql(self, name: str, physical: str) -> str | None:
        return None

    def expose(self, name: str, physical: str) -> None:
        self.con.read_parquet(self._path(physical), table_name=name)

    def close(self) -> None:
        return None  # the session is shared by the process; Spark stops it at exit


Engine = DuckDBEngine | SparkEngine
