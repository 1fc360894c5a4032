"""Build the CMS-HCC inputs (``persons``, ``diagnoses``) from the canonical tables.

Choices, each following CMS's MA risk-adjustment rules as far as the canonical model
carries the data:

- **Data year**: diagnoses come from the calendar year before the payment year (the
  "data collection year"), dated by the claim's ``claim_end_date`` (through date).
- **Active claims only**: reversals and the claims they reverse are dropped
  (:func:`valuecare.conditions.triggers.prepare_lines`' ``active`` flag).
- **Encounter filtering** (CMS encounter-data diagnosis filtering, as in hccinfhir's
  ``filter.apply_filter``, applied per claim because the canonical claim repeats its
  diagnoses on every line): institutional inpatient claims (type of bill 11x, 41x) count
  as they are; institutional outpatient claims (12x, 13x, 43x, 71x, 73x, 76x, 77x, 85x,
  87x) and professional claims count when one of their lines has a CPT/HCPCS code on the
  risk-adjustment-eligible list of the service year (hccinfhir
  ``ra_eligible_cpt_hcpcs_<year>.csv``).  Other institutional bill types (SNF, home
  health, hospice, ...) and ``undetermined`` claims do not count.
- **Population**: members with an eligibility span of ``payer_types`` (default Medicare
  and Medicare Advantage) overlapping the data year or the payment year.
- **Age** on 1 February of the payment year (CMS convention).  **Sex**: ``male`` -> M,
  ``female`` -> F, ``unknown`` -> null (the score is then null, never a guess).
- From the person's latest such span: ``dual_status_code`` (else the member's),
  ``original_reason_entitlement_code`` (null -> 0), ESRD ``crec`` = 2 when
  ``medicare_status_code`` is 11, 21 or 31, ``lti`` when ``long_term_institutional_flag``
  is 1 or ``enrollment_status`` is ``Institutional``.
- **New enrollee**: ``enrollment_status`` ``New`` on the latest span, or first coverage
  of ``payer_types`` after 1 January of the data year (fewer than 12 months of Medicare
  in the data year).  ``snp`` is always false: the canonical model has no C-SNP flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from valuecare.conditions.triggers import prepare_lines
from valuecare.risk.hcc_tables import eligible_procedures

INPATIENT_TOB = ("11", "41")
OUTPATIENT_TOB = ("12", "13", "43", "71", "73", "76", "77", "85", "87")
MEDICARE = ("medicare", "medicare advantage")


def risk_diagnoses(medical_claim: ir.Table, payment_year: int) -> ir.Table:
    """``person_id, diagnosis_code``: distinct risk-adjustment-eligible diagnoses."""
    year = payment_year - 1
    lines = prepare_lines(medical_claim)
    lines = lines.filter(lines.active, lines.claim_end_date.year() == year)
    bt = lines.bill_type_code.fill_null("")
    bt = ibis.cases(((bt.length() == 4) & bt.startswith("0"), bt.substr(1)), else_=bt)
    tob = bt.substr(0, 2)
    inst = lines.claim_type == "institutional"
    codes = ibis.memtable(pd.DataFrame({"_code": sorted(eligible_procedures(year))}))
    lines = lines.left_join(codes, lines.hcpcs_code == codes._code)
    lines = lines.mutate(
        _inpatient=inst & tob.isin(list(INPATIENT_TOB)),
        _needs_cpt=(inst & tob.isin(list(OUTPATIENT_TOB)))
        | (lines.claim_type == "professional"),
        _cpt_ok=lines._code.notnull(),
    )
    claims = lines.group_by(["claim_id", "data_source"]).aggregate(
        _keep=(lines._inpatient | (lines._needs_cpt & lines._cpt_ok)).any())
    kept = lines.semi_join(claims.filter(claims._keep), ["claim_id", "data_source"])
    # split on "," not "|": Spark's split() takes a regular expression
    codes_ = kept.dx_all.replace("|", ",").split(",")
    dx = kept.select("person_id", diagnosis_code=codes_.unnest())
    return dx.filter(dx.diagnosis_code != "").distinct()


def risk_persons(member: ir.Table, eligibility: ir.Table, payment_year: int, *,
                 payer_types: Sequence[str] | None = MEDICARE) -> ir.Table:
    """``person_id, age, sex, dual_elgbl_cd, orec, crec, lti, new_enrollee, snp``."""
    data_start = date(payment_year - 1, 1, 1)
    e = eligibility
    if payer_types is not None:
        e = e.filter(e.payer_type.isin(list(payer_types)))
    first = e.group_by("person_id").aggregate(_first=e.enrollment_start_date.min())
    e = e.filter(e.enrollment_end_date >= data_start,
                 e.enrollment_start_date <= date(payment_year, 12, 31))
    w = ibis.window(group_by="person_id",
                    order_by=[ibis.desc("enrollment_start_date"), ibis.desc("payer"),
                              ibis.desc("plan")])
    e = e.mutate(_rn=ibis.row_number().over(w))
    last = e.filter(e._rn == 0)
    last = last.join(first, "person_id")
    mm = member.select("person_id", "birth_date", _msex=member.sex,
                       _mdual=member.dual_status_code)
    t = last.join(mm, "person_id")
    bd = t.birth_date
    before_feb2 = (bd.month() < 2) | ((bd.month() == 2) & (bd.day() <= 1))
    age = payment_year - bd.year() - before_feb2.ifelse(0, 1)
    status = t.enrollment_status.fill_null("")
    return t.select(
        "person_id",
        age=age.cast("int64"),
        sex=ibis.cases((t._msex == "male", "M"), (t._msex == "female", "F"),
                       else_=ibis.null("string")),
        dual_elgbl_cd=t.dual_status_code.fill_null(t._mdual),
        orec=t.original_reason_entitlement_code.fill_null("0"),
        crec=ibis.cases((t.medicare_status_code.isin(["11", "21", "31"]), "2"),
                        else_=ibis.null("string")),
        lti=(t.long_term_institutional_flag.fill_null(0) == 1)
        | (status == "Institutional"),
        new_enrollee=(status == "New") | (t._first > data_start),
        snp=ibis.literal(False),
    )
