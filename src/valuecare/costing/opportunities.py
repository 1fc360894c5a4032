"""Cost-reduction opportunities, ranked by size (Kaplan & Porter, HBR 2011: "the biggest
opportunities ... come from improving resource utilization, ... delivering services in the
appropriate setting, ... matching clinical skills to the process, ... speeding up cycle
time" and eliminating processes that do not improve outcomes).

Five kinds, each sized in dollars from the costed cycles:

- ``setting`` - a *routine* step (map ``routine: true``) done in a setting whose cost per
  occurrence is above the cheapest setting doing it at least ``MIN_OCCURRENCES`` times:
  (cost per occurrence - cheapest) x occurrences;
- ``skill_mix`` - minutes of a resource a step could give to its ``substitute`` (a nurse
  practitioner for a routine visit, an assistant for therapy): minutes x (rate - substitute
  rate) at the same site;
- ``cycle_time`` - units of a step above the map's ``targets`` (inpatient days above two
  after a joint replacement): excess units x the cycle's cost per unit, per site;
- ``capacity`` - unused capacity cost of a site's resource, summed over the years where
  it is positive;
- ``low_value`` - the whole cost of services matching the map's ``low_value`` rules.

Sizes are estimates that overlap (a shorter stay also frees capacity); they rank where to
look first.  Aggregates come from the engine; the arithmetic is exact ``Decimal``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.costing.catalog import CENT, cost_of
from valuecare.costing.inputs import CostingInputs

MIN_OCCURRENCES = 10
SCHEMA = pa.schema([
    ("rank", pa.int32()), ("kind", pa.string()), ("condition", pa.string()),
    ("site_npi", pa.string()), ("setting", pa.string()), ("step", pa.string()),
    ("resource", pa.string()), ("alternative", pa.string()), ("occurrences", pa.int64()),
    ("size", pa.decimal128(18, 2)), ("description", pa.string()),
])


def _rows(t: ibis.Table) -> list[dict]:
    return t.to_pyarrow().to_pylist()


def _rate(inputs: CostingInputs, site: str, resource: str) -> Decimal:
    return inputs.catalog.supply(site, resource)[0].rate


def _row(kind: str, size: Decimal, description: str, **kw: object) -> dict:
    return {"kind": kind, "size": size.quantize(CENT, ROUND_HALF_UP),
            "description": description, **kw}


def setting_opportunities(lines: ibis.Table, q: ibis.Table, inputs: CostingInputs
                          ) -> list[dict]:
    steps = {s.id for c in inputs.maps.maps for s in inputs.maps.steps_for(c) if s.routine}
    if not steps:
        return []
    a = q.filter(q.step.isin(sorted(steps)))
    cost: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in _rows(a.group_by(["condition", "step", "setting", "resource", "rsite"])
                   .aggregate(n=a.quantity.sum())):
        cost[(r["condition"], r["step"], r["setting"])] += cost_of(
            Decimal(r["n"]), _rate(inputs, r["rsite"], r["resource"]))
    lt = lines.filter(lines.step.isin(sorted(steps)))
    occ = {(r["condition"], r["step"], r["setting"]): int(r["n"])
           for r in _rows(lt.group_by(["condition", "step", "setting"])
                          .aggregate(n=lt.sign.sum()))}
    per: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for (c, s, st), n in occ.items():
        if n > 0:
            per[(c, s)][st] = cost[(c, s, st)] / n
    out = []
    for (c, s), by in sorted(per.items()):
        big = [v for st, v in by.items() if occ[(c, s, st)] >= MIN_OCCURRENCES] or list(
            by.values())
        low = min(big)
        best = min(st for st, v in by.items() if v == low)
        for st, v in sorted(by.items()):
            n = occ[(c, s, st)]
            if v > low:
                out.append(_row("setting", (v - low) * n,
                                f"{n} x {s} in {st} at {cost_of(v, 1)} each, "
                                f"{cost_of(low, 1)} in {best}",
                                condition=c, setting=st, step=s, alternative=best,
                                occurrences=n))
    return out


def skill_mix_opportunities(q: ibis.Table, inputs: CostingInputs) -> list[dict]:
    subs = {(c, s.id, u.resource): u.substitute for c in inputs.maps.maps
            for s in inputs.maps.steps_for(c) for u in s.resources if u.substitute}
    if not subs:
        return []
    a = q.filter(q.step.isin(sorted({k[1] for k in subs})))
    a = a.group_by(["condition", "step", "item", "resource", "rsite", "site_npi"]).aggregate(
        n=a.quantity.sum())
    total: dict[tuple, Decimal] = defaultdict(Decimal)
    minutes: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in _rows(a):
        sub = subs.get((r["condition"], r["step"], r["item"]))
        if sub is None or r["resource"] == sub:
            continue
        diff = _rate(inputs, r["rsite"], r["resource"]) - _rate(inputs, r["rsite"], sub)
        if diff <= 0:
            continue
        key = (r["condition"], r["step"], r["resource"], sub, r["site_npi"])
        total[key] += Decimal(r["n"]) * diff
        minutes[key] += Decimal(r["n"])
    return [_row("skill_mix", v, f"{minutes[k].normalize():f} minutes of {k[2]} in {k[1]} "
                 f"could be done by {k[3]}", condition=k[0], step=k[1], resource=k[2],
                 alternative=k[3], site_npi=k[4])
            for k, v in sorted(total.items()) if v > 0]


def cycle_time_opportunities(lines: ibis.Table, det: ibis.Table, inputs: CostingInputs
                             ) -> list[dict]:
    targets = {(c, s): v for c, m in inputs.maps.maps.items() for s, v in m.targets.items()}
    if not targets:
        return []
    steps = sorted({s for _, s in targets})
    lt = lines.filter(lines.step.isin(steps) & lines.step.notnull())
    units = {(r["cycle_id"], r["step"], r["site_npi"]): (r["condition"], int(r["u"]))
             for r in _rows(lt.group_by(["cycle_id", "condition", "step", "site_npi"])
                            .aggregate(u=(lt.sign * lt.units).sum()))}
    dt = det.filter(det.step.isin(steps))
    cost = {(r["cycle_id"], r["step"], r["site_npi"]): Decimal(r["c"])
            for r in _rows(dt.group_by(["cycle_id", "step", "site_npi"])
                           .aggregate(c=dt.cost.sum()))}
    size: dict[tuple, Decimal] = defaultdict(Decimal)
    extra: dict[tuple, int] = defaultdict(int)
    for (cyc, step, site), (cond, u) in units.items():
        target = targets.get((cond, step))
        if target is None or u <= target:
            continue
        key = (cond, step, site)
        size[key] += (Decimal(u) - target) * cost.get((cyc, step, site), Decimal(0)) / u
        extra[key] += 1
    return [_row("cycle_time", v, f"{extra[k]} cycles above the target of "
                 f"{targets[(k[0], k[1])].normalize():f} {k[1]} units",
                 condition=k[0], step=k[1], site_npi=k[2], occurrences=extra[k])
            for k, v in sorted(size.items()) if v > 0]


def capacity_opportunities(capacity: pa.Table) -> list[dict]:
    size: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in capacity.to_pylist():
        if r["unused_capacity_cost"] > 0:
            size[(r["site_npi"], r["resource"])] += r["unused_capacity_cost"]
    return [_row("capacity", v, f"unused capacity of {k[1]} at {k[0]}", site_npi=k[0],
                 resource=k[1]) for k, v in sorted(size.items())]


def low_value_opportunities(lines: ibis.Table, q: ibis.Table, inputs: CostingInputs
                            ) -> list[dict]:
    a = q.filter(q.lv_rule.notnull())
    cost: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in _rows(a.group_by(["condition", "lv_rule", "resource", "rsite"])
                   .aggregate(n=a.quantity.sum())):
        cost[(r["condition"], r["lv_rule"])] += cost_of(
            Decimal(r["n"]), _rate(inputs, r["rsite"], r["resource"]))
    lt = lines.filter(lines.lv_rule.notnull())
    occ = {(r["condition"], r["lv_rule"]): int(r["n"])
           for r in _rows(lt.group_by(["condition", "lv_rule"]).aggregate(n=lt.sign.sum()))}
    names = {(c, r.id): r.name for c, m in inputs.maps.maps.items() for r in m.low_value}
    return [_row("low_value", v, f"{names.get(k, k[1])}: services that add cost without "
                 "value", condition=k[0], step=k[1], occurrences=occ.get(k, 0))
            for k, v in sorted(cost.items()) if v > 0]


def opportunity_table(rows: list[dict]) -> pa.Table:
    """Rank by size (largest first; ties in a fixed order) into ``cost_opportunities``."""
    keys = ("kind", "condition", "site_npi", "setting", "step", "resource", "alternative")
    rows = sorted(rows, key=lambda r: (-r["size"], *[r.get(k) or "" for k in keys]))
    out = [{**{f.name: None for f in SCHEMA}, **r, "rank": i + 1}
           for i, r in enumerate(rows)]
    return pa.Table.from_pylist(out, schema=SCHEMA)

