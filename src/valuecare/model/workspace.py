"""The workspace: a folder holding ``valuecare.duckdb``, its catalog and its run ledger.

A workspace is the current directory unless ``--workspace DIR`` or ``VALUECARE_WORKSPACE``
names another.  Every command that changes it runs inside a :class:`Run`:

1. the run is recorded in ``runs`` with status ``running``, its inputs (paths, sizes and
   SHA-256 hashes), parameters and the package version;
2. every table it produces is written under a new *physical* name (``<table>__<run_id>``);
3. only when everything succeeded, one DuckDB transaction points the logical names at the
   new tables and marks the run ``succeeded``.  A run that fails is marked ``failed`` and
   its tables dropped; a run that is killed leaves a ``running`` row (marked ``killed`` the
   next time the workspace opens) and orphan tables that are swept then.  Either way the
   previous results stay exactly as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from valuecare._version import __version__
from valuecare.errors import RunFailed, UnknownTable, ValuecareError, WorkspaceError
from valuecare.model.engines import BackendName, DuckDBEngine, Engine, SparkEngine

DB_FILE = "valuecare.duckdb"

_META_DDL = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        backend VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        package_version VARCHAR NOT NULL,
        pid INTEGER,
        parameters VARCHAR,
        inputs VARCHAR,
        timings VARCHAR,
        row_counts VARCHAR,
        message VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS catalog (
        name VARCHAR NOT NULL,
        backend VARCHAR NOT NULL,
        physical VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        row_count BIGINT,
        published_at TIMESTAMP NOT NULL,
        PRIMARY KEY (name, backend)
    )""",
)


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` if given, else ``$VALUECARE_WORKSPACE``, else the current directory."""
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get("VALUECARE_WORKSPACE")
    return Path(env).expanduser().resolve() if env else Path.cwd().resolve()


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Path, size and SHA-256 of an input file (streamed, constant memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Run:
    """One recorded run: tables written here are published together, or not at all."""

    workspace: Workspace
    run_id: str
    kind: str
    parameters: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # logical -> physical
    row_counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def physical_name(self, name: str) -> str:
        return f"{name}__{self.run_id.replace('-', '_')}"

    def write(self, name: str, obj: ibis.Table | pa.Table) -> ibis.Table:
        """Store ``obj`` as this run's version of table ``name``; return it as a table."""
        physical = self.physical_name(name)
        engine = self.workspace.engine
        if physical in self.written.values():
            engine.drop(physical)
        self.row_counts[name] = engine.write(physical, obj)
        self.written[name] = physical
        return engine.read(physical)

    def write_parquet(self, name: str, paths: list[str]) -> ibis.Table:
        physical = self.physical_name(name)
        engine = self.workspace.engine
        self.row_counts[name] = engine.write_parquet(physical, paths)
        self.written[name] = physical
        return engine.read(physical)

    def table(self, name: str) -> ibis.Table:
        """This run's version of ``name`` if it wrote one, else the published one."""
        if name in self.written:
            return self.workspace.engine.read(self.written[name])
        return self.workspace.table(name)

    def has_table(self, name: str) -> bool:
        return name in self.written or self.workspace.has_table(name)

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(time.perf_counter() - start, 3)
        _debug_hang(step, self.workspace.path)


def _debug_hang(step: str, path: Path) -> None:
    """Test hook: ``VALUECARE_DEBUG_HANG_AFTER=<step>`` parks the process after ``step``.

    It writes ``<workspace>/.hang-<step>`` and sleeps, so a test can kill the process in the
    middle of a run and check that the previous results survive.  Unset, it does nothing.
    """
    if os.environ.get("VALUECARE_DEBUG_HANG_AFTER") == step:
        (path / f".hang-{step}").write_text(str(os.getpid()))
        time.sleep(3600)


class Workspace:
    """A valuecare workspace: canonical tables, results, quarantine and the run ledger.

    >>> ws = Workspace("my-workspace")            # doctest: +SKIP
    >>> ws.load("pop"); ws.run()                  # doctest: +SKIP
    >>> ws.to_pandas("pmpm")                      # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        backend: BackendName = "duckdb",
        spark_master: str | None = None,
    ) -> None:
        if backend not in ("duckdb", "pyspark"):
            raise WorkspaceError(
                f"unknown backend {backend!r}: use 'duckdb' (default) or 'pyspark'"
            )
        self.path = resolve_workspace(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create workspace folder {self.path}: {exc}") from exc
        self.backend: BackendName = backend
        self._duck = DuckDBEngine(self.path / DB_FILE)
        self.meta = self._duck.meta
        for ddl in _META_DDL:
            self.meta.execute(ddl)
        self.engine: Engine
        if backend == "pyspark":
            self.engine = SparkEngine(self.path, self.meta, spark_master)
        else:
            self.engine = self._duck
        self._recover()
        for name, physical in self._catalog().items():
            self.engine.expose(name, physical)

    # ---- catalog ---------------------------------------------------------------------
    def _catalog(self) -> dict[str, str]:
        rows = self.meta.execute(
            "SELECT name, physical FROM catalog WHERE backend = ? ORDER BY name",
            [self.backend],
        )
        return {name: physical for name, physical in rows}

    def _recover(self) -> None:
        """Mark runs whose process died as killed and sweep their unpublished tables."""
        rows = self.meta.execute(
            "SELECT run_id, pid FROM runs WHERE status = 'running'"
        )
        for run_id, pid in rows:
            if pid != os.getpid() and not _pid_alive(pid):
                self.meta.execute(
                    "UPDATE runs SET status = 'killed', message = "
                    "'the process stopped before the run finished; previous results kept' "
                    "WHERE run_id = ?",
                    [run_id],
                )
        live = set(self._catalog().values())
        running = {
            r[0].replace("-", "_")
            for r in self.meta.execute(
                "SELECT run_id FROM runs WHERE status = 'running'"
            )
        }
        for physical in self.engine.physical_tables():
            if physical in live or any(physical.endswith(f"__{r}") for r in running):
                continue
            self.engine.drop(physical)

    def tables(self) -> list[str]:
        """Logical tables published in this workspace (for this backend)."""
        return sorted(self._catalog())

    def has_table(self, name: str) -> bool:
        return name in self._catalog()

    def table(self, name: str) -> ibis.Table:
        """The published table ``name`` as an Ibis table."""
        catalog = self._catalog()
        if name not in catalog:
            have = ", ".join(sorted(catalog)) or "none yet (run `valuecare load` first)"
            raise UnknownTable(
                f"workspace {self.path} has no table {name!r} on backend {self.backend}; "
                f"tables: {have}"
            )
        return self.engine.read(catalog[name])

    def to_pandas(self, name: str) -> pd.DataFrame:
        return self.table(name).to_pandas()

    def row_counts(self) -> dict[str, int]:
        rows = self.meta.execute(
            "SELECT name, row_count FROM catalog WHERE backend = ? ORDER BY name",
            [self.backend],
        )
        return {n: int(c or 0) for n, c in rows}

    # ---- runs ------------------------------------------------------------------------
    @contextlib.contextmanager
    def start_run(
        self,
        kind: str,
        parameters: dict[str, Any] | None = None,
        inputs: list[dict[str, Any]] | None = None,
    ) -> Iterator[Run]:
        """Record a run; publish what it wrote if the block succeeds, drop it if not."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        run = Run(self, run_id, kind, dict(parameters or {}), list(inputs or []))
        self.meta.execute(
            "INSERT INTO runs (run_id, kind, status, backend, started_at, package_version, "
            "pid, parameters, inputs) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            [run_id, kind, self.backend, _now(), __version__, os.getpid(),
             json.dumps(run.parameters, default=str), json.dumps(run.inputs, default=str)],
        )
        try:
            yield run
        except BaseException as exc:
            for physical in run.written.values():
                with contextlib.suppress(Exception):
                    self.engine.drop(physical)
            message = str(exc) if isinstance(exc, ValuecareError) else type(exc).__name__
            self._finish(run, "failed", message)
            if isinstance(exc, ValuecareError | KeyboardInterrupt):
                raise
            detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise RunFailed(
                f"run {run_id} failed ({type(exc).__name__}: {detail}); "
                "the previous results are unchanged"
            ) from exc
        self._publish(run)

    def _finish(self, run: Run, status: str, message: str | None = None) -> None:
        self.meta.execute(
            "UPDATE runs SET status = ?, finished_at = ?, timings = ?, row_counts = ?, "
            "inputs = ?, message = ? WHERE run_id = ?",
            [status, _now(), json.dumps(run.timings), json.dumps(run.row_counts),
             json.dumps(run.inputs, default=str), message, run.run_id],
        )

    def _publish(self, run: Run) -> None:
        old = self._catalog()
        now = _now()
        self.meta.execute("BEGIN TRANSACTION")
        try:
            for name, physical in run.written.items():
                sql = self.engine.expose_sql(name, physical)
                if sql:
                    self.meta.execute(sql)
                self.meta.execute(
                    "INSERT OR REPLACE INTO catalog VALUES (?, ?, ?, ?, ?, ?)",
                    [name, self.backend, physical, run.run_id, run.row_counts.get(name), now],
                )
            message = json.dumps(run.notes, default=str) if run.notes else None
            self.meta.execute(
                "UPDATE runs SET status = 'succeeded', finished_at = ?, timings = ?, "
                "row_counts = ?, inputs = ?, message = ? WHERE run_id = ?",
                [now, json.dumps(run.timings), json.dumps(run.row_counts),
                 json.dumps(run.inputs, default=str), message, run.run_id],
            )
            self.meta.execute("COMMIT")
        except BaseException:
            self.meta.execute("ROLLBACK")
            raise
        for name, physical in run.written.items():
            self.engine.expose(name, physical)
            if name in old and old[name] != physical:
                with contextlib.suppress(Exception):
                    self.engine.drop(old[name])

    def runs(self, limit: int = 20) -> pd.DataFrame:
        """The most recent runs, newest first."""
        return self.meta.df(
            "SELECT run_id, kind, status, backend, started_at, finished_at, package_version, "
            "parameters, inputs, timings, row_counts, message FROM runs "
            "ORDER BY started_at DESC LIMIT ?",
            [limit],
        )

    # ---- high-level verbs (thin: the work lives in loader and pipeline) ---------------
    def load(self, source: str | os.PathLike[str], *, format: str = "canonical",
             progress: Any = None) -> Any:
        """Load a folder of canonical CSV/Parquet files; see :mod:`valuecare.model.loader`."""
        from valuecare.model.loader import load

        return load(self, Path(source), format=format, progress=progress)

    def run(self, stages: list[str] | None = None, *, progress: Any = None) -> Any:
        """Run every pipeline stage (or those named); see :mod:`valuecare.pipeline`."""
        from valuecare.pipeline import run_pipeline

        return run_pipeline(self, stages=stages, progress=progress)

    def close(self) -> None:
        if self.engine is not self._duck:
            self.engine.close()
        self._duck.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, backend={self.backend!r})"
