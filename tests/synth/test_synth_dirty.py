"""Dirty mode: every fault kind is injected, listed in truth/faults.csv at the right row,
and the manifest reconciles parseable amounts and counts the rest."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare.synth import faults

KINDS = ("missing_column", "bad_date", "unknown_code", "negative_amount",
         "non_numeric_amount", "duplicate_line", "orphan_claim", "wrong_encoding")


def _faults(d: Path) -> list[dict[str, str]]:
    with (d / "truth" / "faults.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _rows(path: Path) -> tuple[list[str], list[list[str]], list[bytes]]:
    raw = path.read_bytes().split(b"\n")
    text = [line.decode("latin-1") for line in raw if line]
    parsed = list(csv.reader(text))
    return parsed[0], parsed[1:], [line for line in raw if line][1:]


@pytest.mark.parametrize("kind", KINDS)
def test_every_fault_kind_is_present(dirty500: Path, kind: str) -> None:
    """The brief: each kind at least a few times even at 500 members."""
    n = sum(1 for f in _faults(dirty500) if f["fault"] == kind)
    assert n >= (1 if kind == "missing_column" else 3)


def test_fault_rows_point_at_the_faulty_cells(dirty500: Path) -> None:
    """Row numbers are 1-based data rows (header excluded) of the written file."""
    cache: dict[str, tuple[list[str], list[list[str]], list[bytes]]] = {}
    for f in _faults(dirty500):
        if f["file"] not in cache:
            cache[f["file"]] = _rows(dirty500 / f["file"])
        header, rows, raw = cache[f["file"]]
        if f["fault"] == "missing_column":
            assert f["column"] not in header
            continue
        i = int(f["row_number"]) - 1
        kind = f["fault"]
        if kind == "duplicate_line":
            assert raw[i] == raw[i - 1]
            continue
        value = rows[i][header.index(f["column"])]
        if kind == "bad_date":
            assert value in faults.BAD_DATES
        elif kind == "non_numeric_amount":
            assert value in faults.NON_NUMERIC
        elif kind == "negative_amount":
            assert re.fullmatch(r"-[0-9]+\.[0-9]{2}", value)
        elif kind == "orphan_claim":
            assert value.startswith("P99")
        elif kind == "unknown_code":
            assert value in faults.BAD_CODES[f["column"]]
        elif kind == "wrong_encoding":
            with pytest.raises(UnicodeDecodeError):
                raw[i].decode("utf-8")
            assert value in faults.LATIN1_TEXTS


def test_orphans_are_not_members(dirty500: Path) -> None:
    """Planted orphans reference persons absent from member (and nothing else is orphan)."""
    members = set()
    for p in (dirty500 / "member").glob("*.csv"):
        h, rows, _ = _rows(p)
        members |= {r[h.index("person_id")] for r in rows}
    planted = {(f["file"], f["row_number"]) for f in _faults(dirty500)
               if f["fault"] == "orphan_claim"}
    for p in (dirty500 / "medical_claim").glob("*.csv"):
        h, rows, _ = _rows(p)
        rel = p.relative_to(dirty500).as_posix()
        for i, r in enumerate(rows, start=1):
            orphan = r[h.index("person_id")] not in members
            assert orphan == ((rel, str(i)) in planted)


def test_manifest_reconciles_dirty_amounts(dirty500: Path) -> None:
    """Manifest totals = exact sum of parseable amounts written; non-numeric cells are
    counted separately and match faults.csv."""
    man = json.loads((dirty500 / "manifest.json").read_text())
    log = _faults(dirty500)
    for t in ("medical_claim", "pharmacy_claim"):
        totals: dict[str, Decimal] = {}
        bad: dict[str, int] = {}
        for p in sorted((dirty500 / t).glob("*.csv")):
            h, rows, _ = _rows(p)
            for col in man["tables"][t]["money"]:
                if col not in h:
                    continue
                j = h.index(col)
                for r in rows:
                    v = r[j]
                    if re.fullmatch(r"-?[0-9]+\.[0-9]{2}", v):
                        totals[col] = totals.get(col, Decimal(0)) + Decimal(v)
                    elif v:
                        bad[col] = bad.get(col, 0) + 1
        for col, text in man["tables"][t]["money"].items():
            assert Decimal(text) == totals.get(col, Decimal(0)), (t, col)
            expected_bad = sum(1 for f in log if f["table"] == t and f["column"] == col
                               and f["fault"] == "non_numeric_amount")
            assert man["tables"][t]["non_numeric_amounts"][col] == bad.get(col, 0) \
                == expected_bad
