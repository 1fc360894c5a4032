"""Acute episodes around a trigger (CMS BPCI Advanced / CJR shape) and their services.

Rules (documented in ``docs/conditions.md``):

1. Trigger events of a condition are ordered per member by anchor start.  With
   ``new_trigger_in_window: open`` every event opens its own episode (a second joint
   replacement, even inside the first one's window); with ``join`` an event starting no
   later than ``days_after`` after the previous event's discharge belongs to the running
   episode (a breast re-excision, a redo CABG).
2. The episode runs from ``days_before`` before the first anchor to ``days_after`` after
   the last anchor's discharge (transfers already chained into one stay).  A member who
   dies inside the window ends it on the date of death (``end_reason = death``).  The
   episode follows the member across payers; ``payer`` is the trigger claim's.
3. A line dated inside the window belongs when it is part of the anchor (a facility
   setting - inpatient, outpatient hospital, ASC - during the anchor dates) or matches
   ``services.include`` and not ``services.exclude``; settings in ``include`` (readmissions
   through ``inpatient``, post-acute ``snf`` and ``home``) count from the anchor on, not in
   the pre-trigger days.
4. When several acute episodes could take a line, it goes to the one whose anchor it is
   part of; else to the episode with the most recent anchor start on or before the line's
   date; else (pre-trigger lines) to the next anchor; then condition priority.  So a line
   belongs to at most one acute episode.
"""

from __future__ import annotations

import ibis

from valuecare.conditions.codes import codeset_pred
from valuecare.conditions.library import KIND_RANK, Condition
from valuecare.conditions.triggers import EPOCH, KEYS

ANCHOR_SETTINGS = ["inpatient", "outpatient hospital", "ambulatory surgery center"]


def with_death(cycles: ibis.Table, deaths: ibis.Table | None) -> ibis.Table:
    """End a cycle on the member's date of death when it falls inside the cycle."""
    if deaths is None:
        return cycles.mutate(end_reason=ibis.literal("window"))
    d = deaths.select(_dp=deaths.person_id, _dd=deaths.death_date)
    j = cycles.left_join(d, cycles.person_id == d._dp)
    died = (j._dd.notnull() & (j._dd >= j.start_date) & (j._dd < j.end_date)).fill_null(False)
    return j.mutate(end_date=ibis.cases((died, j._dd), else_=j.end_date),
                    end_reason=ibis.cases((died, "death"), else_="window")).drop("_dp", "_dd")


def acute_cycles(events: ibis.Table, cond: Condition, deaths: ibis.Table | None
                 ) -> ibis.Table:
    """Episodes of one acute condition from its trigger events (see the module rules)."""
    win = cond.window
    w = ibis.window(group_by=events.person_id,
                    order_by=[events.anchor_start, events.anchor_key])
    ev = events.mutate(_prev_end=events.anchor_end.lag().over(w))
    if win.new_trigger_in_window == "join":
        new = (ev._prev_end.isnull()
               | (ev.anchor_start > ev._prev_end + ibis.interval(days=win.days_after)))
    else:
        new = ibis.literal(True)
    ev = ev.mutate(_new=ibis.cases((new, 1), else_=0))
    wc = ibis.window(group_by=ev.person_id, order_by=[ev.anchor_start, ev.anchor_key],
                     rows=(None, 0))
    ev = ev.mutate(_ep=ev._new.sum().over(wc))
    wr = ibis.window(group_by=[ev.person_id, ev._ep], order_by=[ev.anchor_start, ev.anchor_key])
    ev = ev.mutate(_rk=ibis.row_number().over(wr))
    span = ev.group_by(["person_id", "_ep"]).aggregate(
        anchor_start_date=ev.anchor_start.min(), anchor_end_date=ev.anchor_end.max())
    first = ev.filter(ev._rk == 0).select(
        "person_id", "_ep", "trigger_claim_id", "facility_npi", "accountable_npi",
        payer=ev.trigger_payer)
    c = span.join(first, ["person_id", "_ep"])
    warranty_end = (c.anchor_end_date + ibis.interval(days=win.warranty_days)
                    if win.warranty_days else ibis.null("date"))
    c = c.select(
        cycle_id=ibis.literal(cond.id + ":") + c.person_id + ":"
        + c.anchor_start_date.strftime("%Y-%m-%d"),
        person_id=c.person_id, condition=ibis.literal(cond.id),
        cycle_kind=ibis.literal(cond.kind),
        year=c.anchor_start_date.year().cast("int32"),
        start_date=c.anchor_start_date - ibis.interval(days=win.days_before),
        end_date=c.anchor_end_date + ibis.interval(days=win.days_after),
        anchor_start_date=c.anchor_start_date, anchor_end_date=c.anchor_end_date,
        trigger_claim_id=c.trigger_claim_id, payer=c.payer,
        accountable_npi=c.accountable_npi, facility_npi=c.facility_npi,
        warranty_end_date=warranty_end,
    )
    return with_death(c, deaths)


def warranty_events(lines: ibis.Table, cycles: ibis.Table, cond: Condition) -> ibis.Table:
    """Distinct active claims with a warranty code after the anchor, up to the horizon.

    Returns ``cycle_id, warranty_events``; a revision within two years of a joint
    replacement is the example (AJRR 2022; Porter & Teisberg 2006 on care warranties).
    """
    wt = cond.warranty
    if wt is None:
        raise ValueError(f"condition {cond.id} has no warranty services")
    hit = codeset_pred(lines, wt)
    t = lines.filter(lines.active & hit).select("person_id", "claim_id", "svc_date")
    cy = cycles.select(_cid=cycles.cycle_id, _p=cycles.person_id,
                       _a=cycles.anchor_end_date, _w=cycles.warranty_end_date)
    j = t.join(cy, [t.person_id == cy._p, t.svc_date > cy._a, t.svc_date <= cy._w])
    return j.group_by(cycle_id=j._cid).aggregate(warranty_events=j.claim_id.nunique())


def acute_candidates(lines: ibis.Table, cycles: ibis.Table, cond: Condition) -> ibis.Table:
    """Lines that may belong to the condition's episodes, with the ranking keys."""
    cy = cycles.select(_cid=cycles.cycle_id, _p=cycles.person_id, _s=cycles.start_date,
                       _e=cycles.end_date, _as=cycles.anchor_start_date,
                       _ae=cycles.anchor_end_date)
    t = lines.select(*KEYS, "person_id", "svc_date", "setting", "dx1", "dx_all",
                     "hcpcs_code", "px_all", "drg_code", "inpatient")
    j = t.join(cy, [t.person_id == cy._p, t.svc_date >= cy._s, t.svc_date <= cy._e])
    in_anchor = (j.svc_date >= j._as) & (j.svc_date <= j._ae) & j.setting.isin(ANCHOR_SETTINGS)
    inc = cond.services.include
    by_setting = (j.setting.isin(list(inc.settings)) & (j.svc_date >= j._as)
                  if inc.settings else ibis.literal(False))
    related = codeset_pred(j, inc.model_copy(update={"settings": []})) | by_setting
    ok = in_anchor | (related & ~codeset_pred(j, cond.services.exclude))
    j = j.filter(ok)
    after = j._as <= j.svc_date
    return j.select(
        *KEYS, cycle_id=j._cid, kind_rank=ibis.literal(KIND_RANK[cond.kind]),
        anchor_rank=ibis.cases((in_anchor, 0), else_=1),
        k1=ibis.cases((after, j._as), else_=EPOCH), k2=ibis.cases((after, EPOCH), else_=j._as),
        priority=ibis.literal(cond.priority),
    )
