"""Site of care: which settings and facilities deliver each phase of each condition.

For each condition, phase, setting (inpatient, outpatient hospital, ambulatory surgery
center, office, home, SNF, ...) and facility: services (distinct claims, reversals and
their replacements counted once), net paid and allowed, paid per service, and how the
setting's paid per service compares with the cheapest setting delivering the same phase
of the same condition - so routine care delivered in expensive settings is visible
(MedPAC site-neutral payment analyses; Porter & Lee, HBR 2013, "right care in the right
location").  Sums run in the engine; divisions in Python ``Decimal``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.pipeline.claims_summary import MONEY

CENT = Decimal("0.01")
SCHEMA = pa.schema([
    ("condition", pa.string()), ("phase", pa.string()), ("setting", pa.string()),
    ("facility_npi", pa.string()), ("cycles", pa.int64()), ("services", pa.int64()),
    ("paid_amount", pa.decimal128(18, 2)), ("allowed_amount", pa.decimal128(18, 2)),
    ("paid_per_service", pa.decimal128(18, 2)),
    ("setting_paid_per_service", pa.decimal128(18, 2)),
    ("lowest_setting_paid_per_service", pa.decimal128(18, 2)),
    ("ratio_to_lowest_setting", pa.decimal128(18, 2)),
])


def _per(paid: Decimal, n: int) -> Decimal | None:
    return (paid / n).quantize(CENT, ROUND_HALF_UP) if n else None


def site_of_care_table(svc: ibis.Table) -> pa.Table:
    """The ``site_of_care`` table from ``care_cycle_services``."""
    s = svc.mutate(_family=ibis.cases((svc.adjustment_type == "original", svc.claim_id),
                                      else_=ibis.null("string")))
    keys = ["condition", "phase", "setting", "facility_npi"]
    agg = s.group_by(keys).aggregate(
        cycles=s.cycle_id.nunique(), services=s._family.nunique(),
        paid_amount=s.paid_amount.sum().cast(MONEY),
        allowed_amount=s.allowed_amount.sum().cast(MONEY),
    ).to_pyarrow().to_pylist()
    by_setting: dict[tuple, list[Decimal | int]] = {}
    for r in agg:
        k = (r["condition"], r["phase"], r["setting"])
        cur = by_setting.setdefault(k, [Decimal(0), 0])
        cur[0] += Decimal(r["paid_amount"])
        cur[1] += int(r["services"])
    setting_pps = {k: _per(v[0], int(v[1])) for k, v in by_setting.items()}  # type: ignore[arg-type]
    lowest: dict[tuple, Decimal] = {}
    for (cond, phase, _), v in setting_pps.items():
        if v is not None and v > 0:
            cur = lowest.get((cond, phase))
            lowest[(cond, phase)] = v if cur is None else min(cur, v)
    rows = []
    for r in sorted(agg, key=lambda r: tuple("" if r[k] is None else r[k] for k in keys)):
        sp = setting_pps[(r["condition"], r["phase"], r["setting"])]
        low = lowest.get((r["condition"], r["phase"]))
        rows.append({
            **{k: r[k] for k in keys}, "cycles": int(r["cycles"]),
            "services": int(r["services"]),
            "paid_amount": Decimal(r["paid_amount"]),
            "allowed_amount": Decimal(r["allowed_amount"]),
            "paid_per_service": _per(Decimal(r["paid_amount"]), int(r["services"])),
            "setting_paid_per_service": sp, "lowest_setting_paid_per_service": low,
            "ratio_to_lowest_setting": ((sp / low).quantize(CENT, ROUND_HALF_UP)
                                        if sp is not None and low else None),
        })
    return pa.Table.from_pylist(rows, schema=SCHEMA)
