"""Evaluate the outcome definitions for every care cycle: the long ``outcomes`` table.

One row per cycle and measure (every cycle of the condition, none dropped; a measure with
a ``population`` applies only to cycles whose anchor carries one of its codes).  Columns:
``person_id, cycle_id, condition, measure, tier, level, value, unit, date, status,
status_reason, year, payer, accountable_npi, facility_npi``.

``status`` is one of

- ``measured``: ``value`` holds the result (1/0 for proportions);
- ``missing``: the data that would measure it were not recorded (no HbA1c in the year, a
  PROM not returned); ``status_reason`` says which (``missing_baseline`` ...). A missing
  PROM is a measured fact, reported in response rates, never silently dropped;
- ``censored``: the follow-up window is not over (it ends after the last date of data, or
  after the member's continuous enrollment ends) and the outcome is not yet determined -
  CMS outcome measures require complete follow-up (payment-and-measures.md §3.1 rule 6);
- ``excluded``: the cycle is not eligible for the measure (readmission after an in-hospital
  death, discharge against medical advice ...); ``status_reason`` names the rule.

A member who dies inside a window has complete follow-up for it (death ends follow-up).
Rules per measure kind are in ``docs/outcomes.md``; definitions in
``valuecare/reference/outcomes/<condition>.yaml``.
"""

from __future__ import annotations

from datetime import date

import ibis

from valuecare.conditions.codes import any_code_in, code_in
from valuecare.outcomes.definitions import Criteria, Measure, OutcomeLibrary, Window
from valuecare.outcomes.readmissions import (
    FAR,
    covered_through,
    days_between,
    first_admission_after,
)

ANCHOR_SETTINGS = ["inpatient", "outpatient hospital", "ambulatory surgery center"]
FACILITY_SETTINGS = ["inpatient", "snf"]
OUT_COLUMNS = ["person_id", "cycle_id", "condition", "measure", "tier", "level", "value",
               "unit", "date", "status", "status_reason", "year", "payer",
               "accountable_npi", "facility_npi"]


class Inputs:
    """Tables an evaluation reads (``lines`` from ``prepare_lines(with_poa=True)``)."""

    def __init__(self, *, cycles: ibis.Table, lines: ibis.Table, stays: ibis.Table,
                 deaths: ibis.Table | None, islands: ibis.Table | None, as_of: date,
                 observations: ibis.Table | None = None, prom_scores: ibis.Table | None = None,
                 services: ibis.Table | None = None) -> None:
        self.lines = lines.filter(lines.active)
        self.stays = stays
        self.as_of = as_of
        self.observations = observations
        self.prom_scores = prom_scores
        self.services = services
        c = cycles.select(
            "cycle_id", "person_id", "condition", "year", "payer", "accountable_npi",
            "facility_npi", "start_date", "end_date", "anchor_start_date", "anchor_end_date")
        c = c.mutate(
            r_anchor_start=c.anchor_start_date.fill_null(c.start_date),
            r_anchor_end=c.anchor_end_date.fill_null(c.start_date),
            r_cycle_start=c.start_date, r_cycle_end=c.end_date,
            has_anchor=c.anchor_start_date.notnull())
        if deaths is not None:
            d = deaths.select(_dp=deaths.person_id, death_date=deaths.death_date)
            c = c.left_join(d, c.person_id == d._dp).drop("_dp")
        else:
            c = c.mutate(death_date=ibis.null("date"))
        if islands is not None:
            c = covered_through(c, islands, "r_anchor_start")
        else:
            c = c.mutate(covered_through=ibis.literal(FAR))
        c = c.mutate(as_of=ibis.literal(as_of))
        self.cycles = c


def _ref(c: ibis.Table, ref: str) -> ibis.Value:
    return c[f"r_{ref}"]


def _complete(c: ibis.Table, end: ibis.Value) -> ibis.Value:
    """Follow-up through ``end`` is complete: the data reach ``end`` (administrative
    censoring applies to everyone, the dead included, so early deaths do not inflate
    rates) and the member stays enrolled until ``end`` or dies before it."""
    died = c.death_date.notnull() & (c.death_date <= end)
    return (end <= c.as_of) & ((end <= c.covered_through.fill_null(c.r_anchor_start)) | died)


def _window(c: ibis.Table, w: Window) -> tuple[ibis.Value, ibis.Value]:
    ref = _ref(c, w.from_)
    lo = ref + ibis.interval(days=w.start) if w.start else ref
    hi = ref + ibis.interval(days=w.end) if w.end else ref
    if w.within_cycle:
        lo = ibis.greatest(lo, c.r_cycle_start)
        hi = ibis.least(hi, c.r_cycle_end)
    return lo, hi


def _rows(c: ibis.Table, value: ibis.Value, when: ibis.Value, status: ibis.Value,
          reason: ibis.Value | None = None) -> ibis.Table:
    """The result columns, selected from a table derived from the cycles (so the cycle's
    attributes come along without another join)."""
    return c.select(
        "person_id", "cycle_id", "condition", value=value.cast("float64"),
        date=when.cast("date"), status=status.cast("string"),
        status_reason=(reason if reason is not None else ibis.null("string")).cast("string"),
        year=c.year, payer=c.payer, accountable_npi=c.accountable_npi,
        facility_npi=c.facility_npi)


def _population(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    pop = m.population
    if pop is None:
        return c
    t = inp.lines
    pred = ibis.literal(False)
    if pop.hcpcs:
        pred = pred | code_in(t.hcpcs_code, pop.hcpcs)
    if pop.icd10pcs:
        pred = pred | any_code_in(t.px_all, pop.icd10pcs)
    if pop.drg:
        pred = pred | (t.inpatient & code_in(t.drg_code, pop.drg))
    hits = t.filter(pred).select(_hp=t.person_id, _hd=t.svc_date)
    j = c.join(hits, [c.person_id == hits._hp, hits._hd >= c.r_anchor_start,
                      hits._hd <= c.r_anchor_end])
    keep = j.select(_pc=j.cycle_id).distinct()
    return c.join(keep, c.cycle_id == keep._pc).drop("_pc")


def _span(c: ibis.Table, m: Measure) -> tuple[ibis.Value, ibis.Value]:
    """``days`` days from ``from`` (day 0 = the reference date), clipped to the cycle when
    ``within_cycle``."""
    ref = _ref(c, m.from_)
    end = ref + ibis.interval(days=(m.days or 1) - 1)
    if m.within_cycle:
        ref, end = ibis.greatest(ref, c.r_cycle_start), ibis.least(end, c.r_cycle_end)
    return ref, end


def _death(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    ref, end = _span(c, m)
    c = c.mutate(_ref=ref, _end=end)
    died = c.death_date.notnull() & (c.death_date >= c._ref) & (c.death_date <= c._end)
    done = _complete(c, c._end)
    return _rows(c, ibis.cases((done, ibis.cases((died, 1.0), else_=0.0)),
                               else_=ibis.null("float64")),
                 ibis.cases((done & died, c.death_date), else_=ibis.null("date")),
                 ibis.cases((done, "measured"), else_="censored"))


def _criteria_pred(t: ibis.Table, k: Criteria, in_index: ibis.Value) -> ibis.Value:
    codes = ibis.literal(False)
    has_codes = bool(k.diagnoses or k.hcpcs or k.icd10pcs or k.drg)
    if k.diagnoses:
        codes = codes | (code_in(t.dx1, k.diagnoses) if k.diagnosis_position == "principal"
                         else any_code_in(t.dx_all, k.diagnoses))
    if k.hcpcs:
        codes = codes | code_in(t.hcpcs_code, k.hcpcs)
    if k.icd10pcs:
        codes = codes | any_code_in(t.px_all, k.icd10pcs)
    if k.drg:
        codes = codes | (t.inpatient & code_in(t.drg_code, k.drg))
    setting = t.setting.isin(list(k.settings)) if k.settings else ibis.literal(True)
    pred = (codes if has_codes else ibis.literal(True)) & setting
    if k.index_stay == "exclude":
        return pred & ~in_index
    if k.index_stay == "poa_n":
        poa = (any_code_in(t.dx_not_poa, k.diagnoses) & setting if k.diagnoses
               else ibis.literal(False))
        return ibis.cases((in_index, poa), else_=pred)
    return pred


def _events(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    lines = inp.lines
    cols = ["person_id", "svc_date", "setting", "dx1", "dx_all", "dx_not_poa", "hcpcs_code",
            "px_all", "drg_code", "inpatient"]
    hits = []
    ends = []
    for k in m.components:
        lo, hi = _window(c, k.window)
        ends.append(hi)
        cw = c.select(_cid=c.cycle_id, _p=c.person_id, _lo=lo, _hi=hi,
                      _as=c.anchor_start_date, _ae=c.anchor_end_date)
        # pre-filter lines on codes alone (cheap), then join to the cycle windows
        pre = _criteria_pred(lines, k.model_copy(update={"index_stay": "include"}),
                             ibis.literal(False))
        if k.index_stay == "poa_n" and k.diagnoses:
            pre = pre | any_code_in(lines.dx_not_poa, k.diagnoses)
        t = lines.filter(pre).select(*cols)
        j = t.join(cw, [t.person_id == cw._p, t.svc_date >= cw._lo, t.svc_date <= cw._hi])
        in_index = ((j.svc_date >= j._as) & (j.svc_date <= j._ae)
                    & j.setting.isin(ANCHOR_SETTINGS)).fill_null(False)
        j = j.filter(_criteria_pred(j, k, in_index))
        hits.append(j.select(_cid=j._cid, _d=j.svc_date))
    h = hits[0] if len(hits) == 1 else ibis.union(*hits)
    agg = h.group_by("_cid").aggregate(_first=h._d.min(), _n=h._d.nunique())
    c = c.mutate(_end=ends[0] if len(ends) == 1 else ibis.greatest(*ends))
    j = c.left_join(agg, c.cycle_id == agg._cid)
    done = _complete(j, j._end)
    found = j._first.notnull()
    if m.result == "any":
        value = ibis.cases((found, 1.0), else_=0.0)
    else:
        value = j._n.fill_null(0).cast("float64")
    return _rows(j, ibis.cases((done, value), else_=ibis.null("float64")),
                 ibis.cases((done, j._first), else_=ibis.null("date")),
                 ibis.cases((done, "measured"), else_="censored"))


def _readmission(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    days = m.days or 30
    s = inp.stays
    a = s.select(_sp=s.person_id, _sid=s.stay_id, _sa=s.admit_date, _sd=s.discharge_date,
                 _disp=s.disposition, _sdx=s.principal_dx)
    j = c.left_join(a, [c.person_id == a._sp, a._sa >= c.r_anchor_start,
                        a._sd == c.r_anchor_end])
    w = ibis.window(group_by=j.cycle_id, order_by=[j._sa, j._sid])
    j = j.mutate(_rn=ibis.row_number().over(w))
    j = j.filter(j._rn == 0).drop("_rn", "_sp")
    end = j.r_anchor_end + ibis.interval(days=days)
    j = j.mutate(_reason=ibis.cases(
        (~j.has_anchor, "no_index_event"),
        ((j._disp == "20") | (j.death_date <= j.r_anchor_end).fill_null(False),
         "died_in_hospital"),
        (j._disp == "07", "against_medical_advice"),
        (j._disp == "02", "transfer_out"),
        (~_complete(j, end), "insufficient_followup"),
        else_=ibis.null("string")))
    idx = j.select(_key=j.cycle_id, person_id=j.person_id, _from=j.r_anchor_end,
                   _facility=j.facility_npi, _dx3=j._sdx.substr(0, 3), _exclude_stay=j._sid)
    first = first_admission_after(idx, s, days)
    r = j.left_join(first, j.cycle_id == first._key)
    readmitted = r._r_stay.notnull() & ~r._r_planned.fill_null(False)
    reason = r._reason
    ok = reason.isnull()
    status = ibis.cases((reason == "insufficient_followup", "censored"),
                        (ok, "measured"), else_="excluded")
    return _rows(r, ibis.cases((ok, ibis.cases((readmitted, 1.0), else_=0.0)),
                               else_=ibis.null("float64")),
                 ibis.cases((ok & readmitted, r._r_admit), else_=ibis.null("date")),
                 status, reason)


def _length_of_stay(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    los = days_between(c.anchor_end_date, c.anchor_start_date)
    return _rows(c, los, c.anchor_end_date,
                 ibis.cases((c.has_anchor, "measured"), else_="excluded"),
                 ibis.cases((c.has_anchor, ibis.null("string")), else_="no_index_event"))


def _facility_days(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    lo, hi = _span(c, m)
    t = inp.lines.filter(inp.lines.setting.isin(FACILITY_SETTINGS)
                         & (inp.lines.claim_type == "institutional"))
    claims = t.group_by(["claim_id", "data_source", "person_id"]).aggregate(
        _s=t.admit_date.min(), _e=t.discharge.max())
    c = c.mutate(_lo=lo, _hi=hi)
    cw = c.select(_cid=c.cycle_id, _p=c.person_id, _wlo=c._lo, _whi=c._hi)
    j = claims.join(cw, [claims.person_id == cw._p, claims._s <= cw._whi,
                         claims._e >= cw._wlo])
    s = ibis.greatest(j._s, j._wlo)
    e = ibis.least(j._e, j._whi)
    days = ibis.greatest(days_between(e, s), ibis.literal(0))
    agg = j.group_by("_cid").aggregate(_days=days.sum())
    r = c.left_join(agg, c.cycle_id == agg._cid)
    done = _complete(r, r._hi)
    return _rows(r, ibis.cases((done, r._days.fill_null(0)), else_=ibis.null("int64")),
                 ibis.cases((done, r._hi), else_=ibis.null("date")),
                 ibis.cases((done, "measured"), else_="censored"))


def _lab(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    lab = m.lab
    assert lab is not None
    lo, hi = _window(c, lab.window)
    done = _complete(c, hi)
    if inp.observations is None:
        return _rows(c, ibis.null("float64"), ibis.null("date"),
                     ibis.cases((done, "missing"), else_="censored"),
                     ibis.literal("no_observation_data"))
    o = inp.observations
    o = o.filter(o.source_code.isin(lab.codes) & o.result_numeric.notnull()).select(
        _op=o.person_id, _od=o.observation_date, _ov=o.result_numeric)
    cw = c.select(_cid=c.cycle_id, _p=c.person_id, _lo=lo, _hi=hi)
    j = o.join(cw, [o._op == cw._p, o._od >= cw._lo, o._od <= cw._hi])
    w = ibis.window(group_by=j._cid, order_by=[ibis.desc(j._od), ibis.desc(j._ov)])
    j = j.mutate(_rn=ibis.row_number().over(w))
    last = j.filter(j._rn == 0).select("_cid", "_od", "_ov")
    r = c.left_join(last, c.cycle_id == last._cid)
    ok = {"<": r._ov < lab.threshold, "<=": r._ov <= lab.threshold,
          ">": r._ov > lab.threshold, ">=": r._ov >= lab.threshold}[lab.comparator]
    done = _complete(r, _window(r, lab.window)[1])
    found = r._ov.notnull()
    status = ibis.cases((~done, "censored"), (found, "measured"), else_="missing")
    value = ibis.cases((done & found, ibis.cases((ok, 1.0), else_=0.0)),
                       else_=ibis.null("float64"))
    reason = ibis.cases((done & ~found, "no_result"), else_=ibis.null("string"))
    return _rows(r, value, ibis.cases((done, r._od), else_=ibis.null("date")), status, reason)


def _care_duration(inp: Inputs, c: ibis.Table, m: Measure) -> ibis.Table:
    if inp.services is None:
        return _rows(c, ibis.null("float64"), ibis.null("date"), ibis.literal("missing"),
                     ibis.literal("no_services"))
    s = inp.services
    s = s.filter(s.adjustment_type != "reversal")
    agg = s.group_by(_cid=s.cycle_id).aggregate(_last=s.service_date.max())
    r = c.left_join(agg, c.cycle_id == agg._cid)
    done = _complete(r, r.r_cycle_end)
    dur = days_between(r._last.fill_null(r.r_cycle_start), r.r_cycle_start)
    return _rows(r, ibis.cases((done, dur), else_=ibis.null("int64")),
                 ibis.cases((done, r._last), else_=ibis.null("date")),
                 ibis.cases((done, "measured"), else_="censored"))


def _prom(inp: Inputs, c: ibis.Table, m: Measure) -> list[tuple[str, ibis.Table]]:
    from valuecare.outcomes.proms import prom_change

    p = m.prom
    assert p is not None
    cyc = c.select("cycle_id", "person_id", "start_date", "end_date",
                   anchor_start_date=c.r_anchor_start, anchor_end_date=c.r_anchor_end)
    base_from = {"anchor_start": "anchor_start_date", "anchor_end": "anchor_end_date",
                 "cycle_start": "start_date", "cycle_end": "end_date"}
    if inp.prom_scores is None:
        ch = None
    else:
        ch = prom_change(inp.prom_scores, cyc, instrument=p.instrument, scale=p.scale,
                         baseline_days=p.baseline, followup_days=p.followup,
                         baseline_from=base_from[p.baseline_from],
                         followup_from=base_from[p.followup_from], as_of=inp.as_of)
    if ch is None:
        none = _rows(c, ibis.null("float64"), ibis.null("date"), ibis.literal("missing"),
                     ibis.literal("missing_both"))
        return [(m.id, none), (f"{m.id}_mcid", none)]
    x = ch.select(_cid=ch.cycle_id, _chg=ch.change, _mcid=ch.mcid_reached, _st=ch.status,
                  _fd=ch.followup_date)
    r = c.left_join(x, c.cycle_id == x._cid)
    st = r._st.fill_null("missing_both")
    status = ibis.cases((st == "measured", "measured"), (st == "not_due", "censored"),
                        else_="missing")
    reason = ibis.cases((st == "measured", ibis.null("string")), else_=st)
    change = _rows(r, r._chg, r._fd, status, reason)
    mcid = _rows(r, ibis.cases((st == "measured", ibis.cases((r._mcid, 1.0), else_=0.0)),
                               else_=ibis.null("float64")), r._fd, status, reason)
    return [(m.id, change), (f"{m.id}_mcid", mcid)]


EVALUATORS = {
    "death": _death, "events": _events, "readmission": _readmission,
    "length_of_stay": _length_of_stay, "facility_days": _facility_days, "lab": _lab,
    "care_duration": _care_duration,
}


def derived_measures(m: Measure) -> list[tuple[str, str]]:
    """(measure id, unit) rows a definition produces (a PROM change also gives ``_mcid``)."""
    if m.kind == "prom_change":
        return [(m.id, m.unit), (f"{m.id}_mcid", "proportion")]
    return [(m.id, m.unit)]


def evaluate(inp: Inputs, library: OutcomeLibrary,
             conditions: list[str] | None = None) -> list[ibis.Table]:
    """One ibis table per (condition, measure), each with :data:`OUT_COLUMNS`."""
    out: list[ibis.Table] = []
    for cond, m in library.measures():
        if conditions is not None and cond not in conditions:
            continue
        c = inp.cycles.filter(inp.cycles.condition == cond)
        c = _population(inp, c, m)
        if m.kind == "prom_change":
            parts = _prom(inp, c, m)
        else:
            parts = [(m.id, EVALUATORS[m.kind](inp, c, m))]
        units = dict(derived_measures(m))
        for mid, rows in parts:
            out.append(rows.select(
                "person_id", "cycle_id", "condition", measure=ibis.literal(mid),
                tier=ibis.literal(m.tier).cast("int32"),
                level=ibis.literal(m.level).cast("int32"), value=rows.value,
                unit=ibis.literal(units[mid]), date=rows.date, status=rows.status,
                status_reason=rows.status_reason, year=rows.year, payer=rows.payer,
                accountable_npi=rows.accountable_npi, facility_npi=rows.facility_npi))
    return out
