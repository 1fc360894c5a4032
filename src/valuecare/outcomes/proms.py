"""Patient-reported outcome measures: score item answers, pair baseline and follow-up.

Scoring rules are data (``valuecare/reference/proms/*.yaml``, validated on load), each table
tagged with how it was verified ([V] primary source, [T] third-party transcription, [M]
recalled):

- **HOOS, JR** (6 items) and **KOOS, JR** (7 items), each item 0 none - 4 extreme: the raw
  sum (0-24, 0-28) is converted to an interval score 0-100 (100 = perfect joint health)
  with the Rasch tables of Lyman S et al., Clin Orthop Relat Res 2016;474:1472-82 (HOOS,
  JR) and 2016;474:1461-71 (KOOS, JR), as given in the HSS scoring instructions. All items
  are required.
- **PROMIS Global Health v1.2 (PROMIS-10)**: Global Physical Health = Global03 + Global06 +
  Global07 recoded (0->5, 1-3->4, 4-6->3, 7-9->2, 10->1) + (6 - Global08); Global Mental
  Health = Global02 + Global04 + Global05 + (6 - Global10); raw 4-20 to T-score with the
  tables of Hays RD et al., Qual Life Res 2009;18:873-80 (PROMIS Global Health scoring
  manual). All four items of a scale are required.

Change over a care cycle follows the CMS Hospital-level THA/TKA PRO-PM (CBE #3559): a
pre-operative assessment 90 to 0 days before surgery, a post-operative one 300 to 425 days
after it, and a patient counted as improved when the change reaches the substantial
clinical benefit (22 points HOOS, JR; 20 points KOOS, JR; Lyman S, Lee YY et al., Clin
Orthop Relat Res 2018;476:2432-41).  A missing PROM is a measured fact: every cycle keeps
its row, with a status that says which assessment is missing or not yet due.

All table work is Ibis and runs unchanged on DuckDB and Spark; conversion tables join as
in-memory lookup tables (``ibis.memtable``) with ``float64`` scores at published precision.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import ibis
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from valuecare.errors import InvalidInput

__all__ = [
    "CHANGE_STATUSES", "SCORE_STATUSES", "Instrument", "PromDefinitionError", "PromRules",
    "load_prom_rules", "parse_instrument", "prom_change", "response_rates", "score_items",
]

SCORE_STATUSES = ("scored", "incomplete", "invalid")
CHANGE_STATUSES = ("measured", "missing_baseline", "missing_followup", "missing_both",
                   "not_due")
#: Reference dates ``prom_change`` accepts by their short names (as in outcome definitions).
_REFERENCE = {"anchor_start": "anchor_start_date", "anchor_end": "anchor_end_date",
              "cycle_start": "start_date", "cycle_end": "end_date"}


class PromDefinitionError(InvalidInput):
    """A PROM scoring definition (YAML under ``reference/proms``) is missing or invalid."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    citation: str = Field(min_length=1)
    url: str | None = None


class Verification(_Model):
    """How a table or threshold was checked: [V] primary, [T] third party, [M] recalled."""

    tag: Literal["V", "T", "M"]
    checked_against: str = Field(min_length=1)
    note: str | None = None


class Item(_Model):
    """One question; answers are the integers ``min``..``max`` as answered."""

    code: str = Field(pattern=r"^[A-Z0-9_]+\.[A-Za-z0-9_]+$")
    text: str = Field(min_length=1)
    loinc: str | None = None
    min: int
    max: int

    @model_validator(mode="after")
    def _range(self) -> Item:
        if self.max <= self.min:
            raise ValueError(f"item {self.code}: max {self.max} must be above min {self.min}")
        return self


class ScaleItem(_Model):
    """An item in a scale and how its answer becomes points.

    ``as_answered``: points = answer; ``reverse``: points = min + max - answer; ``recode``:
    points from ``recode``, which must list every allowed answer.
    """

    code: str
    scoring: Literal["as_answered", "reverse", "recode"] = "as_answered"
    recode: dict[int, int] | None = None

    @model_validator(mode="after")
    def _recode(self) -> ScaleItem:
        if (self.scoring == "recode") != (self.recode is not None):
            raise ValueError(f"item {self.code}: give `recode` exactly when scoring is recode")
        return self


class Conversion(_Model):
    """Raw sum to score, one row per possible raw sum, at ``decimals`` places."""

    method: str = Field(min_length=1)
    decimals: int = Field(ge=0, le=6)
    source: str = Field(min_length=1)
    verification: Verification
    table: dict[int, float]


class Mcid(_Model):
    """Smallest change that counts (MCID, MID or substantial clinical benefit)."""

    value: float = Field(gt=0)
    kind: Literal["minimal_clinically_important_difference", "minimal_important_difference",
                  "substantial_clinical_benefit"]
    source: str = Field(min_length=1)
    url: str | None = None
    verification: Verification


class Scale(_Model):
    id: str = Field(pattern=r"^[A-Z0-9_]+$")
    name: str = Field(min_length=1)
    items: list[ScaleItem] = Field(min_length=1)
    score_min: float
    score_max: float
    higher_is_better: bool
    conversion: Conversion
    mcid: Mcid


class Instrument(_Model):
    """One PROM instrument: items, scales, conversion tables and their sources."""

    instrument: str = Field(pattern=r"^[A-Z0-9_]+$")
    name: str = Field(min_length=1)
    version: str
    loinc: str | None = None
    missing_items: str = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    items: list[Item] = Field(min_length=1)
    answer_scale: str = ""
    scales: list[Scale] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        items = {i.code: i for i in self.items}
        if len(items) != len(self.items):
            raise ValueError("item codes must be unique")
        for code in items:
            if not code.startswith(self.instrument + "."):
                raise ValueError(f"item {code} must start with {self.instrument}.")
        for s in self.scales:
            lo = hi = 0
            codes = [si.code for si in s.items]
            if len(set(codes)) != len(codes):
                raise ValueError(f"scale {s.id}: an item is listed twice")
            for si in s.items:
                if si.code not in items:
                    raise ValueError(f"scale {s.id}: unknown item {si.code}")
                pts = _points(items[si.code], si)
                lo, hi = lo + min(pts.values()), hi + max(pts.values())
            _check_table(s, lo, hi)
        return self


def _points(item: Item, si: ScaleItem) -> dict[int, int]:
    """Points of every allowed answer of ``item`` in a scale."""
    answers = range(item.min, item.max + 1)
    if si.scoring == "as_answered":
        return {a: a for a in answers}
    if si.scoring == "reverse":
        return {a: item.min + item.max - a for a in answers}
    recode = si.recode or {}  # ScaleItem guarantees a mapping for scoring recode
    if sorted(recode) != list(answers):
        raise ValueError(f"item {item.code}: recode must map each answer {item.min}.."
                         f"{item.max} exactly once (got {sorted(recode)})")
    return dict(recode)


def _check_table(s: Scale, lo: int, hi: int) -> None:
    table = s.conversion.table
    missing = sorted(set(range(lo, hi + 1)) - set(table))
    extra = sorted(set(table) - set(range(lo, hi + 1)))
    if missing or extra:
        raise ValueError(f"scale {s.id}: the conversion table must have one row per raw "
                         f"score {lo}..{hi}; missing {missing}, not possible {extra}")
    values = [table[r] for r in range(lo, hi + 1)]
    d = s.conversion.decimals
    for r, v in table.items():
        if not s.score_min <= v <= s.score_max:
            raise ValueError(f"scale {s.id}: raw {r} -> {v} is outside {s.score_min}.."
                             f"{s.score_max}")
        if round(v, d) != v:
            raise ValueError(f"scale {s.id}: raw {r} -> {v} has more than {d} decimals")
    up = all(a < b for a, b in zip(values, values[1:], strict=False))
    down = all(a > b for a, b in zip(values, values[1:], strict=False))
    if not (up or down):
        raise ValueError(f"scale {s.id}: the conversion table must be strictly monotone")


class PromRules(_Model):
    """The instruments in force."""

    instruments: tuple[Instrument, ...]

    def scale(self, scale_id: str) -> Scale:
        for ins in self.instruments:
            for s in ins.scales:
                if s.id == scale_id:
                    return s
        raise PromDefinitionError(
            f"there is no PROM scale {scale_id!r}; scales are: "
            f"{', '.join(s.id for i in self.instruments for s in i.scales)}")

    def instrument_of(self, scale_id: str) -> str:
        self.scale(scale_id)
        return next(i.instrument for i in self.instruments
                    if any(s.id == scale_id for s in i.scales))


def parse_instrument(text: str, where: str) -> Instrument:
    """One instrument from YAML text; errors name the file and the failing fields."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PromDefinitionError(f"{where}: not valid YAML ({exc}); fix the file") from exc
    if not isinstance(data, dict):
        raise PromDefinitionError(f"{where}: expected a mapping of fields at the top level")
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors())
        raise PromDefinitionError(
            f"{where}: invalid PROM definition: {problems}. Fix the YAML (see the packaged "
            "files in valuecare/reference/proms for the format)") from exc


@cache
def load_prom_rules() -> PromRules:
    """The packaged instruments (``valuecare/reference/proms``), read once."""
    folder = resources.files("valuecare") / "reference" / "proms"
    found = sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir()
                   if p.name.endswith((".yaml", ".yml")))
    instruments = [parse_instrument(t, f"valuecare/reference/proms/{n}") for n, t in found]
    names = [i.instrument for i in instruments]
    if len(set(names)) != len(names):
        raise PromDefinitionError(f"an instrument is defined twice in reference/proms: {names}")
    return PromRules(instruments=tuple(instruments))


# ---- lookup tables --------------------------------------------------------------------

def _lookups(rules: PromRules) -> dict[str, ibis.Table]:
    """In-memory lookup tables: items, scales, scale items' points, conversions."""
    items: dict[str, list] = {"_i_code": [], "_i_instrument": []}
    scales: dict[str, list] = {"_s_instrument": [], "scale": [], "items_expected": []}
    points: dict[str, list] = {"_p_scale": [], "_p_code": [], "_p_answer": [], "_p_points": []}
    member: dict[str, list] = {"_m_scale": [], "_m_code": []}
    conv: dict[str, list] = {"_c_scale": [], "_c_raw": [], "_c_score": []}
    for ins in rules.instruments:
        by_code = {i.code: i for i in ins.items}
        for i in ins.items:
            items["_i_code"].append(i.code)
            items["_i_instrument"].append(ins.instrument)
        for s in ins.scales:
            scales["_s_instrument"].append(ins.instrument)
            scales["scale"].append(s.id)
            scales["items_expected"].append(len(s.items))
            for si in s.items:
                member["_m_scale"].append(s.id)
                member["_m_code"].append(si.code)
                for answer, pts in _points(by_code[si.code], si).items():
                    points["_p_scale"].append(s.id)
                    points["_p_code"].append(si.code)
                    points["_p_answer"].append(float(answer))
                    points["_p_points"].append(pts)
            for raw, score in sorted(s.conversion.table.items()):
                conv["_c_scale"].append(s.id)
                conv["_c_raw"].append(raw)
                conv["_c_score"].append(float(score))
    types = {"_p_answer": pa.float64(), "_c_score": pa.float64(), "_p_points": pa.int64(),
             "_c_raw": pa.int64(), "items_expected": pa.int64()}

    def mem(cols: dict[str, list]) -> ibis.Table:
        return ibis.memtable(pa.table({k: pa.array(v, types.get(k, pa.string()))
                                       for k, v in cols.items()}))

    return {"items": mem(items), "scales": mem(scales), "points": mem(points),
            "member": mem(member), "conv": mem(conv)}


# ---- scoring --------------------------------------------------------------------------

def score_items(observation: ibis.Table, *, rules: PromRules | None = None) -> ibis.Table:
    """Score PROM item answers: one row per person, instrument, scale, date and encounter.

    Reads ``observation`` rows with ``observation_type = 'prom_item'`` whose
    ``source_code`` is an item of a known instrument (``prom_score`` rows, such as the
    synthetic ``*.RAW`` sums, are ignored: scores come from item answers).  An assessment
    is the answers of one person to one instrument on one ``observation_date`` within one
    ``encounter_id``; a null encounter is its own assessment.  Every scale of the
    instrument gets a row once the assessment has a row for any of its items, so a scale
    nobody answered shows as ``incomplete`` instead of vanishing.  Codes that are not
    items of a known instrument are ignored.

    Rules (see the module docstring and the YAML files for sources):

    - an item answered twice in one assessment counts once: the latest loaded, i.e. the
      greatest ``observation_id`` (string order; a deterministic choice on any engine);
    - ``result_numeric`` null means not answered;
    - an answer that is not one of the item's allowed integers makes the scale
      ``invalid``; otherwise a missing item makes it ``incomplete`` (no imputation: the
      published tables have none); both leave ``raw_score`` and ``score`` null;
    - ``scored``: ``raw_score`` is the sum of item points (after reversal and recoding)
      and ``score`` its value in the published conversion table (``float64``).

    Columns: ``person_id, instrument, scale, observation_date, encounter_id,
    items_expected, items_answered, raw_score, score, status``.
    """
    lk = _lookups(rules or load_prom_rules())
    o = observation.filter(observation.observation_type == "prom_item")
    o = o.select("person_id", "encounter_id", "observation_date", "observation_id",
                 "source_code", answer=o.result_numeric.cast("float64"))
    it = lk["items"]
    o = o.join(it, o.source_code == it._i_code)
    w = ibis.window(group_by=[o.person_id, o.observation_date, o.encounter_id, o._i_code],
                    order_by=[ibis.desc(o.observation_id)])
    o = o.mutate(_rn=ibis.row_number().over(w))
    o = o.filter(o._rn == 0)
    sc = lk["scales"]
    k = o.join(sc, o._i_instrument == sc._s_instrument)      # every scale of the instrument
    m = lk["member"]
    k = k.left_join(m, (k.scale == m._m_scale) & (k._i_code == m._m_code))
    p = lk["points"]
    k = k.left_join(p, (k.scale == p._p_scale) & (k._i_code == p._p_code)
                    & (k.answer == p._p_answer))
    member = k._m_code.notnull()
    answered = member & k.answer.notnull()
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    agg = k.group_by(
        person_id=k.person_id, instrument=k._i_instrument, scale=k.scale,
        observation_date=k.observation_date, encounter_id=k.encounter_id,
    ).aggregate(
        items_expected=k.items_expected.max(),
        items_answered=ibis.ifelse(answered, one, zero).sum(),
        _bad=ibis.ifelse(answered & k._p_points.isnull(), one, zero).sum(),
        _raw=ibis.ifelse(member, k._p_points, zero).sum(),
    )
    status = ibis.cases((agg._bad > 0, "invalid"),
                        (agg.items_answered < agg.items_expected, "incomplete"),
                        else_="scored")
    agg = agg.mutate(status=status)
    agg = agg.mutate(raw_score=ibis.ifelse(agg.status == "scored", agg._raw,
                                           ibis.null("int64")).cast("int64"))
    cv = lk["conv"]
    r = agg.left_join(cv, (agg.scale == cv._c_scale) & (agg.raw_score == cv._c_raw))
    return r.select(
        "person_id", "instrument", "scale", "observation_date", "encounter_id",
        items_expected=r.items_expected.cast("int64"),
        items_answered=r.items_answered.cast("int64"),
        raw_score=r.raw_score, score=r._c_score.cast("float64"), status=r.status,
    )


# ---- change over a care cycle -----------------------------------------------------------

def prom_change(
    scores: ibis.Table,
    cycles: ibis.Table,
    *,
    instrument: str,
    scale: str,
    baseline_days: tuple[int, int] = (-90, 0),
    followup_days: tuple[int, int] = (300, 425),
    baseline_from: str = "anchor_start_date",
    followup_from: str = "anchor_end_date",
    mcid: float | None = None,
    higher_is_better: bool | None = None,
    as_of: date | None = None,
    rules: PromRules | None = None,
) -> ibis.Table:
    """Pair a baseline with a follow-up assessment of one scale per care cycle.

    Defaults are the CMS Hospital-level THA/TKA PRO-PM windows (CBE #3559): baseline 90 to
    0 days before surgery (``anchor_start_date``), follow-up 300 to 425 days after it
    (counted from ``anchor_end_date``, the end of the surgical stay).  Windows are
    inclusive day offsets from ``baseline_from`` / ``followup_from``, which name a date
    column of ``cycles`` (or ``anchor_start``, ``anchor_end``, ``cycle_start``,
    ``cycle_end``).  Only ``scored`` assessments of ``instrument``/``scale`` count.

    - baseline: the assessment closest to the baseline reference date inside the window;
      ties go to the later date, then the greater ``encounter_id`` (null lowest);
    - follow-up: the assessment closest to the middle of the follow-up window; ties go to
      the earlier date, then the smaller ``encounter_id`` (null lowest);
    - ``change`` = follow-up - baseline when ``higher_is_better``, else baseline -
      follow-up, so a positive change is always an improvement; rounded to the scale's
      published precision; ``mcid_reached`` = change >= ``mcid`` (null unless measured).
      ``mcid`` and ``higher_is_better`` default to the scale's rules (HOOS, JR 22 and
      KOOS, JR 20 points: CMS substantial clinical benefit; PROMIS-10 5 T-score points);
    - ``status``: ``measured`` (both), ``not_due`` (no follow-up and the follow-up window
      ends after ``as_of``, whatever the baseline), ``missing_followup``,
      ``missing_baseline``, ``missing_both``.  ``as_of`` defaults to the latest
      ``observation_date`` in ``scores``.

    Every cycle keeps exactly one row (a missing PROM is a result, not a dropped case).
    Columns: ``cycle_id, person_id, instrument, scale, baseline_date, baseline_score,
    followup_date, followup_score, change, mcid_reached, status``.
    """
    rules = rules or load_prom_rules()
    rule = rules.scale(scale)
    if rules.instrument_of(scale) != instrument:
        raise PromDefinitionError(f"scale {scale} belongs to {rules.instrument_of(scale)}, "
                                  f"not {instrument}")
    mcid = rule.mcid.value if mcid is None else mcid
    higher_is_better = rule.higher_is_better if higher_is_better is None else higher_is_better
    for name, (lo, hi) in (("baseline_days", baseline_days), ("followup_days", followup_days)):
        if lo > hi:
            raise InvalidInput(f"{name} {(lo, hi)}: the first day must not be after the last")
    bcol = _REFERENCE.get(baseline_from, baseline_from)
    fcol = _REFERENCE.get(followup_from, followup_from)
    for col in ("cycle_id", "person_id", bcol, fcol):
        if col not in cycles.columns:
            raise InvalidInput(f"cycles has no column {col!r}; it needs cycle_id, person_id "
                               f"and the reference dates ({', '.join(cycles.columns)})")

    s = scores.filter((scores.instrument == instrument) & (scores.scale == scale)
                      & (scores.status == "scored"))
    s = s.select(_person=s.person_id, _date=s.observation_date, _score=s.score,
                 _ek=s.encounter_id.fill_null(""))
    c = cycles.select(_cid=cycles.cycle_id, _cperson=cycles.person_id,
                      _ref=cycles[bcol], _fref=cycles[fcol])
    cand = c.join(s, c._cperson == s._person)

    lo, hi = baseline_days
    d = cand._date.delta(cand._ref, unit="day")
    b = cand.filter(d.between(lo, hi)).mutate(_dist=d.abs())
    wb = ibis.window(group_by=b._cid, order_by=[b._dist, ibis.desc(b._date),
                                                 ibis.desc(b._ek), ibis.desc(b._score)])
    b = b.mutate(_rn=ibis.row_number().over(wb))
    b = b.filter(b._rn == 0).select(_bcid=b._cid, baseline_date=b._date,
                                    baseline_score=b._score)

    flo, fhi = followup_days
    d = cand._date.delta(cand._fref, unit="day")
    f = cand.filter(d.between(flo, fhi)).mutate(_dist=(2 * d - (flo + fhi)).abs())
    wf = ibis.window(group_by=f._cid, order_by=[f._dist, f._date, f._ek, f._score])
    f = f.mutate(_rn=ibis.row_number().over(wf))
    f = f.filter(f._rn == 0).select(_fcid=f._cid, followup_date=f._date,
                                    followup_score=f._score)

    out = cycles.select("cycle_id", "person_id", _fref=cycles[fcol])
    out = out.left_join(b, out.cycle_id == b._bcid).left_join(f, out.cycle_id == f._fcid)
    limit = (ibis.literal(as_of, "date") if as_of is not None
             else scores.observation_date.max().as_scalar())
    open_window = (out._fref + ibis.interval(days=fhi) > limit).fill_null(False)
    has_b, has_f = out.baseline_score.notnull(), out.followup_score.notnull()
    status = ibis.cases((has_b & has_f, "measured"), (~has_f & open_window, "not_due"),
                        (has_b, "missing_followup"), (has_f, "missing_baseline"),
                        else_="missing_both")
    diff = (out.followup_score - out.baseline_score if higher_is_better
            else out.baseline_score - out.followup_score)
    change = diff.round(rule.conversion.decimals).cast("float64")
    return out.select(
        "cycle_id", "person_id",
        instrument=ibis.literal(instrument, "string"), scale=ibis.literal(scale, "string"),
        baseline_date=out.baseline_date, baseline_score=out.baseline_score,
        followup_date=out.followup_date, followup_score=out.followup_score,
        change=change,
        mcid_reached=ibis.ifelse(has_b & has_f, change >= mcid, ibis.null("boolean")),
        status=status,
    )


def response_rates(changes: ibis.Table, by: list[str]) -> ibis.Table:
    """PROM response and improvement rates per group of ``prom_change`` rows.

    ``cycles``: all cycles; ``baseline_responses``: cycles with a baseline;
    ``followup_due``: cycles whose follow-up window has closed (status not ``not_due``);
    ``followup_responses``: due cycles with a follow-up; ``paired``: cycles with both
    (``measured``); ``mcid_reached``: measured cycles reaching the threshold.  Rates:
    ``baseline_rate`` = baseline_responses / cycles; ``followup_rate`` and ``paired_rate``
    over ``followup_due`` (cycles not yet due cannot have responded; CMS reports the
    share of eligible cases with complete pre- and post-operative data);
    ``mcid_rate`` = mcid_reached / paired.  A rate with a zero denominator is null.
    ``by`` may be empty for one overall row.
    """
    t = changes
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")

    def n(pred: ibis.Value) -> ibis.Value:
        return ibis.ifelse(pred.fill_null(False), one, zero).sum().cast("int64")

    due = t.status != "not_due"
    metrics = dict(
        cycles=t.count().cast("int64"),
        baseline_responses=n(t.baseline_score.notnull()),
        followup_due=n(due),
        followup_responses=n(due & t.followup_score.notnull()),
        paired=n(t.status == "measured"),
        mcid_reached=n(t.mcid_reached),
    )
    agg = t.group_by(by).aggregate(**metrics) if by else t.aggregate(**metrics)

    def rate(num: ibis.Value, den: ibis.Value) -> ibis.Value:
        return ibis.ifelse(den > 0, num.cast("float64") / den.cast("float64"),
                           ibis.null("float64"))

    return agg.select(
        *by, "cycles", "baseline_responses", "followup_due", "followup_responses", "paired",
        baseline_rate=rate(agg.baseline_responses, agg.cycles),
        followup_rate=rate(agg.followup_responses, agg.followup_due),
        paired_rate=rate(agg.paired, agg.followup_due),
        mcid_reached=agg.mcid_reached,
        mcid_rate=rate(agg.mcid_reached, agg.paired),
    )
