"""Primary-care population segments: one segment per enrolled member-year.

Porter, Pabo & Lee ("Redesigning primary care", Health Affairs 2013) organise primary care
around segments of patients with similar needs - healthy adults, adults with chronic
conditions, the frail elderly - each a cycle of care for a year.  A member enrolled in a
year (at least one member month) gets the first segment, in priority order, whose rule
fits (age as of 31 December, the HEDIS convention; qualifying diagnoses in the year).
Services are the segment's primary-care services not already in another cycle.
"""

from __future__ import annotations

import ibis

from valuecare.conditions.chronic import first_claim, plurality
from valuecare.conditions.codes import any_code_in, codeset_pred
from valuecare.conditions.episodes import with_death
from valuecare.conditions.library import Condition
from valuecare.conditions.triggers import left_join_keys


def segment_cycles(lines: ibis.Table, member_months: ibis.Table, members: ibis.Table,
                   conds: list[Condition], deaths: ibis.Table | None) -> ibis.Table | None:
    """One cycle per member-year in its segment (members outside every segment: none)."""
    if not conds:
        return None
    mm = member_months
    my = mm.select("person_id", year=mm.year.cast("int32")).distinct()
    mem = members.select(_mp=members.person_id, _by=members.birth_date.year())
    my = my.join(mem, my.person_id == mem._mp)
    my = my.mutate(age=my.year - my._by).drop("_mp", "_by")
    active = lines.filter(lines.active).mutate(year=lines.svc_date.year().cast("int32"))
    flags = []
    for cond in conds:
        seg = cond.segment
        if seg is None or not seg.any_diagnoses:
            continue
        hit = active.filter(any_code_in(active.dx_all, seg.any_diagnoses))
        f = hit.group_by(["person_id", "year"]).aggregate().mutate(
            **{f"_dx_{cond.id}": ibis.literal(True)})
        my = left_join_keys(my, f, ["person_id", "year"])
        flags.append(cond.id)
    branches = []
    for cond in conds:
        seg = cond.segment
        if seg is None:
            continue
        pred = (my.age >= seg.min_age) & (my.age <= seg.max_age)
        if seg.any_diagnoses:
            has = my[f"_dx_{cond.id}"].fill_null(False)
            if seg.age_alone is not None:
                has = has | (my.age >= seg.age_alone)
            pred = pred & has
        branches.append((pred, cond.id))
    my = my.mutate(segment=ibis.cases(*branches, else_=ibis.null("string")))
    my = my.filter(my.segment.notnull()).select("person_id", "year", "segment")
    parts = []
    for cond in conds:
        members_c = my.filter(my.segment == cond.id)
        inc = active.filter(codeset_pred(active, cond.services.include))
        inc = inc.semi_join(members_c, ["person_id", "year"])
        trig = first_claim(inc, ["person_id", "year"])
        acc = plurality(inc, ["person_id", "year"])
        c = left_join_keys(left_join_keys(members_c, trig, ["person_id", "year"]), acc,
                           ["person_id", "year"])
        start = ibis.date(c.year, 1, 1)
        parts.append(c.select(
            cycle_id=ibis.literal(cond.id + ":") + c.person_id + ":"
            + start.strftime("%Y-%m-%d"),
            person_id=c.person_id, condition=ibis.literal(cond.id),
            cycle_kind=ibis.literal(cond.kind), year=c.year, start_date=start,
            end_date=ibis.date(c.year, 12, 31), anchor_start_date=ibis.null("date"),
            anchor_end_date=ibis.null("date"), trigger_claim_id=c.trigger_claim_id,
            payer=c.payer, accountable_npi=c.accountable_npi,
            facility_npi=ibis.null("string"), warranty_end_date=ibis.null("date"),
        ))
    out = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return with_death(out, deaths)
