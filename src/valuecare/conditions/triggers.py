"""Claim lines ready for care cycles, inpatient stays with transfers, and trigger events.

- **Lines**: a narrow projection of ``medical_claim`` (keys, dates, codes, money) with the
  site of care and whether the claim is *active*.  A claim is active when it is not a
  reversal and no reversal points at it; an adjustment that replaces a reversed claim is
  active (DESIGN.md §4).  Only active claims trigger cycles or form stays, but every line
  (originals, reversals, adjustments) is assigned to cycles by its codes and dates, so a
  reversal lands where its original did and the sums net.
- **Stays**: active institutional inpatient claims (bill type 11x).  A claim discharged
  with status 02 (transfer to another acute hospital) followed by an admission at another
  hospital on the same or next day joins the same stay (CMS BPCI Advanced and CJR treat the
  transfer chain as one anchor hospitalization); a claim that starts before the previous
  claim's discharge (interim bill) joins it too.
- **Trigger events**: per acute condition, MS-DRG or ICD-10-PCS hits on stay claims and
  CPT/HCPCS hits on lines; an inpatient hit (POS 21, bill type 11x) during a stay is an
  event of that stay, others are events of their service date.  The trigger claim is the
  facility claim when there is one (inpatient before outpatient institutional before
  professional).
"""

from __future__ import annotations

import ibis

from valuecare.conditions.codes import any_code_in, code_in, joined
from valuecare.conditions.library import Condition
from valuecare.pipeline.claims_summary import service_categories

KEYS = ["claim_id", "claim_line_number", "data_source"]
EPOCH = ibis.date(1900, 1, 1)


def site_of_care(t: ibis.Table) -> ibis.Value:
    """Setting of a line: inpatient, outpatient hospital, ASC, ED, office, home, SNF, ...

    Institutional claims by type of bill (UB-04 FL 4), professional lines by CMS place of
    service; the emergency department comes from the service category (revenue 045x/0981,
    POS 23, CPT 99281-99285).
    """
    bill2 = t.bill_type_code.substr(0, 2).fill_null("")
    pos = t.place_of_service_code.fill_null("")
    inst = t.claim_type == "institutional"
    return ibis.cases(
        (t.service_category_2 == "emergency department", "emergency department"),
        (inst & bill2.isin(["11", "12"]), "inpatient"),
        (inst & bill2.isin(["13", "14", "85"]), "outpatient hospital"),
        (inst & (bill2 == "83"), "ambulatory surgery center"),
        (inst & bill2.isin(["18", "21", "22"]), "snf"),
        (inst & bill2.isin(["32", "33", "34"]), "home"),
        (inst & bill2.isin(["81", "82"]), "hospice"),
        (inst & (bill2 == "72"), "dialysis"),
        (inst, "other"),
        (pos == "21", "inpatient"),
        (pos.isin(["19", "22"]), "outpatient hospital"),
        (pos == "24", "ambulatory surgery center"),
        (pos.isin(["31", "32"]), "snf"),
        (pos.isin(["12", "13"]), "home"),
        (pos.isin(["11", "49", "50", "71", "72"]), "office"),
        (pos == "34", "hospice"),
        (pos == "81", "lab"),
        (pos.isin(["41", "42"]), "ambulance"),
        else_="other",
    )


def prepare_lines(claims: ibis.Table, *, with_poa: bool = False) -> ibis.Table:
    """Narrow claim lines with codes joined, site of care, service date and active flag.

    ``with_poa`` adds ``dx_not_poa``: the diagnoses whose present-on-admission indicator is
    N or U (not present on admission; CMS POA reporting), ``|``-joined.
    """
    c = claims
    extra = {}
    if with_poa:
        extra["dx_not_poa"] = joined([
            ibis.cases((c[f"diagnosis_poa_{i}"].isin(["N", "U"]), c[f"diagnosis_code_{i}"]),
                       else_=ibis.null("string"))
            for i in range(1, 26)])
    t = c.select(
        *KEYS, "person_id", "claim_type", "payer", "bill_type_code", "drg_code",
        "hcpcs_code", "revenue_center_code", "place_of_service_code", "claim_start_date",
        "claim_end_date", "discharge_disposition_code", "rendering_npi", "billing_npi",
        "adjustment_type", "original_claim_id", "allowed_amount", "paid_amount",
        admit_date=c.admission_date.fill_null(c.claim_start_date),
        discharge=c.discharge_date.fill_null(c.claim_end_date),
        facility_npi=ibis.cases((c.claim_type == "institutional",
                                 c.facility_npi.fill_null(c.billing_npi)),
                                else_=c.facility_npi),
        dx1=c.diagnosis_code_1,
        dx_all=joined([c[f"diagnosis_code_{i}"] for i in range(1, 26)]),
        px_all=joined([c[f"procedure_code_{i}"] for i in range(1, 26)]),
        **extra,
    )
    t = service_categories(t)
    reversed_ = (c.filter(c.adjustment_type == "reversal")
                 .select(_rev_id=c.original_claim_id, _rev_src=c.data_source).distinct())
    t = t.left_join(reversed_, [t.claim_id == reversed_._rev_id,
                                t.data_source == reversed_._rev_src])
    t = t.mutate(
        svc_date=t.claim_start_date,
        setting=site_of_care(t),
        active=(t.adjustment_type != "reversal") & t._rev_id.isnull(),
        inpatient=(t.claim_type == "institutional")
        & t.bill_type_code.fill_null("").startswith("11"),
    )
    return t.drop("_rev_id", "_rev_src")


def stays(lines: ibis.Table) -> ibis.Table:
    """Inpatient stays of active claims, transfers and interim bills chained into one.

    One row per stay claim with ``stay_id``, ``stay_start`` and ``stay_end``.
    """
    t = lines.filter(lines.active & lines.inpatient)
    claims = t.group_by(["claim_id", "data_source", "person_id"]).aggregate(
        admit=t.admit_date.min(), discharge=t.discharge.max(),
        facility=t.facility_npi.min(), disposition=t.discharge_disposition_code.min(),
        drg=t.drg_code.min(), px_all=t.px_all.min(), dx_all=t.dx_all.min(),
        attending=t.rendering_npi.min(), payer=t.payer.min(),
    )
    w = ibis.window(group_by=claims.person_id,
                    order_by=[claims.admit, claims.discharge, claims.claim_id])
    claims = claims.mutate(_prev_disp=claims.disposition.lag().over(w),
                           _prev_dis=claims.discharge.lag().over(w),
                           _prev_fac=claims.facility.lag().over(w))
    transfer = ((claims._prev_disp == "02")
                & (claims.admit <= claims._prev_dis + ibis.interval(days=1))
                & (claims.facility != claims._prev_fac))
    interim = claims.admit < claims._prev_dis
    cont = (transfer | interim).fill_null(False)
    claims = claims.mutate(_new=ibis.cases((cont, 0), else_=1))
    wc = ibis.window(group_by=claims.person_id,
                     order_by=[claims.admit, claims.discharge, claims.claim_id],
                     rows=(None, 0))
    claims = claims.mutate(_stay_no=claims._new.sum().over(wc))
    claims = claims.mutate(stay_id=claims.person_id + ":" + claims._stay_no.cast("string"))
    span = claims.group_by("stay_id").aggregate(stay_start=claims.admit.min(),
                                                stay_end=claims.discharge.max())
    out = claims.join(span, "stay_id")
    return out.drop("_prev_disp", "_prev_dis", "_prev_fac", "_new", "_stay_no")


def _require_dx(dx_all: ibis.Value, cond: Condition) -> ibis.Value:
    req = cond.entry.require_diagnoses
    return any_code_in(dx_all, req) if req else ibis.literal(True)


def trigger_events(lines: ibis.Table, stay_claims: ibis.Table, cond: Condition) -> ibis.Table:
    """One row per trigger event of an acute condition: the anchor stay or procedure day.

    Columns: person_id, anchor_key, anchor_start, anchor_end, trigger_claim_id,
    trigger_payer, facility_npi, accountable_npi.
    """
    e = cond.entry
    s = stay_claims
    parts = []
    if e.drg or e.icd10pcs:
        hit = ibis.literal(False)
        if e.drg:
            hit = hit | code_in(s.drg, e.drg)
        if e.icd10pcs:
            hit = hit | any_code_in(s.px_all, e.icd10pcs)
        h = s.filter(hit & _require_dx(s.dx_all, cond))
        parts.append(h.select(
            "person_id", anchor_key=h.stay_id, anchor_start=h.stay_start,
            anchor_end=h.stay_end, claim_id=h.claim_id, src=ibis.literal(1),
            hit_date=h.admit, facility=h.facility, clinician=ibis.null("string"),
            attending=h.attending, payer=h.payer, line_no=ibis.literal(0).cast("int64")))
    if e.hcpcs:
        t = lines.filter(lines.active & lines.claim_type.isin(e.hcpcs_claim_types)
                         & code_in(lines.hcpcs_code, e.hcpcs) & _require_dx(lines.dx_all, cond))
        span = s.select(_p=s.person_id, _sid=s.stay_id, _ss=s.stay_start,
                        _se=s.stay_end).distinct()
        # only inpatient services (POS 21, bill type 11x) can belong to a stay; an outpatient
        # surgery on the day an unrelated stay ends is its own event
        j = t.left_join(span, [t.person_id == span._p, t.setting == "inpatient",
                               t.svc_date >= span._ss, t.svc_date <= span._se])
        inst = j.claim_type == "institutional"
        parts.append(j.select(
            "person_id",
            anchor_key=j._sid.fill_null(j.svc_date.strftime("D%Y%m%d")),
            anchor_start=j._ss.fill_null(j.svc_date), anchor_end=j._se.fill_null(j.svc_date),
            claim_id=j.claim_id, src=ibis.cases((inst, 2), else_=3), hit_date=j.svc_date,
            facility=j.facility_npi,
            clinician=ibis.cases((inst, ibis.null("string")), else_=j.rendering_npi),
            attending=j.rendering_npi, payer=j.payer,
            line_no=j.claim_line_number.cast("int64")))
    hits = parts[0] if len(parts) == 1 else ibis.union(*parts)
    grp = [hits.person_id, hits.anchor_key]
    w_trig = ibis.window(group_by=grp, order_by=[hits.src, hits.hit_date, hits.claim_id,
                                                 hits.line_no])
    w_prof = ibis.window(group_by=grp, order_by=[hits.clinician.isnull(), hits.hit_date,
                                                 hits.claim_id, hits.line_no])
    hits = hits.mutate(_rt=ibis.row_number().over(w_trig), _rp=ibis.row_number().over(w_prof))
    span = hits.group_by(["person_id", "anchor_key"]).aggregate(
        anchor_start=hits.anchor_start.min(), anchor_end=hits.anchor_end.max())
    first = hits.filter(hits._rt == 0).select(
        "person_id", "anchor_key", trigger_claim_id=hits.claim_id, trigger_payer=hits.payer,
        _fac=hits.facility, _att=hits.attending)
    prof = hits.filter(hits._rp == 0).select(
        _p2="person_id", _k2="anchor_key", _clin=hits.clinician, _pfac=hits.facility)
    ev = span.join(first, ["person_id", "anchor_key"])
    ev = ev.join(prof, [ev.person_id == prof._p2, ev.anchor_key == prof._k2])
    return ev.select(
        "person_id", "anchor_key", "anchor_start", "anchor_end", "trigger_claim_id",
        "trigger_payer", facility_npi=ev._fac.fill_null(ev._pfac),
        accountable_npi=ev._clin.fill_null(ev._att))


def left_join_keys(left: ibis.Table, right: ibis.Table, keys: list[str]) -> ibis.Table:
    """Left join on equal-named ``keys``, keeping one copy of each key column."""
    r = right.rename({f"_r_{k}": k for k in keys})
    j = left.left_join(r, [left[k] == r[f"_r_{k}"] for k in keys])
    return j.drop(*[f"_r_{k}" for k in keys])
