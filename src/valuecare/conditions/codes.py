"""Ibis predicates for code lists from the condition library (prefixes and ranges).

Codes are kept as published, without dots (DESIGN.md §4).  A list entry is a prefix
(``M16`` matches ``M1611``) or a range ``LOW-HIGH`` of equal-length codes.  Prefixes become
one anchored regular expression, which DuckDB (RE2) and Spark (Java) read the same way;
multi-column codes (25 diagnoses, 25 procedures) are matched on a ``|``-joined string.
"""

from __future__ import annotations

import ibis

SEP = "|"


def _split(codes: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    prefixes = [c for c in codes if "-" not in c]
    ranges = [tuple(c.split("-", 1)) for c in codes if "-" in c]
    return prefixes, ranges  # type: ignore[return-value]


def code_in(col: ibis.Value, codes: list[str]) -> ibis.Value:
    """``col`` starts with one of the prefixes or lies in one of the ranges (null: false)."""
    prefixes, ranges = _split(codes)
    value = col.fill_null("")
    pred = ibis.literal(False)
    if prefixes:
        pred = pred | value.re_search("^(" + "|".join(sorted(set(prefixes))) + ")")
    for lo, hi in ranges:
        pred = pred | ((value.length() == len(lo)) & (value >= lo) & (value <= hi))
    return pred


def any_code_in(joined: ibis.Value, codes: list[str]) -> ibis.Value:
    """A ``|``-joined list of codes holds one matching a prefix (ranges: listed codes)."""
    prefixes, ranges = _split(codes)
    if ranges:
        raise ValueError("ranges are only supported for single-column codes (CPT/HCPCS)")
    if not prefixes:
        return ibis.literal(False)
    pattern = r"(^|\|)(" + "|".join(sorted(set(prefixes))) + ")"
    return joined.fill_null("").re_search(pattern)


def joined(cols: list[ibis.Value]) -> ibis.Value:
    """The non-null values of ``cols`` joined with ``|`` (nulls become empty)."""
    return ibis.literal(SEP).join([c.fill_null("") for c in cols])


def codeset_pred(t: ibis.Table, cs: object) -> ibis.Value:
    """Any criterion of a :class:`~valuecare.conditions.library.CodeSet` holds for a line.

    ``t`` is a prepared line table (``valuecare.conditions.triggers.prepare_lines``).  An
    empty code set matches nothing.
    """
    pred = ibis.literal(False)
    dx = getattr(cs, "diagnoses", [])
    if dx:
        pred = pred | (code_in(t.dx1, dx) if getattr(cs, "diagnosis_position", "principal")
                       == "principal" else any_code_in(t.dx_all, dx))
    if getattr(cs, "hcpcs", []):
        pred = pred | code_in(t.hcpcs_code, cs.hcpcs)  # type: ignore[attr-defined]
    if getattr(cs, "icd10pcs", []):
        pred = pred | any_code_in(t.px_all, cs.icd10pcs)  # type: ignore[attr-defined]
    if getattr(cs, "drg", []):
        pred = pred | (t.inpatient & code_in(t.drg_code, cs.drg))  # type: ignore[attr-defined]
    if getattr(cs, "settings", []):
        pred = pred | t.setting.isin(list(cs.settings))  # type: ignore[attr-defined]
    return pred
