"""Used against practical capacity, and the cost of unused capacity, per site and resource.

For every resource a site supplies in its own catalog rows (``resources.csv`` with the
site's NPI) and every calendar year of costed services: practical minutes (theoretical x
practical share), minutes used by the costed care cycles in the year (net of reversals),
utilization, and

    unused capacity cost = (practical capacity - used capacity) x capacity cost rate

(Kaplan & Anderson, HBR 2004; payment-and-measures.md §6, TV-9), negative when more was used
than was supplied.  The catalog's cost and minutes are a year's, so they are compared with
each calendar year's use; supply the capacity that serves the costed conditions (a surgical
unit's rooms and staff, not the whole hospital), or unused capacity is overstated.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.costing.catalog import Catalog, cost_of, unused_capacity_cost

SCHEMA = pa.schema([
    ("site_npi", pa.string()), ("resource", pa.string()), ("resource_kind", pa.string()),
    ("year", pa.int32()), ("theoretical_minutes", pa.decimal128(18, 2)),
    ("practical_share", pa.decimal128(9, 4)), ("practical_minutes", pa.decimal128(18, 2)),
    ("used_minutes", pa.decimal128(18, 4)), ("unused_minutes", pa.decimal128(18, 4)),
    ("utilization", pa.decimal128(9, 4)), ("rate", pa.decimal128(18, 6)),
    ("capacity_cost", pa.decimal128(18, 2)), ("used_cost", pa.decimal128(18, 2)),
    ("unused_capacity_cost", pa.decimal128(18, 2)),
])
_4 = Decimal("0.0001")
_2 = Decimal("0.01")

UsedKey = tuple[str, str, int]  # site, resource, year


def used_minutes(q: ibis.Table) -> dict[UsedKey, Decimal]:
    """Net minutes of each resource per site and year, from the engine's quantities."""
    a = q.group_by(["site_npi", "resource", "year"]).aggregate(used=q.quantity.sum())
    return {(r["site_npi"], r["resource"], int(r["year"])): Decimal(r["used"])
            for r in a.to_pyarrow().to_pylist()}


def capacity_rows(catalog: Catalog, used: dict[UsedKey, Decimal], years: list[int]
                  ) -> pa.Table:
    """The ``resource_capacity`` table (exact decimals, rounded as the catalog rule says)."""
    rows = []
    for (site, res), s in sorted(catalog.sites.items()):
        if s.kind == "consumable" or s.practical_minutes is None:
            continue
        practical = s.practical_minutes
        rate = s.rate
        for year in years:
            u = used.get((site, res, year), Decimal(0))
            rows.append({
                "site_npi": site, "resource": res, "resource_kind": s.kind, "year": year,
                "theoretical_minutes": Decimal(s.theoretical_minutes or 0).quantize(_2),
                "practical_share": Decimal(s.practical_share or 0).quantize(_4),
                "practical_minutes": practical.quantize(_2, ROUND_HALF_UP),
                "used_minutes": u.quantize(_4), "unused_minutes": (practical - u).quantize(_4),
                "utilization": (u / practical).quantize(_4, ROUND_HALF_UP),
                "rate": rate, "capacity_cost": Decimal(s.cost or 0).quantize(_2),
                "used_cost": cost_of(u, rate),
                "unused_capacity_cost": unused_capacity_cost(practical, u, rate),
            })
    return pa.Table.from_pylist(rows, schema=SCHEMA)
