"""Building blocks of the quality measures: inputs, value-set hits, ages, windows, payer and
provider attribution, and the shared eCQM exclusions (Hospice, PalliativeCare,
AdvancedIllnessandFrailty libraries) in claims form.

Every function returns an Ibis expression that runs unchanged on DuckDB and Spark.

- **Evidence** is an *active* claim line (``valuecare.conditions.triggers.prepare_lines``: a
  reversal and the claim it reverses never count; a replacing adjustment does), an
  observation with an explicit LOINC code (``source_code_type = 'loinc'``), or a pharmacy
  claim that is neither a reversal nor reversed.
- **Ages** follow CQL ``AgeInYearsAt``: whole years, the birthday not yet reached that year
  subtracts one; someone born on 29 February turns a year older on 1 March in common years
  (as Java's ``ChronoUnit.YEARS`` in the CQL engine counts).
- **Windows** are inclusive calendar days.  A claim *overlaps* the period when it starts on
  or before its end and ends on or after its start.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import ibis

from valuecare.conditions.codes import any_code_in, code_in, joined
from valuecare.conditions.triggers import KEYS, prepare_lines
from valuecare.errors import InvalidInput
from valuecare.outcomes.quality_defs import SharedExclusions, ValueSet

REQUIRED_TABLES: tuple[str, ...] = ("member", "eligibility", "medical_claim")
OPTIONAL_TABLES: tuple[str, ...] = ("observation", "pharmacy_claim")
#: Sites of care whose readings CMS165 does not count (``site_of_care`` values).
ACUTE_SETTINGS: tuple[str, ...] = ("emergency department", "inpatient")
#: Columns of the prepared claim lines the measures read.
LINE_COLUMNS: tuple[str, ...] = (
    "claim_id", "claim_line_number", "data_source", "person_id", "claim_type", "svc_date",
    "discharge", "setting", "inpatient", "hcpcs_code", "_mods", "dx_all", "px_all",
    "bill_type_code", "place_of_service_code", "revenue_center_code",
    "discharge_disposition_code", "rendering_npi")


def shift_years(d: date, years: int) -> date:
    """``d`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def shift_months(d: date, months: int) -> date:
    """``d`` moved by whole months, the day clamped to the end of the month."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


@dataclass(frozen=True)
class Period:
    """The measurement period, both ends inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not (isinstance(self.start, date) and isinstance(self.end, date)):
            raise InvalidInput("period_start and period_end must be dates (datetime.date)")
        if self.start > self.end:
            raise InvalidInput(f"period_start {self.start} is after period_end {self.end}; "
                               "give the first and the last day of the measurement period")

    def lookback_start(self, vs: ValueSet) -> date:
        """First day a numerator value set's evidence counts."""
        if vs.lookback_start == "october_1_two_years_prior":
            return date(self.start.year - 2, 10, 1)
        return shift_years(self.start, -vs.lookback_years)


@dataclass(frozen=True)
class Inputs:
    """The canonical tables a measure reads, narrowed and cleaned once."""

    lines: ibis.Table
    member: ibis.Table
    eligibility: ibis.Table
    observation: ibis.Table | None
    pharmacy: ibis.Table | None
    period: Period


def quality_lines(tables: Mapping[str, ibis.Table]) -> ibis.Table:
    """The active claim lines the measures read (modifiers joined as ``_mods``).

    They do not depend on the measure or the period, so a caller evaluating many measures
    and periods materialises them once and passes them as ``lines``.
    """
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise InvalidInput(
            f"quality measures need the tables {', '.join(REQUIRED_TABLES)}; missing: "
            f"{', '.join(missing)}. Pass them in `tables` by canonical name (optional: "
            f"{', '.join(OPTIONAL_TABLES)})")
    claims = tables["medical_claim"]
    lines = prepare_lines(claims)
    mods = claims.select(*[claims[k].name(f"_m_{k}") for k in KEYS],
                         _mods=joined([claims[f"hcpcs_modifier_{i}"] for i in range(1, 6)]))
    lines = lines.left_join(mods, [lines[k] == mods[f"_m_{k}"] for k in KEYS])
    lines = lines.drop(*[f"_m_{k}" for k in KEYS])
    return fence(lines.filter(lines.active).select(*LINE_COLUMNS), tables["member"])


def prepare_inputs(tables: Mapping[str, ibis.Table], period: Period,
                   lines: ibis.Table | None = None) -> Inputs:
    """Active claim lines (:func:`quality_lines`, or ``lines`` already made) and the other
    tables."""
    lines = quality_lines(tables) if lines is None else fence(lines, tables["member"])
    return Inputs(lines=lines, member=tables["member"], eligibility=tables["eligibility"],
                  observation=tables.get("observation"), pharmacy=tables.get("pharmacy_claim"),
                  period=period)


def fence(t: ibis.Table, member: ibis.Table) -> ibis.Table:
    """``t`` limited to known members, written so that Ibis never fuses later filters into it.

    Ibis merges a filter or projection into the select below it, so a table that many
    expressions read would be compiled once per reader (megabytes of SQL that the engines
    take seconds to plan).  A select whose predicate holds a subquery (``person_id IN
    (SELECT person_id FROM member)``) is never merged, so it becomes one common table
    expression.  (An impure column such as ``random()`` would fence too, but Spark's
    optimizer fails on self-joins of plans holding one.)
    """
    return t.filter(t.person_id.isin(member.person_id))


def age_at(birth: ibis.Value, on: date) -> ibis.Value:
    """CQL ``AgeInYearsAt(on)`` for a birth-date column (see the module docstring)."""
    not_yet = (birth.month() > on.month) | ((birth.month() == on.month)
                                            & (birth.day() > on.day))
    return (ibis.literal(on.year) - birth.year()) - not_yet.cast("int64")


def expand(codes: list[str]) -> tuple[list[str], list[str]]:
    """CPT/HCPCS entries as (full codes, shorter prefixes); a range ``LOW-HIGH`` of codes
    sharing a letter prefix and differing in their trailing digits is listed code by code
    (``E0100-E0105``, ``99202-99205``), so the predicate is one ``isin``."""
    full: list[str] = []
    prefixes: list[str] = []
    for c in codes:
        if "-" in c:
            lo, hi = c.split("-")
            head = len(lo.rstrip("0123456789"))
            if lo[:head] != hi[:head] or not lo[head:].isdigit() or not hi[head:].isdigit():
                raise InvalidInput(f"cannot list the range {c}: give its codes one by one")
            width = len(lo) - head
            full += [f"{lo[:head]}{n:0{width}d}"
                     for n in range(int(lo[head:]), int(hi[head:]) + 1)]
        elif len(c) >= 5:
            full.append(c)
        else:
            prefixes.append(c)
    return sorted(set(full)), sorted(set(prefixes))


def hcpcs_in(col: ibis.Value, codes: list[str]) -> ibis.Value:
    """A CPT/HCPCS column holds one of ``codes`` (codes, ranges or short prefixes)."""
    full, prefixes = expand(codes)
    pred = col.fill_null("").isin(full) if full else ibis.literal(False)
    if prefixes:
        pred = pred | code_in(col, prefixes)
    return pred


def claim_pred(t: ibis.Table, vs: ValueSet) -> ibis.Value:
    """A prepared claim line matches any claims criterion of ``vs``."""
    pred = ibis.literal(False)
    if vs.diagnoses:
        pred = pred | any_code_in(t.dx_all, vs.diagnoses)
    if vs.hcpcs:
        hit = hcpcs_in(t.hcpcs_code, vs.hcpcs)
        if vs.modifiers:
            hit = hit & any_code_in(t._mods, vs.modifiers)
        pred = pred | hit
    if vs.icd10pcs:
        pred = pred | any_code_in(t.px_all, vs.icd10pcs)
    if vs.bill_types:
        pred = pred | ((t.claim_type == "institutional") & code_in(t.bill_type_code,
                                                                   vs.bill_types))
    if vs.pos:
        pred = pred | t.place_of_service_code.fill_null("").isin(vs.pos)
    if vs.revenue:
        pred = pred | code_in(t.revenue_center_code, vs.revenue)
    if vs.discharge_dispositions:
        pred = pred | t.discharge_disposition_code.fill_null("").isin(vs.discharge_dispositions)
    return pred


def claim_hits(inp: Inputs, vs: ValueSet) -> ibis.Table | None:
    """Active claim lines matching ``vs``: person_id, date, end_date, claim_id, npi, code,
    setting (``None`` when the value set has no claims codes)."""
    if not vs.claims:
        return None
    t = inp.lines
    h = t.filter(claim_pred(t, vs))
    return h.select("person_id", date=h.svc_date, end_date=h.discharge, claim_id=h.claim_id,
                    npi=h.rendering_npi, code=h.hcpcs_code, setting=h.setting)


def obs_hits(inp: Inputs, loinc: list[str]) -> ibis.Table | None:
    """Observations with one of the LOINC codes: person_id, date, value, result,
    encounter_id, code (``None`` without an observation table or codes)."""
    if inp.observation is None or not loinc:
        return None
    o = inp.observation
    h = o.filter((o.source_code_type == "loinc") & o.source_code.isin(loinc))
    return h.select("person_id", date=h.observation_date, value=h.result_numeric,
                    result=h.result, encounter_id=h.encounter_id, code=h.source_code)


def rx_hits(inp: Inputs, vs: ValueSet) -> ibis.Table | None:
    """Dispensings matching ``vs`` (drug class or NDC prefix), reversals netted out:
    person_id, date (``None`` without a pharmacy table or drug criteria)."""
    if inp.pharmacy is None or not (vs.drug_classes or vs.ndc):
        return None
    p = inp.pharmacy
    reversed_ = p.filter(p.adjustment_type == "reversal").select(
        _rid=p.original_claim_id, _rsrc=p.data_source).distinct()
    p = p.left_join(reversed_, [p.claim_id == reversed_._rid, p.data_source == reversed_._rsrc])
    pred = ibis.literal(False)
    if vs.drug_classes and "drug_class" in p.columns:
        pred = pred | p.drug_class.lower().isin(vs.drug_classes)
    if vs.ndc:
        pred = pred | code_in(p.ndc_code, vs.ndc)
    h = p.filter(pred & (p.adjustment_type != "reversal") & p._rid.isnull())
    return h.select("person_id", date=h.dispensing_date)


def union(parts: list[ibis.Table | None]) -> ibis.Table | None:
    """Union of the tables that exist (same columns), or ``None``."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else ibis.union(*present)


def dated(parts: list[ibis.Table | None]) -> ibis.Table | None:
    """person_id, date, end_date of claim, observation and pharmacy hits, unioned."""
    out = []
    for p in parts:
        if p is None:
            continue
        end = p.end_date if "end_date" in p.columns else p.date
        out.append(p.select("person_id", "date", end_date=end))
    return union(out)


def in_window(t: ibis.Table, lo: date, hi: date) -> ibis.Table:
    """Rows dated ``lo`` to ``hi``."""
    return t.filter((t.date >= lo) & (t.date <= hi))


def overlapping(t: ibis.Table, lo: date, hi: date) -> ibis.Table:
    """Rows whose ``date``..``end_date`` overlaps ``lo``..``hi``."""
    return t.filter((t.date <= hi) & (t.end_date >= lo))


def latest(t: ibis.Table, kind: str, priority: int) -> ibis.Table:
    """One row per person: the latest date, tagged with ``kind`` and ``priority``."""
    g = t.group_by("person_id").aggregate(date=t.date.max())
    return g.select("person_id", kind=ibis.literal(kind),
                    priority=ibis.literal(priority, type="int64"), date=g.date)


def qualifying_visits(inp: Inputs, vs: ValueSet) -> ibis.Table:
    """Qualifying encounters in the period: person_id, claim_id, date, npi (one per line)."""
    h = claim_hits(inp, vs)
    if h is None:
        raise InvalidInput(f"value set {vs.name!r} has no claims codes to find visits")
    p = inp.period
    h = in_window(h, p.start, p.end)
    return fence(h.select("person_id", "claim_id", "date", "npi").distinct(), inp.member)


def attributed_provider(visits: ibis.Table) -> ibis.Table:
    """person_id, provider_npi: the rendering NPI with the most qualifying encounters
    (distinct claims); ties go to the most recent encounter, then the lowest NPI."""
    v = visits.filter(visits.npi.notnull())
    agg = v.group_by(["person_id", "npi"]).aggregate(n=v.claim_id.nunique(), last=v.date.max())
    w = ibis.window(group_by=agg.person_id, order_by=[agg.n.desc(), agg.last.desc(), agg.npi])
    agg = agg.mutate(_rk=ibis.row_number().over(w))
    return agg.filter(agg._rk == 0).select("person_id", provider_npi=agg.npi)


def payer_of(inp: Inputs) -> ibis.Table:
    """person_id, payer: the enrollment span covering the period end, else the latest span
    (by end date) overlapping the period; ties by later start, then payer name."""
    p = inp.period
    e = inp.eligibility
    e = e.filter((e.enrollment_start_date <= p.end) & (e.enrollment_end_date >= p.start))
    covers = ((e.enrollment_start_date <= p.end)
              & (e.enrollment_end_date >= p.end)).cast("int8")
    w = ibis.window(group_by=e.person_id,
                    order_by=[covers.desc(), e.enrollment_end_date.desc(),
                              e.enrollment_start_date.desc(), e.payer])
    e = e.mutate(_rk=ibis.row_number().over(w))
    return e.filter(e._rk == 0).select("person_id", "payer")


# --- shared exclusions -------------------------------------------------------------------


def _frailty(inp: Inputs, shared: SharedExclusions) -> ibis.Table | None:
    """Frailty device, diagnosis / symptom or encounter on a claim overlapping the period."""
    vs = shared.value_sets
    hits = dated([claim_hits(inp, vs[k]) for k in
                  ("frailty_device", "frailty_diagnosis", "frailty_encounter")])
    if hits is None:
        return None
    return overlapping(hits, inp.period.start, inp.period.end)


def _advanced_illness(inp: Inputs, shared: SharedExclusions, rule: str) -> ibis.Table | None:
    """Advanced illness in the period or the year before: any diagnosis (eCQM 2024+), or two
    non-inpatient encounters on different dates or one acute inpatient claim (earlier)."""
    p = inp.period
    lo = shift_years(p.start, -shared.advanced_illness_lookback_years)
    h = claim_hits(inp, shared.value_sets["advanced_illness"])
    if h is None:
        return None
    h = in_window(h, lo, p.end)
    if rule == "diagnosis":
        return h.select("person_id", "date")
    g = h.group_by("person_id").aggregate(
        n_out=h.date.nunique(where=h.setting != "inpatient"),
        n_in=h.claim_id.nunique(where=h.setting == "inpatient"),
        date=h.date.max())
    g = g.filter((g.n_out >= 2) | (g.n_in >= 1))
    return g.select("person_id", "date")


def _dementia_drugs(inp: Inputs, shared: SharedExclusions) -> ibis.Table | None:
    h = rx_hits(inp, shared.value_sets["dementia_medications"])
    if h is None:
        return None
    p = inp.period
    return in_window(h, shift_years(p.start, -shared.advanced_illness_lookback_years), p.end)


def _long_term(inp: Inputs, shared: SharedExclusions) -> ibis.Table | None:
    """Claims proxy of living long term in an institution (see ``exclusions.yaml``)."""
    p = inp.period
    parts: list[ibis.Table | None] = []
    e = inp.eligibility
    flags = [c for c in ("institutional_snp_flag", "long_term_institutional_flag")
             if c in e.columns]
    if flags:
        flagged = ibis.literal(False)
        for c in flags:
            flagged = flagged | (e[c].fill_null(0) == 1)
        f = e.filter(flagged & (e.enrollment_start_date <= p.end)
                     & (e.enrollment_end_date >= p.start))
        parts.append(f.select("person_id", date=ibis.greatest(f.enrollment_start_date,
                                                              ibis.literal(p.start))))
    h = claim_hits(inp, shared.value_sets["long_term_care"])
    if h is not None:
        h = overlapping(h, p.start, p.end).select("person_id", "date", "end_date").distinct()
        def upto(t: ibis.Table, rows: tuple | None = (None, 0)) -> ibis.expr.types.Window:
            return ibis.window(group_by=t.person_id, order_by=[t.date, t.end_date], rows=rows)

        h = h.mutate(_run=h.end_date.max().over(upto(h)))
        prev = h._run.lag().over(upto(h, None))
        new = (prev.isnull() | (h.date > prev + ibis.interval(days=shared.long_term_gap_days)))
        h = h.mutate(_new=new.cast("int64"))
        h = h.mutate(_stay=h._new.sum().over(upto(h)))
        s = h.group_by(["person_id", "_stay"]).aggregate(s=h.date.min(), e=h.end_date.max())
        first = ibis.greatest(s.s, ibis.literal(p.start))
        last = ibis.least(s.e, ibis.literal(p.end))
        s = s.filter(last.delta(first, unit="day") + 1 > shared.long_term_min_days)
        parts.append(s.select("person_id", date=first))
    housing = obs_hits(inp, shared.value_sets["nursing_home_housing"].loinc)
    if housing is not None:
        housing = housing.filter(housing.date <= p.end)
        w = ibis.window(group_by=housing.person_id, order_by=[housing.date.desc()])
        housing = housing.mutate(_rk=ibis.row_number().over(w))
        text = housing.result.fill_null("").lower()
        nursing = ibis.literal(False)
        for r in shared.nursing_home_results:
            nursing = nursing | text.contains(r.lower())
        housing = housing.filter((housing._rk == 0) & nursing)
        parts.append(housing.select("person_id", "date"))
    return union(parts)


def shared_exclusions(inp: Inputs, shared: SharedExclusions, kinds: list[tuple[str, int]],
                      pop: ibis.Table, advanced_illness_rule: str) -> list[ibis.Table]:
    """Rows (person_id, kind, priority, date) for each shared exclusion in ``kinds``
    (priorities step by 10; dementia drugs take the frailty priority + 1).

    ``pop`` carries ``age_end`` (age at the end of the period).  Frailty with advanced
    illness or dementia drugs applies from ``frailty_min_age``; when ``frailty_age_81`` is
    among the kinds (CMS165) it stops at 80 and frailty alone excludes from 81.
    """
    p = inp.period
    vs = shared.value_sets
    names = {k for k, _ in kinds}
    out: list[ibis.Table] = []
    ages = pop.select(_p="person_id", _age="age_end")

    def aged(t: ibis.Table, lo: int, hi: int | None = None) -> ibis.Table:
        j = t.join(ages, t.person_id == ages._p)
        cond = j._age >= lo
        if hi is not None:
            cond = cond & (j._age <= hi)
        return j.filter(cond).drop("_p", "_age")

    for kind, prio in kinds:
        if kind == "hospice":
            h = dated([claim_hits(inp, vs["hospice"])])
            if h is not None:
                out.append(latest(overlapping(h, p.start, p.end), kind, prio))
        elif kind == "palliative_care":
            c = claim_hits(inp, vs["palliative_care"])
            o = obs_hits(inp, vs["palliative_care"].loinc)
            h = dated([overlapping(c, p.start, p.end) if c is not None else None,
                       in_window(o, p.start, p.end) if o is not None else None])
            if h is not None:
                out.append(latest(h, kind, prio))
        elif kind == "frailty_advanced_illness":
            frail = _frailty(inp, shared)
            if frail is None:
                continue
            hi = shared.frailty_only_min_age - 1 if "frailty_age_81" in names else None
            frail = aged(latest(frail, kind, prio), shared.frailty_min_age, hi)
            ill = _advanced_illness(inp, shared, advanced_illness_rule)
            drugs = _dementia_drugs(inp, shared)
            for name, ev, bump in (("frailty_advanced_illness", ill, 0),
                                   ("frailty_dementia_medication", drugs, 1)):
                if ev is None:
                    continue
                persons = ev.select(_q="person_id").distinct()
                j = frail.join(persons, frail.person_id == persons._q)
                out.append(j.select("person_id", kind=ibis.literal(name),
                                    priority=ibis.literal(prio + bump, type="int64"),
                                    date=j.date))
        elif kind == "frailty_age_81":
            frail = _frailty(inp, shared)
            if frail is not None:
                out.append(aged(latest(frail, kind, prio), shared.frailty_only_min_age))
        elif kind == "long_term_institutional":
            lt = _long_term(inp, shared)
            if lt is not None:
                out.append(aged(latest(lt, kind, prio), shared.frailty_min_age))
        else:  # pragma: no cover - the YAML model closes the vocabulary
            raise InvalidInput(f"unknown shared exclusion {kind!r}")
    return out

