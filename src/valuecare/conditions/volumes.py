"""Volume by medical condition: the fragmentation view (Porter & Lee, HBR 2013).

For each condition, year and provider role (the accountable clinician, the facility):
cases, cases per week, share of all cases in the data ("national" volume), how many
providers treat the condition, and whether the provider is under the condition's
minimum-volume standard (``minimum_volume`` in the condition YAML; e.g. the Volume Pledge,
Urbach NEJM 2015: 50 hip or knee replacements a year per hospital, 25 per surgeon).
Counting happens in the engine; the ratios are computed here on the small aggregate.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.conditions.library import Library

WEEKS_PER_YEAR = Decimal("52.1775")  # 365.2425 / 7
ROLES = ("clinician", "facility")

SCHEMA = pa.schema([
    ("condition", pa.string()), ("year", pa.int32()), ("role", pa.string()),
    ("npi", pa.string()), ("cases", pa.int64()), ("cases_per_week", pa.decimal128(18, 4)),
    ("share_of_volume", pa.decimal128(18, 4)), ("condition_cases", pa.int64()),
    ("providers", pa.int64()), ("min_volume", pa.int64()), ("below_min_volume", pa.bool_()),
])


def _q(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.0001"), ROUND_HALF_UP)


def volume_rows(counts: list[dict], library: Library,
                min_volume: int | None = None) -> list[dict]:
    """Per-provider volume rows from ``(condition, year, role, npi, cases)`` counts.

    ``min_volume`` overrides every condition's standard (the CLI's ``--min-volume``).
    """
    totals: dict[tuple, int] = {}
    providers: dict[tuple, int] = {}
    for r in counts:
        key = (r["condition"], int(r["year"]), r["role"])
        totals[key] = totals.get(key, 0) + int(r["cases"])
        providers[key] = providers.get(key, 0) + 1
    ids = {c.id: c for c in library.conditions}
    out = []
    for r in sorted(counts, key=lambda r: (r["condition"], int(r["year"]), r["role"],
                                           -int(r["cases"]), r["npi"])):
        key = (r["condition"], int(r["year"]), r["role"])
        cases = int(r["cases"])
        cond = ids.get(r["condition"])
        standard = min_volume
        if standard is None and cond is not None:
            standard = getattr(cond.minimum_volume, r["role"])
        out.append({
            "condition": r["condition"], "year": int(r["year"]), "role": r["role"],
            "npi": r["npi"], "cases": cases,
            "cases_per_week": _q(Decimal(cases) / WEEKS_PER_YEAR),
            "share_of_volume": _q(Decimal(cases) / Decimal(totals[key])),
            "condition_cases": totals[key], "providers": providers[key],
            "min_volume": standard,
            "below_min_volume": None if standard is None else cases < standard,
        })
    return out


def provider_counts(cycles: ibis.Table) -> list[dict]:
    """Cases per condition, year, role and provider (cycles with a known provider)."""
    parts = []
    for role, col in (("clinician", "accountable_npi"), ("facility", "facility_npi")):
        c = cycles.filter(cycles[col].notnull())
        parts.append(c.group_by(["condition", "year", c[col].name("npi")]).aggregate(
            cases=c.count()).mutate(role=ibis.literal(role)))
    u = ibis.union(*parts)
    return u.to_pyarrow().to_pylist()


def volumes_table(cycles: ibis.Table, library: Library,
                  min_volume: int | None = None) -> pa.Table:
    """The ``condition_volumes`` table."""
    rows = volume_rows(provider_counts(cycles), library, min_volume)
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def summary(rows: list[dict]) -> list[dict]:
    """Per condition, year and role: providers, cases, median cases, below the standard."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["condition"], r["year"], r["role"]), []).append(r)
    out = []
    for (cond, year, role), rs in sorted(groups.items()):
        cases = sorted(r["cases"] for r in rs)
        n = len(cases)
        median = (Decimal(cases[n // 2]) if n % 2 else
                  (Decimal(cases[n // 2 - 1]) + Decimal(cases[n // 2])) / 2)
        below = [r for r in rs if r["below_min_volume"]]
        total = sum(cases)
        out.append({
            "condition": cond, "year": year, "role": role, "providers": n, "cases": total,
            "mean_cases": _q(Decimal(total) / n), "median_cases": median,
            "mean_cases_per_week": _q(Decimal(total) / n / WEEKS_PER_YEAR),
            "min_volume": rs[0]["min_volume"], "providers_below": len(below),
            "share_of_cases_below": _q(Decimal(sum(r["cases"] for r in below)) / total),
        })
    return out
