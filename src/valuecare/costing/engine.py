"""Patient-level TDABC in the engine: claim lines of care cycles -> steps -> minutes -> cost.

Written once as Ibis expressions, so DuckDB and Spark give the same cents:

1. **Lines** (:func:`cost_lines`): every line of a cycle whose condition has a process map,
   with its claim's revenue code, units, modifiers, charges, the *site* that supplied it
   (facility NPI, else billing NPI), the rendering clinician's resource (by specialty), the
   first step of the map it matches (none: *unmapped*, not costed) and the first low-value
   rule.  A reversal counts -1 and everything else +1, so a reversed and replaced claim is
   costed once and a reversed one not at all, like the money (DESIGN.md §4).
2. **Quantities** (:func:`quantities`): for each line and term of its step's time
   equations, minutes (or items) = coefficient x driver (1 for ``base``; the claim's 0/1
   driver otherwise) x units (per-unit steps) x sign, with the site's measured times.
3. **Detail** (:func:`detail`): summed per cycle, phase, step, resource and site, then priced
   once at the site's rate: cost = quantity x rate rounded half-up to the cent.  Cycle,
   phase and step totals are sums of these cents, so they add up exactly.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuecare.conditions.codes import any_code_in, code_in, joined
from valuecare.conditions.library import PHASES
from valuecare.costing.catalog import ANY_SITE
from valuecare.costing.inputs import CostingInputs, clinician_table, rate_table, time_table
from valuecare.costing.process_maps import BASE, CLINICIAN, Match

KEYS = ["claim_id", "claim_line_number", "data_source"]
QTY = dt.Decimal(18, 4)
MONEY = dt.Decimal(18, 2)
WHOLE = dt.Decimal(18, 0)
_MODS = [f"hcpcs_modifier_{i}" for i in range(1, 5)]


def match_pred(t: ibis.Table, m: Match) -> ibis.Value:
    """All criteria of a match block hold for a line of ``t``."""
    p = ibis.literal(True)
    if m.claim_types:
        p &= t.claim_type.isin(list(m.claim_types))
    if m.bill_types:
        p &= code_in(t.bill_type_code, list(m.bill_types))
    if m.pos:
        p &= t.place_of_service_code.isin(list(m.pos))
    if m.settings:
        p &= t.setting.isin(list(m.settings))
    if m.phases:
        p &= t.phase.isin(list(m.phases))
    for field, col in (("hcpcs", "hcpcs_code"), ("revenue", "revenue_center_code"),
                       ("drg", "drg_code"), ("diagnoses", "diagnosis_code_1")):
        if getattr(m, field):
            p &= code_in(t[col], list(getattr(m, field)))
    if m.modifiers:
        p &= ibis.or_(*[t[c].isin(list(m.modifiers)) for c in _MODS])
    return p


def _any(t: ibis.Table, matches: list[Match]) -> ibis.Value:
    return ibis.or_(*[match_pred(t, m) for m in matches])


def step_of(t: ibis.Table, inputs: CostingInputs, conditions: list[str]) -> ibis.Value:
    """The first step of the line's condition map it matches (null: unmapped)."""
    maps = inputs.maps
    branches = []
    for cond in conditions:
        branches += [((t.condition == cond) & _any(t, s.matches), s.id)
                     for s in maps.maps[cond].steps]
    for lib_id, lib in sorted(maps.libraries.items()):
        users = [c for c in conditions if maps.maps[c].extends == lib_id]
        if users:
            branches += [(t.condition.isin(users) & _any(t, s.matches), s.id)
                         for s in lib.steps]
    return ibis.cases(*branches, else_=ibis.null("string")) if branches else \
        ibis.null("string")


def low_value_of(t: ibis.Table, inputs: CostingInputs, conditions: list[str]) -> ibis.Value:
    branches = [((t.condition == c) & _any(t, r.matches), r.id)
                for c in conditions for r in inputs.maps.maps[c].low_value]
    return ibis.cases(*branches, else_=ibis.null("string")) if branches else \
        ibis.null("string")


def _hit(c: ibis.Table, field: str, code: str, px: ibis.Value, dx: ibis.Value) -> ibis.Value:
    if field == "drg":
        return code_in(c.drg_code, [code])
    if field == "icd10pcs":
        return any_code_in(px, [code])
    if field == "diagnoses":
        return any_code_in(dx, [code])
    if field == "modifiers":
        return ibis.or_(*[c[m].fill_null("") == code for m in _MODS])
    return code_in(c["hcpcs_code" if field == "hcpcs" else "revenue_center_code"], [code])


def driver_flags(claims: ibis.Table, inputs: CostingInputs, conditions: list[str]
                 ) -> tuple[ibis.Table | None, list[tuple[str, str, str]]]:
    """One row per claim with a 0/1 column per (condition, driver): the claim's codes meet
    one of the driver's criteria (``at_least`` distinct listed codes anywhere on it)."""
    c = claims
    px = joined([c[f"procedure_code_{i}"] for i in range(1, 26)])
    dx = joined([c[f"diagnosis_code_{i}"] for i in range(1, 26)])
    hits: dict[str, ibis.Value] = {}
    specs: list[tuple[str, str, str, list[tuple[list[str], int]]]] = []
    for cond in conditions:
        for name, drv in sorted(inputs.maps.maps[cond].drivers.items()):
            crits = []
            for crit in drv.criteria:
                cols = []
                for code in getattr(crit, crit.field):
                    h = f"_h{len(hits)}"
                    hits[h] = ibis.cases((_hit(c, crit.field, code, px, dx), 1), else_=0)
                    cols.append(h)
                crits.append((cols, crit.at_least))
            specs.append((cond, name, f"_drv{len(specs)}", crits))
    if not specs:
        return None, []
    h = c.mutate(**hits)
    agg = h.group_by(["claim_id", "data_source"]).aggregate(
        **{k: h[k].max() for k in hits})
    flags = {}
    for _, _, col, crits in specs:
        pred = ibis.or_(*[sum((agg[k] for k in cols), ibis.literal(0)) >= n
                          for cols, n in crits])
        flags[col] = ibis.cases((pred, 1), else_=0)
    return (agg.select(_dc=agg.claim_id, _ds=agg.data_source, **flags),
            [(cond, name, col) for cond, name, col, _ in specs])


Drivers = list[tuple[str, str, str]]  # condition, driver, column of the line table


def cost_lines(svc: ibis.Table, claims: ibis.Table, provider: ibis.Table | None,
               inputs: CostingInputs, conditions: list[str]) -> tuple[ibis.Table, Drivers]:
    """Step 1: the lines of costed cycles with step, site, sign, units and drivers."""
    s = svc.filter(svc.condition.isin(conditions))
    mc = claims.select(*KEYS, "claim_type", "bill_type_code", "place_of_service_code",
                       "revenue_center_code", "service_unit_quantity", "diagnosis_code_1",
                       "billing_npi", "charge_amount", *_MODS)
    t = s.join(mc, KEYS)
    site = t.facility_npi.fill_null(t.billing_npi).fill_null(ANY_SITE)
    t = t.mutate(site_npi=site,
                 sign=ibis.cases((t.adjustment_type == "reversal", -1), else_=1),
                 units=t.service_unit_quantity.abs().fill_null(1).cast("int64"),
                 year=t.service_date.year().cast("int32"))
    time_sites = inputs.time_sites()
    rate_sites = inputs.catalog.site_ids()
    t = t.mutate(
        tsite=ibis.cases((t.site_npi.isin(time_sites), t.site_npi), else_=ANY_SITE)
        if time_sites else ibis.literal(ANY_SITE),
        rsite=ibis.cases((t.site_npi.isin(rate_sites), t.site_npi), else_=ANY_SITE)
        if rate_sites else ibis.literal(ANY_SITE))
    default = inputs.catalog.default_clinician
    if provider is not None:
        spec = ibis.memtable(clinician_table(inputs.catalog))
        p = provider.select(_npi=provider.npi,  # not .strip(): on Spark, Ibis 12 trims "f" too
                            _spec=provider.specialty.lower().re_replace(r"^\s+|\s+$", ""))
        p = p.left_join(spec, p._spec == spec.specialty).select("_npi", _res=spec.resource)
        t = t.left_join(p, t.rendering_npi == p._npi)
        t = t.mutate(clin_resource=t._res.fill_null(default)).drop("_npi", "_res")
    else:
        t = t.mutate(clin_resource=ibis.literal(default))
    t = t.mutate(step=step_of(t, inputs, conditions), lv_rule=low_value_of(t, inputs,
                                                                           conditions))
    claim_keys = s.select("claim_id", "data_source").distinct()
    flags, cols = driver_flags(claims.semi_join(claim_keys, ["claim_id", "data_source"]),
                               inputs, conditions)
    if flags is not None:
        t = t.left_join(flags, [t.claim_id == flags._dc, t.data_source == flags._ds])
        t = t.mutate(**{col: t[col].fill_null(0) for _, _, col in cols}).drop("_dc", "_ds")
    return t, cols


def quantities(lines: ibis.Table, cols: Drivers, inputs: CostingInputs,
               conditions: list[str]) -> ibis.Table:
    """Step 2: minutes (items) per cycle, phase, setting, step, low-value rule, resource,
    site and year - net of reversals, with the site's and the standard time equations."""
    p = ibis.memtable(time_table(inputs, conditions))
    t = lines.filter(lines.step.notnull())
    j = t.join(p, [t.tsite == p.site_key, t.condition == p.condition, t.step == p.step])
    term_value = ibis.cases((j.term == BASE, 1),
                            *[((j.condition == c) & (j.term == d), j[col]) for c, d, col in cols],
                            else_=0)
    factor = (j.sign * term_value * ibis.cases((j.per_unit, j.units), else_=1)).cast(WHOLE)
    j = j.mutate(_q=(j.quantity * factor).cast(QTY), _s=(j.standard_quantity * factor)
                 .cast(QTY),
                 resource=ibis.cases((j.item == CLINICIAN, j.clin_resource), else_=j.item))
    keys = ["cycle_id", "condition", "phase", "setting", "step", "lv_rule", "item",
            "resource", "site_npi", "rsite", "year"]
    return j.group_by(keys).aggregate(quantity=j._q.sum().cast(QTY),
                                      standard_quantity=j._s.sum().cast(QTY))


def detail(q: ibis.Table, inputs: CostingInputs) -> ibis.Table:
    """Step 3: ``cycle_cost_detail``, one row per cycle, phase, step, resource and site."""
    r = ibis.memtable(rate_table(inputs.catalog))
    a = q.group_by(["cycle_id", "condition", "phase", "step", "resource", "site_npi",
                    "rsite"]).aggregate(quantity=q.quantity.sum().cast(QTY),
                                        standard_quantity=q.standard_quantity.sum().cast(QTY))
    j = a.join(r, [a.rsite == r.site_key, a.resource == r.resource])
    return j.select(
        "cycle_id", "condition", "phase", "step", "resource", "resource_kind", "site_npi",
        "rate_source", "quantity",
        unit=ibis.cases((j.resource_kind == "consumable", "item"), else_="minute"),
        rate=j.rate, cost=(j.quantity * j.rate).round(2).cast(MONEY),
        standard_quantity=j.standard_quantity,
        standard_cost=(j.standard_quantity * j.standard_rate).round(2).cast(MONEY))


def cycle_totals(cycles: ibis.Table, lines: ibis.Table, det: ibis.Table,
                 conditions: list[str]) -> ibis.Table:
    """``cycle_costs``: TDABC cost per cycle (by phase and kind) beside paid and charges."""
    zero = ibis.literal(0).cast(MONEY)

    def part(pred: ibis.Value) -> ibis.Value:
        return ibis.cases((pred, det.cost), else_=zero).sum().cast(MONEY)

    d = det.group_by(_cid=det.cycle_id).aggregate(
        cost_total=det.cost.sum().cast(MONEY),
        cost_personnel=part(det.resource_kind == "person"),
        cost_equipment_space=part(det.resource_kind.isin(["equipment", "space"])),
        cost_consumables=part(det.resource_kind == "consumable"),
        **{f"cost_{p}": part(det.phase == p) for p in PHASES},
        standard_cost=det.standard_cost.sum().cast(MONEY),
        personnel_minutes=ibis.cases((det.resource_kind == "person", det.quantity),
                                     else_=ibis.literal(0).cast(QTY)).sum().cast(QTY))
    mapped = lines.step.notnull()
    ln = lines.group_by(_lid=lines.cycle_id).aggregate(
        charge_amount=lines.charge_amount.sum().cast(MONEY),
        lines=lines.count(),
        lines_unmapped=ibis.cases((mapped, 0), else_=1).sum(),
        paid_unmapped=ibis.cases((mapped, zero), else_=lines.paid_amount).sum().cast(MONEY))
    c = cycles.filter(cycles.condition.isin(conditions))
    c = c.left_join(d, c.cycle_id == d._cid).left_join(ln, c.cycle_id == ln._lid)
    money = ["cost_total", "cost_personnel", "cost_equipment_space", "cost_consumables",
             *[f"cost_{p}" for p in PHASES], "standard_cost"]
    return c.select(
        "cycle_id", "person_id", "condition", "year", "start_date", "end_date", "payer",
        "accountable_npi", "facility_npi",
        **{k: c[k].fill_null(zero).cast(MONEY) for k in money},
        personnel_minutes=c.personnel_minutes.fill_null(ibis.literal(0).cast(QTY)).cast(QTY),
        paid_amount=c.paid_amount.cast(MONEY), allowed_amount=c.allowed_amount.cast(MONEY),
        charge_amount=c.charge_amount.fill_null(zero).cast(MONEY),
        lines=c.lines.fill_null(0).cast("int64"),
        lines_unmapped=c.lines_unmapped.fill_null(0).cast("int64"),
        paid_unmapped=c.paid_unmapped.fill_null(zero).cast(MONEY))
