"""``valuecare export``: the published tables of a workspace as Parquet or CSV files, or its
quality-measure results as FHIR R4 MeasureReports.

* ``parquet``: ``<table>.parquet`` per published table, canonical and result tables alike
  (the run ledger and catalog are metadata and stay in the workspace).  Money keeps its
  exact ``decimal(18,2)`` type.
* ``csv``: ``<table>.csv`` (UTF-8, header row, comma).  Money is plain text with its cents
  (``1234.50``), never a float; an empty field is null, ``""`` an empty string.
* ``fhir``: ``MeasureReport.ndjson`` (and, with ``bundle``, ``MeasureReport-bundle.json``)
  from :mod:`valuecare.connectors.fhir_export`; no tables.

Either way a ``manifest.json`` lists every file with its rows, columns (name and type),
bytes and SHA-256, and for tables the total of every decimal column.  Before a file is
listed its rows and decimal totals are read back from the file and compared with the
workspace's, so an export that does not reconcile fails.

The canonical tables are written under their canonical names, so the folder loads back
with ``valuecare load DIR`` (result tables and the manifest are not canonical input and
are passed over).

Writing is atomic: everything goes to a hidden folder beside ``out_dir`` and replaces it
only when complete, so a failed export leaves the previous output as it was.  An existing
``out_dir`` is replaced only if it is empty or a previous valuecare export (it has our
manifest), never another folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from valuecare._version import __version__
from valuecare.errors import InvalidInput, UnknownTable, ValuecareError, WorkspaceError

FORMATS = ("parquet", "csv", "fhir")
MANIFEST = "manifest.json"
GENERATOR = "valuecare export"
BATCH_ROWS = 100_000


@dataclass
class ExportReport:
    """What an export wrote (the manifest, as Python)."""

    out_dir: Path
    format: str
    files: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.out_dir / MANIFEST).read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decimal_columns(schema: Any) -> list[str]:
    return [name for name, dtype in schema.items() if dtype.is_decimal()]


def workspace_totals(ws: Any, name: str) -> tuple[int, dict[str, Decimal]]:
    """Rows and the exact total of every decimal column of a published table."""
    t = ws.table(name)
    cols = _decimal_columns(t.schema())
    aggs = {"_rows": t.count(), **{f"_s_{c}": t[c].sum() for c in cols}}
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    totals = {c: Decimal(row[f"_s_{c}"] if row[f"_s_{c}"] is not None else 0) for c in cols}
    return int(row["_rows"] or 0), totals


def _file_totals(path: Path, fmt: str, schema: Any) -> tuple[int, dict[str, Decimal]]:
    """Rows and decimal totals read back from a written file."""
    cols = _decimal_columns(schema)
    totals = {c: Decimal(0) for c in cols}
    if fmt == "parquet":
        pf = pq.ParquetFile(path)
        rows = pf.metadata.num_rows
        batches = pf.iter_batches(batch_size=BATCH_ROWS, columns=cols) if cols else iter(())
    else:
        rows = 0
        read = cols or [next(iter(schema.names))]
        types = {c: (pa.decimal128(38, schema[c].scale) if c in cols else pa.string())
                 for c in read}
        batches = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=read, strings_can_be_null=True,
                quoted_strings_can_be_null=False))
    for batch in batches:
        if fmt == "csv":
            rows += batch.num_rows
        for c in cols:
            s = pc.sum(batch.column(c)).as_py()
            if s is not None:
                totals[c] += Decimal(s)
    return rows, totals


def _run_ids(ws: Any) -> dict[str, str]:
    rows = ws.meta.execute("SELECT name, run_id FROM catalog WHERE backend = ?", [ws.backend])
    return {n: r for n, r in rows}


def _write_table(ws: Any, name: str, path: Path, fmt: str) -> None:
    t = ws.table(name)
    if ws.backend == "duckdb":
        # DuckDB's COPY streams the table to the file: decimal stays decimal in Parquet and
        # prints with its scale in CSV ("1234.50"); null is an empty field, "" an empty string
        if fmt == "parquet":
            t.to_parquet(path)
        else:
            t.to_csv(path)
        return
    data = t.to_pyarrow()
    if fmt == "parquet":
        pq.write_table(data, path)
    else:
        pacsv.write_csv(data, path)


def _check_target(out: Path) -> None:
    """Replace ``out`` only if it is empty or a previous valuecare export."""
    if not out.exists():
        return
    if not out.is_dir():
        raise InvalidInput(f"{out}: is a file; give a folder to export to")
    if not any(out.iterdir()):
        return
    manifest = out / MANIFEST
    try:
        ours = json.loads(manifest.read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        raise InvalidInput(f"{out}: the folder exists and is not a valuecare export (no "
                           f"{MANIFEST} of ours); give a new or empty folder, it would be "
                           "replaced")


def _swap(tmp: Path, out: Path, token: str) -> None:
    """Put the complete ``tmp`` folder in place of ``out``."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{token}"
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def _export_tables(ws: Any, tmp: Path, fmt: str, names: list[str]) -> list[dict[str, Any]]:
    from valuecare.model.schema import TABLES

    run_ids = _run_ids(ws)
    entries = []
    for name in names:
        path = tmp / f"{name}.{fmt}"
        _write_table(ws, name, path, fmt)
        schema = ws.table(name).schema()
        rows, totals = workspace_totals(ws, name)
        f_rows, f_totals = _file_totals(path, fmt, schema)
        if f_rows != rows or f_totals != totals:
            bad = [c for c in totals if f_totals.get(c) != totals[c]]
            raise WorkspaceError(
                f"export of table {name} does not reconcile: {f_rows:,} rows written for "
                f"{rows:,} in the workspace"
                + (f"; totals differ for {', '.join(bad)}" if bad else "")
                + "; nothing was replaced")
        entries.append({
            "table": name, "kind": "canonical" if name in TABLES else "result",
            "file": path.name, "format": fmt, "rows": rows,
            "columns": [{"name": c, "type": str(dtype)} for c, dtype in schema.items()],
            "money_totals": {c: f"{v}" for c, v in totals.items()},
            "bytes": path.stat().st_size, "sha256": _sha256(path),
            "run_id": run_ids.get(name),
        })
    return entries


def _export_fhir(ws: Any, tmp: Path, *, bundle: bool, individual: bool,
                 measures: list[str] | None, years: list[int] | None) -> list[dict[str, Any]]:
    from valuecare.connectors.fhir_export import measure_reports, write_measure_reports

    written = write_measure_reports(
        measure_reports(ws, individual=individual, measures=measures, years=years),
        tmp, ndjson=True, bundle=bundle)
    return [{"file": p.name, "format": "ndjson" if p.suffix == ".ndjson" else "bundle",
             "resource_type": "MeasureReport", "fhir_version": "4.0.1",
             "resources": written.resources, "summary": written.summary,
             "individual": written.individual, "bytes": p.stat().st_size,
             "sha256": written.sha256[p.name]} for p in written.files]


def export_workspace(ws: Any, out_dir: str | Path, format: str = "parquet", *,
                     tables: list[str] | None = None, bundle: bool = False,
                     individual: bool = True, measures: list[str] | None = None,
                     years: list[int] | None = None) -> ExportReport:
    """Export ``ws`` to ``out_dir`` as ``parquet``, ``csv`` or ``fhir`` (module docstring).

    ``tables`` limits a table export (default: every published table); ``bundle``,
    ``individual``, ``measures`` and ``years`` shape a FHIR export (a Bundle beside the
    NDJSON; member-level reports or summaries only; some measures or years).
    """
    if format not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    started = time.perf_counter()
    out = Path(out_dir).expanduser().resolve()
    if out == ws.path or ws.path.is_relative_to(out):
        raise InvalidInput(f"{out}: is the workspace or holds it; export to another folder")
    published = ws.tables()
    if format == "fhir":
        if tables:
            raise InvalidInput("--table limits a parquet or csv export; the fhir export "
                               "writes MeasureReports from measure_results")
        if not ws.has_table("measure_results"):
            raise WorkspaceError(f"workspace {ws.path} has no measure_results yet; run "
                                 "`valuecare run` first")
        names: list[str] = []
    else:
        if not published:
            raise WorkspaceError(f"workspace {ws.path} has no tables yet; run `valuecare "
                                 "load` first")
        names = list(dict.fromkeys(tables)) if tables else published
        unknown = [n for n in names if n not in published]
        if unknown:
            raise UnknownTable(f"workspace {ws.path} has no table {', '.join(unknown)}; "
                               f"tables: {', '.join(published)}")
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    tmp = out.parent / f".{out.name}.export-{token}"
    tmp.mkdir()
    try:
        if format == "fhir":
            files = _export_fhir(ws, tmp, bundle=bundle, individual=individual,
                                 measures=measures, years=years)
        else:
            files = _export_tables(ws, tmp, format, names)
        manifest = {
            "generator": GENERATOR, "valuecare_version": __version__, "format": format,
            "exported_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "workspace": str(ws.path), "backend": ws.backend,
            ("files" if format == "fhir" else "tables"): files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _swap(tmp, out, token)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, ValuecareError | KeyboardInterrupt):
            raise
        if isinstance(exc, OSError):
            detail = f"{type(exc).__name__}: {exc.strerror or 'error'}"
            if exc.filename:
                detail += f" ({exc.filename})"
        else:
            detail = type(exc).__name__
        raise WorkspaceError(f"export to {out} failed ({detail}); the previous output there "
                             "is unchanged") from exc
    with contextlib.suppress(OSError):
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportReport(out, format, files, round(time.perf_counter() - started, 3))
