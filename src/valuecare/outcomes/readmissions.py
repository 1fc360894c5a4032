"""30-day all-cause unplanned readmissions with CMS-style index rules (one row per stay).

Source: CMS Hospital-Wide All-Cause Unplanned Readmission measure (HWR, NQF 1789; 2021
QualityNet specification) and the CMS Planned Readmission Algorithm v4.0, as summarised in
``../shared/reference/payment-and-measures.md`` §3.1 (tags [T]/[M]).  Code lists are data:
``valuecare/reference/readmissions.yaml``.

Rules implemented:

1. **Stays** are active inpatient claims (bill type 11x) with transfers and interim bills
   chained (:func:`valuecare.conditions.triggers.stays`); the final hospital of a transfer
   chain carries the stay (its facility, attending and discharge status).
2. **Index eligibility**, first failing rule is the ``exclusion_reason``: died in hospital
   (status 20 or a date of death on or before discharge) ``died_in_hospital``; left against
   medical advice (07) ``against_medical_advice``; discharged to another acute hospital
   with no following stay (02) ``transfer_out``; principal diagnosis psychiatric
   ``psychiatric``, rehabilitation ``rehabilitation`` or medical treatment of cancer
   ``cancer_treatment``; younger than ``min_age`` ``age``; fewer than 30 days of data
   after discharge ``insufficient_followup``; not enrolled through day 30 after discharge
   (unless dead by then) ``not_enrolled_30d``.
3. **Readmission**: the *first* stay admitted 0-30 days after discharge.  If it is
   planned, the index stay has no readmission (an unplanned stay after a planned one does
   not count); only the first counts (binary outcome).  A same-day admission to the same
   hospital with the same three-character principal diagnosis is treated as a
   continuation of the index stay, not a readmission (simplification of CMS rule 5).
4. **Planned** (algorithm v4.0 in outline): an always-planned procedure (transplants) or
   always-planned diagnosis (maintenance chemotherapy, rehabilitation), or a potentially
   planned procedure with a principal diagnosis not on the acute / complication list.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import ibis
import yaml

from valuecare.conditions.codes import any_code_in, code_in

FAR = date(9999, 12, 31)


@lru_cache(maxsize=1)
def code_lists() -> dict[str, Any]:
    """The readmission code lists (``valuecare/reference/readmissions.yaml``)."""
    text = (resources.files("valuecare") / "reference" / "readmissions.yaml").read_text(
        encoding="utf-8")
    return yaml.safe_load(text)


def _dx_pred(dx: ibis.Value, spec: dict[str, Any]) -> ibis.Value:
    return code_in(dx, spec["diagnoses"]) if spec.get("diagnoses") else ibis.literal(False)


def _pred(t: ibis.Table, spec: dict[str, Any]) -> ibis.Value:
    p = _dx_pred(t.principal_dx, spec)
    if spec.get("icd10pcs"):
        p = p | any_code_in(t.px_all, spec["icd10pcs"])
    if spec.get("drg"):
        p = p | code_in(t.drg, spec["drg"])
    return p


def days_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """Whole days from ``earlier`` to ``later`` (negative when ``later`` is earlier)."""
    return later.delta(earlier, unit="day")


def age_at(birth: ibis.Value, at: ibis.Value) -> ibis.Value:
    """Whole years of age at ``at`` (a birthday counts on its day; 29 Feb on 1 Mar)."""
    before = (at.month() * 100 + at.day()) < (birth.month() * 100 + birth.day())
    return at.year() - birth.year() - ibis.cases((before, 1), else_=0)


def stay_table(stay_claims: ibis.Table) -> ibis.Table:
    """One row per stay from the per-claim stay rows, with planned flags.

    ``stay_id, person_id, admit_date, discharge_date, facility_npi, attending_npi, payer,
    disposition, principal_dx, drg, planned``.
    """
    s = stay_claims.mutate(principal_dx=stay_claims.dx_all.re_extract(r"^([^|]*)", 1))
    codes = code_lists()
    s = s.mutate(
        _always=_pred(s, codes["always_planned_procedures"])
        | _pred(s, codes["always_planned_diagnoses"]),
        _potential=_pred(s, codes["potentially_planned_procedures"]),
    )
    w_first = ibis.window(group_by=s.stay_id, order_by=[s.admit, s.claim_id])
    w_last = ibis.window(group_by=s.stay_id, order_by=[ibis.desc(s.discharge),
                                                      ibis.desc(s.claim_id)])
    s = s.mutate(_rf=ibis.row_number().over(w_first), _rl=ibis.row_number().over(w_last))
    first = s.filter(s._rf == 0).select(
        "stay_id", "person_id", "payer", "principal_dx", "drg",
        admit_date=s.stay_start, discharge_date=s.stay_end)
    last = s.filter(s._rl == 0).select(
        _sid="stay_id", facility_npi=s.facility, attending_npi=s.attending,
        disposition=s.disposition)
    flags = s.group_by(_fid=s.stay_id).aggregate(
        _always=s._always.any(), _potential=s._potential.any())
    out = first.join(last, first.stay_id == last._sid).join(flags,
                                                             first.stay_id == flags._fid)
    acute = _dx_pred(out.principal_dx, codes["acute_diagnoses"])
    planned = out._always | (out._potential & ~acute)
    return out.select(
        "stay_id", "person_id", "admit_date", "discharge_date", "facility_npi",
        "attending_npi", "payer", "disposition", "principal_dx", "drg",
        planned=planned.fill_null(False))


def coverage_islands(eligibility: ibis.Table) -> ibis.Table:
    """Continuous enrollment per person across payers: ``person_id, cover_start, cover_end``.

    Spans that overlap or touch (next start no later than the day after the previous end)
    merge; an open-ended span runs to 9999-12-31.
    """
    e = eligibility.select(
        "person_id", _s=eligibility.enrollment_start_date,
        _e=eligibility.enrollment_end_date.fill_null(ibis.literal(FAR)))
    w = ibis.window(group_by=e.person_id, order_by=[e._s, e._e], rows=(None, 0))
    e = e.mutate(_run_end=e._e.max().over(w))
    w2 = ibis.window(group_by=e.person_id, order_by=[e._s, e._e])
    e = e.mutate(_prev_end=e._run_end.lag().over(w2))
    new = (e._prev_end.isnull() | (e._s > e._prev_end + ibis.interval(days=1)))
    e = e.mutate(_new=ibis.cases((new, 1), else_=0))
    e = e.mutate(_island=e._new.sum().over(w))
    return e.group_by(["person_id", "_island"]).aggregate(
        cover_start=e._s.min(), cover_end=e._e.max()).drop("_island")


def covered_through(events: ibis.Table, islands: ibis.Table, date_col: str) -> ibis.Table:
    """Add ``covered_through``: end of the enrollment island holding ``date_col`` (or null)."""
    i = islands.select(_cp=islands.person_id, _cs=islands.cover_start, _ce=islands.cover_end)
    j = events.left_join(i, [events.person_id == i._cp, i._cs <= events[date_col],
                             i._ce >= events[date_col]])
    return j.mutate(covered_through=j._ce).drop("_cp", "_cs", "_ce")


def first_admission_after(index: ibis.Table, stays: ibis.Table, days: int) -> ibis.Table:
    """For each index row (``_key, person_id, _from, _facility, _dx3, _exclude_stay``) the
    first stay admitted 0..``days`` days after ``_from``: ``_key, _r_stay, _r_admit,
    _r_planned``.  Same-day same-hospital same-diagnosis stays are continuations."""
    r = stays.select(_rp=stays.person_id, _r_stay=stays.stay_id, _r_admit=stays.admit_date,
                     _r_planned=stays.planned, _r_fac=stays.facility_npi,
                     _r_dx3=stays.principal_dx.substr(0, 3))
    j = index.join(r, [index.person_id == r._rp, r._r_admit >= index._from,
                       r._r_admit <= index._from + ibis.interval(days=days)])
    same = ((j._r_admit == j._from) & (j._r_fac == j._facility) & (j._r_dx3 == j._dx3))
    j = j.filter(~same.fill_null(False)
                 & (j._r_stay != j._exclude_stay.fill_null("")))
    w = ibis.window(group_by=j._key, order_by=[j._r_admit, j._r_stay])
    j = j.mutate(_rn=ibis.row_number().over(w))
    return j.filter(j._rn == 0).select("_key", "_r_stay", "_r_admit", "_r_planned")


def readmissions(stays: ibis.Table, *, deaths: ibis.Table | None, islands: ibis.Table | None,
                 birth_dates: ibis.Table | None, as_of: date, days: int = 30,
                 min_age: int | None = None) -> ibis.Table:
    """``readmissions``: every stay as a candidate index stay with its 30-day outcome.

    ``stays`` is :func:`stay_table`; ``deaths`` ``person_id, death_date``; ``islands`` from
    :func:`coverage_islands` (None: enrollment not checked); ``birth_dates``
    ``person_id, birth_date`` (needed for ``min_age``); ``as_of`` the last date of data.
    """
    codes = code_lists()["index_exclusions"]
    t = stays
    if deaths is not None:
        d = deaths.select(_dp=deaths.person_id, death_date=deaths.death_date)
        t = t.left_join(d, t.person_id == d._dp).drop("_dp")
    else:
        t = t.mutate(death_date=ibis.null("date"))
    if islands is not None:
        t = covered_through(t, islands, "discharge_date")
    else:
        t = t.mutate(covered_through=ibis.literal(FAR))
    if birth_dates is not None and min_age is not None:
        b = birth_dates.select(_bp=birth_dates.person_id, _bd=birth_dates.birth_date)
        t = t.left_join(b, t.person_id == b._bp).drop("_bp")
        young = (age_at(t._bd, t.admit_date) < min_age).fill_null(True)
    else:
        young = ibis.literal(False)
    end = t.discharge_date + ibis.interval(days=days)
    died_by_end = t.death_date.notnull() & (t.death_date <= end)
    reason = ibis.cases(
        ((t.disposition == "20") | (t.death_date <= t.discharge_date).fill_null(False),
         "died_in_hospital"),
        (t.disposition == "07", "against_medical_advice"),
        (t.disposition == "02", "transfer_out"),
        (_dx_pred(t.principal_dx, codes["psychiatric"]), "psychiatric"),
        (_dx_pred(t.principal_dx, codes["rehabilitation"])
         | code_in(t.drg, codes["rehabilitation"]["drg"]), "rehabilitation"),
        (_dx_pred(t.principal_dx, codes["cancer_treatment"]), "cancer_treatment"),
        (young, "age"),
        (end > ibis.literal(as_of), "insufficient_followup"),
        (~died_by_end & (t.covered_through.isnull() | (t.covered_through < end)),
         "not_enrolled_30d"),
        else_=ibis.null("string"),
    )
    t = t.mutate(exclusion_reason=reason)
    idx = t.select(_key=t.stay_id, person_id=t.person_id, _from=t.discharge_date,
                   _facility=t.facility_npi, _dx3=t.principal_dx.substr(0, 3),
                   _exclude_stay=t.stay_id)
    first = first_admission_after(idx, stays, days)
    j = t.left_join(first, t.stay_id == first._key)
    eligible = j.exclusion_reason.isnull()
    readmitted = j._r_stay.notnull() & ~j._r_planned.fill_null(False)
    return j.select(
        "stay_id", "person_id", "facility_npi", "attending_npi", "payer", "admit_date",
        "discharge_date", "disposition", "principal_dx", "drg", "planned",
        index_eligible=eligible,
        exclusion_reason=j.exclusion_reason,
        readmitted_30d=ibis.cases((eligible, readmitted), else_=ibis.null("boolean")),
        readmission_stay_id=j._r_stay,
        readmission_date=j._r_admit,
        first_readmission_planned=j._r_planned,
        days_to_readmission=days_between(j._r_admit, j.discharge_date).cast("int32"),
    )
