"""The canonical loader: every row loaded or quarantined, money reconciled to the cent.

Each fault kind is planted by hand in a copy of ``tests/data/tiny`` (3 members, 8 claim
lines, paid total 14,160.00); the expected quarantine rows follow from the edit.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from valuecare import InvalidInput, MissingFile, Workspace
from valuecare.model.schema import MEDICAL_CLAIM
from valuecare.model.types import arrow_schema

TINY_PAID = Decimal("14160.00")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], fieldnames: list[str] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fieldnames or list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _edit(path: Path, row: int, **values: str) -> None:
    rows = _rows(path)
    rows[row].update(values)
    _write(path, rows)


def _quarantine(ws: Workspace) -> list[dict]:
    return ws.table("quarantine").order_by(["table_name", "row_number"]).to_pyarrow().to_pylist()


def _load(tmp_path: Path, src: Path, backend: str = "duckdb"):
    ws = Workspace(tmp_path / "ws", backend=backend)
    return ws, ws.load(src)


def test_clean_load_reconciles(tmp_path: Path, tiny_dir: Path, backend: str) -> None:
    ws, report = _load(tmp_path, tiny_dir, backend)
    claims = report.tables["medical_claim"]
    assert (claims.input_rows, claims.loaded_rows, claims.quarantined_rows) == (8, 8, 0)
    assert claims.input_totals["paid_amount"] == TINY_PAID
    assert claims.loaded_totals["paid_amount"] == TINY_PAID
    assert report.reconciles
    assert ws.table("medical_claim").count().to_pyarrow().as_py() == 8
    file_names = set(ws.to_pandas("medical_claim")["file_name"])
    assert file_names == {"medical_claim.csv"}


@pytest.mark.parametrize(
    ("table", "row", "edit", "column", "rule"),
    [
        ("medical_claim", 3, {"claim_start_date": "2024-02-30"}, "claim_start_date",
         "bad_date"),
        ("medical_claim", 3, {"hcpcs_code": "ABCDEFG"}, "hcpcs_code", "bad_code_format"),
        ("medical_claim", 3, {"diagnosis_code_1": "Q99999999"}, "diagnosis_code_1",
         "bad_code_format"),
        ("medical_claim", 3, {"paid_amount": "-100.00"}, "paid_amount", "negative_amount"),
        ("member", 1, {"sex": "X"}, "sex", "not_allowed"),
        ("eligibility", 2, {"payer_type": "dental"}, "payer_type", "not_allowed"),
    ],
)
def test_row_faults_are_quarantined(tmp_path: Path, tiny_dir: Path, table: str, row: int,
                                    edit: dict[str, str], column: str, rule: str) -> None:
    _edit(tiny_dir / f"{table}.csv", row, **edit)
    ws, report = _load(tmp_path, tiny_dir)
    q = [r for r in _quarantine(ws) if r["table_name"] == table]
    assert len(q) >= 1
    first = q[0]
    assert (first["file_name"], first["row_number"], first["column_name"], first["rule"]) == (
        f"{table}.csv", row + 1, column, rule)
    assert first["value"] == next(iter(edit.values()))
    assert json.loads(first["raw_record"])[column] == next(iter(edit.values()))
    assert report.reconciles


def test_non_numeric_amount_is_quarantined_and_reported(tmp_path: Path,
                                                       tiny_dir: Path) -> None:
    _edit(tiny_dir / "medical_claim.csv", 5, paid_amount="$1,200.00")
    ws, report = _load(tmp_path, tiny_dir)
    claims = report.tables["medical_claim"]
    assert claims.unparseable_amounts == 1
    assert claims.quarantined_rows == 1
    # C5 paid 110.00 is not a number any more: input total drops by it, and reconciles
    assert claims.input_totals["paid_amount"] == TINY_PAID - Decimal("110.00")
    assert claims.loaded_totals["paid_amount"] == TINY_PAID - Decimal("110.00")
    assert claims.quarantined_totals["allowed_amount"] == Decimal("130.00")
    assert report.reconciles
    assert _quarantine(ws)[0]["rule"] == "not_a_number"


def test_duplicate_lines_keep_the_first(tmp_path: Path, tiny_dir: Path, backend: str) -> None:
    path = tiny_dir / "medical_claim.csv"
    rows = _rows(path)
    _write(path, [*rows, rows[0], rows[6]])
    ws, report = _load(tmp_path, tiny_dir, backend)
    claims = report.tables["medical_claim"]
    assert (claims.input_rows, claims.loaded_rows, claims.quarantined_rows) == (10, 8, 2)
    dup = [r for r in _quarantine(ws) if r["rule"] == "duplicate_key"]
    assert sorted(r["row_number"] for r in dup) == [9, 10]
    assert {r["value"] for r in dup} == {"C1|1|tiny", "C6|1|tiny"}
    assert claims.quarantined_totals["paid_amount"] == Decimal("10800.00")
    assert claims.input_totals["paid_amount"] == TINY_PAID + Decimal("10800.00")
    assert report.reconciles


def test_orphan_claims(tmp_path: Path, tiny_dir: Path, backend: str) -> None:
    _edit(tiny_dir / "medical_claim.csv", 2, person_id="P404")
    _edit(tiny_dir / "pharmacy_claim.csv", 0, person_id="P405")
    ws, report = _load(tmp_path, tiny_dir, backend)
    orphans = [r for r in _quarantine(ws) if r["rule"] == "orphan"]
    assert {(r["table_name"], r["row_number"], r["value"]) for r in orphans} == {
        ("medical_claim", 3, "P404"), ("pharmacy_claim", 1, "P405")}
    assert report.tables["medical_claim"].quarantined_totals["paid_amount"] == Decimal("1200.00")
    assert report.reconciles


def test_unknown_npi_is_kept_and_counted(tmp_path: Path, tiny_dir: Path) -> None:
    _edit(tiny_dir / "medical_claim.csv", 3, rendering_npi="1999999999")
    _, report = _load(tmp_path, tiny_dir)
    claims = report.tables["medical_claim"]
    assert claims.loaded_rows == 8
    assert claims.unknown_references == {"rendering_npi": 1}


def test_wrong_encoding(tmp_path: Path, tiny_dir: Path) -> None:
    path = tiny_dir / "provider.csv"
    data = path.read_bytes().replace(b"General Hospital", "Clínica São José".encode("latin-1"))
    path.write_bytes(data)
    ws, report = _load(tmp_path, tiny_dir)
    q = _quarantine(ws)
    assert [(r["table_name"], r["row_number"], r["column_name"], r["rule"]) for r in q] == [
        ("provider", 1, "provider_name", "encoding")]
    assert q[0]["value"] == "Clínica São José"
    assert report.reconciles


def test_missing_optional_column_loads_with_nulls(tmp_path: Path, tiny_dir: Path) -> None:
    path = tiny_dir / "member.csv"
    rows = _rows(path)
    names = [n for n in rows[0] if n != "race"]
    _write(path, [{k: r[k] for k in names} for r in rows], names)
    ws, report = _load(tmp_path, tiny_dir)
    assert "race" in report.tables["member"].missing_optional_columns["member.csv"]
    assert ws.to_pandas("member")["race"].isna().all()


def test_missing_required_column_is_one_clear_error(tmp_path: Path, tiny_dir: Path) -> None:
    path = tiny_dir / "medical_claim.csv"
    rows = _rows(path)
    names = [n for n in rows[0] if n != "paid_amount"]
    _write(path, [{k: r[k] for k in names} for r in rows], names)
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InvalidInput, match=r"medical_claim\.csv: missing required column\(s\) "
                                           r"paid_amount"):
        ws.load(tiny_dir)
    assert ws.tables() == []  # nothing was loaded


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(MissingFile, match="no such folder"):
        ws.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFile, match="no canonical table files"):
        ws.load(tmp_path / "empty")


def test_unreadable_parquet(tmp_path: Path, tiny_dir: Path) -> None:
    (tiny_dir / "death.parquet").write_bytes(b"this is not parquet")
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InvalidInput, match=r"death\.parquet: not a readable Parquet file"):
        ws.load(tiny_dir)


def test_ragged_csv(tmp_path: Path, tiny_dir: Path) -> None:
    with (tiny_dir / "member.csv").open("a") as fh:
        fh.write("P9,female\n")
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InvalidInput, match=r"member\.csv: cannot be read as CSV"):
        ws.load(tiny_dir)


def test_typed_parquet_input(tmp_path: Path, tiny_dir: Path) -> None:
    """Parquet with the canonical types (decimals, dates) loads the same as the CSV."""
    schema = arrow_schema(MEDICAL_CLAIM)
    raw = pacsv.read_csv(tiny_dir / "medical_claim.csv",
                         convert_options=pacsv.ConvertOptions(
                             column_types={f.name: pa.string() for f in schema},
                             strings_can_be_null=True))
    table = raw.select([n for n in raw.column_names]).cast(
        pa.schema([schema.field(n) for n in raw.column_names]))
    (tiny_dir / "medical_claim.csv").unlink()
    pq.write_table(table, tiny_dir / "medical_claim.parquet")
    ws, report = _load(tmp_path, tiny_dir)
    assert report.tables["medical_claim"].loaded_totals["paid_amount"] == TINY_PAID
    assert report.reconciles


def test_reload_replaces_tables_and_their_quarantine(tmp_path: Path, tiny_dir: Path) -> None:
    _edit(tiny_dir / "member.csv", 1, sex="X")
    ws, _ = _load(tmp_path, tiny_dir)
    q = _quarantine(ws)
    assert [(r["table_name"], r["rule"]) for r in q if r["table_name"] == "member"] == [
        ("member", "not_allowed")]
    # P2's enrollment and claims cascade to quarantine: their member is not loaded
    assert {r["rule"] for r in q if r["table_name"] != "member"} == {"orphan"}
    _edit(tiny_dir / "member.csv", 1, sex="male")
    ws.load(tiny_dir)
    assert _quarantine(ws) == []
    assert ws.table("member").count().to_pyarrow().as_py() == 3
