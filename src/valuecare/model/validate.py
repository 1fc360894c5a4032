"""Row-level validation of one batch of input against a canonical table.

Each column is parsed from its text (or typed Parquet) form into its canonical type with
vectorised Arrow kernels; every value that fails a rule marks its row.  A row's first
failure (in column order, then row rules) becomes its quarantine reason; every failure
is listed in ``all_reasons`` so nothing about the row is lost.

Rules (the ``rule`` column of the ``quarantine`` table):

========================  ===============================================================
``encoding``              the bytes are not valid UTF-8
``missing_required``      a required column is empty
``bad_date``              not an ISO date ``YYYY-MM-DD`` or not a real calendar day
``not_integer``           not a whole number
``not_a_number``          not a number (money: not a plain decimal such as ``1200.50``)
``money_precision``       money with more than two decimals
``not_boolean``           not one of true/false/1/0/yes/no/t/f/y/n
``not_allowed``           outside the column's closed vocabulary
``bad_code_format``       a code that does not have the published format (ICD-10-CM ...)
``out_of_range``          a number outside the column's bounds
``negative_amount``       a negative amount on a line that is not a reversal
``positive_reversal``     a positive amount on a reversal line
``paid_above_allowed``    paid amount larger than the allowed amount
``dates_out_of_order``    an end date before its start date (claim, stay, span, life)
========================  ===============================================================

Table-level rules (``duplicate_key``, ``orphan``) run in the engine after the batch rules;
see :mod:`valuecare.model.loader`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from valuecare.model.schema import ICD9CM, ICD9PCS, ICD10CM, ICD10PCS, Column, Table
from valuecare.model.types import arrow_type

_INT_RE = r"^\s*[-+]?[0-9]+\s*$"
_MONEY_RE = r"^\s*-?[0-9]{1,16}(\.[0-9]*)?\s*$"
_MONEY_EXACT_RE = r"^\s*-?[0-9]{1,16}(\.[0-9]{0,2})?\s*$"
_DOUBLE_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("file_name", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("column_name", pa.string()),
        pa.field("rule", pa.string()),
        pa.field("value", pa.string()),
        pa.field("all_reasons", pa.string()),
        pa.field("charge_amount", pa.decimal128(18, 2)),
        pa.field("allowed_amount", pa.decimal128(18, 2)),
        pa.field("paid_amount", pa.decimal128(18, 2)),
        pa.field("raw_record", pa.string()),
    ]
)

MONEY_TOTAL_COLUMNS = ("charge_amount", "allowed_amount", "paid_amount")


@dataclass
class Failure:
    """Rows of one column (or row rule) that broke ``rule``."""

    column: str
    rule: str
    mask: np.ndarray  # bool, one per row


@dataclass
class ParsedBatch:
    """A batch parsed into canonical types, with the failures found."""

    typed: dict[str, pa.Array]
    text: dict[str, pa.Array]  # text form of each input column (for quarantine values)
    failures: list[Failure]
    num_rows: int

    def bad_mask(self) -> np.ndarray:
        mask = np.zeros(self.num_rows, dtype=bool)
        for f in self.failures:
            mask |= f.mask
        return mask


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean Arrow array (nulls as False) to numpy."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def decode_utf8(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Binary to string; values that are not valid UTF-8 become null and are flagged."""
    try:
        return arr.cast(pa.string()), np.zeros(len(arr), dtype=bool)
    except pa.ArrowInvalid:
        values = arr.to_pylist()
        bad = np.zeros(len(values), dtype=bool)
        out: list[str | None] = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
                continue
            try:
                out.append(v.decode("utf-8"))
            except UnicodeDecodeError:
                bad[i] = True
                out.append(v.decode("latin-1"))  # kept readable for the quarantine value
        return pa.array(out, pa.string()), bad


def _parse_column(col: Column, text: pa.Array) -> tuple[pa.Array, list[tuple[str, np.ndarray]]]:
    """Parse the text of one column; return the typed array and its failures."""
    target = arrow_type(col)
    failures: list[tuple[str, np.ndarray]] = []
    stripped = pc.utf8_trim_whitespace(text)
    empty = pc.equal(stripped, "")
    present = pc.and_(pc.is_valid(stripped), pc.invert(pc.fill_null(empty, False)))
    present_np = _mask(present)
    clean = pc.if_else(present, stripped, pa.scalar(None, pa.string()))

    def fail(rule: str, ok: pa.Array) -> None:
        bad = present_np & ~_mask(ok)
        if bad.any():
            failures.append((rule, bad))

    if col.dtype == "string":
        typed = clean
        if col.allowed is not None:
            fail("not_allowed", pc.is_in(clean, value_set=pa.array(col.allowed)))
        if col.pattern is not None:
            fail("bad_code_format", pc.match_substring_regex(clean, col.pattern))
    elif col.dtype == "date":
        well_formed = pc.match_substring_regex(clean, _DATE_RE)
        candidate = pc.if_else(well_formed, clean, pa.scalar(None, pa.string()))
        ts = pc.strptime(candidate, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2023-02-30 over to 2023-03-02: a real day prints back unchanged
        roundtrip = pc.equal(pc.strftime(ts, format="%Y-%m-%d"), candidate)
        fail("bad_date", roundtrip)
        typed = pc.if_else(roundtrip, ts, pa.scalar(None, ts.type)).cast(pa.date32())
    elif col.dtype == "int":
        ok = pc.match_substring_regex(clean, _INT_RE)
        fail("not_integer", ok)
        typed = pc.if_else(ok, clean, pa.scalar(None, pa.string())).cast(pa.int64())
    elif col.dtype == "decimal":
        numeric = pc.match_substring_regex(clean, _MONEY_RE)
        exact = pc.match_substring_regex(clean, _MONEY_EXACT_RE)
        fail("not_a_number", numeric)
        fail("money_precision", pc.or_(pc.invert(numeric), exact))
        ok = pc.and_(numeric, exact)
        typed = pc.cast(pc.if_else(ok, clean, pa.scalar(None, pa.string())), target)
    elif col.dtype == "double":
        ok = pc.match_substring_regex(clean, _DOUBLE_RE)
        fail("not_a_number", ok)
        typed = pc.if_else(ok, clean, pa.scalar(None, pa.string())).cast(pa.float64())
    elif col.dtype == "bool":
        lower = pc.utf8_lower(clean)
        is_true = pc.is_in(lower, value_set=pa.array(_TRUE))
        is_false = pc.is_in(lower, value_set=pa.array(_FALSE))
        ok = pc.or_(is_true, is_false)
        fail("not_boolean", ok)
        typed = pc.if_else(ok, is_true, pa.scalar(None, pa.bool_()))
    else:  # pragma: no cover - closed vocabulary
        raise AssertionError(col.dtype)

    if col.dtype in ("int", "double", "decimal") and (
        col.min_value is not None or col.max_value is not None
    ):
        as_float = typed.cast(pa.float64())
        ok = pa.array(np.ones(len(typed), dtype=bool))
        if col.min_value is not None:
            ok = pc.and_(ok, pc.greater_equal(as_float, col.min_value))
        if col.max_value is not None:
            ok = pc.and_(ok, pc.less_equal(as_float, col.max_value))
        bad = _mask(pc.is_valid(typed)) & ~_mask(ok)
        if bad.any():
            failures.append(("out_of_range", bad))

    if col.required:
        missing = ~present_np
        if missing.any():
            failures.append(("missing_required", missing))
    return typed, failures


def _typed_checks(col: Column, typed: pa.Array) -> list[tuple[str, np.ndarray]]:
    """Rules that can fail for a value that already has its canonical type."""
    failures: list[tuple[str, np.ndarray]] = []
    present = _mask(pc.is_valid(typed))
    if col.required and not present.all():
        failures.append(("missing_required", ~present))
    if col.min_value is not None or col.max_value is not None:
        as_float = typed.cast(pa.float64())
        bad = np.zeros(len(typed), dtype=bool)
        if col.min_value is not None:
            bad |= _mask(pc.less(as_float, col.min_value))
        if col.max_value is not None:
            bad |= _mask(pc.greater(as_float, col.max_value))
        if bad.any():
            failures.append(("out_of_range", bad))
    if col.allowed is not None and col.dtype in ("int",):
        ok = pc.is_in(typed.cast(pa.string()), value_set=pa.array(col.allowed))
        bad = present & ~_mask(ok)
        if bad.any():
            failures.append(("not_allowed", bad))
    return failures


def _typed_passthrough(col: Column, arr: pa.Array) -> pa.Array | None:
    """A Parquet column already of the canonical type is used as it is (no re-parsing)."""
    target = arrow_type(col)
    if arr.type == target:
        return arr
    if col.dtype == "string" and pa.types.is_large_string(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_decimal(arr.type) and col.dtype == "decimal":
        try:
            return arr.cast(target)
        except pa.ArrowInvalid:
            return None
    if pa.types.is_timestamp(arr.type) and col.dtype == "date":
        return arr.cast(pa.date32())
    if pa.types.is_integer(arr.type) and col.dtype == "int":
        return arr.cast(pa.int64())
    if pa.types.is_floating(arr.type) and col.dtype == "double":
        return arr.cast(pa.float64())
    return None


def parse_batch(table: Table, batch: pa.RecordBatch) -> ParsedBatch:
    """Parse and check every column of ``batch`` (columns absent from it are null)."""
    n = batch.num_rows
    typed: dict[str, pa.Array] = {}
    text: dict[str, pa.Array] = {}
    failures: list[Failure] = []
    names = set(batch.schema.names)
    for col in table.columns:
        if col.name not in names:
            typed[col.name] = pa.nulls(n, arrow_type(col))
            if col.required:
                failures.append(Failure(col.name, "missing_required", np.ones(n, dtype=bool)))
            continue
        arr = batch.column(col.name)
        passthrough = _typed_passthrough(col, arr)
        if passthrough is not None and col.dtype != "string":
            # typed input: only presence and bounds can fail; the values are kept as they are
            typed[col.name] = passthrough
            text[col.name] = passthrough
            fails = _typed_checks(col, passthrough)
        elif passthrough is not None:
            typed[col.name], fails = _parse_column(col, passthrough)
            text[col.name] = passthrough
        else:
            if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
                as_text, bad_enc = decode_utf8(arr)
                if bad_enc.any():
                    failures.append(Failure(col.name, "encoding", bad_enc))
            else:
                as_text = arr.cast(pa.string())
            typed[col.name], fails = _parse_column(col, as_text)
            text[col.name] = as_text
        failures.extend(Failure(col.name, r, m) for r, m in fails)
    failures.extend(_row_rules(table, typed, n))
    return ParsedBatch(typed=typed, text=text, failures=failures, num_rows=n)


def _lt(a: pa.Array, b: pa.Array) -> np.ndarray:
    return _mask(pc.less(a, b))


#: row rules "this date is not before that one": rule -> (later column, earlier column)
DATE_ORDER: dict[str, tuple[str, str]] = {
    "claim_dates_order": ("claim_end_date", "claim_start_date"),
    "discharge_after_admission": ("discharge_date", "admission_date"),
    "span_order": ("enrollment_end_date", "enrollment_start_date"),
    "death_after_birth": ("death_date", "birth_date"),
    "encounter_dates_order": ("encounter_end_date", "encounter_start_date"),
    "condition_dates_order": ("resolved_date", "onset_date"),
}


def _code_formats(typed: dict[str, pa.Array]) -> list[Failure]:
    """Diagnosis and procedure codes in the format of the code system the row names."""
    out: list[Failure] = []
    for prefix, kind, icd9_type, icd10, icd9 in (
            ("diagnosis_code_", "diagnosis_code_type", "icd-9-cm", ICD10CM, ICD9CM),
            ("procedure_code_", "procedure_code_type", "icd-9-pcs", ICD10PCS, ICD9PCS)):
        nine = _mask(pc.equal(typed[kind], icd9_type))
        for i in range(1, 26):
            codes = typed[f"{prefix}{i}"]
            present = _mask(pc.is_valid(codes))
            if not present.any():
                continue
            ok10 = _mask(pc.match_substring_regex(codes, icd10))
            ok9 = _mask(pc.match_substring_regex(codes, icd9))
            bad = present & np.where(nine, ~ok9, ~ok10)
            out.append(Failure(f"{prefix}{i}", "bad_code_format", bad))
    return out


def _row_rules(table: Table, typed: dict[str, pa.Array], n: int) -> list[Failure]:
    out: list[Failure] = []
    for rule, _desc in table.row_rules:
        if rule in DATE_ORDER:
            end, start = DATE_ORDER[rule]
            out.append(Failure(end, "dates_out_of_order", _lt(typed[end], typed[start])))
        elif rule == "code_format_by_system":
            out.extend(_code_formats(typed))
        elif rule == "amount_sign":
            reversal = _mask(pc.equal(typed["adjustment_type"], "reversal"))
            for name in table.money_columns:
                values = typed[name]
                neg = _mask(pc.less(values, pa.scalar(0, values.type)))
                pos = _mask(pc.greater(values, pa.scalar(0, values.type)))
                out.append(Failure(name, "negative_amount", neg & ~reversal))
                out.append(Failure(name, "positive_reversal", pos & reversal))
        elif rule == "paid_not_above_allowed":
            paid = pc.abs(typed["paid_amount"])
            allowed = pc.abs(typed["allowed_amount"])
            out.append(Failure("paid_amount", "paid_above_allowed",
                               _mask(pc.greater(paid, allowed))))
        else:  # pragma: no cover - a rule declared in the schema must be implemented here
            raise NotImplementedError(f"row rule {rule!r} of table {table.name!r}")
    return [f for f in out if f.mask.any()]
