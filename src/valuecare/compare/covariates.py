"""Patient covariates per care cycle for risk adjustment, computed in the engine.

One row per cycle of ``care_cycles``, measured at the cycle start so that nothing the
provider did during the cycle (a complication, a readmission) can raise the patient's
expected risk:

- ``age`` (years at the cycle start) and ``age_sq`` (age squared / 100);
- ``female`` (1 for ``female``; ``unknown`` sex counts as not female);
- ``dual`` (1 when the member's ``dual_status_code`` is other than ``00``, Medicare-Medicaid
  dual eligibility);
- ``social_needs``: the number of positive social-needs screens on the member
  (food insecurity, housing instability, transportation barrier; 0-3);
- ``hcc_score``: the CMS-HCC raw risk score of the diagnoses coded in the ``lookback_days``
  (default 365) before the cycle start, from every active medical claim (no encounter
  filtering: this is a morbidity summary, not a payment score), with the community,
  non-new-enrollee segment of the member's age, sex, dual status and original reason for
  entitlement (aged 65+ -> 0, younger -> 1, disabled), model ``hcc_model`` and the tables
  of ``hcc_year`` (default V28, latest tables) for every payer alike; ``hcc_count`` the
  number of payment HCCs.  Null when sex is unknown (``hcc_missing`` = 1 then).
- ``elixhauser_vw`` (van Walraven 2009 weights) and ``charlson`` (Quan 2005/2011) of the
  same lookback diagnoses, when :mod:`valuecare.risk.comorbidity` is present.

Sources: reference sheet §8.1 (indirect standardization with patient-level covariates);
§9 (CMS-HCC); the lookback-before-the-index design follows CMS's hospital outcome models,
which take comorbidities from the 12 months before the index admission (CMS/YNHHSC-CORE
measure methodology reports).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from valuecare.conditions.triggers import prepare_lines
from valuecare.risk.hcc import hcc_scores
from valuecare.risk.hcc_tables import TABLE_YEARS

LOOKBACK_DAYS = 365
BASE = ("age", "age_sq", "female", "dual", "social_needs")
HCC = ("hcc_score", "hcc_missing")
COMORBIDITY = ("elixhauser_vw", "charlson")


def lookback_diagnoses(cycles: ir.Table, medical_claim: ir.Table, *,
                       lookback_days: int = LOOKBACK_DAYS) -> ir.Table:
    """``cycle_id, diagnosis_code``: distinct diagnoses on active claims that ended in the
    ``lookback_days`` before the cycle start (the cycle start day itself excluded)."""
    lines = prepare_lines(medical_claim)
    lines = lines.filter(lines.active).select("person_id", "claim_end_date", "dx_all")
    c = cycles.select("cycle_id", _pid=cycles.person_id, _start=cycles.start_date)
    j = lines.join(c, lines.person_id == c._pid)
    j = j.filter(j.claim_end_date < j._start,
                 j.claim_end_date >= j._start - ibis.interval(days=lookback_days))
    # split on "," not "|": Spark's split() takes a regular expression
    codes = j.dx_all.replace("|", ",").split(",")
    dx = j.select("cycle_id", diagnosis_code=codes.unnest())
    return dx.filter(dx.diagnosis_code.notnull() & (dx.diagnosis_code != "")).distinct()


def _base(cycles: ir.Table, member: ir.Table) -> ir.Table:
    m = member.select(
        _pid=member.person_id, _birth=member.birth_date, _sex=member.sex,
        _dual=member.dual_status_code.fill_null("00"),
        _social=(member.food_insecurity.fill_null(False).cast("int32")
                 + member.housing_instability.fill_null(False).cast("int32")
                 + member.transportation_barrier.fill_null(False).cast("int32")))
    t = cycles.select("cycle_id", "person_id", _start=cycles.start_date)
    t = t.join(m, t.person_id == m._pid)
    s, b = t._start, t._birth
    before = (s.month() * 100 + s.day()) < (b.month() * 100 + b.day())
    age = (s.year() - b.year() - before.ifelse(1, 0)).cast("int64")
    return t.select(
        "cycle_id", "person_id", "_sex", "_dual",
        age=age,
        female=(t._sex == "female").ifelse(1.0, 0.0),
        dual=(t._dual != "00").ifelse(1.0, 0.0),
        social_needs=t._social.cast("float64"),
    )


def cycle_covariates(cycles: ir.Table, member: ir.Table, medical_claim: ir.Table, *,
                     lookback_days: int = LOOKBACK_DAYS, hcc_model: str = "V28",
                     hcc_year: int = max(TABLE_YEARS), comorbidity: bool = True) -> ir.Table:
    """Covariates per cycle (see the module docstring for each column)."""
    base = _base(cycles, member)
    dx = lookback_diagnoses(cycles, medical_claim, lookback_days=lookback_days)
    persons = base.select(
        person_id=base.cycle_id,
        age=base.age,
        sex=ibis.cases((base._sex == "male", "M"), (base._sex == "female", "F"),
                       else_=ibis.null("string")),
        dual_elgbl_cd=base._dual,
        orec=(base.age >= 65).ifelse("0", "1"),
        crec=ibis.null("string"),
        lti=ibis.literal(False),
        new_enrollee=ibis.literal(False),
        snp=ibis.literal(False),
    )
    hcc = hcc_scores(persons, dx.select(person_id=dx.cycle_id, diagnosis_code=dx.diagnosis_code),
                     model=hcc_model, payment_year=hcc_year, normalization_factor=1.0)
    hcc = hcc.select(_hid=hcc.person_id, _raw=hcc.raw_score, _hcnt=hcc.hcc_count)
    out = base.left_join(hcc, base.cycle_id == hcc._hid)
    cols = dict(
        age=out.age.cast("float64"),
        age_sq=(out.age * out.age).cast("float64") / 100.0,
        female=out.female, dual=out.dual, social_needs=out.social_needs,
        hcc_score=out._raw,
        hcc_count=out._hcnt.fill_null(0).cast("int64"),
        hcc_missing=out._raw.isnull().ifelse(1.0, 0.0),
    )
    result = out.select("cycle_id", "person_id", **cols)
    if comorbidity:
        result = _with_comorbidity(result, dx)
    return result


def _with_comorbidity(t: ir.Table, dx: ir.Table) -> ir.Table:
    try:
        from valuecare.risk.comorbidity import charlson, elixhauser
    except ImportError:  # pragma: no cover - the module ships with valuecare
        return t
    e = elixhauser(dx, person_col="cycle_id", code_col="diagnosis_code")
    c = charlson(dx, person_col="cycle_id", code_col="diagnosis_code")
    e = e.select(_eid=e.cycle_id, _vw=e.elixhauser_vw)
    c = c.select(_chid=c.cycle_id, _ch=c.charlson_index)
    j = t.left_join(e, t.cycle_id == e._eid)
    j = j.select(*t.columns, elixhauser_vw=j._vw.fill_null(0).cast("float64"))
    k = j.left_join(c, j.cycle_id == c._chid)
    return k.select(*j.columns, charlson=k._ch.fill_null(0).cast("float64"))
