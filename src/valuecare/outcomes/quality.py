"""Quality measures that value-based contracts pay on, member by member (eCQM logic on claims).

Five eCQMs (shared reference sheet §5; definitions in ``valuecare/reference/measures``):

=======  ====================================================  =====  ===========
eCQM     title                                                 MIPS   historic NQF
=======  ====================================================  =====  ===========
CMS122   Diabetes: Glycemic Status Assessment > 9% (inverse)   001    0059
CMS165   Controlling High Blood Pressure                       236    0018
CMS125   Breast Cancer Screening                               112    2372
CMS130   Colorectal Cancer Screening                           113    0034
CMS2     Screening for Depression and Follow-Up Plan           134    0418
=======  ====================================================  =====  ===========

Population logic follows the eCQM proportion-measure rules: the initial population (IP) is
the denominator; a denominator exclusion removes the member before the numerator is
looked at (an excluded member has ``numerator`` false); a denominator exception applies
only to a member in the denominator, not excluded and not in the numerator.  Performance
rate = numerator / (denominator - exclusions - exceptions) (:func:`summarise`).  For the
inverse CMS122 the numerator is *poor* control, so lower is better.

Choices that the eCQMs leave to the data (each documented in the measure YAML):

- eCQMs do not require enrollment; a member who died before the period is left out, one
  who dies during it stays in.
- Diagnoses are read from any position of active claims (a reversal and the claim it
  reverses never count).  "Diabetes overlapping the period" = a diagnosis in the period or
  the year before; "hypertension starting before or in the first six months" = a
  diagnosis from a year before the period to before start + 6 months.
- ``payer``: the enrollment span covering the period end, else the latest span in it.
  ``provider_npi``: the rendering NPI with the most qualifying encounters (distinct
  claims) in the period; ties go to the most recent encounter, then the lowest NPI.
- Optional tables: without ``observation`` there are no lab, vital or screening results,
  so CMS122 falls to the CPT II result codes and a billed HbA1c test counts as "performed
  without result" (numerator), CMS165 to CPT II codes (else not met), CMS2 to G-codes;
  without ``pharmacy_claim`` the dementia-medication exclusion and antidepressant
  follow-up are false.

Every function returns an Ibis expression that gives identical results on DuckDB and
Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import ibis

from valuecare.errors import InvalidInput
from valuecare.outcomes.quality_defs import (
    MEASURES,
    Exclusion,
    Measure,
    MeasureDefinitionError,
    ValueSet,
    Version,
    load_measures,
)
from valuecare.outcomes.quality_rules import (
    ACUTE_SETTINGS,
    Inputs,
    Period,
    age_at,
    attributed_provider,
    claim_hits,
    dated,
    fence,
    in_window,
    latest,
    obs_hits,
    overlapping,
    payer_of,
    prepare_inputs,
    qualifying_visits,
    rx_hits,
    shared_exclusions,
    shift_months,
    shift_years,
    union,
)

__all__ = ["MEASURES", "OUTPUT_COLUMNS", "MeasureDefinitionError", "cms2", "cms122", "cms125",
           "cms130", "cms165", "load_measures", "quality_members", "summarise"]

#: Columns of :func:`quality_members`, in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "measure", "version", "period_start", "period_end", "person_id", "payer", "provider_npi",
    "initial_population", "denominator", "exclusion", "exception", "numerator", "reason",
    "evidence_date", "evidence_value")

Sets = dict[str, ValueSet]
NumeratorFn = Callable[[Inputs, Measure, Version, Sets, ibis.Table, ibis.Table], ibis.Table]


def _lj(left: ibis.Table, right: ibis.Table) -> ibis.Table:
    """Left join on person_id keeping one person_id column."""
    r = right.rename(_k="person_id")
    return left.left_join(r, left.person_id == r._k).drop("_k")


def _persons(t: ibis.Table) -> ibis.Table:
    return t.select(_q="person_id").distinct()


def _semi(t: ibis.Table, persons: ibis.Table) -> ibis.Table:
    return t.join(persons, t.person_id == persons._q).drop("_q")


def _number(value: ibis.Value, decimals: int) -> ibis.Value:
    """A number as text: whole numbers without decimals, else rounded to ``decimals``."""
    whole = value == value.round(0)
    return ibis.cases((whole, value.round(0).cast("int64").cast("string")),
                      else_=value.round(decimals).cast("string"))


def _complete(pop: ibis.Table, found: ibis.Table, met: bool, reason: str) -> ibis.Table:
    """Numerator rows for every member of ``pop``; members without a row get the default."""
    j = _lj(pop.select("person_id"), found)
    return j.select("person_id",
                    num_met=j.num_met.fill_null(met),
                    num_reason=j.num_reason.fill_null(reason),
                    num_date=j.num_date, num_value=j.num_value)


def _first(t: ibis.Table, order: list[ibis.Value]) -> ibis.Table:
    """The first row per person in ``order``."""
    t = t.mutate(_rk=ibis.row_number().over(ibis.window(group_by=t.person_id, order_by=order)))
    return t.filter(t._rk == 0).drop("_rk")


# --- population ----------------------------------------------------------------------------


def _population(inp: Inputs, m: Measure, v: Version, sets: Sets,
                visits: ibis.Table) -> ibis.Table:
    """person_id, age_start, age_end of the initial population."""
    p = inp.period
    mem = inp.member
    alive = mem.death_date.isnull() | (mem.death_date >= p.start)
    mem = mem.filter(alive & mem.birth_date.notnull() & (mem.birth_date <= p.end))
    mem = mem.mutate(age_start=age_at(mem.birth_date, p.start),
                     age_end=age_at(mem.birth_date, p.end))
    age = mem.age_end if v.age_at == "end" else mem.age_start
    cond = age >= v.age_min
    if v.age_max is not None:
        cond = cond & (age <= v.age_max)
    if m.sex is not None:
        cond = cond & (mem.sex == m.sex)
    mem = _semi(mem.filter(cond), _persons(visits))
    if m.kind == "hba1c_poor_control":
        vs = sets["diabetes"]
        dx = in_window(claim_hits(inp, vs), shift_years(p.start, -vs.lookback_years), p.end)
        mem = _semi(mem, _persons(dx))
    elif m.kind == "controlling_bp":
        lo = shift_years(p.start, -m.windows.get("hypertension_lookback_years", 1))
        before = shift_months(p.start, m.windows.get("hypertension_months_after_start", 6))
        dx = claim_hits(inp, sets["essential_hypertension"])
        dx = dx.filter((dx.date >= lo) & (dx.date < before))
        mem = _semi(mem, _persons(dx))
    return fence(mem.select("person_id", "age_start", "age_end"), inp.member)


# --- exclusions and exceptions -------------------------------------------------------------


def _specific(inp: Inputs, sets: Sets, ex: Exclusion, prio: int,
              visits: ibis.Table) -> ibis.Table | None:
    p = inp.period

    def hits(keys: list[str]) -> ibis.Table | None:
        parts: list[ibis.Table | None] = []
        for k in keys:
            parts += [claim_hits(inp, sets[k]), obs_hits(inp, sets[k].loinc)]
        h = dated(parts)
        if h is None:
            return None
        if ex.timing == "on_or_before_end":
            return h.filter(h.date <= p.end)
        if ex.timing == "overlaps_period":
            return overlapping(h, p.start, p.end)
        if ex.timing == "during_period":
            return in_window(h, p.start, p.end)
        last = visits.group_by("person_id").aggregate(_last=visits.date.max())
        last = last.rename(_k="person_id")
        j = h.join(last, h.person_id == last._k)
        return j.filter(j.date <= j._last).select("person_id", "date", "end_date")

    a = hits(ex.value_sets)
    if a is None:
        return None
    if ex.and_value_sets:
        b = hits(ex.and_value_sets)
        if b is None:
            return None
        a = ibis.union(_semi(a, _persons(b)), _semi(b, _persons(a)))
    return latest(a, ex.kind, prio)


def _exclusions(inp: Inputs, m: Measure, v: Version, sets: Sets, pop: ibis.Table,
                visits: ibis.Table) -> ibis.Table | None:
    """person_id, ex_reason, ex_date: the first exclusion in the measure's order."""
    rows: list[ibis.Table | None] = []
    shared: list[tuple[str, int]] = []
    for i, ex in enumerate(m.exclusions):
        if isinstance(ex, str):
            shared.append((ex, i * 10))
        else:
            rows.append(_specific(inp, sets, ex, i * 10, visits))
    rows += shared_exclusions(inp, load_measures().shared, shared, pop,
                              v.advanced_illness_rule)
    u = union(rows)
    if u is None:
        return None
    top = _first(u, [u.priority, u.date.desc()])
    return top.select("person_id", ex_reason="excluded:" + top.kind, ex_date=top.date)


def _exceptions(inp: Inputs, m: Measure, sets: Sets, visits: ibis.Table) -> ibis.Table | None:
    """person_id, exc_reason, exc_date: an exception code on a qualifying encounter day."""
    parts = []
    for key in m.exception_value_sets:
        h = claim_hits(inp, sets[key])
        if h is None:
            continue
        h = in_window(h, inp.period.start, inp.period.end)
        vd = visits.select(_k="person_id", _d="date").distinct()
        h = h.join(vd, [h.person_id == vd._k, h.date == vd._d])
        parts.append(latest(h.select("person_id", "date"), key, 0))
    u = union(parts)
    if u is None:
        return None
    top = _first(u, [u.date.desc(), u.kind])
    return top.select("person_id", exc_reason="exception:" + top.kind, exc_date=top.date)


# --- numerators ----------------------------------------------------------------------------


def _coded(inp: Inputs, codes: list, lo: date, hi: date) -> ibis.Table:
    """Claim lines with CPT II result codes: person_id, date, value, label, claim_id."""
    t = inp.lines
    h = t.filter(t.hcpcs_code.isin([c.code for c in codes]) & (t.svc_date >= lo)
                 & (t.svc_date <= hi))
    value = ibis.cases(*[(h.hcpcs_code == c.code, c.value) for c in codes]).cast("float64")
    label = ibis.cases(*[(h.hcpcs_code == c.code, c.label) for c in codes])
    return h.select("person_id", date=h.svc_date, value=value, label=label,
                    claim_id=h.claim_id)


def cms122_numerator(inp: Inputs, m: Measure, v: Version, sets: Sets, pop: ibis.Table,
                     visits: ibis.Table) -> ibis.Table:
    """CMS122 (MIPS 001, NQF 0059): most recent HbA1c (LOINC 4548-4, 4549-2, 17855-8,
    17856-6, 96595-4; GMI 97506-0 from v13) or CPT II band in the period > 9.0%, or a billed
    test (83036/83037) without a result that day, or none.  Several results on the most
    recent day: a valued one beats a billed test without result, then the lowest counts."""
    p = inp.period
    loinc = sets["hba1c"].loinc + (sets["gmi"].loinc if "gmi" in sets else [])
    parts = []
    o = obs_hits(inp, loinc)
    if o is not None:
        o = in_window(o, p.start, p.end)
        parts.append(o.select("person_id", "date", value=o.value,
                              label=o.value.round(1).cast("string")))
    if m.coded_results.get("hba1c"):
        parts.append(_coded(inp, m.coded_results["hba1c"], p.start, p.end).drop("claim_id"))
    if "hba1c_performed" in sets:
        h = in_window(claim_hits(inp, sets["hba1c_performed"]), p.start, p.end)
        parts.append(h.select("person_id", "date", value=ibis.null("float64"),
                              label=ibis.null("string")))
    ev = union(parts)
    if ev is None:
        raise MeasureDefinitionError(f"{m.id}: no HbA1c evidence is defined")
    has = ev.value.notnull().cast("int8")
    top = _first(ev, [ev.date.desc(), has.desc(), ev.value])
    limit = m.thresholds.get("poor_control_above", 9.0)
    no_result = top.value.isnull()
    poor = top.value > limit
    found = top.select(
        "person_id", num_met=no_result | poor.fill_null(False),
        num_reason=ibis.cases((no_result, "numerator:hba1c_no_result"),
                              (poor, "numerator:hba1c_gt_9"), else_="not_met:hba1c_le_9"),
        num_date=top.date, num_value=top.label)
    return _complete(pop, found, True, "numerator:hba1c_missing")


def cms165_numerator(inp: Inputs, m: Measure, v: Version, sets: Sets, pop: ibis.Table,
                     visits: ibis.Table) -> ibis.Table:
    """CMS165 (MIPS 236, NQF 0018): on the most recent day in the period with both a
    systolic (8480-6 / CPT II 3074F-3077F) and a diastolic (8462-4 / 3078F-3080F) reading,
    the lowest of each is < 140 and < 90 mmHg.  Readings whose encounter (observation
    ``encounter_id`` = claim id) is an ED visit or an inpatient stay do not count; readings
    without an encounter do."""
    p = inp.period
    t = inp.lines
    acute = t.group_by("claim_id").aggregate(
        _acute=t.setting.isin(list(ACUTE_SETTINGS)).cast("int8").max())
    acute = acute.rename(_c="claim_id")
    parts = []
    for kind in ("systolic", "diastolic"):
        o = obs_hits(inp, sets[kind].loinc)
        if o is not None:
            o = in_window(o, p.start, p.end)
            o = o.filter(o.value > 0)
            o = o.left_join(acute, o.encounter_id == acute._c)
            o = o.filter(o._acute.fill_null(0) == 0)
            parts.append(o.select("person_id", "date", kind=ibis.literal(kind), value=o.value,
                                  label=_number(o.value, 1)))
        codes = m.coded_results.get(kind, [])
        if codes:
            c = _coded(inp, codes, p.start, p.end)
            c = c.join(acute, c.claim_id == acute._c)
            c = c.filter(c._acute == 0)
            parts.append(c.select("person_id", "date", kind=ibis.literal(kind), value=c.value,
                                  label=c.label))
    r = union(parts)
    if r is None:
        return _complete(pop, pop.filter(ibis.literal(False)).select(
            "person_id", num_met=ibis.literal(False), num_reason=ibis.literal(""),
            num_date=ibis.null("date"), num_value=ibis.null("string")), False, "not_met:no_bp")
    r = r.mutate(_rk=ibis.row_number().over(ibis.window(
        group_by=[r.person_id, r.date, r.kind], order_by=[r.value, r.label])))
    r = r.filter(r._rk == 0)
    s = r.filter(r.kind == "systolic").select("person_id", "date", sv=r.value, sl=r.label)
    d = r.filter(r.kind == "diastolic").select(_p="person_id", _d="date", dv=r.value,
                                               dl=r.label)
    days = s.join(d, [s.person_id == d._p, s.date == d._d]).drop("_p", "_d")
    top = _first(days, [days.date.desc()])
    ok = (top.sv < m.thresholds.get("systolic_below", 140)) \
        & (top.dv < m.thresholds.get("diastolic_below", 90))
    found = top.select("person_id", num_met=ok,
                       num_reason=ibis.cases((ok, "met:bp_controlled"),
                                             else_="not_met:bp_not_controlled"),
                       num_date=top.date, num_value=top.sl + "/" + top.dl)
    return _complete(pop, found, False, "not_met:no_bp")


def screening_numerator(inp: Inputs, m: Measure, v: Version, sets: Sets, pop: ibis.Table,
                        visits: ibis.Table) -> ibis.Table:
    """CMS125 (MIPS 112, NQF 2372) and CMS130 (MIPS 113, NQF 0034): the most recent test
    of ``numerator_value_sets`` within its own
    window (from ``lookback_years`` before the period start, or 1 October two years prior,
    to the period end); on a tie the first value set in the list names the reason."""
    p = inp.period
    parts = []
    for rank, key in enumerate(m.numerator_value_sets):
        vs = sets[key]
        lo = p.lookback_start(vs)
        for h in (claim_hits(inp, vs), obs_hits(inp, vs.loinc)):
            if h is None:
                continue
            h = in_window(h, lo, p.end)
            parts.append(h.select("person_id", "date", code=h.code.fill_null(key),
                                  test=ibis.literal(key), rank=ibis.literal(rank, "int64")))
    ev = union(parts)
    if ev is None:
        raise MeasureDefinitionError(f"{m.id}: numerator_value_sets have no codes")
    top = _first(ev, [ev.date.desc(), ev.rank, ev.code])
    found = top.select("person_id", num_met=ibis.literal(True), num_reason="met:" + top.test,
                       num_date=top.date, num_value=top.code)
    return _complete(pop, found, False, "not_met:no_screening")


def _screens(inp: Inputs, m: Measure) -> ibis.Table | None:
    """Depression screens: person_id, date, result (positive / negative / unknown),
    with_plan (G8431), label."""
    parts = []
    tools = [t for t in m.screening_tools if t.loinc is not None]
    o = obs_hits(inp, [t.loinc for t in tools])
    if o is not None:
        text = o.result.fill_null("").lower()
        cases = []
        for tool in tools:
            is_tool = o.code == tool.loinc
            if tool.positive_at_least is not None:
                cases += [(is_tool & (o.value >= tool.positive_at_least), "positive"),
                          (is_tool & (o.value < tool.positive_at_least), "negative")]
            if tool.positive_results:
                cases += [(is_tool & text.isin([r.lower() for r in tool.positive_results]),
                           "positive"),
                          (is_tool & text.isin([r.lower() for r in tool.negative_results]),
                           "negative")]
        label = o.code + " " + ibis.cases((o.value.notnull(), _number(o.value, 1)),
                                          else_=o.result.fill_null(""))
        parts.append(o.select("person_id", "date", result=ibis.cases(*cases, else_="unknown"),
                              with_plan=ibis.literal(False), label=label))
    coded = [t for t in m.screening_tools if t.hcpcs is not None]
    if coded:
        t = inp.lines
        h = t.filter(t.hcpcs_code.isin([c.hcpcs for c in coded]))
        result = ibis.cases(*[(h.hcpcs_code == c.hcpcs, c.result) for c in coded])
        plan = h.hcpcs_code.isin([c.hcpcs for c in coded if c.includes_follow_up])
        parts.append(h.select("person_id", date=h.svc_date, result=result, with_plan=plan,
                              label=h.hcpcs_code))
    return union(parts)


def cms2_numerator(inp: Inputs, m: Measure, v: Version, sets: Sets, pop: ibis.Table,
                   visits: ibis.Table) -> ibis.Table:
    """CMS2 (MIPS 134, NQF 0418; patient-based since the 2023-2024 versions): the most
    recent screen done on a qualifying encounter's date or
    up to ``screen_days_before`` days before it is negative, or positive with a follow-up on
    that encounter's date or up to ``follow_up_days_after`` days after (in the period).
    A positive and a negative screen on the same day count as positive."""
    p = inp.period
    before = m.windows.get("screen_days_before", 14)
    after = m.windows.get("follow_up_days_after", 2)
    sc = _screens(inp, m)
    empty = pop.filter(ibis.literal(False)).select(
        "person_id", num_met=ibis.literal(False), num_reason=ibis.literal(""),
        num_date=ibis.null("date"), num_value=ibis.null("string"))
    if sc is None:
        return _complete(pop, empty, False, "not_met:no_screening")
    vd = visits.select(_k="person_id", _v="date").distinct()
    pairs = sc.join(vd, [sc.person_id == vd._k, sc.date <= vd._v,
                         sc.date >= vd._v - ibis.interval(days=before)])
    # the most recent screen day that belongs to a qualifying encounter
    day = pairs.group_by("person_id").aggregate(_day=pairs.date.max())
    day = day.rename(_dk="person_id")
    on_day = pairs.join(day, [pairs.person_id == day._dk, pairs.date == day._day])
    rank = ibis.cases((on_day.result == "positive", 0), (on_day.result == "negative", 1),
                      else_=2)
    on_day = on_day.mutate(_r=rank, _plan=on_day.with_plan.cast("int8"))
    top = _first(on_day, [on_day._r, on_day._plan.desc(), on_day.label])
    # follow-up evidence on or up to `after` days after an encounter the screen belongs to
    fu_vs = sets["follow_up"]
    fu = dated([claim_hits(inp, fu_vs), rx_hits(inp, fu_vs)])
    if fu is not None:
        fu = in_window(fu, p.start, p.end).select(_f="person_id", _fd="date")
        enc = on_day.filter(on_day.result == "positive").select(_e="person_id", _ed="_v")
        link = enc.join(fu, [enc._e == fu._f, fu._fd >= enc._ed,
                             fu._fd <= enc._ed + ibis.interval(days=after)])
        followed = link.select(_q="_e").distinct()
        top = top.left_join(followed, top.person_id == followed._q)
        has_fu = top._q.notnull()
    else:
        has_fu = ibis.literal(False)
    positive = top.result == "positive"
    met = (top.result == "negative") | (positive & (top.with_plan | has_fu))
    reason = ibis.cases(
        (top.result == "negative", "met:screen_negative"),
        (met, "met:screen_positive_follow_up"),
        (positive, "not_met:positive_no_follow_up"),
        else_="not_met:screen_result_unknown")
    found = top.select("person_id", num_met=met, num_reason=reason, num_date=top.date,
                       num_value=top.label)
    return _complete(pop, found, False, "not_met:no_screening")


NUMERATORS: dict[str, NumeratorFn] = {
    "hba1c_poor_control": cms122_numerator,
    "controlling_bp": cms165_numerator,
    "breast_cancer_screening": screening_numerator,
    "colorectal_cancer_screening": screening_numerator,
    "depression_screening": cms2_numerator,
}


# --- public API ----------------------------------------------------------------------------


def quality_members(tables: Mapping[str, ibis.Table], measure: str, *, period_start: date,
                    period_end: date, version: str | None = None,
                    lines: ibis.Table | None = None) -> ibis.Table:
    """One row per member of the measure's initial population (columns ``OUTPUT_COLUMNS``).

    ``tables`` maps canonical names to Ibis tables: ``member``, ``eligibility`` and
    ``medical_claim`` are required, ``observation`` and ``pharmacy_claim`` optional (see the
    module docstring for what is lost without them).  ``measure`` is an id of
    :data:`MEASURES`; ``version`` picks an eCQM version (``"12"``, ``"v12"``,
    ``"CMS122v12"``), by default the one of the performance year of ``period_end``.

    ``reason`` says why: ``excluded:<kind>``, ``exception:<kind>``, ``met:<evidence>`` /
    ``not_met:<why>``, and for the inverse CMS122 ``numerator:hba1c_gt_9`` /
    ``numerator:hba1c_missing`` / ``numerator:hba1c_no_result`` / ``not_met:hba1c_le_9``.
    ``evidence_date`` / ``evidence_value`` name the deciding evidence (the HbA1c value, the
    blood pressure "138/84", the CPT code of the screening test, the screening score).
    ``lines``: :func:`~valuecare.outcomes.quality_rules.quality_lines` materialised once by
    a caller that evaluates many measures or periods (the pipeline stage does).
    """
    lib = load_measures()
    m = lib.get(measure)
    period = Period(period_start, period_end)
    v = m.version_for(period_end.year, version)
    sets = m.sets_for(v)
    inp = prepare_inputs(tables, period, lines)
    visits = qualifying_visits(inp, sets["qualifying_visit"])
    pop = _population(inp, m, v, sets, visits)
    num = NUMERATORS[m.kind](inp, m, v, sets, pop, visits)

    t = _lj(pop, payer_of(inp))
    t = _lj(t, attributed_provider(visits))
    t = _lj(t, num)
    excl = _exclusions(inp, m, v, sets, pop, visits)
    if excl is None:
        t = t.mutate(ex_reason=ibis.null("string"), ex_date=ibis.null("date"))
    else:
        t = _lj(t, excl)
    exc = _exceptions(inp, m, sets, visits)
    if exc is None:
        t = t.mutate(exc_reason=ibis.null("string"), exc_date=ibis.null("date"))
    else:
        t = _lj(t, exc)

    excluded = t.ex_reason.notnull()
    numerator = ~excluded & t.num_met
    exception = ~excluded & ~numerator & t.exc_reason.notnull()
    return t.select(
        measure=ibis.literal(m.id),
        version=ibis.literal(f"{m.id}v{v.version}"),
        period_start=ibis.literal(period.start),
        period_end=ibis.literal(period.end),
        person_id=t.person_id,
        payer=t.payer,
        provider_npi=t.provider_npi,
        initial_population=ibis.literal(True),
        denominator=ibis.literal(True),
        exclusion=excluded,
        exception=exception,
        numerator=numerator,
        reason=ibis.cases((excluded, t.ex_reason), (exception, t.exc_reason),
                          else_=t.num_reason),
        evidence_date=ibis.cases((excluded, t.ex_date), (exception, t.exc_date),
                                 else_=t.num_date),
        evidence_value=ibis.cases((excluded | exception, ibis.null("string")),
                                  else_=t.num_value),
    )


def summarise(members: ibis.Table, by: list[str] | None = None) -> ibis.Table:
    """Counts and performance rate per group of :func:`quality_members` rows.

    Columns: ``by`` + initial_population, denominator, exclusions, exceptions, numerator,
    performance_denominator (= denominator - exclusions - exceptions) and rate (numerator /
    performance_denominator as float64; null when the performance denominator is 0).
    """
    by = list(by or [])
    unknown = [c for c in by if c not in members.columns]
    if unknown:
        raise InvalidInput(f"cannot group by {', '.join(unknown)}: not a column of the "
                           f"members table ({', '.join(members.columns)})")
    t = members

    def n(col: ibis.Value) -> ibis.Value:
        return col.cast("int64").sum().fill_null(0)

    aggs = dict(initial_population=n(t.initial_population), denominator=n(t.denominator),
                exclusions=n(t.exclusion), exceptions=n(t.exception),
                numerator=n(t.numerator))
    g = t.group_by(by).aggregate(**aggs) if by else t.aggregate(**aggs)
    perf = g.denominator - g.exclusions - g.exceptions
    g = g.mutate(performance_denominator=perf)
    rate = ibis.cases((g.performance_denominator > 0,
                       g.numerator.cast("float64") / g.performance_denominator.cast("float64")),
                      else_=ibis.null("float64"))
    return g.mutate(rate=rate).order_by(by) if by else g.mutate(rate=rate)


def _measure_fn(measure_id: str, doc: str) -> Callable[..., ibis.Table]:
    def run(tables: Mapping[str, ibis.Table], *, period_start: date, period_end: date,
            version: str | None = None) -> ibis.Table:
        return quality_members(tables, measure_id, period_start=period_start,
                               period_end=period_end, version=version)

    run.__name__ = run.__qualname__ = measure_id.lower()
    run.__doc__ = doc + "\n\nSame arguments and columns as :func:`quality_members`."
    return run


cms122 = _measure_fn("CMS122", "CMS122 Diabetes: Glycemic Status Assessment > 9% (inverse; "
                     "MIPS 001, NQF 0059), eCQM v11-v14 (2023-2026).")
cms165 = _measure_fn("CMS165", "CMS165 Controlling High Blood Pressure (MIPS 236, NQF 0018), "
                     "eCQM v11-v14 (2023-2026).")
cms125 = _measure_fn("CMS125", "CMS125 Breast Cancer Screening (MIPS 112, NQF 2372), eCQM "
                     "v10-v14 (2022-2026); women 52-74 through v13, 42-74 from v14.")
cms130 = _measure_fn("CMS130", "CMS130 Colorectal Cancer Screening (MIPS 113, NQF 0034), eCQM "
                     "v10-v14 (2022-2026); 46-75 at the end of the period from v11.")
cms2 = _measure_fn("CMS2", "CMS2 Preventive Care and Screening: Screening for Depression and "
                   "Follow-Up Plan (MIPS 134, NQF 0418), eCQM v12-v14 (2023-2025).")
