"""Attribution and utilization: admissions, ED visits and imaging per 1,000, PMPM by service
category, per payer and per attributed provider.

**Attribution** (``attribution``: ``person_id, year, provider_npi, step, services,
allowed_amount``), after the MSSP assignment rule (42 CFR 425.402, outline): for each
member and calendar year, the rendering NPI with the largest allowed amount of primary
care services (office/outpatient E/M 99202-99215, home and domiciliary 99324-99350,
nursing facility 99304-99318, preventive 99381-99397, wellness G0402/G0438/G0439,
transitional and chronic care management 99495-99496, 99490-99491) - step 1 among
primary-care clinicians (provider_type ``primary_care``), step 2 among all other
clinicians for members with no primary-care service.  Ties: more services, then the most
recent service, then the lowest NPI.

**Utilization** (``utilization``), per year and entity (``overall``, ``payer``,
``provider`` = attributed provider): member months; acute admissions (inpatient stays
with transfers chained, by admission date); ED visits (distinct member-days with an
emergency-department service); imaging studies (distinct member, day and CPT 70010-79999
on professional claims, so a facility and a professional bill for one study count once);
rates per 1,000 member-years = events / member months x 12,000; paid and PMPM.
``utilization_pmpm``: paid and PMPM by service category per entity.  Division and
rounding of money happen in Python ``Decimal`` (half-up to the cent), as in ``pmpm``.
Payer rows count events on that payer's claims against that payer's member months; a
provider's rows count all events and months of the members attributed to it that year.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.conditions.codes import code_in
from valuecare.pipeline.claims_summary import CENT, MONEY

PRIMARY_CARE_CODES = ["99202-99215", "99324-99350", "99304-99318", "99381-99397", "G0402",
                      "G0438", "G0439", "99495-99496", "99490-99491"]


def attribution(lines: ibis.Table, providers: ibis.Table | None) -> ibis.Table:
    """Member-year attribution to a clinician (see the module docstring)."""
    t = lines.filter((lines.claim_type == "professional")
                     & code_in(lines.hcpcs_code, PRIMARY_CARE_CODES)
                     & lines.rendering_npi.notnull())
    t = t.mutate(year=t.svc_date.year().cast("int32"))
    g = t.group_by(["person_id", "year", "rendering_npi"]).aggregate(
        services=t.active.cast("int64").sum(), allowed_amount=t.allowed_amount.sum().cast(MONEY),
        last=t.svc_date.max())
    g = g.filter(g.services > 0)
    if providers is not None:
        p = providers.select(_npi=providers.npi, _pt=providers.provider_type)
        g = g.left_join(p, g.rendering_npi == p._npi).drop("_npi")
        step = ibis.cases((g._pt == "primary_care", 1), else_=2)
    else:
        g = g.mutate(_pt=ibis.literal("primary_care"))
        step = ibis.literal(1)
    g = g.mutate(step=step.cast("int32"))
    w = ibis.window(group_by=[g.person_id, g.year],
                    order_by=[g.step, ibis.desc(g.allowed_amount), ibis.desc(g.services),
                              ibis.desc(g.last), g.rendering_npi])
    g = g.mutate(_rn=ibis.row_number().over(w))
    return g.filter(g._rn == 0).select("person_id", "year", provider_npi=g.rendering_npi,
                                       step=g.step, services=g.services,
                                       allowed_amount=g.allowed_amount)


def _events(lines: ibis.Table, stays: ibis.Table) -> ibis.Table:
    """``person_id, payer, year, kind`` one row per admission, ED visit or imaging study."""
    a = stays.select("person_id", "payer", year=stays.admit_date.year().cast("int32"),
                     kind=ibis.literal("admission"))
    act = lines.filter(lines.active)
    ed = act.filter(act.service_category_2 == "emergency department")
    ed = ed.group_by(["person_id", "svc_date"]).aggregate(payer=ed.payer.min())
    e = ed.select("person_id", "payer", year=ed.svc_date.year().cast("int32"),
                  kind=ibis.literal("ed_visit"))
    im = act.filter((act.claim_type == "professional")
                    & code_in(act.hcpcs_code, ["70010-79999"]))
    im = im.group_by(["person_id", "svc_date", "hcpcs_code"]).aggregate(payer=im.payer.min())
    i = im.select("person_id", "payer", year=im.svc_date.year().cast("int32"),
                  kind=ibis.literal("imaging"))
    return ibis.union(a, e, i)


def _spend(lines: ibis.Table) -> ibis.Table:
    t = lines
    return t.group_by(["person_id", "payer", t.svc_date.year().cast("int32").name("year"),
                       "service_category_1", "service_category_2"]).aggregate(
        paid=t.paid_amount.sum().cast(MONEY))


def utilization_tables(lines: ibis.Table, stays: ibis.Table, member_months: ibis.Table,
                       attributed: ibis.Table) -> tuple[pa.Table, pa.Table]:
    """``utilization`` and ``utilization_pmpm`` as Arrow tables (money exact)."""
    mm = member_months
    ev = _events(lines, stays)
    sp = _spend(lines)
    att = attributed.select(_ap=attributed.person_id, _ay=attributed.year,
                            _npi=attributed.provider_npi)
    months: dict[tuple, int] = {}
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    paid: dict[tuple, Decimal] = defaultdict(Decimal)

    def pull(expr: ibis.Table) -> list[dict]:
        return expr.to_pyarrow().to_pylist()

    # member months: overall and provider count a person-month once; payer per payer
    pm = mm.select("person_id", "year", "year_month").distinct()
    for r in pull(pm.group_by("year").aggregate(n=pm.count())):
        months[("overall", "all", r["year"])] = int(r["n"])
    for r in pull(mm.group_by(["year", "payer"]).aggregate(n=mm.count())):
        months[("payer", r["payer"], r["year"])] = int(r["n"])
    j = pm.join(att, [pm.person_id == att._ap, pm.year == att._ay])
    for r in pull(j.group_by(["year", "_npi"]).aggregate(n=j.count())):
        months[("provider", r["_npi"], r["year"])] = int(r["n"])

    def add_counts(expr: ibis.Table, etype: str, col: str | None) -> None:
        keys = ["year", "kind"] + ([col] if col else [])
        for r in pull(expr.group_by(keys).aggregate(n=expr.count())):
            counts[(etype, r[col] if col else "all", r["year"])][r["kind"]] += int(r["n"])

    add_counts(ev, "overall", None)
    add_counts(ev, "payer", "payer")
    evj = ev.join(att, [ev.person_id == att._ap, ev.year == att._ay])
    add_counts(evj, "provider", "_npi")

    def add_paid(expr: ibis.Table, etype: str, col: str | None) -> None:
        keys = ["year", "service_category_1", "service_category_2"] + ([col] if col else [])
        for r in pull(expr.group_by(keys).aggregate(p=expr.paid.sum().cast(MONEY))):
            paid[(etype, r[col] if col else "all", r["year"], r["service_category_1"],
                  r["service_category_2"])] += Decimal(r["p"] or 0)

    add_paid(sp, "overall", None)
    add_paid(sp, "payer", "payer")
    spj = sp.join(att, [sp.person_id == att._ap, sp.year == att._ay])
    add_paid(spj, "provider", "_npi")

    def per(n: int | Decimal, months_n: int, scale: int) -> float | None:
        return round(float(n) * scale / months_n, 4) if months_n else None

    def pmpm(amount: Decimal, months_n: int) -> Decimal | None:
        return (amount / months_n).quantize(CENT, ROUND_HALF_UP) if months_n else None

    ents = sorted(set(months) | set(counts), key=lambda k: (k[2], k[0], str(k[1])))
    total_paid: dict[tuple, Decimal] = defaultdict(Decimal)
    for k, v in paid.items():
        total_paid[k[:3]] += v
    u: dict[str, list] = defaultdict(list)
    for key in ents:
        etype, eid, year = key
        n = months.get(key, 0)
        c = counts.get(key, {})
        tp = total_paid.get(key, Decimal(0)).quantize(CENT)
        u["year"].append(year)
        u["entity_type"].append(etype)
        u["entity_id"].append(eid)
        u["member_months"].append(n)
        for kind, name in (("admission", "admissions"), ("ed_visit", "ed_visits"),
                           ("imaging", "imaging_studies")):
            u[name].append(int(c.get(kind, 0)))
        u["admissions_per_1000"].append(per(c.get("admission", 0), n, 12000))
        u["ed_visits_per_1000"].append(per(c.get("ed_visit", 0), n, 12000))
        u["imaging_per_1000"].append(per(c.get("imaging", 0), n, 12000))
        u["paid_amount"].append(tp)
        u["pmpm_paid"].append(pmpm(tp, n))
    util = pa.table({
        "year": pa.array(u["year"], pa.int32()),
        "entity_type": pa.array(u["entity_type"], pa.string()),
        "entity_id": pa.array(u["entity_id"], pa.string()),
        "member_months": pa.array(u["member_months"], pa.int64()),
        "admissions": pa.array(u["admissions"], pa.int64()),
        "ed_visits": pa.array(u["ed_visits"], pa.int64()),
        "imaging_studies": pa.array(u["imaging_studies"], pa.int64()),
        "admissions_per_1000": pa.array(u["admissions_per_1000"], pa.float64()),
        "ed_visits_per_1000": pa.array(u["ed_visits_per_1000"], pa.float64()),
        "imaging_per_1000": pa.array(u["imaging_per_1000"], pa.float64()),
        "paid_amount": pa.array(u["paid_amount"], MONEY),
        "pmpm_paid": pa.array(u["pmpm_paid"], MONEY),
    })
    p: dict[str, list] = defaultdict(list)
    for key in sorted(paid, key=lambda k: (k[2], k[0], str(k[1]), str(k[3]), str(k[4]))):
        etype, eid, year, c1, c2 = key
        n = months.get((etype, eid, year), 0)
        amount = paid[key].quantize(CENT)
        for col, v in (("year", year), ("entity_type", etype), ("entity_id", eid),
                       ("service_category_1", c1), ("service_category_2", c2),
                       ("member_months", n), ("paid_amount", amount),
                       ("pmpm_paid", pmpm(amount, n))):
            p[col].append(v)
    pm_table = pa.table({
        "year": pa.array(p["year"], pa.int32()),
        "entity_type": pa.array(p["entity_type"], pa.string()),
        "entity_id": pa.array(p["entity_id"], pa.string()),
        "service_category_1": pa.array(p["service_category_1"], pa.string()),
        "service_category_2": pa.array(p["service_category_2"], pa.string()),
        "member_months": pa.array(p["member_months"], pa.int64()),
        "paid_amount": pa.array(p["paid_amount"], MONEY),
        "pmpm_paid": pa.array(p["pmpm_paid"], MONEY),
    })
    return util, pm_table
