"""Elixhauser (van Walraven) and Charlson comorbidity indices as Ibis table operations.

Both indices are computed from ICD-10-CM diagnosis codes in four steps, the same for
each, on any Ibis backend (tested on DuckDB and Spark):

1. **Normalise** each code: dots removed, surrounding blanks stripped, upper-cased
   (``"e11.9 "`` -> ``E119``), as pycomorb does.
2. **Flag**: a person has a category when one of their codes *starts with* one of the
   category's code prefixes in the Quan et al. 2005 ICD-10 coding algorithm (``I50``
   matches ``I5023``; ``C0`` matches ``C00``-``C09``).  A code may flag several categories
   (``I426`` is both heart failure and alcohol abuse in Elixhauser).
3. **Hierarchy**: when the more severe category of a pair is present the milder flag is
   cleared (Elixhauser: complicated over uncomplicated diabetes and hypertension,
   metastatic cancer over solid tumour; Charlson: diabetes with over without chronic
   complications, moderate/severe over mild liver disease, metastatic solid tumour over
   any malignancy).  The flags returned are those after the hierarchy.
4. **Score**: the sum of the points of the flags.  ``elixhauser_vw`` uses the van Walraven
   et al. 2009 points (-7 to 12; a person may score below 0); ``charlson_index`` the
   Charlson et al. 1987 points (default) or the Quan et al. 2011 updated points
   (``weights="quan"``).  The Charlson score here has no age points.

The code lists and points are read at run time from the installed ``pycomorb`` package
(:mod:`valuecare.risk.comorbidity_tables`); the tests check the engine against pycomorb's
own calculator on random patients and against hand-worked numbers from the papers.

Inputs: ``diagnoses`` with a person key and an ICD-10-CM code column (any number of rows
per person; duplicates, null codes and codes that match nothing are harmless).  Every
person of ``diagnoses`` gets one row, and so does every person of ``persons`` when given
(with all flags false and score 0 when nothing matched).  Codes are not checked against
the ICD-10-CM code set and are not filtered by date, setting or claim type: pass the
diagnoses of the look-back window the analysis needs (e.g.
:func:`valuecare.risk.hcc_inputs.risk_diagnoses`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from valuecare.errors import InvalidInput
from valuecare.risk.comorbidity_tables import (
    CharlsonWeights,
    ComorbidityTables,
    load_comorbidity_tables,
)

_CATEGORY = "_category"
_PREFIX = "_prefix"
_KEY = "_key"


def normalize_codes(codes: ir.StringValue) -> ir.StringValue:
    """ICD-10 codes as published without dots: ``" e11.9"`` -> ``"E119"``.

    ``replace`` is a literal replacement on every backend (Spark's ``replace``, not
    ``regexp_replace``), so ``.`` is a dot, not any character.  Blanks are stripped with a
    regular expression, not ``strip()``: Ibis 12 compiles ``strip()`` for Spark to
    ``TRIM(' \\t\\n\\r\\v\\f' FROM ...)`` and Spark SQL reads ``\\v``, ``\\f`` as the letters
    ``v`` and ``f``, so ``"f32.9"`` would lose its ``f``.
    """
    no_dots = codes.cast("string").replace(".", "")
    return no_dots.re_replace(r"^\s+|\s+$", "").upper()


def _check_columns(table: ir.Table, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidInput(
            f"{name} table lacks column(s) {', '.join(missing)} (it has "
            f"{', '.join(table.columns)}); pass person_col= and code_col= to name the "
            "person key and the ICD-10 diagnosis code columns")


def _check_tables(tables: ComorbidityTables) -> None:
    cats = set(tables.categories)
    unknown = ({*tables.codes["category"]} | set(tables.weights)
               | {c for pair in tables.hierarchies for c in pair}) - cats
    if unknown or len(cats) != len(tables.categories):
        raise InvalidInput(
            f"comorbidity tables for {tables.index} name categories that are not in "
            f"categories (or repeat one): {sorted(unknown)}; list every category once")
    if tables.codes.empty:
        raise InvalidInput(f"comorbidity tables for {tables.index} have no code prefixes")


def comorbidity_flags(diagnoses: ir.Table, tables: ComorbidityTables, *,
                      person_col: str = "person_id", code_col: str = "diagnosis_code",
                      persons: ir.Table | None = None) -> ir.Table:
    """``person_col`` and one boolean column per category, after the hierarchy rules."""
    _check_columns(diagnoses, "diagnoses", (person_col, code_col))
    if persons is not None:
        _check_columns(persons, "persons", (person_col,))
    _check_tables(tables)
    dx = diagnoses.select(_pid=diagnoses[person_col], _raw=diagnoses[code_col].cast("string"))
    dx = dx.filter(dx._pid.notnull())
    everyone = dx.select("_pid")
    if persons is not None:
        everyone = everyone.union(persons.select(_pid=persons[person_col].cast(dx._pid.type())))
    everyone = everyone.distinct()

    # the codes are matched once each, not once per diagnosis row: each distinct code is
    # normalised and cut to every length a prefix has (2 to 4 characters), then one equi-join
    # meets the prefixes of one length with the codes cut to that length
    raw = dx.select("_raw").distinct()
    raw = raw.mutate(_code=normalize_codes(raw._raw))
    raw = raw.filter(raw._code.notnull() & (raw._code != ""))
    lengths = ibis.memtable(pd.DataFrame(
        {"_len": sorted({len(p) for p in tables.codes["prefix"]})}))
    cut = raw.cross_join(lengths)
    cut = cut.select("_raw", **{_KEY: cut._code.substr(0, cut._len)}).distinct()
    mapping = ibis.memtable(tables.codes.rename(
        columns={"category": _CATEGORY, "prefix": _PREFIX}))
    code_category = cut.join(mapping, cut[_KEY] == mapping[_PREFIX]).select(
        "_raw", _CATEGORY).distinct()
    hits = dx.join(code_category, "_raw").select("_pid", _CATEGORY)
    present = hits.group_by("_pid").aggregate(
        **{c: (hits[_CATEGORY] == c).any() for c in tables.categories})

    t = everyone.left_join(present, "_pid")
    flags = {c: t[c].fill_null(False) for c in tables.categories}
    for severe, mild in tables.hierarchies:
        flags[mild] = flags[mild] & ~flags[severe]
    return t.select(**{person_col: t._pid}, **flags)


def _category_list(t: ir.Table, categories: tuple[str, ...]) -> ir.StringValue:
    """Present categories as ``"chf,metacanc"`` (definition order; ``""`` when none)."""
    joined = ibis.literal("")
    for c in categories:
        joined = joined + t[c].ifelse("," + c, "")
    return joined.substr(1)


def _score(t: ir.Table, tables: ComorbidityTables) -> ir.IntegerValue:
    total: ir.IntegerValue = ibis.literal(0, type="int64")
    for c in tables.categories:
        w = tables.weights.get(c, 0)
        if w:
            total = total + t[c].ifelse(ibis.literal(w, type="int64"),
                                        ibis.literal(0, type="int64"))
    return total


def comorbidity_index(diagnoses: ir.Table, tables: ComorbidityTables, *, score_col: str,
                      list_col: str, person_col: str = "person_id",
                      code_col: str = "diagnosis_code",
                      persons: ir.Table | None = None) -> ir.Table:
    """Flags, their comma-separated list and the weighted score for any index definition."""
    t = comorbidity_flags(diagnoses, tables, person_col=person_col, code_col=code_col,
                          persons=persons)
    return t.mutate(**{list_col: _category_list(t, tables.categories),
                       score_col: _score(t, tables)})


def elixhauser(diagnoses: ir.Table, *, person_col: str = "person_id",
               code_col: str = "diagnosis_code", persons: ir.Table | None = None,
               tables: ComorbidityTables | None = None) -> ir.Table:
    """Elixhauser comorbidities (Quan 2005 ICD-10) and the van Walraven 2009 score.

    One row per person: ``person_col``, 31 boolean flags (``chf``, ``carit``, ``valv``,
    ``pcd``, ``pvd``, ``hypunc``, ``hypc``, ``para``, ``ond``, ``cpd``, ``diabunc``,
    ``diabc``, ``hypothy``, ``rf``, ``ld``, ``pud``, ``aids``, ``lymph``, ``metacanc``,
    ``solidtum``, ``rheumd``, ``coag``, ``obes``, ``wloss``, ``fed``, ``blane``, ``dane``,
    ``alcohol``, ``drug``, ``psycho``, ``depre``), ``elixhauser_categories`` (the flags as
    a comma-separated list) and ``elixhauser_vw`` (int).

    Example: heart failure (7) + metastatic cancer (12) + a solid tumour (4, cleared by the
    metastatic cancer) scores 7 + 12 = 19.
    """
    tables = tables or load_comorbidity_tables("elixhauser")
    if tables.index != "elixhauser":
        raise InvalidInput(f"elixhauser() was given {tables.index} tables; use "
                           "load_comorbidity_tables('elixhauser')")
    return comorbidity_index(diagnoses, tables, score_col="elixhauser_vw",
                             list_col="elixhauser_categories", person_col=person_col,
                             code_col=code_col, persons=persons)


def charlson(diagnoses: ir.Table, *, person_col: str = "person_id",
             code_col: str = "diagnosis_code", weights: CharlsonWeights | None = None,
             persons: ir.Table | None = None,
             tables: ComorbidityTables | None = None) -> ir.Table:
    """Charlson comorbidities (Quan 2005 ICD-10) and the Charlson comorbidity index.

    ``weights="charlson"`` (the default when ``tables`` is not given): Charlson 1987
    points, 1 for ``ami``, ``chf``, ``pvd``, ``cevd``, ``dementia``, ``copd``, ``rheumd``,
    ``pud``, ``mld``, ``diab``; 2 for ``diabwc``, ``hp``, ``rend``, ``canc``; 3 for
    ``msld``; 6 for ``metacanc`` and ``aids``.  ``weights="quan"``: Quan 2011 updated
    points (``chf`` 2, ``dementia`` 2, ``copd`` 1, ``rheumd`` 1, ``mld`` 2, ``diabwc`` 1,
    ``hp`` 2, ``rend`` 1, ``canc`` 2, ``msld`` 4, ``metacanc`` 6, ``aids`` 4; the others 0).

    One row per person: ``person_col``, the 17 boolean flags, ``charlson_categories`` and
    ``charlson_index`` (int, without age points).
    """
    if tables is not None and weights is not None and weights != tables.weighting:
        raise InvalidInput(f"charlson(weights={weights!r}) was given tables with "
                           f"{tables.weighting!r} weights; pass one or the other")
    tables = tables or load_comorbidity_tables("charlson", weights)
    if tables.index != "charlson":
        raise InvalidInput(f"charlson() was given {tables.index} tables; use "
                           "load_comorbidity_tables('charlson', weights)")
    return comorbidity_index(diagnoses, tables, score_col="charlson_index",
                             list_col="charlson_categories", person_col=person_col,
                             code_col=code_col, persons=persons)
