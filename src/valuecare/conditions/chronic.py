"""Chronic-condition years and episodes that start at a first diagnosis.

- **Chronic year** (type 2 diabetes, heart failure): a member has the condition in a
  calendar year with ``entry.min_claims`` claims on different days carrying an entry
  diagnosis, or one inpatient claim (CMS Chronic Conditions Warehouse algorithm, one-year
  reference period).  The cycle is the calendar year (ended by death), the trigger the
  first qualifying claim, the accountable clinician the one with the most office visits
  carrying the diagnosis (CMS MSSP plurality rule; ties to the lower NPI).
- **Diagnosis episode** (low back pain): starts at a claim with an entry diagnosis when
  the member had none in the ``entry.lookback_days`` before (HEDIS LBP negative diagnosis
  history, 180 days) and runs ``window.days_after`` days; accountable is the clinician of
  the first claim.

Services are lines in the cycle matching ``services.include`` and not ``exclude``; they
rank after acute episodes (a line inside a joint replacement window stays there).
"""

from __future__ import annotations

import ibis

from valuecare.conditions.codes import any_code_in, code_in, codeset_pred
from valuecare.conditions.episodes import with_death
from valuecare.conditions.library import KIND_RANK, Condition
from valuecare.conditions.triggers import EPOCH, KEYS, left_join_keys


def _entry_lines(lines: ibis.Table, cond: Condition) -> ibis.Table:
    e = cond.entry
    pred = (code_in(lines.dx1, e.diagnoses) if e.diagnosis_position == "principal"
            else any_code_in(lines.dx_all, e.diagnoses))
    return lines.filter(lines.active & pred)


def plurality(q: ibis.Table, keys: list[str]) -> ibis.Table:
    """The rendering clinician with the most distinct office claims per ``keys``."""
    v = q.filter((q.setting == "office") & q.rendering_npi.notnull())
    v = v.group_by([*keys, "rendering_npi"]).aggregate(_visits=v.claim_id.nunique())
    w = ibis.window(group_by=[v[k] for k in keys],
                    order_by=[ibis.desc(v._visits), v.rendering_npi])
    v = v.mutate(_rk=ibis.row_number().over(w))
    return v.filter(v._rk == 0).select(*keys, accountable_npi=v.rendering_npi)


def first_claim(q: ibis.Table, keys: list[str], date_col: str = "svc_date") -> ibis.Table:
    """The first claim (by date, claim id, line) per ``keys``: id, payer, clinician."""
    w = ibis.window(group_by=[q[k] for k in keys],
                    order_by=[q[date_col], q.claim_id, q.claim_line_number])
    r = q.mutate(_rk=ibis.row_number().over(w))
    return r.filter(r._rk == 0).select(*keys, trigger_claim_id=r.claim_id, payer=r.payer,
                                       first_npi=r.rendering_npi)


def _cycle_id(cond: Condition, person: ibis.Value, start: ibis.Value) -> ibis.Value:
    return ibis.literal(cond.id + ":") + person + ":" + start.strftime("%Y-%m-%d")


def chronic_cycles(lines: ibis.Table, cond: Condition, deaths: ibis.Table | None
                   ) -> ibis.Table:
    """One cycle per member and calendar year with the chronic condition."""
    q = _entry_lines(lines, cond)
    q = q.mutate(year=q.svc_date.year().cast("int32"))
    per = q.group_by(["person_id", "year"]).aggregate(
        _days=q.svc_date.nunique(), _inp=q.inpatient.cast("int32").max())
    per = per.filter((per._days >= cond.entry.min_claims) | (per._inp == 1))
    trig = first_claim(q, ["person_id", "year"])
    acc = plurality(q, ["person_id", "year"])
    c = left_join_keys(per.join(trig, ["person_id", "year"]), acc, ["person_id", "year"])
    start = ibis.date(c.year, 1, 1)
    c = c.select(
        cycle_id=_cycle_id(cond, c.person_id, start), person_id=c.person_id,
        condition=ibis.literal(cond.id), cycle_kind=ibis.literal(cond.kind), year=c.year,
        start_date=start, end_date=ibis.date(c.year, 12, 31),
        anchor_start_date=ibis.null("date"), anchor_end_date=ibis.null("date"),
        trigger_claim_id=c.trigger_claim_id, payer=c.payer,
        accountable_npi=c.accountable_npi, facility_npi=ibis.null("string"),
        warranty_end_date=ibis.null("date"),
    )
    return with_death(c, deaths)


def diagnosis_cycles(lines: ibis.Table, cond: Condition, deaths: ibis.Table | None
                     ) -> ibis.Table:
    """Episodes starting at a first diagnosis after a clean look-back period."""
    q = _entry_lines(lines, cond)
    days = q.group_by(["person_id", "svc_date"]).aggregate()
    w = ibis.window(group_by=days.person_id, order_by=days.svc_date)
    days = days.mutate(_prev=days.svc_date.lag().over(w))
    new = (days._prev.isnull()
           | (days.svc_date > days._prev + ibis.interval(days=cond.entry.lookback_days)))
    days = days.mutate(_new=new)
    starts = days.filter(days._new).select("person_id", "svc_date")
    trig = first_claim(q.semi_join(starts, ["person_id", "svc_date"]),
                       ["person_id", "svc_date"])
    c = starts.join(trig, ["person_id", "svc_date"])
    c = c.select(
        cycle_id=_cycle_id(cond, c.person_id, c.svc_date), person_id=c.person_id,
        condition=ibis.literal(cond.id), cycle_kind=ibis.literal(cond.kind),
        year=c.svc_date.year().cast("int32"), start_date=c.svc_date,
        end_date=c.svc_date + ibis.interval(days=cond.window.days_after),
        anchor_start_date=ibis.null("date"), anchor_end_date=ibis.null("date"),
        trigger_claim_id=c.trigger_claim_id, payer=c.payer,
        accountable_npi=c.first_npi, facility_npi=ibis.null("string"),
        warranty_end_date=ibis.null("date"),
    )
    return with_death(c, deaths)


def period_candidates(lines: ibis.Table, cycles: ibis.Table, cond: Condition) -> ibis.Table:
    """Lines inside a non-acute cycle's dates that match its services (ranked after acute)."""
    cy = cycles.select(_cid=cycles.cycle_id, _p=cycles.person_id, _s=cycles.start_date,
                       _e=cycles.end_date)
    t = lines.select(*KEYS, "person_id", "svc_date", "setting", "dx1", "dx_all",
                     "hcpcs_code", "px_all", "drg_code", "inpatient")
    j = t.join(cy, [t.person_id == cy._p, t.svc_date >= cy._s, t.svc_date <= cy._e])
    j = j.filter(codeset_pred(j, cond.services.include)
                 & ~codeset_pred(j, cond.services.exclude))
    return j.select(
        *KEYS, cycle_id=j._cid, kind_rank=ibis.literal(KIND_RANK[cond.kind]),
        anchor_rank=ibis.literal(1), k1=EPOCH, k2=EPOCH, priority=ibis.literal(cond.priority),
    )
