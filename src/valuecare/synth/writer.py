"""Writing parts, truth files and the manifest (Parquet, or CSV with the documented
conventions: comma, header row, UTF-8, ISO dates, money with 2 decimals, true/false, empty
string for null)."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CSV_OPTIONS = pacsv.WriteOptions(include_header=True, quoting_style="needed")


def part_path(out: Path, table: str, part: int, fmt: str) -> Path:
    return out / table / f"part-{part:05d}.{fmt}"


def csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, CSV_OPTIONS)
    return buf.getvalue()


def write_part(table: pa.Table, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        path.write_bytes(csv_bytes(table))


class TruthWriter:
    """Streams one truth table into a single file (truth/<name>.parquet or .csv)."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.rows = 0
        self._pq: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._sink: pa.NativeFile | None = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows += table.num_rows
        if self._schema is None:
            self._schema = table.schema
        table = table.cast(self._schema)
        if self.fmt == "parquet":
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._pq.write_table(table)
        else:
            if self._csv is None:
                self._sink = pa.OSFile(str(self.path), "wb")
                self._csv = pacsv.CSVWriter(self._sink, table.schema, write_options=CSV_OPTIONS)
            self._csv.write_table(table)

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._csv is not None:
            self._csv.close()
        if self._sink is not None:
            self._sink.close()


def text_money_cents(column: pa.ChunkedArray | pa.Array) -> tuple[int, int]:
    """Exact total in cents of the parseable cells of a text money column (``-12.50``),
    and the number of non-empty cells that are not parseable amounts."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    col = col.cast(pa.string())
    present = pc.and_(pc.is_valid(col), pc.not_equal(col, ""))
    ok = pc.match_substring_regex(col, r"^-?[0-9]+\.[0-9]{2}$").fill_null(False)
    bad = int(pc.sum(pc.and_(present, pc.invert(ok))).as_py() or 0)
    good = col.filter(ok)
    if len(good) == 0:
        return 0, bad
    cents = pc.replace_substring(good, ".", "").cast(pa.int64())
    return int(pc.sum(cents).as_py() or 0), bad


def decimal_cents(column: pa.ChunkedArray) -> int:
    """Exact total in cents of a decimal128(18, 2) column."""
    total = pc.sum(column).as_py()
    return 0 if total is None else int(total * 100)


def fmt_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    a = abs(cents)
    return f"{sign}{a // 100}.{a % 100:02d}"
