"""Everyday utilisation: office and specialist visits, labs, imaging, ED visits, ambulance,
general admissions with post-acute care and readmissions, preventive services and DME.

Rates are per member-year before the member's frailty multiplier and are set so that the
population lands near published per-1,000 figures (docs/synthetic-data.md):
Medicare FFS ~250-300 admissions and ~550-650 ED visits per 1,000 (MedPAC data book 2023;
CMS Medicare Geographic Variation PUF), commercial ~50-60 admissions and ~150-200 ED visits
(HCCI 2021 health cost and utilization report), Medicaid ~80-100 admissions and ~700 ED
visits (MACPAC / NHAMCS).  Prices are 2023 Medicare national rates, rounded (CMS physician
fee schedule, OPPS, IPPS MS-DRG weights x ~$6,500 base incl. add-ons, SNF PDPM, HH PDGM).
"""

from __future__ import annotations

import numpy as np

from valuecare.synth import params as P
from valuecare.synth.context import Context

# Per member-year rates by payer type (medicare, MA, commercial, medicaid).
PCP_VISITS = np.array([4.5, 4.2, 3.2, 4.5])
SPECIALIST_VISITS = np.array([6.0, 5.0, 2.5, 3.0])
LAB_CLAIMS = np.array([3.0, 2.8, 2.5, 2.5])
IMAGING = np.array([1.4, 1.2, 1.0, 0.8])
ED_VISITS = np.array([0.55, 0.47, 0.20, 0.80])
ADMISSIONS = np.array([0.165, 0.13, 0.028, 0.060])
DME = np.array([0.25, 0.2, 0.04, 0.05])
OUTPATIENT_PROCEDURES = np.array([0.9, 0.75, 0.5, 0.35])
#: Specialist roles for everyday specialist visits (weights).
SPECIALISTS = (("cardiology", 0.25), ("gastroenterology", 0.12), ("ophthalmology", 0.2),
               ("dermatology", 0.18), ("urology", 0.1), ("endocrinology", 0.05),
               ("ortho", 0.1))

# E/M: code, Medicare cents, weight
OFFICE_EM = (("99212", 5700, 0.10), ("99213", 9200, 0.45), ("99214", 13000, 0.35),
             ("99215", 18500, 0.07), ("99203", 11000, 0.03))
ED_LEVELS = (("99281", 8000, 2500, 0.03), ("99282", 15000, 4500, 0.10),
             ("99283", 28000, 7000, 0.30), ("99284", 46000, 11000, 0.35),
             ("99285", 68000, 16000, 0.22))
ACUTE_DX = ("J069", "R05", "Z0000", "M25561", "R51", "K219", "E785", "J029", "N390",
            "L03116", "R0789", "M7918")
ED_DX = ("R0789", "R109", "S0990XA", "J069", "N390", "R55", "M5450", "R112", "R51",
         "S93401A", "L03116", "J189")
#: DRG, principal dx, Medicare cents, LOS, surgical?, weight (older adults)
GENERAL_DRGS = (
    ("871", "A419", 1250000, 6, False, 0.12), ("193", "J189", 900000, 5, False, 0.08),
    ("194", "J189", 630000, 4, False, 0.08), ("190", "J441", 760000, 4, False, 0.07),
    ("690", "N390", 500000, 3, False, 0.07), ("392", "K5290", 520000, 3, False, 0.08),
    ("378", "K922", 700000, 3, False, 0.06), ("603", "L03116", 510000, 4, False, 0.06),
    ("312", "R55", 560000, 2, False, 0.06), ("683", "N179", 640000, 4, False, 0.07),
    ("065", "I639", 720000, 3, False, 0.06), ("247", "I214", 1300000, 2, True, 0.05),
    ("481", "S72001A", 1500000, 5, True, 0.05), ("885", "F259", 780000, 8, False, 0.05),
    ("897", "F1020", 520000, 4, False, 0.04),
)
#: Operating base x weight understates what Medicare pays per stay: IME, DSH, capital and
#: outliers add ~40-60% (MedPAC: ~$15k average payment per FFS stay in 2021).
DRG_ADDON = 1.6
#: DRG lines: revenue code, share of the claim's payment
_INPATIENT_LINES = (("0120", 0.34), ("0250", 0.14), ("0300", 0.10), ("0320", 0.05),
                    ("0270", 0.10), ("0730", 0.02), ("0420", 0.05))
_DISPOSITIONS = ("01", "06", "03", "02", "07")


def _year_matrix(ctx: Context, by_type: np.ndarray, frailty_power: float) -> np.ndarray:
    """n x years rates: payer-type rate x frailty^power, mid-year payer type."""
    n, Y = ctx.m.n, ctx.years
    out = np.empty((n, Y))
    person = np.arange(n)
    for y in range(Y):
        mid = ctx.year_start(y) + 182
        pt = ctx.payer_type(person, np.full(n, mid))
        out[:, y] = by_type[pt]
    return out * ctx.m.frailty[:, None] ** frailty_power


def _em(ctx: Context, n: int, codes: tuple[tuple[str, int, float], ...] = OFFICE_EM
        ) -> tuple[np.ndarray, np.ndarray]:
    k = ctx.rng.choice(len(codes), size=n, p=np.array([c[2] for c in codes]) /
                       sum(c[2] for c in codes))
    return (np.array([c[0] for c in codes], dtype=object)[k],
            np.array([c[1] for c in codes], dtype=np.float64)[k])


def primary_dx(ctx: Context, person: np.ndarray, p_condition: float = 0.75) -> np.ndarray:
    """A visit's principal diagnosis: one of the member's conditions or an acute code."""
    pl = ctx.m.cond_codes()
    has = pl[person, 0] != None  # noqa: E711
    k = ctx.m.cond.sum(axis=1)[person]
    j = (ctx.rng.random(len(person)) * np.maximum(k, 1)).astype(np.int64)
    chronic = pl[person, np.minimum(j, pl.shape[1] - 1)]
    acute = ctx.choice(ACUTE_DX, len(person))
    use = has & (ctx.rng.random(len(person)) < p_condition)
    return np.where(use, chronic, acute)


def office_visits(ctx: Context, person: np.ndarray, days: np.ndarray, npi: np.ndarray,
                  dx1: np.ndarray, cycle: np.ndarray | int = -1,
                  codes: tuple[tuple[str, int, float], ...] = OFFICE_EM) -> np.ndarray:
    """Professional E/M claims in the office (POS 11); returns claim sequence numbers."""
    code, cents = _em(ctx, len(person), codes)
    return ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": dx1,
         "rendering": npi, "billing": npi, "em": True, "cycle": cycle},
        [{"hcpcs": code, "cents": cents}])


def routine_visits(ctx: Context) -> None:
    person, days = ctx.events(_year_matrix(ctx, PCP_VISITS, 0.5))
    npi = ctx.m.pcp[person].copy()
    other = ctx.rng.random(len(person)) < 0.12
    npi[other] = ctx.pick("pcp", person[other], 0.3)
    seq = office_visits(ctx, person, days, npi, primary_dx(ctx, person))
    vitals_request(ctx, person, days, seq)

    person, days = ctx.events(_year_matrix(ctx, SPECIALIST_VISITS, 0.6))
    m = ctx.m
    cardiac = m.cond[person][:, [P.COND["cad"], P.COND["heart_failure"]]].any(axis=1)
    w = np.array([x[1] for x in SPECIALISTS])
    role = ctx.rng.choice(len(SPECIALISTS), size=len(person), p=w / w.sum())
    role = np.where(cardiac & (ctx.rng.random(len(person)) < 0.5), 0, role)
    npi = np.empty(len(person), dtype=np.int64)
    for k, (r, _) in enumerate(SPECIALISTS):
        sel = role == k
        npi[sel] = ctx.pick(r, person[sel])
    dx1 = primary_dx(ctx, person)
    office_visits(ctx, person, days, npi, dx1)
    # ~30% of specialist visits are in hospital-based clinics: facility fee G0463 (OPPS)
    hb = ctx.rng.random(len(person)) < 0.3
    hosp = ctx.m.hospital[person[hb]]
    ctx.claims.add(
        {"person": person[hb], "start": days[hb], "end": days[hb],
         "claim_type": "institutional", "bill_type": "131", "dx1": dx1[hb], "billing": hosp,
         "facility": hosp},
        [{"rev": "0510", "hcpcs": "G0463", "cents": 13000.0},
         {"rev": "0730", "hcpcs": "93005", "cents": 3000.0,
          "present": ctx.rng.random(int(hb.sum())) < 0.3}])


def vitals_request(ctx: Context, person: np.ndarray, days: np.ndarray, seq: np.ndarray
                   ) -> None:
    """Blood pressure (LOINC 8480-6 / 8462-4) at ~70% of adult office visits."""
    adult = ctx.m.age_at(days, person) >= 18
    take = adult & (ctx.rng.random(len(person)) < 0.7)
    ctx.obs.append({"kind": "bp", "person": person[take], "day": days[take],
                    "seq": seq[take]})


def labs(ctx: Context) -> None:
    person, days = ctx.events(_year_matrix(ctx, LAB_CLAIMS, 0.5))
    n = len(person)
    lab = ctx.pick("lab", person)
    dx1 = primary_dx(ctx, person, 0.8)
    r = ctx.rng.random((n, 3))
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "81", "dx1": dx1,
         "billing": lab, "facility": -1},
        [{"hcpcs": "80053", "cents": 1056.0},
         {"hcpcs": "85025", "cents": 777.0, "present": r[:, 0] < 0.7},
         {"hcpcs": "80061", "cents": 1339.0, "present": r[:, 1] < 0.5},
         {"hcpcs": "84443", "cents": 1680.0, "present": r[:, 2] < 0.25}])


#: code, revenue code, facility cents, professional (-26) cents, dx
_IMAGING = (("71046", "0324", 4500, 1000, "R05"), ("70450", "0350", 18000, 4000, "R51"),
            ("93306", "0483", 50000, 7000, "R0602"), ("73721", "0610", 25000, 7000, "M25561"),
            ("76700", "0402", 15000, 4000, "R109"))


def imaging(ctx: Context) -> None:
    person, days = ctx.events(_year_matrix(ctx, IMAGING, 0.5))
    n = len(person)
    k = ctx.rng.integers(0, len(_IMAGING), n)
    code = np.array([x[0] for x in _IMAGING], dtype=object)[k]
    rev = np.array([x[1] for x in _IMAGING], dtype=object)[k]
    fac_c = np.array([x[2] for x in _IMAGING], dtype=np.float64)[k]
    pro_c = np.array([x[3] for x in _IMAGING], dtype=np.float64)[k]
    dx = np.array([x[4] for x in _IMAGING], dtype=object)[k]
    hosp = ctx.m.hospital[person]
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "claim_type": "institutional",
         "bill_type": "131", "dx1": dx, "billing": hosp, "facility": hosp},
        [{"hcpcs": code, "rev": rev, "cents": fac_c}])
    rad = ctx.pick("radiology", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "22", "dx1": dx,
         "rendering": rad, "billing": rad, "facility": hosp},
        [{"hcpcs": code, "mod": "26", "cents": pro_c}])


def ed_visits(ctx: Context, person: np.ndarray | None = None, days: np.ndarray | None = None,
              dx1: np.ndarray | None = None, cycle: np.ndarray | int = -1) -> np.ndarray:
    """Emergency visits: facility (131, rev 0450) + ED physician (POS 23) + ambulance."""
    if person is None or days is None:
        rate = _year_matrix(ctx, ED_VISITS, 0.9)
        child = (ctx.m.age0 < 18)[:, None]
        rate = rate * np.where(child, 0.7, 1.0)
        person, days = ctx.events(rate)
    n = len(person)
    if dx1 is None:
        dx1 = ctx.choice(ED_DX, n)
    k = ctx.rng.choice(5, size=n, p=np.array([x[3] for x in ED_LEVELS]))
    code = np.array([x[0] for x in ED_LEVELS], dtype=object)[k]
    fac_c = np.array([x[1] for x in ED_LEVELS], dtype=np.float64)[k]
    pro_c = np.array([x[2] for x in ED_LEVELS], dtype=np.float64)[k]
    hosp = np.where(ctx.rng.random(n) < 0.7, ctx.m.hospital[person], ctx.pick("hospital", person))
    r = ctx.rng.random((n, 4))
    seq = ctx.claims.add(
        {"person": person, "start": days, "end": days, "claim_type": "institutional",
         "bill_type": "131", "dx1": dx1, "billing": hosp, "facility": hosp, "cycle": cycle},
        [{"hcpcs": code, "rev": "0450", "cents": fac_c},
         {"hcpcs": "80053", "rev": "0300", "cents": 1500.0, "present": r[:, 0] < 0.6},
         {"hcpcs": "71046", "rev": "0324", "cents": 4500.0, "present": r[:, 1] < 0.35},
         {"hcpcs": "70450", "rev": "0350", "cents": 18000.0, "present": r[:, 2] < 0.2},
         {"rev": "0250", "cents": 4000.0, "present": r[:, 3] < 0.5}])
    doc = ctx.pick("emergency", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "23", "dx1": dx1,
         "rendering": doc, "billing": doc, "facility": hosp, "cycle": cycle},
        [{"hcpcs": code, "cents": pro_c}])
    old = ctx.m.age_at(days, person) >= 65
    amb = ctx.rng.random(n) < np.where(old, 0.22, 0.10)
    ambulance(ctx, person[amb], days[amb], dx1[amb])
    return seq


def ambulance(ctx: Context, person: np.ndarray, days: np.ndarray, dx1: np.ndarray) -> None:
    """Ground ambulance (POS 41): A0427 ALS-1 emergency or A0429 BLS + A0425 mileage."""
    n = len(person)
    als = ctx.rng.random(n) < 0.6
    miles = ctx.rng.integers(3, 20, n)
    sup = ctx.pick("ambulance", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "41", "dx1": dx1,
         "billing": sup},
        [{"hcpcs": np.where(als, "A0427", "A0429").astype(object),
          "cents": np.where(als, 48000.0, 40000.0)},
         {"hcpcs": "A0425", "units": miles, "cents": miles * 800.0}])


def inpatient_stay(ctx: Context, person: np.ndarray, days: np.ndarray, drg: np.ndarray,
                   dx1: np.ndarray, cents: np.ndarray, los: np.ndarray, hosp: np.ndarray,
                   attending: np.ndarray, *, emergency: np.ndarray, cycle: np.ndarray | int,
                   disposition: np.ndarray, px1: np.ndarray | None = None,
                   dx2: np.ndarray | None = None, dx2_poa: np.ndarray | None = None,
                   surgical: np.ndarray | None = None,
                   snf_days: np.ndarray | None = None) -> np.ndarray:
    """One acute inpatient claim (bill type 111) with revenue-code lines and the
    attending's daily professional visits (99223 admit, 99232 x days, 99238 discharge)."""
    n = len(person)
    end = days + los
    surg = np.zeros(n, dtype=bool) if surgical is None else surgical
    total = 0.80 + 0.25 * surg + 0.06 * emergency
    unit = cents / total
    lines = [{"rev": rev, "cents": unit * share, "units": los if rev == "0120" else 1,
              "span": True} for rev, share in _INPATIENT_LINES]
    lines.append({"rev": "0360", "cents": unit * 0.25, "present": surg, "span": True})
    lines.append({"rev": "0450", "hcpcs": "99284", "cents": unit * 0.06, "present": emergency})
    seq = ctx.claims.add(
        {"person": person, "start": days, "end": end, "claim_type": "institutional",
         "bill_type": "111", "drg": drg, "admit": True, "dx1": dx1, "dx2": dx2,
         "dx2_poa": dx2_poa, "px1": px1, "rendering": attending, "billing": hosp,
         "facility": hosp, "cycle": cycle, "disposition": disposition,
         "admit_type": np.where(emergency, "1", "3").astype(object),
         "admit_source": np.where(emergency, "7", "1").astype(object)},
        lines)
    med = ~surg
    ctx.claims.add(
        {"person": person[med], "start": days[med], "end": end[med], "pos": "21",
         "dx1": dx1[med], "rendering": attending[med], "billing": attending[med],
         "facility": hosp[med], "cycle": cycle if np.isscalar(cycle) else cycle[med]},
        [{"hcpcs": "99223", "cents": 20000.0},
         {"hcpcs": "99232", "units": np.maximum(los[med] - 1, 1), "offset": 1,
          "cents": np.maximum(los[med] - 1, 1) * 10500.0, "present": los[med] > 1},
         {"hcpcs": "99238", "offset": los[med], "cents": 7500.0}])
    post_acute(ctx, person, end, disposition, dx1, cycle, snf_days)
    return seq


def post_acute(ctx: Context, person: np.ndarray, discharge: np.ndarray,
               disposition: np.ndarray, dx1: np.ndarray, cycle: np.ndarray | int,
               snf_days: np.ndarray | None = None) -> None:
    """SNF stay (bill 211) after disposition 03, home health period (329/321) after 06."""
    cyc = np.broadcast_to(np.asarray(cycle), person.shape)
    snf = disposition == "03"
    if snf.any():
        p = person[snf]
        d = discharge[snf]
        los = (snf_days[snf] if snf_days is not None
               else ctx.rng.integers(10, 35, len(p)))
        fac = ctx.pick("snf", p)
        ctx.claims.add(
            {"person": p, "start": d, "end": d + los, "claim_type": "institutional",
             "bill_type": "211", "dx1": dx1[snf], "billing": fac, "facility": fac,
             "cycle": cyc[snf], "disposition": "01", "admit_type": "3", "admit_source": "4"},
            [{"rev": "0120", "units": los, "span": True, "cents": los * 47000.0},
             {"rev": "0420", "units": np.maximum(los // 2, 1), "span": True,
              "cents": los * 9000.0},
             {"rev": "0250", "span": True, "cents": los * 4000.0}])
    hh = disposition == "06"
    if hh.any():
        p = person[hh]
        d = discharge[hh] + 2
        agency = ctx.pick("home_health", p)
        bill = np.where(ctx.rng.random(len(p)) < 0.8, "329", "321").astype(object)
        ctx.claims.add(
            {"person": p, "start": d, "end": d + 29, "claim_type": "institutional",
             "bill_type": bill, "dx1": dx1[hh], "billing": agency, "facility": agency,
             "cycle": cyc[hh], "disposition": "01"},
            [{"rev": "0023", "span": True, "cents": 180000.0},
             {"rev": "0421", "hcpcs": "G0151", "units": 4, "span": True, "cents": 40000.0},
             {"rev": "0551", "hcpcs": "G0299", "units": 5, "span": True, "cents": 40000.0}])


def _dispositions(ctx: Context, person: np.ndarray, days: np.ndarray,
                  p_snf: np.ndarray, p_hh: np.ndarray, p_die: np.ndarray) -> np.ndarray:
    u = ctx.rng.random(len(person))
    disp = np.full(len(person), "01", dtype=object)
    disp[u < p_snf + p_hh] = "06"
    disp[u < p_snf] = "03"
    r = ctx.rng.random(len(person))
    disp[(r < 0.012) & (disp == "01")] = "07"
    disp[(r > 0.99) & (disp == "01")] = "02"
    disp[ctx.rng.random(len(person)) < p_die] = "20"
    return disp


def general_admissions(ctx: Context) -> None:
    """Admissions for other causes, deliveries, and their 30-day readmissions."""
    m = ctx.m
    rate = _year_matrix(ctx, ADMISSIONS, 1.1)
    person, days = ctx.covered_events(rate)
    _admit(ctx, person, days, readmit_ok=True)
    # Deliveries: women 18-44, ~5.5% a year (CDC NVSS fertility rate ~56/1,000).
    age = m.age0[:, None] + np.arange(ctx.years)[None, :]
    fert = ((m.sex == 1)[:, None] & (age >= 18) & (age < 45)) * 0.055
    person, days = ctx.covered_events(fert)
    n = len(person)
    cs = ctx.rng.random(n) < 0.32
    drg = np.where(cs, "788", "807").astype(object)
    dx1 = np.where(cs, "O82", "O80").astype(object)
    hosp = m.hospital[person]
    ob = ctx.pick("pcp", person)
    los = np.where(cs, 3, 2)
    inpatient_stay(ctx, person, days, drg, dx1, np.where(cs, 860000.0, 530000.0), los, hosp,
                   ob, emergency=np.zeros(n, dtype=bool), cycle=-1,
                   disposition=np.full(n, "01", dtype=object), surgical=cs)


def _admit(ctx: Context, person: np.ndarray, days: np.ndarray, readmit_ok: bool) -> None:
    m = ctx.m
    n = len(person)
    w = np.array([d[5] for d in GENERAL_DRGS])
    k = ctx.rng.choice(len(GENERAL_DRGS), size=n, p=w / w.sum())
    drg = np.array([d[0] for d in GENERAL_DRGS], dtype=object)[k]
    dx1 = np.array([d[1] for d in GENERAL_DRGS], dtype=object)[k]
    cents = np.array([d[2] for d in GENERAL_DRGS], dtype=np.float64)[k] * DRG_ADDON
    surg = np.array([d[4] for d in GENERAL_DRGS])[k]
    hosp = np.where(ctx.rng.random(n) < 0.75, m.hospital[person], ctx.pick("hospital", person))
    att = ctx.pick("hospitalist", person)
    los = np.maximum(1, np.array([d[3] for d in GENERAL_DRGS])[k]
                     + ctx.rng.integers(-1, 3, n))
    los = np.maximum(1, np.rint(los * ctx.prov.cost[att]).astype(np.int64))
    age = m.age_at(days, person)
    old = age >= 65
    disp = _dispositions(ctx, person, days, np.where(old, 0.14, 0.03), np.where(old, 0.14, 0.05),
                         np.where(old, 0.025, 0.005) * ctx.prov.mortality[hosp] ** 0.5)
    died = disp == "20"
    m.death[person[died]] = np.minimum(m.death[person[died]], days[died] + los[died])
    emergency = ctx.rng.random(n) < 0.7
    inpatient_stay(ctx, person, days, drg, dx1, cents, los, hosp, att, emergency=emergency,
                   cycle=-1, disposition=disp, surgical=surg)
    amb = emergency & (ctx.rng.random(n) < np.where(old, 0.35, 0.15))
    ambulance(ctx, person[amb], days[amb], dx1[amb])
    if readmit_ok:
        p = 0.13 * ctx.prov.readmission[hosp] * np.where(old, 1.0, 0.7)
        re = ~died & (ctx.rng.random(n) < p)
        gap = ctx.rng.integers(2, 31, int(re.sum()))
        rp, rd = person[re], days[re] + los[re] + gap
        keep = ctx.alive_covered(rp, rd)
        _admit(ctx, rp[keep], rd[keep], readmit_ok=False)


def preventive(ctx: Context) -> None:
    """Annual wellness visits, flu shots, screening mammograms and colonoscopies,
    depression screening (USPSTF / Medicare preventive services)."""
    m = ctx.m
    n, Y = m.n, ctx.years
    age = m.age0[:, None] + np.arange(Y)[None, :]
    medicare = np.stack([np.isin(ctx.payer_type(np.arange(n), np.full(n, ctx.year_start(y) + 182)),
                                 [P.MEDICARE, P.MA]) for y in range(Y)], axis=1)
    # AWV: ~45% of Medicare beneficiaries a year (CMS AWV uptake ~2019-2022); G0444 on it.
    person, days = ctx.events(np.where(medicare, 0.45, 0.0))
    first = ctx.rng.random(len(person)) < 0.15
    pcp = m.pcp[person]
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": "Z0000",
         "rendering": pcp, "billing": pcp},
        [{"hcpcs": np.where(first, "G0438", "G0439").astype(object),
          "cents": np.where(first, 17500.0, 12000.0)},
         {"hcpcs": "G0444", "cents": 2000.0}])
    # Commercial / Medicaid preventive visit with depression screening (96127).
    person, days = ctx.events(np.where(~medicare & (age >= 18), 0.40,
                                       np.where(~medicare, 0.55, 0.0)))
    adult = m.age_at(days, person) >= 18
    pcp = m.pcp[person]
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": "Z0000",
         "rendering": pcp, "billing": pcp},
        [{"hcpcs": np.where(adult, "99396", "99393").astype(object), "cents": 13000.0},
         {"hcpcs": "96127", "cents": 500.0, "present": adult}])
    # Flu vaccine: ~70% of 65+, ~35% of other adults (CDC FluVaxView).
    person, days = ctx.events(np.where(age >= 65, 0.7, np.where(age >= 18, 0.35, 0.5)))
    old = m.age_at(days, person) >= 65
    pcp = m.pcp[person]
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": "Z23",
         "rendering": pcp, "billing": pcp, "plist": False},
        [{"hcpcs": np.where(old, "90662", "90686").astype(object),
          "cents": np.where(old, 7500.0, 2000.0)},
         {"hcpcs": np.where(old, "G0008", "90471").astype(object), "cents": 3000.0}])
    # Screening mammography: women 50-74, ~65% biennially -> ~0.35 a year (77067).
    female = (m.sex == 1)[:, None]
    person, days = ctx.events(np.where(female & (age >= 50) & (age < 75), 0.35, 0.0))
    rad = ctx.pick("radiology", person)
    center = ctx.pick("imaging_center", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": "Z1231",
         "rendering": rad, "billing": center, "facility": center, "plist": False},
        [{"hcpcs": "77067", "cents": 13500.0}])
    # Colonoscopy: adults 45-75, ~7% a year (10-year interval, ~70% up to date).
    person, days = ctx.events(np.where((age >= 45) & (age < 76), 0.07, 0.0))
    old = m.age_at(days, person) >= 65
    code = np.where(old, "G0121", "45378").astype(object)
    asc = ctx.pick("asc", person)
    gi = ctx.pick("gastroenterology", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "claim_type": "institutional",
         "bill_type": "831", "dx1": "Z1211", "billing": asc, "facility": asc, "plist": False},
        [{"hcpcs": code, "rev": "0360", "cents": 45000.0},
         {"rev": "0250", "cents": 3000.0}])
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "24", "dx1": "Z1211",
         "rendering": gi, "billing": gi, "facility": asc, "plist": False},
        [{"hcpcs": code, "cents": 20000.0}])


def dme(ctx: Context) -> None:
    person, days = ctx.events(_year_matrix(ctx, DME, 0.8))
    items = (("E0143", 6000.0, "R262"), ("E0601", 6000.0, "G4733"), ("E1390", 17000.0, "J9611"),
             ("E0114", 4000.0, "M25561"))
    k = ctx.rng.integers(0, len(items), len(person))
    sup = ctx.pick("dme", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "12",
         "dx1": np.array([i[2] for i in items], dtype=object)[k], "billing": sup},
        [{"hcpcs": np.array([i[0] for i in items], dtype=object)[k],
          "cents": np.array([i[1] for i in items])[k], "mod": "NU"}])


#: code, specialist role, facility role (or None: office), facility cents, professional
#: cents, dx, minimum age, weight
_PROCEDURES = (
    ("66984", "ophthalmology", "asc", 110000, 55000, "H2511", 60, 0.25),
    ("93458", "cardiology", "hospital", 300000, 35000, "I2510", 40, 0.10),
    ("43239", "gastroenterology", "asc", 70000, 15000, "K219", 18, 0.15),
    ("29881", "ortho", "asc", 250000, 50000, "S83241A", 18, 0.08),
    ("62323", "anesthesiology", "asc", 60000, 10000, "M5416", 30, 0.15),
    ("52000", "urology", "hospital", 50000, 12000, "R319", 40, 0.08),
    ("17000", "dermatology", None, 0, 9000, "L570", 50, 0.19),
)


def outpatient_procedures(ctx: Context) -> None:
    """Outpatient and ASC procedures (cataract, cath, endoscopy, arthroscopy, injections)."""
    person, days = ctx.events(_year_matrix(ctx, OUTPATIENT_PROCEDURES, 0.6))
    age = ctx.m.age_at(days, person)
    w = np.array([x[7] for x in _PROCEDURES])
    k = ctx.rng.choice(len(_PROCEDURES), size=len(person), p=w / w.sum())
    ok = age >= np.array([x[6] for x in _PROCEDURES])[k]
    person, days, k = person[ok], days[ok], k[ok]
    for j, (code, role, fac_role, fac_c, pro_c, dx, _, _) in enumerate(_PROCEDURES):
        sel = k == j
        p, d = person[sel], days[sel]
        if len(p) == 0:
            continue
        doc = ctx.pick(role, p)
        fac = np.full(len(p), -1) if fac_role is None else (
            ctx.m.hospital[p] if fac_role == "hospital" else ctx.pick(fac_role, p))
        if fac_role is not None:
            ctx.claims.add(
                {"person": p, "start": d, "end": d, "claim_type": "institutional",
                 "bill_type": "831" if fac_role == "asc" else "131", "dx1": dx,
                 "billing": fac, "facility": fac, "plist": False},
                [{"hcpcs": code, "rev": "0360" if fac_role == "hospital" else "0490",
                  "cents": float(fac_c)}, {"rev": "0250", "cents": 4000.0}])
        ctx.claims.add(
            {"person": p, "start": d, "end": d, "pos": {"asc": "24", "hospital": "22"}.get(
                fac_role or "", "11"), "dx1": dx, "rendering": doc, "billing": doc,
             "facility": fac},
            [{"hcpcs": code, "cents": float(pro_c)}])
    # Anti-VEGF injections for wet AMD: ~1.2% of 65+, ~7 a year (Part B drug J0178).
    age_y = ctx.m.age0[:, None] + np.arange(ctx.years)[None, :]
    amd = (ctx.rng.random(ctx.m.n) < 0.012)[:, None] & (age_y >= 65)
    person, days = ctx.events(amd * 7.0)
    doc = ctx.pick("ophthalmology", person)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "pos": "11", "dx1": "H353211",
         "rendering": doc, "billing": doc, "plist": False},
        [{"hcpcs": "67028", "cents": 10000.0}, {"hcpcs": "J0178", "units": 1,
                                                 "cents": 185000.0}])


def dialysis(ctx: Context) -> None:
    """Maintenance dialysis for members entitled by ESRD: monthly facility claim (bill type
    721, revenue 0821, ~13 sessions at the ESRD PPS base ~$270) + nephrologist 90960."""
    esrd = np.flatnonzero(ctx.m.esrd)
    if len(esrd) == 0:
        return
    nm = ctx.months.shape[1]
    person = np.repeat(esrd, nm)
    month = np.tile(np.arange(nm), len(esrd))
    from valuecare.synth.util import month_start
    first = month_start(month, ctx.start_year)
    last = month_start(month + 1, ctx.start_year) - 1
    unit = ctx.pick("dialysis", esrd)
    neph = ctx.pick("nephrology", esrd)
    idx = np.repeat(np.arange(len(esrd)), nm)
    ctx.claims.add(
        {"person": person, "start": first, "end": last, "claim_type": "institutional",
         "bill_type": "721", "dx1": "N186", "billing": unit[idx], "facility": unit[idx]},
        [{"rev": "0821", "hcpcs": "90999", "units": 13, "span": True, "cents": 13 * 27000.0},
         {"rev": "0636", "hcpcs": "J0887", "units": 10, "span": True, "cents": 12000.0}])
    ctx.claims.add(
        {"person": person, "start": first, "end": first, "pos": "65", "dx1": "N186",
         "rendering": neph[idx], "billing": neph[idx]},
        [{"hcpcs": "90960", "cents": 27000.0}])


def infusions(ctx: Context) -> None:
    """Specialty infusions billed on the medical benefit (~1% of adults on a biologic such as
    infliximab J1745 every ~8 weeks; ~$3,500 ASP per infusion) in hospital outpatient."""
    m = ctx.m
    on = (ctx.rng.random(m.n) < 0.01) & (m.age0 >= 18)
    person, days = ctx.events(on[:, None] * np.full(ctx.years, 6.5))
    hosp = m.hospital[person]
    dx1 = np.where(person % 2 == 0, "K5090", "M069").astype(object)
    ctx.claims.add(
        {"person": person, "start": days, "end": days, "claim_type": "institutional",
         "bill_type": "131", "dx1": dx1, "billing": hosp, "facility": hosp},
        [{"rev": "0636", "hcpcs": "J1745", "units": 50, "cents": 350000.0},
         {"rev": "0510", "hcpcs": "96413", "cents": 14000.0}])


def community_home_health(ctx: Context) -> None:
    """Home health not preceded by a stay (~60% of episodes are community-referred; ~8% of
    Medicare beneficiaries use home health a year, MedPAC 2023)."""
    age = ctx.m.age0[:, None] + np.arange(ctx.years)[None, :]
    rate = (age >= 65) * 0.06 * ctx.m.frailty[:, None] ** 0.8
    person, days = ctx.events(rate)
    dx1 = primary_dx(ctx, person, 0.9)
    periods = 1 + (ctx.rng.random(len(person)) < 0.5)
    for k in range(2):
        sel = periods > k
        disp = np.full(int(sel.sum()), "06", dtype=object)
        post_acute(ctx, person[sel], days[sel] + 30 * k, disp, dx1[sel], -1)


def hospice(ctx: Context) -> None:
    """Hospice before death for ~50% of decedents 65+ (MedPAC: ~48% of Medicare decedents
    use hospice; median stay ~18 days): routine home care per diem ~$210, bill type 811."""
    m = ctx.m
    died = np.flatnonzero((m.death < ctx.end) & (m.age_at(m.death, np.arange(m.n)) >= 65))
    use = died[ctx.rng.random(len(died)) < 0.5]
    los = np.clip(ctx.rng.exponential(40, len(use)).astype(np.int64) + 3, 3, 180)
    start = m.death[use] - los
    agency = ctx.pick("home_health", use)
    ctx.claims.add(
        {"person": use, "start": start, "end": m.death[use], "claim_type": "institutional",
         "bill_type": "811", "dx1": "R627", "billing": agency, "facility": agency,
         "disposition": "40"},
        [{"rev": "0651", "units": los, "span": True, "cents": los * 21000.0}])


def everyday(ctx: Context) -> None:
    routine_visits(ctx)
    infusions(ctx)
    hospice(ctx)
    community_home_health(ctx)
    outpatient_procedures(ctx)
    dialysis(ctx)
    labs(ctx)
    imaging(ctx)
    ed_visits(ctx)
    preventive(ctx)
    dme(ctx)
