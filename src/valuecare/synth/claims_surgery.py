"""Surgical care cycles with planted outcomes: hip/knee replacement, CABG, breast cancer.

Base rates (before each provider's latent multiplier) are national figures, approximate:
THA/TKA complications ~4% (CMS THA/TKA complication measure ~2.5-3% + VTE), 90-day
mortality ~0.4%, revision within 2 years ~1-2% (AJRR 2022); CABG operative mortality ~2-3%
(STS 2022), major complication ~10%; breast-conserving surgery re-excision ~15-20%
(ASBrS / Landercasper 2015).  Efficiency (cost_mult) stretches length of stay and post-acute
use; quality multipliers scale complication, readmission and death probabilities.
"""

from __future__ import annotations

import numpy as np

from valuecare.synth import params as P
from valuecare.synth.claims_utilization import ed_visits, inpatient_stay, office_visits
from valuecare.synth.context import Context

# joint -> (OA codes right/left, PCS replacement right/left options, CPT, revision CPT,
#           removal PCS right/left, infection T84.5x right/left, dislocation right/left)
_JOINT = {
    "hip": (("M1611", "M1612"), (("0SR9019", "0SR901A", "0SR904A"),
                                 ("0SRB019", "0SRB01A", "0SRB04A")),
            "27130", ("27134",), ("0SP90JZ", "0SPB0JZ"), ("T8451XA", "T8452XA"),
            ("T84020A", "T84021A"), "01214", "73502"),
    "knee": (("M1711", "M1712"), (("0SRC0J9", "0SRC0JA"), ("0SRD0J9", "0SRD0JA")),
             "27447", ("27487", "27486"), ("0SPC0JZ", "0SPD0JZ"), ("T8453XA", "T8454XA"),
             (None, None), "01402", "73562"),
}
#: Annual rate of replacement among members with hip / knee OA aged 45+ (gives ~1.1% of
#: Medicare beneficiaries a year; ~1.3% in CMS CJR-era data).
JR_RATE = {"hip": 0.05, "knee": 0.055}
#: Elective surgery concentrates on high-volume surgeons: volume weights are raised to
#: this power when patients choose a surgeon.
SURGEON_SKEW = 1.6


def _record(ctx: Context, **kw: object) -> None:
    ctx.cycles.append(kw)


def _pt_course(ctx: Context, person: np.ndarray, start: np.ndarray, visits: np.ndarray,
               dx1: np.ndarray, cycle: np.ndarray | int) -> None:
    """Outpatient physical therapy: evaluation (97161) then ~weekly visits (97110, 97140)."""
    if len(person) == 0:
        return
    pt = ctx.pick("physical_therapy", person)
    rep = np.repeat(np.arange(len(person)), visits)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(visits) - visits, visits)
    days = start[rep] + k * 4 + ctx.rng.integers(0, 3, len(rep))
    cyc = np.broadcast_to(np.asarray(cycle), person.shape)[rep]
    ctx.claims.add(
        {"person": person[rep], "start": days, "end": days, "pos": "11", "dx1": dx1[rep],
         "rendering": pt[rep], "billing": pt[rep], "cycle": cyc, "plist": False},
        [{"hcpcs": "97161", "cents": 10000.0, "present": k == 0},
         {"hcpcs": "97110", "units": 2, "cents": 6000.0},
         {"hcpcs": "97140", "cents": 3000.0}])


def joint_replacement(ctx: Context) -> None:
    m, prov, rng = ctx.m, ctx.prov, ctx.rng
    for joint, cidx in (("hip", P.COND["hip_oa"]), ("knee", P.COND["knee_oa"])):
        oa, pcs, cpt, rev_cpt, removal, infection, dislocation, anes, xray = _JOINT[joint]
        age = m.age0[:, None] + np.arange(ctx.years)[None, :]
        rate = np.minimum((m.cond[:, cidx][:, None] & (age >= 45)) * JR_RATE[joint]
                          * ctx.episode_scale, 0.95)
        person, days = ctx.covered_events(rate, first_only=True)
        n = len(person)
        if n == 0:
            continue
        side = rng.integers(0, 2, n)
        dx1 = np.array(oa, dtype=object)[side]
        surgeon = ctx.pick("ortho", person, SURGEON_SKEW)
        hosp = prov.home[surgeon]
        cyc = ctx.new_cycles(n)
        cm, rm, mm, cost = (prov.complication[surgeon], prov.readmission[surgeon],
                            prov.mortality[surgeon], prov.cost[surgeon])
        pre_day = days - rng.integers(14, 80, n)
        pre_seq = ctx.claims.add(
            {"person": person, "start": pre_day, "end": pre_day, "pos": "11", "dx1": dx1,
             "rendering": surgeon, "billing": surgeon, "cycle": cyc, "em": True},
            [{"hcpcs": "99204", "cents": 17000.0}, {"hcpcs": xray, "cents": 4500.0}])
        clear_day = days - rng.integers(5, 30, n)
        office_visits(ctx, person, clear_day, m.pcp[person],
                      np.full(n, "Z01818", dtype=object), cyc,
                      codes=(("99214", 13000, 1.0),))

        comp = rng.random(n) < np.minimum(0.04 * cm, 0.6)
        ctype = rng.random(n)  # <0.35 infection, <0.65 dislocation (hip) else VTE
        infect = comp & (ctype < 0.35)
        disloc = comp & (ctype >= 0.35) & (ctype < 0.65) & (joint == "hip")
        vte = comp & ~infect & ~disloc
        vte_in_stay = vte & (rng.random(n) < 0.5)
        pcs_opts = np.array(pcs[0] + pcs[1], dtype=object)
        k = rng.integers(0, len(pcs[0]), n)
        px1 = pcs_opts[side * len(pcs[0]) + k]
        los = np.maximum(1, np.rint((2 + 3 * vte_in_stay) * cost + rng.integers(0, 2, n))
                         ).astype(np.int64)
        drg = np.where(vte_in_stay, "469", "470").astype(object)
        cents = np.where(vte_in_stay, 2_300_000.0, 1_500_000.0)
        old = m.age_at(days, person) >= 75
        p_snf = np.minimum(0.10 * cost**3 * np.where(old, 1.8, 1.0), 0.7)
        u = rng.random(n)
        disp = np.where(u < p_snf, "03", np.where(u < p_snf + 0.40, "06", "01")).astype(object)
        dx2 = np.where(vte_in_stay, "I2699", None)
        snf_days = np.maximum(5, np.rint(rng.integers(8, 18, n) * cost)).astype(np.int64)
        seq = inpatient_stay(ctx, person, days, drg, dx1, cents, los, hosp, surgeon,
                             emergency=np.zeros(n, dtype=bool), cycle=cyc, disposition=disp,
                             px1=px1, dx2=dx2, dx2_poa=np.where(vte_in_stay, "N", None),
                             surgical=np.ones(n, dtype=bool), snf_days=snf_days)
        ctx.claims.add(
            {"person": person, "start": days, "end": days, "pos": "21", "dx1": dx1,
             "rendering": surgeon, "billing": surgeon, "facility": hosp, "cycle": cyc,
             "plist": False},
            [{"hcpcs": cpt, "cents": 142000.0 if joint == "hip" else 135000.0}])
        anes_doc = ctx.pick("anesthesiology", person)
        ctx.claims.add(
            {"person": person, "start": days, "end": days, "pos": "21", "dx1": dx1,
             "rendering": anes_doc, "billing": anes_doc, "facility": hosp, "cycle": cyc,
             "plist": False},
            [{"hcpcs": anes, "units": 12, "cents": 50000.0}])
        discharge = days + los
        home = disp == "01"
        _pt_course(ctx, person[home], discharge[home] + 5, rng.integers(8, 15, int(home.sum())),
                   dx1[home], cyc[home])

        # complications after discharge: infection / VTE readmission, dislocation in the ED
        post = infect | (vte & ~vte_in_stay)
        when = discharge + rng.integers(4, 28, n)
        inf_code = np.array(infection, dtype=object)[side]
        pdx = np.where(infect, inf_code, "I2699").astype(object)
        pdrg = np.where(infect, "863", "176").astype(object)
        pc = np.where(infect, 850_000.0, 650_000.0)
        sel = np.flatnonzero(post)
        inpatient_stay(ctx, person[sel], when[sel], pdrg[sel], pdx[sel], pc[sel],
                       np.full(len(sel), 4), hosp[sel], surgeon[sel],
                       emergency=np.ones(len(sel), dtype=bool), cycle=cyc[sel],
                       disposition=np.full(len(sel), "01", dtype=object))
        if joint == "hip":
            sel = np.flatnonzero(disloc)
            ddx = np.array(dislocation, dtype=object)[side[sel]]
            ed_visits(ctx, person[sel], when[sel], ddx, cyc[sel])
            ctx.claims.add(
                {"person": person[sel], "start": when[sel], "end": when[sel], "pos": "23",
                 "dx1": ddx, "rendering": surgeon[sel], "billing": surgeon[sel],
                 "facility": hosp[sel], "cycle": cyc[sel], "plist": False},
                [{"hcpcs": "27265", "cents": 40000.0}])
        # unrelated readmissions
        re = rng.random(n) < np.minimum(0.035 * rm, 0.5)
        sel = np.flatnonzero(re)
        rdrg = ctx.choice(["392", "690", "603", "193"], len(sel))
        rdx = np.select([rdrg == "392", rdrg == "690", rdrg == "603"],
                        ["K5290", "N390", "L03116"], "J189").astype(object)
        inpatient_stay(ctx, person[sel], discharge[sel] + rng.integers(2, 30, len(sel)), rdrg,
                       rdx, np.full(len(sel), 550_000.0), np.full(len(sel), 3), hosp[sel],
                       ctx.pick("hospitalist", person[sel]),
                       emergency=np.ones(len(sel), dtype=bool), cycle=cyc[sel],
                       disposition=np.full(len(sel), "01", dtype=object))
        # deaths within 90 days
        dies = rng.random(n) < 0.004 * mm * np.where(m.age_at(days, person) >= 80, 2.0, 1.0)
        dday = days + rng.integers(3, 90, n)
        m.death[person[dies]] = np.minimum(m.death[person[dies]], dday[dies])
        # follow-up visit ~1 year later (PROM follow-up encounter)
        fu = days + rng.integers(330, 400, n)
        fu_seq = ctx.claims.add(
            {"person": person, "start": fu, "end": fu, "pos": "11", "dx1": "Z96651"
             if joint == "knee" else "Z96641", "rendering": surgeon, "billing": surgeon,
             "plist": False},
            [{"hcpcs": "99213", "cents": 9200.0}])
        # revision within 2 years
        rv = rng.random(n) < np.minimum((0.012 + 0.25 * infect) * cm**0.5, 0.9)
        rday = days + rng.integers(60, 700, n)
        sel = np.flatnonzero(rv)
        rev_seq = np.full(n, -1, dtype=np.int64)
        if len(sel):
            rpx1 = np.array(removal, dtype=object)[side[sel]]
            rs = inpatient_stay(ctx, person[sel], rday[sel], np.full(len(sel), "467", object),
                                dx1[sel], np.full(len(sel), 1_900_000.0), np.full(len(sel), 3),
                                hosp[sel], surgeon[sel], emergency=np.zeros(len(sel), bool),
                                cycle=-1, disposition=np.full(len(sel), "06", dtype=object),
                                px1=rpx1, surgical=np.ones(len(sel), bool))
            rev_seq[sel] = rs
            ctx.claims.add(
                {"person": person[sel], "start": rday[sel], "end": rday[sel], "pos": "21",
                 "dx1": np.where(infect[sel], inf_code[sel], dx1[sel]).astype(object),
                 "rendering": surgeon[sel], "billing": surgeon[sel], "facility": hosp[sel],
                 "plist": False},
                [{"hcpcs": ctx.choice(rev_cpt, len(sel)), "cents": 195000.0}])
        quality = 1.0 / np.sqrt(cm)
        ctx.obs.append({"kind": "prom_" + joint, "person": person, "pre_day": pre_day,
                        "pre_seq": pre_seq, "fu_day": fu, "fu_seq": fu_seq,
                        "quality": quality, "complication": comp})
        _record(ctx, cycle=cyc, person=person, condition="hip_knee", start=pre_day,
                end=discharge + 90, trigger=seq, accountable=surgeon, facility=hosp,
                complication=comp, index_day=days, index_end=discharge, revision=rev_seq,
                reoperation=np.full(n, None, dtype=object))


def cabg(ctx: Context) -> None:
    m, prov, rng = ctx.m, ctx.prov, ctx.rng
    age = m.age0[:, None] + np.arange(ctx.years)[None, :]
    rate = np.minimum((m.cond[:, P.COND["cad"]][:, None] & (age >= 50)) * 0.008
                      * ctx.episode_scale, 0.95)
    person, days = ctx.covered_events(rate, first_only=True)
    n = len(person)
    if n == 0:
        return
    surgeon = ctx.pick("cardiac_surgery", person, SURGEON_SKEW)
    hosp = prov.home[surgeon]
    cyc = ctx.new_cycles(n)
    cm, rm, mm, cost = (prov.complication[surgeon], prov.readmission[surgeon],
                        prov.mortality[surgeon], prov.cost[surgeon])
    cardiologist = ctx.pick("cardiology", person)
    pre_day = days - rng.integers(7, 40, n)
    office_visits(ctx, person, pre_day, cardiologist, np.full(n, "I2510", dtype=object), cyc,
                  codes=(("99214", 13000, 1.0),))
    comp = rng.random(n) < np.minimum(0.10 * cm, 0.7)
    in_stay = comp & (rng.random(n) < 0.7)
    cath = rng.random(n) < 0.4
    drg = np.select([cath & in_stay, cath, in_stay], ["233", "234", "235"], "236").astype(object)
    cents = np.select([cath & in_stay, cath, in_stay], [5_000_000.0, 3_600_000.0, 4_200_000.0],
                      2_900_000.0)
    base_los = np.select([cath & in_stay, cath, in_stay], [12, 8, 9], 6)
    los = np.maximum(3, np.rint(base_los * cost)).astype(np.int64)
    comp_code = ctx.choice(["N179", "I639", "T8142XA"], n)
    u = rng.random(n)
    p_snf = np.minimum(0.15 * cost**2, 0.6)
    disp = np.where(u < p_snf, "03", np.where(u < p_snf + 0.5, "06", "01")).astype(object)
    seq = inpatient_stay(ctx, person, days, drg, np.full(n, "I2510", dtype=object), cents, los,
                         hosp, surgeon, emergency=np.zeros(n, dtype=bool), cycle=cyc,
                         disposition=disp, px1=np.full(n, "02100Z9", dtype=object),
                         dx2=np.where(in_stay, comp_code, None),
                         dx2_poa=np.where(in_stay, "N", None), surgical=np.ones(n, dtype=bool))
    kind = rng.random(n)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "21", "dx1": "I2510",
         "rendering": surgeon, "billing": surgeon, "facility": hosp, "cycle": cyc,
         "plist": False},
        [{"hcpcs": np.where(kind < 0.1, "33510", "33533").astype(object),
          "cents": np.where(kind < 0.1, 210000.0, 230000.0)},
         {"hcpcs": "33518", "cents": 60000.0, "present": kind >= 0.4}])
    anes_doc = ctx.pick("anesthesiology", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "21", "dx1": "I2510",
         "rendering": anes_doc, "billing": anes_doc, "facility": hosp, "cycle": cyc,
         "plist": False},
        [{"hcpcs": "00567", "units": 20, "cents": 90000.0}])
    discharge = days + los
    post = comp & ~in_stay
    sel = np.flatnonzero(post)
    inpatient_stay(ctx, person[sel], discharge[sel] + rng.integers(3, 28, len(sel)),
                   np.full(len(sel), "863", object), np.full(len(sel), "T8142XA", object),
                   np.full(len(sel), 850_000.0), np.full(len(sel), 5), hosp[sel], surgeon[sel],
                   emergency=np.ones(len(sel), bool), cycle=cyc[sel],
                   disposition=np.full(len(sel), "01", dtype=object))
    re = rng.random(n) < np.minimum(0.10 * rm, 0.6)
    sel = np.flatnonzero(re)
    inpatient_stay(ctx, person[sel], discharge[sel] + rng.integers(2, 30, len(sel)),
                   np.full(len(sel), "291", object), np.full(len(sel), "I5022", object),
                   np.full(len(sel), 900_000.0), np.full(len(sel), 4), hosp[sel],
                   ctx.pick("cardiology", person[sel]), emergency=np.ones(len(sel), bool),
                   cycle=cyc[sel], disposition=np.full(len(sel), "01", dtype=object))
    # cardiac rehabilitation (93798), ~45% participate, 18 sessions
    rehab = rng.random(n) < 0.45
    sel = np.flatnonzero(rehab)
    rep = np.repeat(sel, 18)
    k = np.tile(np.arange(18), len(sel))
    rday = discharge[rep] + 21 + k * 2 + k // 3
    ctx.claims.add(
        {"person": person[rep], "start": rday, "end": rday, "claim_type": "institutional",
         "bill_type": "131", "dx1": "Z951", "billing": hosp[rep], "facility": hosp[rep],
         "cycle": cyc[rep], "plist": False},
        [{"hcpcs": "93798", "rev": "0943", "cents": 12000.0}])
    dies = rng.random(n) < 0.025 * mm * np.where(m.age_at(days, person) >= 80, 1.5, 1.0)
    dday = days + rng.integers(1, 90, n)
    m.death[person[dies]] = np.minimum(m.death[person[dies]], dday[dies])
    _record(ctx, cycle=cyc, person=person, condition="cabg", start=pre_day,
            end=discharge + 90, trigger=seq, accountable=surgeon, facility=hosp,
            complication=comp, index_day=days, index_end=discharge,
            revision=np.full(n, -1, dtype=np.int64), reoperation=np.full(n, None, dtype=object))


def breast_cancer(ctx: Context) -> None:
    m, prov, rng = ctx.m, ctx.prov, ctx.rng
    age = m.age0[:, None] + np.arange(ctx.years)[None, :]
    female = (m.sex == 1)[:, None]
    # SEER: incidence ~130/100,000 women overall, ~400-450/100,000 at 60-79.
    rate = np.minimum(female * np.select([age >= 50, age >= 40], [0.004, 0.0015], 0.0)
                      * ctx.episode_scale, 0.95)
    person, d0 = ctx.covered_events(rate, first_only=True)
    n = len(person)
    if n == 0:
        return
    side = rng.integers(0, 2, n)
    dx1 = np.array(["C50911", "C50912"], dtype=object)[side]
    surgeon = ctx.pick("breast_surgery", person, SURGEON_SKEW)
    hosp = prov.home[surgeon]
    cyc = ctx.new_cycles(n)
    cm, cost = prov.complication[surgeon], prov.cost[surgeon]
    rad, center = ctx.pick("radiology", person), ctx.pick("imaging_center", person)
    ctx.claims.add(
        {"person": person, "start": d0, "end": d0, "pos": "11", "dx1": "R928",
         "rendering": rad, "billing": center, "facility": center, "cycle": cyc, "plist": False},
        [{"hcpcs": "77066", "cents": 15000.0}])
    bday = d0 + rng.integers(3, 10, n)
    ctx.claims.add(
        {"person": person, "start": bday, "end": bday, "pos": "11", "dx1": "R928",
         "rendering": rad, "billing": center, "facility": center, "cycle": cyc, "plist": False},
        [{"hcpcs": "19083", "cents": 60000.0}])
    lab = ctx.pick("lab", person)
    ctx.claims.add(
        {"person": person, "start": bday + 2, "end": bday + 2, "pos": "81", "dx1": dx1,
         "billing": lab, "cycle": cyc, "plist": False},
        [{"hcpcs": "88305", "cents": 7000.0}])
    office_visits(ctx, person, bday + rng.integers(5, 15, n), surgeon, dx1, cyc,
                  codes=(("99204", 17000, 1.0),))
    sday = d0 + rng.integers(25, 50, n)
    lump = rng.random(n) < 0.6
    inpt = ~lump & (rng.random(n) < 0.3)
    outp = ~inpt
    code = np.where(lump, "19301", "19303").astype(object)
    seq = np.full(n, -1, dtype=np.int64)
    sel = np.flatnonzero(outp)
    seq[sel] = ctx.claims.add(
        {"person": person[sel], "start": sday[sel], "end": sday[sel],
         "claim_type": "institutional", "bill_type": "131", "dx1": dx1[sel],
         "billing": hosp[sel], "facility": hosp[sel], "cycle": cyc[sel]},
        [{"hcpcs": code[sel], "rev": "0360", "cents": np.where(lump[sel], 400000.0, 700000.0)},
         {"rev": "0370", "cents": 60000.0}, {"rev": "0250", "cents": 20000.0}])
    sel = np.flatnonzero(inpt)
    seq[sel] = inpatient_stay(
        ctx, person[sel], sday[sel], np.full(len(sel), "582", object), dx1[sel],
        np.full(len(sel), 850_000.0), np.maximum(1, np.rint(2 * cost[sel])).astype(np.int64),
        hosp[sel], surgeon[sel], emergency=np.zeros(len(sel), bool), cycle=cyc[sel],
        disposition=np.full(len(sel), "01", dtype=object),
        px1=np.array(["0HTT0ZZ", "0HTU0ZZ"], dtype=object)[side[sel]],
        surgical=np.ones(len(sel), bool))
    ctx.claims.add(
        {"person": person, "start": sday, "end": sday, "pos": np.where(inpt, "21", "22"),
         "dx1": dx1, "rendering": surgeon, "billing": surgeon, "facility": hosp,
         "cycle": cyc, "plist": False},
        [{"hcpcs": code, "cents": np.where(lump, 70000.0, 105000.0)}])
    anes_doc = ctx.pick("anesthesiology", person)
    ctx.claims.add(
        {"person": person, "start": sday, "end": sday, "pos": np.where(inpt, "21", "22"),
         "dx1": dx1, "rendering": anes_doc, "billing": anes_doc, "facility": hosp,
         "cycle": cyc, "plist": False},
        [{"hcpcs": "00400", "units": 6, "cents": 35000.0}])
    # re-excision after lumpectomy
    reex = lump & (rng.random(n) < np.minimum(0.16 * cm, 0.8))
    sel = np.flatnonzero(reex)
    rday = sday[sel] + rng.integers(14, 45, len(sel))
    ctx.claims.add(
        {"person": person[sel], "start": rday, "end": rday, "claim_type": "institutional",
         "bill_type": "131", "dx1": dx1[sel], "billing": hosp[sel], "facility": hosp[sel],
         "cycle": cyc[sel]},
        [{"hcpcs": "19301", "rev": "0360", "cents": 350000.0}])
    ctx.claims.add(
        {"person": person[sel], "start": rday, "end": rday, "pos": "22", "dx1": dx1[sel],
         "rendering": surgeon[sel], "billing": surgeon[sel], "facility": hosp[sel],
         "cycle": cyc[sel], "plist": False},
        [{"hcpcs": "19301", "mod": "58", "cents": 70000.0}])
    # surgical-site infection seen in the ED
    ssi = rng.random(n) < np.minimum(0.03 * cm, 0.5)
    sel = np.flatnonzero(ssi)
    ed_visits(ctx, person[sel], sday[sel] + rng.integers(5, 25, len(sel)),
              np.full(len(sel), "T8141XA", object), cyc[sel])
    # adjuvant radiation after lumpectomy (~85%): planning + 4 weekly blocks
    radiate = lump & (rng.random(n) < 0.85)
    sel = np.flatnonzero(radiate)
    ro = ctx.pick("radiation_oncology", person[sel])
    r0 = sday[sel] + rng.integers(30, 50, len(sel))
    ctx.claims.add(
        {"person": person[sel], "start": r0, "end": r0, "pos": "22", "dx1": dx1[sel],
         "rendering": ro, "billing": ro, "facility": hosp[sel], "cycle": cyc[sel],
         "plist": False},
        [{"hcpcs": "77263", "cents": 18000.0}])
    rep = np.repeat(np.arange(len(sel)), 4)
    wk = r0[rep] + 7 * np.tile(np.arange(1, 5), len(sel))
    ctx.claims.add(
        {"person": person[sel][rep], "start": wk - 4, "end": wk, "claim_type": "institutional",
         "bill_type": "131", "dx1": dx1[sel][rep], "billing": hosp[sel][rep],
         "facility": hosp[sel][rep], "cycle": cyc[sel][rep], "plist": False},
        [{"hcpcs": "77412", "rev": "0333", "units": 4, "span": True, "cents": 100000.0}])
    ctx.claims.add(
        {"person": person[sel][rep], "start": wk, "end": wk, "pos": "22",
         "dx1": dx1[sel][rep], "rendering": ro[rep], "billing": ro[rep],
         "facility": hosp[sel][rep], "cycle": cyc[sel][rep], "plist": False},
        [{"hcpcs": "77427", "cents": 19000.0}])
    # chemotherapy (~35%): 6 cycles every 21 days in the oncologist's office
    chemo = rng.random(n) < 0.35
    sel = np.flatnonzero(chemo)
    onc = ctx.pick("oncology", person[sel])
    her2 = rng.random(len(sel)) < 0.2
    rep = np.repeat(np.arange(len(sel)), 6)
    cday = sday[sel][rep] + 35 + 21 * np.tile(np.arange(6), len(sel))
    ctx.claims.add(
        {"person": person[sel][rep], "start": cday, "end": cday, "pos": "11",
         "dx1": dx1[sel][rep], "rendering": onc[rep], "billing": onc[rep],
         "cycle": cyc[sel][rep], "plist": False},
        [{"hcpcs": "96413", "cents": 14000.0}, {"hcpcs": "J9000", "units": 10, "cents": 5000.0},
         {"hcpcs": "J9070", "units": 10, "cents": 3000.0},
         {"hcpcs": "J9355", "units": 4, "cents": 350000.0, "present": her2[rep]}])
    ctx.extra_breast = (person, sday)
    _record(ctx, cycle=cyc, person=person, condition="breast_cancer", start=d0,
            end=sday + 365, trigger=seq, accountable=surgeon, facility=hosp, complication=ssi,
            index_day=sday, index_end=np.where(inpt, sday + 2, sday),
            revision=np.full(n, -1, dtype=np.int64), reoperation=reex)
