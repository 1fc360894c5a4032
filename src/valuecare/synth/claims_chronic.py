"""Chronic and episodic conditions: heart failure admissions, diabetes and depression care
years, and low back pain episodes with planted low-value imaging.

Heart failure: ~25-30 HF admissions per 100 beneficiaries with HF a year, 30-day
readmission ~20%, 90-day mortality after admission ~12-15% (CMS HF measures; Jencks 2009).
Diabetes: 2-4 visits and HbA1c tests a year (ADA Standards of Care).  Low back pain: ~7% of
adults seek care a year; imaging within 6 weeks without red flags is a Choosing Wisely /
HEDIS LBP "low-value" service (HEDIS measure LBP).
"""

from __future__ import annotations

import numpy as np

from valuecare.synth import params as P
from valuecare.synth.claims_surgery import _pt_course
from valuecare.synth.claims_utilization import (
    GENERAL_DRGS,
    inpatient_stay,
    office_visits,
    vitals_request,
)
from valuecare.synth.context import Context


def heart_failure(ctx: Context) -> None:
    m, prov, rng = ctx.m, ctx.prov, ctx.rng
    has = m.cond[:, P.COND["heart_failure"]]
    rate = (has * 0.28 * m.frailty**0.5)[:, None] * np.ones(ctx.years)
    person, days = ctx.covered_events(rate)
    n = len(person)
    if n == 0:
        return
    att = np.where(rng.random(n) < 0.4, ctx.pick("cardiology", person),
                   ctx.pick("hospitalist", person))
    hosp = np.where(rng.random(n) < 0.75, m.hospital[person], ctx.pick("hospital", person))
    cyc = ctx.new_cycles(n)
    cm, rm, mm, cost = (prov.complication[att], prov.readmission[att], prov.mortality[att],
                        prov.cost[att])
    comp = rng.random(n) < np.minimum(0.10 * cm, 0.6)
    k = rng.random(n)
    drg = np.where(comp | (k < 0.35), "291", np.where(k < 0.75, "292", "293")).astype(object)
    cents = np.select([drg == "291", drg == "292"], [900_000.0, 630_000.0], 450_000.0) * 1.3
    los = np.maximum(1, np.rint(np.select([drg == "291", drg == "292"], [5, 4], 3) * cost
                                + rng.integers(-1, 2, n))).astype(np.int64)
    dx1 = np.array([c for c in P.CONDITIONS[P.COND["heart_failure"]][1]], dtype=object)[
        rng.integers(0, 3, n)]
    dies90 = rng.random(n) < np.minimum(0.13 * mm, 0.8)
    in_hosp = dies90 & (rng.random(n) < 0.25)
    u = rng.random(n)
    disp = np.where(u < 0.16 * cost, "03", np.where(u < 0.16 * cost + 0.25, "06", "01"))
    disp = np.where(in_hosp, "20", disp).astype(object)
    dday = np.where(in_hosp, days + los, days + los + rng.integers(1, 90, n))
    m.death[person[dies90]] = np.minimum(m.death[person[dies90]], dday[dies90])
    seq = inpatient_stay(ctx, person, days, drg, dx1, cents, los, hosp, att,
                         emergency=rng.random(n) < 0.85, cycle=cyc, disposition=disp,
                         dx2=np.where(comp, "N179", None), dx2_poa=np.where(comp, "N", None))
    discharge = days + los
    alive = ~in_hosp
    re = alive & (rng.random(n) < np.minimum(0.20 * rm, 0.8))
    sel = np.flatnonzero(re)
    hf_again = rng.random(len(sel)) < 0.6
    g = rng.integers(0, len(GENERAL_DRGS), len(sel))
    rdrg = np.where(hf_again, "291", np.array([d[0] for d in GENERAL_DRGS], object)[g])
    rdx = np.where(hf_again, dx1[sel], np.array([d[1] for d in GENERAL_DRGS], object)[g])
    rc = np.where(hf_again, 900_000.0, np.array([d[2] for d in GENERAL_DRGS])[g])
    inpatient_stay(ctx, person[sel], discharge[sel] + rng.integers(2, 31, len(sel)),
                   rdrg.astype(object), rdx.astype(object), rc, np.full(len(sel), 4),
                   hosp[sel], att[sel], emergency=np.ones(len(sel), bool), cycle=cyc[sel],
                   disposition=np.full(len(sel), "01", dtype=object),
                   surgical=np.zeros(len(sel), bool))
    fu = alive & (rng.random(n) < 0.55)
    sel = np.flatnonzero(fu)
    fday = discharge[sel] + rng.integers(3, 14, len(sel))
    doc = ctx.pick("cardiology", person[sel])
    s = office_visits(ctx, person[sel], fday, doc, dx1[sel], cyc[sel])
    vitals_request(ctx, person[sel], fday, s)
    ctx.cycles.append(dict(
        cycle=cyc, person=person, condition="heart_failure", start=days, end=discharge + 90,
        trigger=seq, accountable=att, facility=hosp, complication=comp, index_day=days,
        index_end=discharge, revision=np.full(n, -1, dtype=np.int64),
        reoperation=np.full(n, None, dtype=object)))
    # chronic HF follow-up with cardiology (~2 visits a year)
    rate = (has * 2.0)[:, None] * np.ones(ctx.years)
    person, days = ctx.events(rate)
    doc = ctx.pick("cardiology", person)
    s = office_visits(ctx, person, days, doc, np.full(len(person), "I5022", dtype=object))
    vitals_request(ctx, person, days, s)


def _care_years(ctx: Context, cidx: int, condition: str, visits_mean: float,
                specialist: str, p_specialist: np.ndarray) -> tuple[np.ndarray, ...]:
    """Chronic-year cycles: each member with the condition gets one cycle per calendar year,
    made of 1 + Poisson(visits_mean) visits coded with the condition."""
    m, rng = ctx.m, ctx.rng
    members = np.flatnonzero(m.cond[:, cidx])
    ny = ctx.years
    person_y = np.repeat(members, ny)
    year = np.tile(np.arange(ny), len(members))
    cyc_of = ctx.new_cycles(len(person_y))
    counts = 1 + rng.poisson(visits_mean, len(person_y))
    rep = np.repeat(np.arange(len(person_y)), counts)
    person = person_y[rep]
    y0 = ctx.year_start(year[rep])
    days = y0 + (rng.random(len(rep)) * 365).astype(np.int64)
    spec = rng.random(len(rep)) < p_specialist[person]
    doc = m.pcp[person].copy()
    doc[spec] = ctx.pick(specialist, person[spec])
    codes = np.array(P.CONDITIONS[cidx][1], dtype=object)
    member_code = codes[(m.offset + person) % len(codes)]
    cyc = cyc_of[rep]
    seq = office_visits(ctx, person, days, doc, member_code, cyc,
                        codes=(("99213", 9200, 0.5), ("99214", 13000, 0.5)))
    vitals_request(ctx, person, days, seq)
    ctx.cycle_visits.append({"seq": seq, "cycle": cyc, "day": days, "doc": doc,
                             "person": person})
    year_end = ctx.year_start(year + 1) - 1
    ctx.cycles.append(dict(
        cycle=cyc_of, person=person_y, condition=condition, start=np.full(len(person_y), -1),
        end=year_end, trigger=np.full(len(person_y), -1), accountable=np.full(len(person_y), -1),
        facility=np.full(len(person_y), -1), complication=np.full(len(person_y), None, object),
        index_day=np.full(len(person_y), -1), index_end=np.full(len(person_y), -1),
        revision=np.full(len(person_y), -1), reoperation=np.full(len(person_y), None, object)))
    return person, days, seq, cyc, member_code


def diabetes(ctx: Context) -> None:
    """Diabetes care years: visits with HbA1c (83036) at the lab; results in observation."""
    m, rng = ctx.m, ctx.rng
    insulin = rng.random(m.n) < 0.25
    ctx.insulin = insulin
    person, days, _, cyc, code = _care_years(
        ctx, P.COND["diabetes"], "diabetes", 1.6, "endocrinology",
        np.where(insulin, 0.45, 0.08))
    lab = ctx.pick("lab", person)
    alb = rng.random(len(person)) < 0.3
    seq = ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "81", "dx1": code,
         "billing": lab, "cycle": cyc},
        [{"hcpcs": "83036", "cents": 970.0}, {"hcpcs": "82043", "cents": 800.0,
                                              "present": alb}])
    ctx.obs.append({"kind": "a1c", "person": person, "day": days, "seq": seq,
                    "insulin": insulin[person]})
    # non-diabetic screening HbA1c for some adults (USPSTF prediabetes screening)
    age = m.age0[:, None] + np.arange(ctx.years)[None, :]
    rate = (~m.cond[:, P.COND["diabetes"]])[:, None] * (age >= 35) * 0.15
    person, days = ctx.events(rate)
    lab = ctx.pick("lab", person)
    seq = ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "81", "dx1": "Z131",
         "billing": lab, "plist": False}, [{"hcpcs": "83036", "cents": 970.0}])
    ctx.obs.append({"kind": "a1c_screen", "person": person, "day": days, "seq": seq})


def depression(ctx: Context) -> None:
    """Depression care years: PCP visits with PHQ-9 (LOINC 44261-6), psychotherapy."""
    m, rng = ctx.m, ctx.rng
    person, days, seq, cyc, code = _care_years(
        ctx, P.COND["depression"], "depression", 1.0, "psychiatry", np.full(m.n, 0.15))
    ctx.obs.append({"kind": "phq9", "person": person, "day": days, "seq": seq})
    therapy = rng.random(m.n) < 0.35
    rate = (m.cond[:, P.COND["depression"]] & therapy)[:, None] * np.full(ctx.years, 4.0)
    p2, d2 = ctx.events(rate)
    psych = ctx.pick("psychiatry", p2)
    ctx.claims.add(
        {"person": p2, "start": d2, "end": d2, "pos": "11", "dx1": "F331",
         "rendering": psych, "billing": psych},
        [{"hcpcs": "90837", "cents": 16000.0}])


def low_back_pain(ctx: Context) -> None:
    """Low back pain episodes; imaging (72148 MRI / 72100 X-ray) within 6 weeks is planted
    low-value care, far more often when the treating PCP is a planted low-value orderer."""
    m, prov, rng = ctx.m, ctx.prov, ctx.rng
    age = m.age0[:, None] + np.arange(ctx.years)[None, :]
    rate = (age >= 18) * 0.07 * (m.frailty**0.3)[:, None]
    person, days = ctx.covered_events(rate)
    n = len(person)
    if n == 0:
        return
    doc = m.pcp[person].copy()
    dx1 = ctx.choice(["M5450", "M5459", "M5441", "M5442"], n, [0.55, 0.15, 0.15, 0.15])
    cyc = ctx.new_cycles(n)
    seq = office_visits(ctx, person, days, doc, dx1, cyc,
                        codes=(("99213", 9200, 0.6), ("99214", 13000, 0.4)))
    p_img = np.where(prov.low_value[doc], P.LBP_IMAGING_P[1], P.LBP_IMAGING_P[0])
    img = rng.random(n) < p_img
    late = ~img & (rng.random(n) < 0.05)   # imaging after 6 weeks: not low value by the rule
    offset = np.where(img, rng.integers(0, 42, n), rng.integers(43, 120, n))
    sel = np.flatnonzero(img | late)
    mri = rng.random(len(sel)) < 0.4
    rad = ctx.pick("radiology", person[sel])
    center = ctx.pick("imaging_center", person[sel])
    iday = days[sel] + offset[sel]
    ctx.claims.add(
        {"person": person[sel], "start": iday, "end": iday, "pos": "11", "dx1": dx1[sel],
         "rendering": rad, "billing": center, "facility": center, "cycle": cyc[sel],
         "plist": False},
        [{"hcpcs": np.where(mri, "72148", "72100").astype(object),
          "cents": np.where(mri, 22000.0, 4000.0), "lv": img[sel], "lv_npi": doc[sel]}])
    pt = rng.random(n) < 0.25
    sel = np.flatnonzero(pt)
    _pt_course(ctx, person[sel], days[sel] + rng.integers(3, 20, len(sel)),
               np.full(len(sel), 6), dx1[sel], cyc[sel])
    ctx.cycles.append(dict(
        cycle=cyc, person=person, condition="low_back_pain", start=days, end=days + 90,
        trigger=seq, accountable=doc, facility=np.full(n, -1),
        complication=np.full(n, None, object), index_day=np.full(n, -1),
        index_end=np.full(n, -1), revision=np.full(n, -1), reoperation=np.full(n, None, object)))
