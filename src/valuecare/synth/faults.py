"""Dirty mode: realistic faults injected into CSV parts, each recorded in truth/faults.csv.

Kinds (each at least ``MIN_PER_KIND`` times per run, more with size at ``RATE``):
missing_column, bad_date, unknown_code, negative_amount, non_numeric_amount, duplicate_line,
orphan_claim, wrong_encoding.  Row numbers are 1-based data rows of the written file
(header excluded), after duplicate lines have been inserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MIN_PER_KIND = 3
RATE = 0.0005
#: Names written UTF-8 by mistake re-encoded as latin-1 (a classic mojibake source).
LATIN1_TEXTS = ("Clínica São José", "Presión arterial sistólica")
BAD_DATES = ("2023-02-30", "13/01/2023", "yesterday", "2023-13-01", "31.12.2023")
NON_NUMERIC = ("N/A", "$1,200.00", "12,50", "n.a.", "1.200,00")
MISSING_COLUMN = ("medical_claim", "paid_date")
BAD_CODES = {
    "diagnosis_code_1": ("E11.9", "XYZ12", "250.00", "E1"),
    "hcpcs_code": ("9921", "ABCDE", "99213-25"),
    "rendering_npi": ("12345", "NPI000001", "123456789A"),
    "sex": ("X", "M", "9"),
    "payer_type": ("self-pay", "medicare part d", "unknown"),
}


@dataclass
class FaultLog:
    rows: list[tuple[str, str, int | None, str, str]] = field(default_factory=list)

    def add(self, table: str, file: str, row: int | None, column: str, fault: str) -> None:
        self.rows.append((table, file, row, column, fault))

    def table(self) -> pa.Table:
        t, f, r, c, k = zip(*self.rows, strict=True) if self.rows else ([], [], [], [], [])
        return pa.table({"table": pa.array(t, pa.string()), "file": pa.array(f, pa.string()),
                         "row_number": pa.array(r, pa.int64()),
                         "column": pa.array(c, pa.string()), "fault": pa.array(k, pa.string())})


def _as_text(table: pa.Table) -> pa.Table:
    return pa.table({n: table.column(n).cast(pa.string()) for n in table.column_names})


def _set(table: pa.Table, column: str, rows: np.ndarray, values: list[str]) -> pa.Table:
    arr = np.array(table.column(column).to_pylist(), dtype=object)
    arr[rows] = values
    i = table.column_names.index(column)
    return table.set_column(i, column, pa.array(arr, pa.string()))


def _count(n_rows: int) -> int:
    return max(MIN_PER_KIND, int(round(RATE * n_rows)))


def inject(name: str, table: pa.Table, rel: str, rng: np.random.Generator, log: FaultLog,
           first_part: bool) -> pa.Table:
    """Return a text table with faults of the kinds that fit ``name``; log each one."""
    n = table.num_rows
    text = _as_text(table)
    if n < 20:
        return text
    taken = np.zeros(n, dtype=bool)

    def rows(k: int, eligible: np.ndarray | None = None) -> np.ndarray:
        ok = ~taken if eligible is None else (~taken & eligible)
        cand = np.flatnonzero(ok)
        pick = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        taken[pick] = True
        return pick

    # duplicate lines first (they shift row numbers); duplicates sit right after originals
    if name in ("medical_claim", "pharmacy_claim"):
        dup = rows(_count(n))
        order = np.sort(np.concatenate([np.arange(n), dup]), kind="stable")
        text = text.take(pa.array(order))
        new_taken = taken[order].copy()
        is_copy = np.zeros(len(order), dtype=bool)
        is_copy[1:] = order[1:] == order[:-1]
        for r in np.flatnonzero(is_copy):
            log.add(name, rel, int(r) + 1, "", "duplicate_line")
        taken = new_taken
        n = len(order)
    if name == "medical_claim":
        orig = np.array(text.column("adjustment_type").to_pylist()) == "original"
        # orphan claims: every line of a few claims moves to a person not in member
        ids = np.array(text.column("claim_id").to_pylist(), dtype=object)
        cand = np.unique(ids[orig & ~taken])
        chosen = rng.choice(cand, size=min(MIN_PER_KIND, len(cand)), replace=False)
        orphan_rows = np.flatnonzero(np.isin(ids, chosen) & ~taken)
        taken[orphan_rows] = True
        ghost = {c: f"P99{rng.integers(0, 1_000_000):06d}" for c in chosen}
        text = _set(text, "person_id", orphan_rows, [ghost[ids[r]] for r in orphan_rows])
        for r in orphan_rows:
            log.add(name, rel, int(r) + 1, "person_id", "orphan_claim")
        r = rows(_count(n), orig)
        paid = text.column("paid_amount").to_pylist()
        text = _set(text, "paid_amount", r, [f"-{paid[i]}" if paid[i] not in (None, "0.00")
                                             else "-10.00" for i in r])
        for i in r:
            log.add(name, rel, int(i) + 1, "paid_amount", "negative_amount")
        for col in ("diagnosis_code_1", "hcpcs_code", "rendering_npi"):
            elig = pc.is_valid(text.column(col)).to_numpy(zero_copy_only=False)
            r = rows(_count(n) // 2 + 1, elig)
            text = _set(text, col, r, list(rng.choice(BAD_CODES[col], len(r))))
            for i in r:
                log.add(name, rel, int(i) + 1, col, "unknown_code")
    if name in ("medical_claim", "pharmacy_claim"):
        for col in ("allowed_amount", "paid_amount"):
            r = rows(_count(n) // 2 + 1)
            text = _set(text, col, r, list(rng.choice(NON_NUMERIC, len(r))))
            for i in r:
                log.add(name, rel, int(i) + 1, col, "non_numeric_amount")
    date_col = {"medical_claim": "claim_line_start_date", "pharmacy_claim": "dispensing_date",
                "member": "birth_date", "eligibility": "enrollment_start_date",
                "observation": "observation_date"}.get(name)
    if date_col:
        r = rows(_count(n))
        text = _set(text, date_col, r, list(rng.choice(BAD_DATES, len(r))))
        for i in r:
            log.add(name, rel, int(i) + 1, date_col, "bad_date")
    code_col = {"member": "sex", "eligibility": "payer_type"}.get(name)
    if code_col:
        r = rows(MIN_PER_KIND)
        text = _set(text, code_col, r, list(rng.choice(BAD_CODES[code_col], len(r))))
        for i in r:
            log.add(name, rel, int(i) + 1, code_col, "unknown_code")
    enc_col = {"provider": ("provider_name", 0),
               "observation": ("source_description", 1)}.get(name)
    if enc_col:
        col, k = enc_col
        r = rows(MIN_PER_KIND)
        text = _set(text, col, r, [LATIN1_TEXTS[k]] * len(r))
        for i in r:
            log.add(name, rel, int(i) + 1, col, "wrong_encoding")
    if first_part and name == MISSING_COLUMN[0]:
        text = text.drop_columns([MISSING_COLUMN[1]])
        log.add(name, rel, None, MISSING_COLUMN[1], "missing_column")
    return text


def latin1(data: bytes) -> bytes:
    """Re-encode the planted names as latin-1 bytes inside the otherwise UTF-8 file."""
    for s in LATIN1_TEXTS:
        data = data.replace(s.encode("utf-8"), s.encode("latin-1"))
    return data
