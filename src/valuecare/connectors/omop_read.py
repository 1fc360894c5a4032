"""Reading an OMOP CDM source into one DuckDB connection, every column as text.

An OMOP source is a database file (DuckDB, or SQLite through Python's ``sqlite3``) or a
folder of table files (``PERSON.csv``, ``person.parquet``, ``Person.tsv`` ...: names are
case-insensitive; comma- or tab-separated).  Each clinical table becomes a DuckDB view
``src_<table>`` whose columns are the lower-cased OMOP column names, all ``VARCHAR``, plus
``_row``: the source row number (1 = first data row after the header; for a database
table, its position in the table).  Nothing is typed here: the connector parses each
value and quarantines a row whose value is not of the OMOP type, so a wrong type is a
row-level reject rather than a failed load.

Faults handled here, before any mapping:

* a CSV row with more or fewer fields than the header (a truncated file, a stray
  delimiter) is kept aside as *malformed* with its raw text;
* a table whose columns have generic names (``column00``, ``column1`` ...) because its
  header was loaded as a data row (OHDSI Eunomia's empty tables) is renamed from that row;
  the header row itself stays in the table and the connector quarantines it as a junk row.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from valuecare.errors import InvalidInput

#: the clinical tables the connector maps (each gets a source ledger)
CLINICAL_TABLES = (
    "person", "observation_period", "visit_occurrence", "condition_occurrence",
    "procedure_occurrence", "drug_exposure", "measurement", "observation", "death", "cost",
    "payer_plan_period", "provider", "care_site",
)
#: vocabulary and reference tables, read as lookups (no ledger: they are not records)
LOOKUP_TABLES = ("concept", "concept_relationship", "location")

#: OMOP CDM v5.3 and v5.4 columns per table (the union of both versions), used to
#: recognise a header row loaded as data and the identifier column of each table.
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth", "month_of_birth",
               "day_of_birth", "birth_datetime", "race_concept_id", "ethnicity_concept_id",
               "location_id", "provider_id", "care_site_id", "person_source_value",
               "gender_source_value", "gender_source_concept_id", "race_source_value",
               "race_source_concept_id", "ethnicity_source_value",
               "ethnicity_source_concept_id"),
    "observation_period": ("observation_period_id", "person_id",
                           "observation_period_start_date", "observation_period_end_date",
                           "period_type_concept_id"),
    "visit_occurrence": ("visit_occurrence_id", "person_id", "visit_concept_id",
                         "visit_start_date", "visit_start_datetime", "visit_end_date",
                         "visit_end_datetime", "visit_type_concept_id", "provider_id",
                         "care_site_id", "visit_source_value", "visit_source_concept_id",
                         "admitting_source_concept_id", "admitting_source_value",
                         "discharge_to_concept_id", "discharge_to_source_value",
                         "admitted_from_concept_id", "admitted_from_source_value",
                         "discharged_to_concept_id", "discharged_to_source_value",
                         "preceding_visit_occurrence_id"),
    "condition_occurrence": ("condition_occurrence_id", "person_id", "condition_concept_id",
                             "condition_start_date", "condition_start_datetime",
                             "condition_end_date", "condition_end_datetime",
                             "condition_type_concept_id", "condition_status_concept_id",
                             "stop_reason", "provider_id", "visit_occurrence_id",
                             "visit_detail_id", "condition_source_value",
                             "condition_source_concept_id", "condition_status_source_value"),
    "procedure_occurrence": ("procedure_occurrence_id", "person_id", "procedure_concept_id",
                             "procedure_date", "procedure_datetime", "procedure_end_date",
                             "procedure_end_datetime", "procedure_type_concept_id",
                             "modifier_concept_id", "quantity", "provider_id",
                             "visit_occurrence_id", "visit_detail_id",
                             "procedure_source_value", "procedure_source_concept_id",
                             "modifier_source_value"),
    "drug_exposure": ("drug_exposure_id", "person_id", "drug_concept_id",
                      "drug_exposure_start_date", "drug_exposure_start_datetime",
                      "drug_exposure_end_date", "drug_exposure_end_datetime",
                      "verbatim_end_date", "drug_type_concept_id", "stop_reason", "refills",
                      "quantity", "days_supply", "sig", "route_concept_id", "lot_number",
                      "provider_id", "visit_occurrence_id", "visit_detail_id",
                      "drug_source_value", "drug_source_concept_id", "route_source_value",
                      "dose_unit_source_value"),
    "measurement": ("measurement_id", "person_id", "measurement_concept_id",
                    "measurement_date", "measurement_datetime", "measurement_time",
                    "measurement_type_concept_id", "operator_concept_id", "value_as_number",
                    "value_as_concept_id", "unit_concept_id", "range_low", "range_high",
                    "provider_id", "visit_occurrence_id", "visit_detail_id",
                    "measurement_source_value", "measurement_source_concept_id",
                    "unit_source_value", "unit_source_concept_id", "value_source_value",
                    "measurement_event_id", "meas_event_field_concept_id"),
    "observation": ("observation_id", "person_id", "observation_concept_id",
                    "observation_date", "observation_datetime", "observation_type_concept_id",
                    "value_as_number", "value_as_string", "value_as_concept_id",
                    "qualifier_concept_id", "unit_concept_id", "provider_id",
                    "visit_occurrence_id", "visit_detail_id", "observation_source_value",
                    "observation_source_concept_id", "unit_source_value",
                    "qualifier_source_value", "value_source_value", "observation_event_id",
                    "obs_event_field_concept_id"),
    "death": ("person_id", "death_date", "death_datetime", "death_type_concept_id",
              "cause_concept_id", "cause_source_value", "cause_source_concept_id"),
    "cost": ("cost_id", "cost_event_id", "cost_domain_id", "cost_type_concept_id",
             "currency_concept_id", "total_charge", "total_cost", "total_paid",
             "paid_by_payer", "paid_by_patient", "paid_patient_copay",
             "paid_patient_coinsurance", "paid_patient_deductible", "paid_by_primary",
             "paid_ingredient_cost", "paid_dispensing_fee", "payer_plan_period_id",
             "amount_allowed", "revenue_code_concept_id", "revenue_code_source_value",
             "reveue_code_source_value", "drg_concept_id", "drg_source_value"),
    "payer_plan_period": ("payer_plan_period_id", "person_id", "payer_plan_period_start_date",
                          "payer_plan_period_end_date", "payer_concept_id",
                          "payer_source_value", "payer_source_concept_id", "plan_concept_id",
                          "plan_source_value", "plan_source_concept_id", "sponsor_concept_id",
                          "sponsor_source_value", "sponsor_source_concept_id",
                          "family_source_value", "stop_reason_concept_id",
                          "stop_reason_source_value", "stop_reason_source_concept_id"),
    "provider": ("provider_id", "provider_name", "npi", "dea", "specialty_concept_id",
                 "care_site_id", "year_of_birth", "gender_concept_id",
                 "provider_source_value", "specialty_source_value",
                 "specialty_source_concept_id", "gender_source_value",
                 "gender_source_concept_id"),
    "care_site": ("care_site_id", "care_site_name", "place_of_service_concept_id",
                  "location_id", "care_site_source_value", "place_of_service_source_value"),
    "concept": ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                "standard_concept", "concept_code", "valid_start_date", "valid_end_date",
                "invalid_reason"),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id",
                             "valid_start_date", "valid_end_date", "invalid_reason"),
    "location": ("location_id", "address_1", "address_2", "city", "state", "zip", "county",
                 "location_source_value", "country_concept_id", "country_source_value",
                 "latitude", "longitude"),
}

_GENERIC = re.compile(r"^(column|col|c|f|field|v)_?\d+$")
_EXTENSIONS = (".csv", ".tsv", ".txt", ".parquet")


@dataclass
class SourceTable:
    """One OMOP table of the source, as a DuckDB view of text columns."""

    name: str
    label: str  # what the quarantine calls the source (file name or ``db:table``)
    view: str
    columns: list[str]
    path: Path
    #: rows that could not be split into the header's fields: (row number, raw text)
    malformed: list[tuple[int, str]] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.columns


@dataclass
class OmopSource:
    con: duckdb.DuckDBPyConnection
    tables: dict[str, SourceTable]
    inputs: list[Path]
    kind: str  # "duckdb", "sqlite" or "folder"

    def close(self) -> None:
        self.con.close()


def open_source(source: Path) -> OmopSource:
    """Open ``source`` (database file or folder) and register its OMOP tables."""
    con = duckdb.connect()
    try:
        if source.is_dir():
            tables, inputs = _open_folder(con, source)
            kind = "folder"
        elif source.is_file():
            head = source.read_bytes()[:16]
            if head.startswith(b"SQLite format 3"):
                tables, inputs = _open_sqlite(con, source)
                kind = "sqlite"
            elif len(head) >= 12 and head[8:12] == b"DUCK":
                tables, inputs = _open_duckdb(con, source)
                kind = "duckdb"
            else:
                raise InvalidInput(
                    f"{source}: not an OMOP database; give a DuckDB or SQLite file, or a "
                    "folder of OMOP table files (person.csv, visit_occurrence.csv ...)")
        else:
            raise InvalidInput(f"{source}: no such file or folder")
    except BaseException:
        con.close()
        raise
    return OmopSource(con, tables, inputs, kind)


# ---- database files --------------------------------------------------------------------
def _open_duckdb(con: duckdb.DuckDBPyConnection,
                 path: Path) -> tuple[dict[str, SourceTable], list[Path]]:
    quoted = str(path).replace("'", "''")
    try:
        con.execute(f"ATTACH '{quoted}' AS omop_src (READ_ONLY)")
    except duckdb.Error as exc:
        raise InvalidInput(f"{path}: cannot be opened as a DuckDB database ({exc})") from exc
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = 'omop_src'").fetchall()
    found: dict[str, tuple[str, str]] = {}
    for schema, name in rows:
        key = name.lower()
        if key in COLUMNS and (key not in found or schema == "main"):
            found[key] = (schema, name)
    tables: dict[str, SourceTable] = {}
    for key, (schema, name) in found.items():
        ref = f'omop_src."{schema}"."{name}"'
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
            "'omop_src' AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name]).fetchall()]
        first = con.execute(f"SELECT * FROM {ref} ORDER BY rowid LIMIT 1").fetchall()
        names = _names(key, cols, first[0] if first else None)
        select = ", ".join(f'NULLIF(trim(CAST("{c}" AS VARCHAR)), \'\') AS "{n}"'
                           for c, n in zip(cols, names, strict=True))
        view = f"src_{key}"
        con.execute(f"CREATE VIEW {view} AS SELECT rowid + 1 AS _row, {select} FROM {ref}")
        tables[key] = SourceTable(key, f"{name}", view, names, path)
    return tables, [path]


def _open_sqlite(con: duckdb.DuckDBPyConnection,
                 path: Path) -> tuple[dict[str, SourceTable], list[Path]]:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InvalidInput(f"{path}: cannot be opened as a SQLite database ({exc})") from exc
    tables: dict[str, SourceTable] = {}
    try:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()]
        for name in names:
            key = name.lower()
            if key not in COLUMNS:
                continue
            cur = db.execute(f'SELECT * FROM "{name}"')
            cols = [d[0] for d in cur.description]
            data = cur.fetchall()
            header = _names(key, cols, data[0] if data else None)
            columns = {h: [_text(r[i]) for r in data] for i, h in enumerate(header)}
            arrow = pa.table({"_row": pa.array(range(1, len(data) + 1), pa.int64()),
                              **{h: pa.array(v, pa.string()) for h, v in columns.items()}})
            view = f"src_{key}"
            con.register(view, arrow)
            tables[key] = SourceTable(key, name, view, header, path)
    finally:
        db.close()
    return tables, [path]


def _text(v: object) -> str | None:
    if v is None:
        return None
    s = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    s = s.strip()
    return s or None


def _names(table: str, cols: list[str], first_row: tuple | None) -> list[str]:
    """Lower-cased column names; generic names are taken from a header loaded as data."""
    lowered = [c.strip().lower() for c in cols]
    known = set(COLUMNS[table])
    if any(c in known for c in lowered) or first_row is None:
        return lowered
    if not all(_GENERIC.match(c) for c in lowered):
        return lowered
    values = [None if v is None else str(v).strip().lower() for v in first_row]
    hits = sum(1 for v in values if v in known)
    if hits * 2 >= len(values) and len(set(values)) == len(values):
        return [v if v else c for v, c in zip(values, lowered, strict=True)]  # type: ignore[misc]
    return lowered


# ---- folders of table files -------------------------------------------------------------
def _open_folder(con: duckdb.DuckDBPyConnection,
                 folder: Path) -> tuple[dict[str, SourceTable], list[Path]]:
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() not in _EXTENSIONS:
            continue
        key = p.stem.lower()
        if key not in COLUMNS:
            continue
        if key in files:
            raise InvalidInput(
                f"{folder}: two files hold table {key!r} ({files[key].name}, {p.name}); "
                "keep one")
        files[key] = p
    tables: dict[str, SourceTable] = {}
    for key, p in files.items():
        view = f"src_{key}"
        if key in LOOKUP_TABLES and p.suffix.lower() != ".parquet":
            header, delim = _sniff(p)
            _register_lookup_csv(con, view, p, delim, header)
            tables[key] = SourceTable(key, p.name, view, header, p)
            continue
        if p.suffix.lower() == ".parquet":
            arrow, header, malformed = _read_parquet(p)
        else:
            arrow, header, malformed = _read_csv(p)
        con.register(view, arrow)
        tables[key] = SourceTable(key, p.name, view, header, p, malformed)
    return tables, list(files.values())


def _sniff(path: Path) -> tuple[list[str], str]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise InvalidInput(f"{path}: the file is empty; an OMOP table file needs a header row")
    delim = "\t" if first.count("\t") > first.count(",") else ","
    header = [h.strip().strip('"').lower() for h in first.rstrip("\r\n").split(delim)]
    while header and header[-1] == "":
        header.pop()
    return header, delim


def _register_lookup_csv(con: duckdb.DuckDBPyConnection, view: str, path: Path, delim: str,
                         header: list[str]) -> None:
    quoted = str(path).replace("'", "''")
    quote = "" if delim == "\t" else '"'
    cols = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
    con.execute(
        f"CREATE VIEW {view} AS SELECT * FROM read_csv('{quoted}', delim = '{delim}', "
        f"quote = '{quote}', escape = '{quote}', header = true, columns = {cols}, "
        "ignore_errors = true, null_padding = true)")


def _read_csv(path: Path) -> tuple[pa.Table, list[str], list[tuple[int, str]]]:
    header, delim = _sniff(path)
    width = len(header)
    cols: list[list[str | None]] = [[] for _ in header]
    rows: list[int] = []
    malformed: list[tuple[int, str]] = []
    quoting = csv.QUOTE_NONE if delim == "\t" else csv.QUOTE_MINIMAL
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delim, quoting=quoting)
        next(reader, None)
        n = 0
        for rec in reader:
            if not rec or all(v.strip() == "" for v in rec):
                continue  # a blank line is not a record
            n += 1
            if len(rec) > width and all(v == "" for v in rec[width:]):
                rec = rec[:width]  # a trailing delimiter
            if len(rec) != width:
                malformed.append((n, delim.join(rec)))
                continue
            rows.append(n)
            for i, v in enumerate(rec):
                v = v.strip()
                cols[i].append(v if v != "" else None)
    arrow = pa.table({"_row": pa.array(rows, pa.int64()),
                      **{h: pa.array(c, pa.string()) for h, c in zip(header, cols,
                                                                      strict=True)}})
    return arrow, header, malformed


def _read_parquet(path: Path) -> tuple[pa.Table, list[str], list[tuple[int, str]]]:
    try:
        t = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})") from exc
    header = [n.strip().lower() for n in t.column_names]
    data = {"_row": pa.array(range(1, t.num_rows + 1), pa.int64())}
    for name, col in zip(header, t.columns, strict=True):
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            data[name] = col.cast(pa.string())
        else:
            data[name] = pa.array([_text(v) for v in col.to_pylist()], pa.string())
    return pa.table(data), header, []
