"""Loading canonical CSV/Parquet files into the workspace, with quarantine.

``valuecare load DIR`` reads, for each canonical table, ``DIR/<table>.csv|.parquet`` or the
part files in ``DIR/<table>/``.  Every input row ends up in exactly one place: the
canonical table, or the ``quarantine`` table with its file, row number, column, rule,
value and the whole raw record (nothing is lost).  The load then checks, and reports,
that loaded + quarantined = input rows per table, and that charge/allowed/paid totals of
the input equal loaded + quarantined totals to the cent.

Steps, per table:

1. *Header check* - a file missing a required column, or one that cannot be read at all,
   stops the load with one message naming the file and what to fix (nothing changes).
2. *Row rules* - each batch is parsed and checked with Arrow kernels
   (:mod:`valuecare.model.validate`); good rows are staged as Parquet, bad rows go to
   quarantine.
3. *Table rules, in the engine* - ``duplicate_key``: a row whose primary key was already
   seen (first occurrence by file and row kept); ``orphan``: a required reference (e.g.
   ``medical_claim.person_id`` → ``member.person_id``) that does not exist.  Optional
   references (NPIs) that are unknown are counted in the report, not quarantined.
4. All tables and the quarantine are published together in one run.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from valuecare.errors import InvalidInput, MissingFile
from valuecare.model.schema import LOAD_ORDER, TABLES, Table
from valuecare.model.types import arrow_schema
from valuecare.model.validate import (
    MONEY_TOTAL_COLUMNS,
    QUARANTINE_SCHEMA,
    ParsedBatch,
    parse_batch,
)
from valuecare.model.workspace import Run, Workspace, file_fingerprint

BATCH_ROWS = 200_000
_ROW = "_row_number"
_FILE = "file_name"


@dataclass
class TableReport:
    """What happened to one table's input."""

    table: str
    files: list[str] = field(default_factory=list)
    input_rows: int = 0
    loaded_rows: int = 0
    quarantined_rows: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    input_totals: dict[str, Decimal] = field(default_factory=dict)
    loaded_totals: dict[str, Decimal] = field(default_factory=dict)
    quarantined_totals: dict[str, Decimal] = field(default_factory=dict)
    unparseable_amounts: int = 0
    missing_optional_columns: dict[str, list[str]] = field(default_factory=dict)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    unknown_references: dict[str, int] = field(default_factory=dict)

    @property
    def rows_reconcile(self) -> bool:
        return self.loaded_rows + self.quarantined_rows == self.input_rows

    @property
    def money_reconciles(self) -> bool:
        return all(
            self.input_totals[c]
            == self.loaded_totals.get(c, Decimal(0)) + self.quarantined_totals.get(c, Decimal(0))
            for c in self.input_totals
        )


@dataclass
class LoadReport:
    run_id: str
    tables: dict[str, TableReport]
    seconds: float
    #: the source ledgers of a connector load (empty for a canonical folder)
    sources: list[Any] = field(default_factory=list)
    format: str = "canonical"
    #: what the connector noted (files or resource types not read, grain choices)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return (all(t.rows_reconcile and t.money_reconciles for t in self.tables.values())
                and all(s.reconciles for s in self.sources))

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "format": self.format,
            "seconds": round(self.seconds, 2),
            "reconciles": self.reconciles,
            "sources": [s.to_dict() for s in self.sources],
            "notes": self.notes,
            "tables": {
                name: {
                    "input_rows": t.input_rows,
                    "loaded_rows": t.loaded_rows,
                    "quarantined_rows": t.quarantined_rows,
                    "by_rule": t.by_rule,
                    "input_totals": {k: str(v) for k, v in t.input_totals.items()},
                    "loaded_totals": {k: str(v) for k, v in t.loaded_totals.items()},
                    "quarantined_totals": {k: str(v) for k, v in t.quarantined_totals.items()},
                    "unparseable_amounts": t.unparseable_amounts,
                    "missing_optional_columns": t.missing_optional_columns,
                    "ignored_columns": t.ignored_columns,
                    "unknown_references": t.unknown_references,
                }
                for name, t in self.tables.items()
            },
        }


# ---- discovering input files ---------------------------------------------------------
def find_table_files(source: Path, table: str) -> list[Path]:
    """``source/<table>.{parquet,csv}`` or the part files inside ``source/<table>/``."""
    files: list[Path] = []
    for ext in (".parquet", ".csv"):
        if (source / f"{table}{ext}").is_file():
            files.append(source / f"{table}{ext}")
    folder = source / table
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.suffix in (".parquet", ".csv"))
    return files


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise InvalidInput(f"{path}: the file is empty; a CSV needs a header row")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: the header row is not UTF-8; re-save it as UTF-8") from exc
    import csv

    return [h.strip() for h in next(csv.reader([text]))]


def _header(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return _csv_header(path)
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})") from exc


def check_header(table: Table, path: Path, report: TableReport) -> None:
    header = _header(path)
    missing = [c for c in table.required_columns if c not in header and c != _FILE]
    if missing:
        raise InvalidInput(
            f"{path}: missing required column(s) {', '.join(missing)} of table "
            f"{table.name!r}; add them (see docs/data-model.md) and load again"
        )
    known = set(table.column_names)
    optional_missing = [c for c in table.column_names if c not in header and c != _FILE]
    if optional_missing:
        report.missing_optional_columns[path.name] = optional_missing
    extra = [c for c in header if c not in known]
    if extra:
        report.ignored_columns[path.name] = extra


def _batches(path: Path, table: Table) -> Iterator[pa.RecordBatch]:
    try:
        if path.suffix == ".parquet":
            pf = pq.ParquetFile(path)
            cols = [c for c in pf.schema_arrow.names if c in table.column_names]
            yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=cols)
            return
        header = _csv_header(path)
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24, encoding="utf8"),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.binary() for h in header},
                include_columns=[h for h in header if h in table.column_names],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
                check_utf8=False,
            ),
        )
        yield from reader
    except pa.ArrowInvalid as exc:
        raise InvalidInput(
            f"{path}: cannot be read as {path.suffix[1:].upper()} ({exc}); check the "
            "delimiter (comma), quoting and that every row has as many fields as the header"
        ) from exc


# ---- row-level pass ------------------------------------------------------------------
def _raw_records(batch: pa.RecordBatch, text: dict[str, pa.Array], idx: np.ndarray) -> list[str]:
    names = [n for n in batch.schema.names if n in text]
    columns = {n: pc.take(text[n], pa.array(idx)).to_pylist() for n in names}
    return [json.dumps({n: (v if v is None or isinstance(v, str) else str(v))
                        for n in names for v in (columns[n][i],)})
            for i in range(len(idx))]


def _quarantine_batch(
    run_id: str, table: Table, file: str, batch: pa.RecordBatch, parsed: ParsedBatch,
    row_offset: int, keep_file_name: bool = False,
) -> pa.Table:
    bad = parsed.bad_mask()
    idx = np.flatnonzero(bad)
    if keep_file_name and _FILE in parsed.text:  # a connector's row names its source file
        files = pc.fill_null(pc.take(parsed.text[_FILE], pa.array(idx)), file)
    else:
        files = pa.array([file] * len(idx), pa.string())
    first_col = np.full(len(idx), None, dtype=object)
    first_rule = np.full(len(idx), None, dtype=object)
    reasons: list[list[str]] = [[] for _ in idx]
    pos = {row: k for k, row in enumerate(idx)}
    for f in parsed.failures:
        for row in np.flatnonzero(f.mask):
            k = pos[row]
            if first_rule[k] is None:
                first_col[k], first_rule[k] = f.column, f.rule
            reasons[k].append(f"{f.column}:{f.rule}")
    values = []
    for k, row in enumerate(idx):
        col = first_col[k]
        arr = parsed.text.get(col)
        v = arr[int(row)].as_py() if arr is not None else None
        if v is not None and not isinstance(v, str):
            v = str(v)
        values.append(None if v is None else str(v)[:200])
    money = {}
    for c in MONEY_TOTAL_COLUMNS:
        if c in parsed.typed:
            money[c] = pc.take(parsed.typed[c], pa.array(idx)).cast(pa.decimal128(18, 2))
        else:
            money[c] = pa.nulls(len(idx), pa.decimal128(18, 2))
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(idx), pa.string()),
            "table_name": pa.array([table.name] * len(idx), pa.string()),
            "file_name": files.cast(pa.string()),
            "row_number": pa.array(idx + row_offset + 1, pa.int64()),
            "column_name": pa.array(first_col.tolist(), pa.string()),
            "rule": pa.array(first_rule.tolist(), pa.string()),
            "value": pa.array(values, pa.string()),
            "all_reasons": pa.array([";".join(r) for r in reasons], pa.string()),
            **money,
            "raw_record": pa.array(_raw_records(batch, parsed.text, idx), pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _good_batch(table: Table, file: str, parsed: ParsedBatch, row_offset: int,
                keep_file_name: bool = False) -> pa.Table:
    keep = ~parsed.bad_mask()
    mask = pa.array(keep)
    schema = arrow_schema(table)
    cols = {}
    for f in schema:
        if f.name == _FILE and keep_file_name and _FILE in parsed.typed:
            # a connector names the source file each row came from
            cols[f.name] = pc.fill_null(pc.filter(parsed.typed[_FILE], mask), file)
        elif f.name == _FILE:
            cols[f.name] = pa.array([file] * int(keep.sum()), pa.string())
        else:
            cols[f.name] = pc.filter(parsed.typed[f.name], mask).cast(f.type)
    cols[_ROW] = pa.array(np.flatnonzero(keep) + row_offset + 1, pa.int64())
    return pa.table(cols)


def _add_totals(totals: dict[str, Decimal], typed: dict[str, pa.Array], table: Table,
                mask: np.ndarray | None = None) -> None:
    for c in MONEY_TOTAL_COLUMNS:
        if c not in table.column_names:
            continue
        arr = typed[c]
        if mask is not None:
            arr = pc.filter(arr, pa.array(mask))
        s = pc.sum(arr).as_py()
        totals[c] = totals.get(c, Decimal(0)) + (s if s is not None else Decimal(0))


def _stage_table(run: Run, table: Table, files: list[Path], staging: Path,
                 report: TableReport, progress: Any,
                 keep_file_name: bool = False) -> tuple[list[str], list[str]]:
    good_paths: list[str] = []
    bad_paths: list[str] = []
    for file_no, path in enumerate(files):
        report.files.append(str(path))
        rel = path.name if path.parent.name != table.name else f"{table.name}/{path.name}"
        row_offset = 0
        writer_good: pq.ParquetWriter | None = None
        writer_bad: pq.ParquetWriter | None = None
        good_path = staging / f"{table.name}-{file_no:05d}.parquet"
        bad_path = staging / f"quarantine-{table.name}-{file_no:05d}.parquet"
        for batch in _batches(path, table):
            parsed = parse_batch(table, batch)
            n = batch.num_rows
            report.input_rows += n
            _add_totals(report.input_totals, parsed.typed, table)
            for c in MONEY_TOTAL_COLUMNS:
                if c in parsed.text:
                    col = table.column(c)
                    if parsed.text[c] is parsed.typed[c]:
                        continue  # typed input: every present value is a number
                    unparsed = (
                        np.asarray(pc.is_valid(parsed.text[c]).to_numpy(zero_copy_only=False))
                        & ~np.asarray(pc.is_valid(parsed.typed[c]).to_numpy(
                            zero_copy_only=False))
                    )
                    if col.money:
                        report.unparseable_amounts += int(unparsed.sum())
            good = _good_batch(table, rel, parsed, row_offset, keep_file_name)
            if writer_good is None:
                writer_good = pq.ParquetWriter(good_path, good.schema)
            writer_good.write_table(good)
            if parsed.bad_mask().any():
                bad = _quarantine_batch(run.run_id, table, rel, batch, parsed, row_offset,
                                        keep_file_name)
                for rule, count in zip(*np.unique(bad["rule"].to_numpy(zero_copy_only=False),
                                                  return_counts=True), strict=True):
                    report.by_rule[str(rule)] = report.by_rule.get(str(rule), 0) + int(count)
                if writer_bad is None:
                    writer_bad = pq.ParquetWriter(bad_path, QUARANTINE_SCHEMA)
                writer_bad.write_table(bad)
            row_offset += n
            if progress:
                progress(f"checking {table.name}", n)
        pa.default_memory_pool().release_unused()  # keep the peak to one file's batches
        if writer_good is None:  # a file with a header and no rows
            writer_good = pq.ParquetWriter(good_path, _staged_schema(table))
        for w, p, out in ((writer_good, good_path, good_paths), (writer_bad, bad_path, bad_paths)):
            if w is not None:
                w.close()
                out.append(str(p))
    return good_paths, bad_paths


def _staged_schema(table: Table) -> pa.Schema:
    return arrow_schema(table).append(pa.field(_ROW, pa.int64()))


# ---- table-level rules in the engine -------------------------------------------------
def _table_rules(run: Run, table: Table,
                 staged: ibis.Table) -> tuple[ibis.Table, ibis.Table | None]:
    """Split staged rows into kept rows and rejected rows (duplicates, orphans).

    The rules run on narrow projections (key, file, row) so that wide claim rows are never
    sorted; the few rejected (file, row) pairs are then anti-joined away.  With no
    rejects the staged rows are kept as they are, with no join at all.
    """
    t = staged
    key = list(table.primary_key)
    narrow = t.select(*key, _FILE, _ROW)
    ranked = narrow.mutate(
        _dup_rank=ibis.row_number().over(group_by=[narrow[k] for k in key],
                                         order_by=[narrow[_FILE], narrow[_ROW]])
    )
    dups = ranked.filter(ranked._dup_rank > 0)
    parts = [dups.select(_FILE, _ROW, _q_column=ibis.literal(",".join(key)),
                         _q_rule=ibis.literal("duplicate_key"),
                         _q_value=_key_text(dups, key), _q_order=ibis.literal(0))]
    for order, col in enumerate(table.columns, start=1):
        if not col.references or not col.required:
            continue  # optional references are counted, not enforced: _unknown_references
        ref_table, ref_col = col.references.split(".")
        if ref_table == table.name or not run.has_table(ref_table):
            continue
        ref = run.table(ref_table).select(_ref=ibis._[ref_col]).distinct()
        cand = t.select(_FILE, _ROW, _v=t[col.name]).filter(ibis._._v.notnull())
        orphans = cand.anti_join(ref, cand._v == ref._ref)
        parts.append(orphans.select(_FILE, _ROW, _q_column=ibis.literal(col.name),
                                    _q_rule=ibis.literal("orphan"),
                                    _q_value=orphans._v.cast("string"),
                                    _q_order=ibis.literal(order)))
    bad = (ibis.union(*parts) if len(parts) > 1 else parts[0]).to_pyarrow()
    if bad.num_rows == 0:
        return t, None
    # one reason per row: duplicates first, then references in column order
    bad = bad.sort_by([(_FILE, "ascending"), (_ROW, "ascending"), ("_q_order", "ascending")])
    first = np.ones(bad.num_rows, dtype=bool)
    files, rows = bad[_FILE].to_pylist(), bad[_ROW].to_pylist()
    for i in range(1, bad.num_rows):
        first[i] = (files[i], rows[i]) != (files[i - 1], rows[i - 1])
    bad = bad.filter(pa.array(first)).drop_columns(["_q_order"])
    bad_ids = ibis.memtable(bad.select([_FILE, _ROW]).rename_columns(["_bf", "_br"]))
    kept = t.anti_join(bad_ids, [t[_FILE] == bad_ids._bf, t[_ROW] == bad_ids._br])
    reasons = ibis.memtable(bad.rename_columns(["_bf", "_br", "_q_column", "_q_rule",
                                                "_q_value"]))
    rejected = t.inner_join(reasons, [t[_FILE] == reasons._bf, t[_ROW] == reasons._br]) \
        .drop("_bf", "_br")
    return kept, rejected


def _unknown_references(run: Run, table: Table, loaded: ibis.Table) -> dict[str, int]:
    """Counts of optional reference values (e.g. NPIs) missing from their table, one query."""
    checks = {}
    for col in table.columns:
        if not col.references or col.required:
            continue
        ref_table, ref_col = col.references.split(".")
        if not run.has_table(ref_table):
            continue
        ref = run.table(ref_table)[ref_col]
        unknown = loaded[col.name].notnull() & ~loaded[col.name].isin(ref)
        checks[col.name] = unknown.cast("int64").sum()
    if not checks:
        return {}
    row = loaded.aggregate(**checks).to_pyarrow().to_pylist()[0]
    return {k: int(v) for k, v in row.items() if v}


def _key_text(t: ibis.Table, key: list[str]) -> ibis.Value:
    parts = [t[k].cast("string").fill_null("") for k in key]
    out = parts[0]
    for p in parts[1:]:
        out = out.concat("|", p)
    return out


def _rejects_to_quarantine(run: Run, table: Table, rejects: ibis.Table) -> pa.Table:
    """Engine rejects (usually few) to quarantine rows, with their raw record as JSON."""
    df = rejects.to_pyarrow()
    n = df.num_rows
    if n == 0:
        return QUARANTINE_SCHEMA.empty_table()
    data = [c for c in df.column_names if not c.startswith("_") and c != _FILE]
    records = df.select(data).to_pylist()
    raw = [json.dumps({k: (None if v is None else str(v)) for k, v in r.items()})
           for r in records]
    money = {
        c: (df.column(c).cast(pa.decimal128(18, 2)) if c in df.column_names
            else pa.nulls(n, pa.decimal128(18, 2)))
        for c in MONEY_TOTAL_COLUMNS
    }
    column, rule = df.column("_q_column").cast(pa.string()), df.column("_q_rule").cast(pa.string())
    return pa.table(
        {
            "run_id": pa.array([run.run_id] * n, pa.string()),
            "table_name": pa.array([table.name] * n, pa.string()),
            "file_name": df.column(_FILE).cast(pa.string()),
            "row_number": df.column(_ROW).cast(pa.int64()),
            "column_name": column,
            "rule": rule,
            "value": df.column("_q_value").cast(pa.string()),
            "all_reasons": pc.binary_join_element_wise(column, rule, ":"),
            **money,
            "raw_record": pa.array(raw, pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _sum_money(expr: ibis.Table, table: Table) -> dict[str, Decimal]:
    cols = [c for c in MONEY_TOTAL_COLUMNS if c in table.column_names]
    if not cols:
        return {}
    agg = expr.aggregate(**{c: expr[c].sum() for c in cols}).to_pyarrow().to_pylist()[0]
    return {c: (Decimal(agg[c]) if agg[c] is not None else Decimal(0)).quantize(Decimal("0.01"))
            for c in cols}


# ---- the load ------------------------------------------------------------------------
def load(ws: Workspace, source: Path, *, format: str = "canonical",
         progress: Any = None) -> LoadReport:
    """Load ``source`` into ``ws`` (see module docstring).

    ``format="canonical"`` reads canonical CSV/Parquet; any other format is converted by
    its connector (:mod:`valuecare.connectors`) into canonical part files first, and the
    connector's source rejects join the quarantine of the same run.
    """
    if format == "canonical":
        return _load_folder(ws, source, format, progress, conversion=None)
    from valuecare.connectors.base import Conversion, get_connector

    connector = get_connector(format)
    if not source.exists():
        raise MissingFile(f"{source}: no such file or folder")
    work = ws.path / ".staging" / f"convert-{uuid.uuid4().hex[:12]}"
    try:
        conversion = Conversion(work, format)
        connector.convert(source, conversion)
        conversion.finish()
        if not conversion.tallies:
            raise MissingFile(f"{source}: nothing in it is {format} input "
                              "(see docs/connectors.md for the files each format reads)")
        return _load_folder(ws, conversion.canonical_folder, format, progress,
                            conversion=conversion, origin=source)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load_folder(ws: Workspace, source: Path, format: str, progress: Any,
                 conversion: Any, origin: Path | None = None) -> LoadReport:
    if conversion is None:
        if not source.exists():
            raise MissingFile(f"{source}: no such folder; give the folder `valuecare synth` "
                              "wrote, or one holding <table>.csv/.parquet files")
        if not source.is_dir():
            raise InvalidInput(f"{source}: is a file; give the folder that holds the table "
                               "files")
    plan = {name: find_table_files(source, name) for name in LOAD_ORDER}
    plan = {k: v for k, v in plan.items() if v}
    source_rejects = conversion.rejects_by_table() if conversion is not None else {}
    if not plan and not source_rejects:
        if conversion is not None:
            raise InvalidInput(f"{origin}: the {format} connector found no record it could "
                               "map and none to quarantine; nothing was loaded")
        raise MissingFile(
            f"{source}: no canonical table files found; expected e.g. member.csv, "
            "medical_claim.parquet or folders member/, medical_claim/ with part files "
            f"(tables: {', '.join(LOAD_ORDER)})"
        )
    touched = [n for n in LOAD_ORDER if n in plan or n in source_rejects]
    reports = {name: TableReport(name) for name in touched}
    for name, files in plan.items():
        for path in files:
            check_header(TABLES[name], path, reports[name])
    if conversion is not None:
        inputs = [file_fingerprint(p) for p in conversion.inputs]
    else:
        inputs = [file_fingerprint(p) for files in plan.values() for p in files]
    started = time.perf_counter()
    params = {"source": str(origin or source), "format": format, "tables": touched}
    with ws.start_run("load", parameters=params, inputs=inputs) as run:
        staging = ws.path / ".staging" / run.run_id
        staging.mkdir(parents=True, exist_ok=True)
        try:
            quarantine_parts: list[pa.Table] = []
            quarantine_files: list[str] = []
            if conversion is not None:
                for i, p in enumerate(conversion.reject_files):
                    part = pq.read_table(p)
                    part = part.set_column(0, "run_id",
                                           pa.array([run.run_id] * part.num_rows, pa.string()))
                    out = staging / f"quarantine-source-{i:05d}.parquet"
                    pq.write_table(part, out)
                    quarantine_files.append(str(out))
                for name, (n, amounts, rules) in source_rejects.items():
                    report = reports[name]
                    report.input_rows += n
                    for rule, count in rules.items():
                        report.by_rule[f"source:{rule}"] = count
                    for c in MONEY_TOTAL_COLUMNS:
                        if c in TABLES[name].column_names:
                            report.input_totals[c] = (report.input_totals.get(c, Decimal(0))
                                                      + amounts.get(c, Decimal(0)))
            for name, files in plan.items():
                table = TABLES[name]
                report = reports[name]
                with run.timed(f"load:{name}"):
                    good, bad = _stage_table(run, table, files, staging, report, progress,
                                             keep_file_name=conversion is not None)
                    quarantine_files += bad
                    staged = (ws.engine.con.read_parquet(good[0]) if len(good) == 1
                              else _read_many(ws, good))
                    kept, rejects = _table_rules(run, table, staged)
                    engine_bad = (_rejects_to_quarantine(run, table, rejects)
                                  if rejects is not None else QUARANTINE_SCHEMA.empty_table())
                    if engine_bad.num_rows:
                        quarantine_parts.append(engine_bad)
                        for rule, count in zip(*np.unique(
                                engine_bad["rule"].to_numpy(zero_copy_only=False),
                                return_counts=True), strict=True):
                            report.by_rule[str(rule)] = (
                                report.by_rule.get(str(rule), 0) + int(count))
                    loaded = run.write(name, kept.drop(_ROW))
                    report.loaded_rows = run.row_counts[name]
                    report.loaded_totals = _sum_money(loaded, table)
                    report.unknown_references = _unknown_references(run, table, loaded)
            for i, part in enumerate(quarantine_parts):
                p = staging / f"quarantine-engine-{i:05d}.parquet"
                pq.write_table(part, p)
                quarantine_files.append(str(p))
            _write_quarantine(ws, run, touched, quarantine_files)
            q = run.table("quarantine")
            q = q.filter(q.run_id == run.run_id)
            q_stats = {
                r["table_name"]: r
                for r in q.group_by("table_name").aggregate(
                    rows=q.count(), **{c: q[c].sum() for c in MONEY_TOTAL_COLUMNS}
                ).to_pyarrow().to_pylist()
            }
            for name, report in reports.items():
                stats = q_stats.get(name, {})
                report.quarantined_rows = int(stats.get("rows") or 0)
                report.quarantined_totals = {
                    c: Decimal(stats.get(c) or 0).quantize(Decimal("0.01"))
                    for c in report.input_totals
                }
                report.input_totals = {k: v.quantize(Decimal("0.01"))
                                       for k, v in report.input_totals.items()}
            bad_tables = [r.table for r in reports.values()
                          if not (r.rows_reconcile and r.money_reconciles)]
            if bad_tables:
                raise InvalidInput(
                    "the load does not reconcile for " + ", ".join(bad_tables)
                    + ": loaded + quarantined differs from the input; nothing was changed "
                    "(please report this as a bug with `valuecare status`)"
                )
            sources = list(conversion.tallies.values()) if conversion is not None else []
            report_obj = LoadReport(run.run_id, reports, time.perf_counter() - started,
                                    sources=sources, format=format)
            run.notes = {"reconciles": True, "format": format,
                         "quarantined": {n: r.quarantined_rows for n, r in reports.items()}}
            if sources:
                run.notes["sources"] = [s.to_dict() for s in sources]
            if conversion is not None and conversion.notes:
                run.notes["connector"] = conversion.notes
                report_obj.notes = dict(conversion.notes)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report_obj


def _read_many(ws: Workspace, paths: list[str]) -> ibis.Table:
    tables = [ws.engine.con.read_parquet(p) for p in paths]
    return ibis.union(*tables) if len(tables) > 1 else tables[0]


def _write_quarantine(ws: Workspace, run: Run, reloaded: list[str], files: list[str]) -> None:
    """New quarantine = previous rows of tables not reloaded + this load's rows."""
    parts: list[ibis.Table] = [ws.engine.con.read_parquet(f) for f in files]
    if ws.has_table("quarantine"):
        old = ws.table("quarantine")
        parts.append(old.filter(~old.table_name.isin(reloaded)))
    if not parts:
        run.write("quarantine", QUARANTINE_SCHEMA.empty_table())
        return
    expr = ibis.union(*parts) if len(parts) > 1 else parts[0]
    run.write("quarantine", expr)
