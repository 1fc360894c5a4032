"""One cycle per claim line, its phase in the care delivery value chain, and cycle totals.

Every candidate (line, cycle) pair carries ranking keys; a line goes to the first cycle in
this order: kind (acute episode, chronic year, diagnosis episode, primary-care segment),
part of the cycle's anchor first, most recent anchor on or before the line, else the next
anchor, condition priority, cycle id.  The order is total, so DuckDB and Spark pick the
same cycle.

Phases follow Porter & Teisberg (2006): each condition lists rules (first match wins),
else its ``default_phase``.  Timing ``before`` is a line dated before the anchor start;
``anchor`` a facility line (inpatient, outpatient hospital, ASC) during the anchor dates;
``after`` any other line dated on or after the anchor start.
"""

from __future__ import annotations

import ibis

from valuecare.conditions.codes import code_in
from valuecare.conditions.episodes import ANCHOR_SETTINGS
from valuecare.conditions.library import PHASES, Library, PhaseRule
from valuecare.conditions.triggers import KEYS
from valuecare.pipeline.claims_summary import MONEY

CYCLE_COLUMNS = [
    "cycle_id", "person_id", "condition", "cycle_kind", "year", "start_date", "end_date",
    "anchor_start_date", "anchor_end_date", "end_reason", "trigger_claim_id", "payer",
    "accountable_npi", "facility_npi", "warranty_end_date",
]


def choose(candidates: ibis.Table) -> ibis.Table:
    """The winning cycle of every line that has a candidate: ``KEYS + cycle_id``."""
    c = candidates
    w = ibis.window(group_by=[c[k] for k in KEYS],
                    order_by=[c.kind_rank, c.anchor_rank, ibis.desc(c.k1), c.k2, c.priority,
                              c.cycle_id])
    c = c.mutate(_rk=ibis.row_number().over(w))
    return c.filter(c._rk == 0).select(*KEYS, "cycle_id")


def _in_anchor(t: ibis.Table) -> ibis.Value:
    """Part of the anchor: a facility setting during the trigger stay or procedure day."""
    return ((t.svc_date >= t.anchor_start_date) & (t.svc_date <= t.anchor_end_date)
            & t.setting.isin(ANCHOR_SETTINGS)).fill_null(False)


def _rule_pred(t: ibis.Table, rule: PhaseRule) -> ibis.Value:
    pred = ibis.literal(True)
    if rule.timing == "before":
        pred = pred & (t.svc_date < t.anchor_start_date).fill_null(False)
    elif rule.timing == "anchor":
        pred = pred & _in_anchor(t)
    elif rule.timing == "after":
        pred = pred & (t.svc_date >= t.anchor_start_date).fill_null(False) & ~_in_anchor(t)
    if rule.settings:
        pred = pred & t.setting.isin(list(rule.settings))
    if rule.hcpcs:
        pred = pred & code_in(t.hcpcs_code, rule.hcpcs)
    if rule.diagnoses:
        pred = pred & code_in(t.dx1, rule.diagnoses)
    return pred


def phase_of(t: ibis.Table, library: Library) -> ibis.Value:
    """The value-chain phase of each assigned line (``t`` has ``condition`` and anchors)."""
    branches = []
    for cond in library.conditions:
        is_c = t.condition == cond.id
        branches += [(is_c & _rule_pred(t, r), r.phase) for r in cond.phases]
        branches.append((is_c, cond.default_phase))
    return ibis.cases(*branches, else_="monitor_manage")


def services(lines: ibis.Table, chosen: ibis.Table, cycles: ibis.Table,
             library: Library) -> ibis.Table:
    """``care_cycle_services``: one row per assigned claim line with its cycle and phase."""
    cy = cycles.select("cycle_id", "condition", "anchor_start_date", "anchor_end_date")
    t = lines.join(chosen, KEYS).join(cy, "cycle_id")
    t = t.mutate(phase=phase_of(t, library))
    return t.select(
        "cycle_id", "person_id", "condition", *KEYS, "adjustment_type",
        service_date=t.svc_date, phase=t.phase, setting=t.setting,
        service_category_2=t.service_category_2, facility_npi=t.facility_npi,
        rendering_npi=t.rendering_npi, hcpcs_code=t.hcpcs_code, drg_code=t.drg_code,
        allowed_amount=t.allowed_amount.cast(MONEY), paid_amount=t.paid_amount.cast(MONEY),
    )


def cycle_totals(cycles: ibis.Table, svc: ibis.Table,
                 warranty: ibis.Table | None) -> ibis.Table:
    """``care_cycles``: the cycles with totals, service counts and paid per phase."""
    zero = ibis.literal(0).cast(MONEY)
    phase_sums = {f"paid_{p}": ibis.cases((svc.phase == p, svc.paid_amount), else_=zero)
                  .sum().cast(MONEY) for p in PHASES}
    agg = svc.group_by(_cid=svc.cycle_id).aggregate(
        services=svc.count(), claims=svc.claim_id.nunique(),
        allowed_amount=svc.allowed_amount.sum().cast(MONEY),
        paid_amount=svc.paid_amount.sum().cast(MONEY), **phase_sums)
    c = cycles.left_join(agg, cycles.cycle_id == agg._cid)
    if warranty is not None:
        wt = warranty.select(_wid=warranty.cycle_id, _wn=warranty.warranty_events)
        c = c.left_join(wt, c.cycle_id == wt._wid)
        wn = ibis.cases((c.warranty_end_date.notnull(), c._wn.fill_null(0)),
                        else_=ibis.null("int64"))
    else:
        wn = ibis.null("int64")
    money = {k: c[k].fill_null(zero).cast(MONEY)
             for k in ("allowed_amount", "paid_amount", *phase_sums)}
    return c.select(
        *CYCLE_COLUMNS, warranty_events=wn.cast("int64"),
        services=c.services.fill_null(0).cast("int64"),
        claims=c.claims.fill_null(0).cast("int64"), **money,
    )
