"""Read-side views of the costing tables (for ``valuecare costs`` and tests).

Sums run in the engine as exact decimals; means, shares and the **cost index** (TDABC
cost / standard cost of the same activities: above 1, a provider uses more or dearer
minutes and items than the organization's standard for what it did) are computed with
Python ``Decimal`` and rounded half-up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ibis

from valuecare.conditions.library import PHASES
from valuecare.errors import InvalidInput

BY = {"overall": None, "clinician": "accountable_npi", "facility": "facility_npi",
      "payer": "payer"}
_CENT = Decimal("0.01")
_4 = Decimal("0.0001")


def _div(a: Decimal, b: Decimal | int, q: Decimal = _CENT) -> Decimal | None:
    return (Decimal(a) / Decimal(b)).quantize(q, ROUND_HALF_UP) if b else None


def by_provider(cc: ibis.Table, condition: str, by: str = "facility",
                year: int | None = None) -> list[dict[str, Any]]:
    """Cycles, mean TDABC cost, paid and charges per cycle, and the cost index, per
    accountable clinician, facility or payer (or overall) for one condition."""
    if by not in BY:
        raise InvalidInput(f"--by must be one of {', '.join(BY)}, not {by!r}")
    t = cc.filter(cc.condition == condition)
    if year is not None:
        t = t.filter(t.year == year)
    keys = [BY[by]] if BY[by] else []
    agg = (t.group_by(keys) if keys else t).aggregate(
        cycles=t.count(), cost=t.cost_total.sum(), standard=t.standard_cost.sum(),
        paid=t.paid_amount.sum(), charges=t.charge_amount.sum())
    rows = []
    for r in agg.to_pyarrow().to_pylist():
        n = int(r["cycles"])
        cost, std = Decimal(r["cost"] or 0), Decimal(r["standard"] or 0)
        paid, charges = Decimal(r["paid"] or 0), Decimal(r["charges"] or 0)
        rows.append({"provider": r.get(BY[by]) if keys else "all", "cycles": n,
                     "cost_per_cycle": _div(cost, n), "paid_per_cycle": _div(paid, n),
                     "charges_per_cycle": _div(charges, n),
                     "cost_to_paid": _div(cost, paid, _4) if paid > 0 else None,
                     "cost_index": _div(cost, std, _4) if std > 0 else None})
    return sorted(rows, key=lambda r: (-r["cycles"], str(r["provider"])))


def by_phase(cc: ibis.Table, condition: str, year: int | None = None
             ) -> list[dict[str, Any]]:
    """Mean TDABC cost per cycle in each phase of the care delivery value chain."""
    t = cc.filter(cc.condition == condition)
    if year is not None:
        t = t.filter(t.year == year)
    agg = t.aggregate(n=t.count(), total=t.cost_total.sum(),
                      **{p: t[f"cost_{p}"].sum() for p in PHASES}).to_pyarrow().to_pylist()[0]
    n, total = int(agg["n"]), Decimal(agg["total"] or 0)
    return [{"phase": p, "cost_per_cycle": _div(Decimal(agg[p] or 0), n),
             "share": _div(Decimal(agg[p] or 0), total, _4) if total else None}
            for p in PHASES]


def site_index(det: ibis.Table, conditions: list[str] | None = None,
               min_cost: Decimal = Decimal(0)) -> list[dict[str, Any]]:
    """Per site (facility or clinician NPI): cost and standard cost of the activities it
    supplied, and their ratio - the site's cost multiplier against the standard."""
    t = det if conditions is None else det.filter(det.condition.isin(conditions))
    agg = t.group_by("site_npi").aggregate(cost=t.cost.sum(), standard=t.standard_cost.sum(),
                                           cycles=t.cycle_id.nunique())
    rows = []
    for r in agg.to_pyarrow().to_pylist():
        cost, std = Decimal(r["cost"] or 0), Decimal(r["standard"] or 0)
        if std > 0 and cost >= min_cost:
            rows.append({"site_npi": r["site_npi"], "cycles": int(r["cycles"]), "cost": cost,
                         "standard_cost": std, "cost_index": _div(cost, std, _4)})
    return sorted(rows, key=lambda r: r["site_npi"])
