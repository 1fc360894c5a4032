"""The synthea-csv connector on the 11-patient Synthea export, and on hand-broken copies.

Expected numbers are counted here from the CSV files with :mod:`csv` and :class:`Decimal`,
never taken from the connector's own output.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import InvalidInput, Workspace
from valuecare.connectors.base import Conversion
from valuecare.connectors.crosswalk import hcpcs_for, icd10cm_for, snomed_icd10cm
from valuecare.connectors.synthea import NOT_READ, SyntheaCsv
from valuecare.connectors.synthea_vocab import encounter_type, ethnicity, payer_type, race, sex
from valuecare.errors import MissingFile

DATA = Path("/work/shared/data/synthea_csv_11")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared Synthea data not present")


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(folder: Path, name: str, data: list[dict[str, str]]) -> None:
    with (folder / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)


def copy_data(tmp: Path) -> Path:
    dst = tmp / "synthea"
    shutil.copytree(DATA, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    dst.chmod(0o755)
    return dst


def total_by_patient(folder: Path) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows(folder, "encounters.csv"):
        out[r["PATIENT"]] += Decimal(r["TOTAL_CLAIM_COST"])
    return dict(out)


def charge_by_patient(ws: Workspace) -> dict[str, Decimal]:
    """Loaded plus quarantined medical_claim charge_amount per patient."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    mc = ws.table("medical_claim").select("person_id", "charge_amount").to_pyarrow()
    for pid, amt in zip(mc["person_id"].to_pylist(), mc["charge_amount"].to_pylist(),
                        strict=True):
        out[pid] += amt
    q = ws.table("quarantine").to_pandas()
    import json

    for _, r in q[q.table_name == "medical_claim"].iterrows():
        if r["charge_amount"] is not None:
            out[json.loads(r["raw_record"])["PATIENT"]] += Decimal(str(r["charge_amount"]))
    return dict(out)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, object]:
    ws = Workspace(tmp_path_factory.mktemp("synthea") / "ws")
    report = ws.load(DATA, format="synthea-csv")
    return ws, report


# ---- vocabularies and crosswalk ---------------------------------------------------------
def test_vocab() -> None:
    assert encounter_type("urgentcare") == "urgent care"
    assert encounter_type("AMB") == "ambulatory" and encounter_type("wellness") == "wellness"
    assert encounter_type("spaceship") == "other"
    assert payer_type("Medicare") == "medicare" and payer_type("Medicaid") == "medicaid"
    assert payer_type("Dual Eligible") == "medicare"
    assert payer_type("NO_INSURANCE") is None and payer_type("Aetna") == "commercial"
    assert sex("F") == "female" and sex("M") == "male" and sex("X") == "unknown"
    assert race("black") == "black or african american" and race("martian") == "unknown"
    assert ethnicity("nonhispanic") == "not hispanic or latino"
    assert ethnicity("hispanic") == "hispanic or latino"


def test_crosswalk() -> None:
    assert icd10cm_for("snomed-ct", "44054006") == "E119"
    assert icd10cm_for("http://snomed.info/sct", "59621000") == "I10"
    assert icd10cm_for("icd-10-cm", "e11.9") == "E119"
    assert icd10cm_for("icd-10-cm", "not a code") is None
    assert icd10cm_for("snomed-ct", "160903007") is None  # employment: no published row
    assert icd10cm_for("loinc", "4548-4") is None
    assert hcpcs_for("snomed-ct", "44054006") is None
    assert hcpcs_for("cpt", "99213") == "99213"
    table = snomed_icd10cm()
    assert len(table) > 100 and all(r.source for r in table.values())
    # every condition code in the data set has a row, except the social findings that the
    # published map leaves out (employment, education); COVID-19 maps to U07.1
    codes = {r["CODE"] for r in rows(DATA, "conditions.csv")}
    unmapped = {c for c in codes if icd10cm_for("snomed-ct", c) is None}
    assert unmapped == {"160903007", "160904001", "741062008", "224299000", "5251000175109"}
    assert icd10cm_for("snomed-ct", "840539006") == "U071"


# ---- the 11-patient export --------------------------------------------------------------
def test_counts_per_table(loaded: tuple[Workspace, object]) -> None:
    ws, report = loaded
    n = {name: len(rows(DATA, name)) for name in (
        "patients.csv", "encounters.csv", "conditions.csv", "procedures.csv",
        "medications.csv", "observations.csv", "payer_transitions.csv")}
    t = report.tables  # type: ignore[attr-defined]
    assert t["member"].loaded_rows == n["patients.csv"] == 11
    assert t["encounter"].loaded_rows == n["encounters.csv"]
    assert t["condition"].loaded_rows == n["conditions.csv"]
    assert t["procedure"].loaded_rows == n["procedures.csv"]
    assert t["medication"].loaded_rows == n["medications.csv"]
    deaths = sum(1 for r in rows(DATA, "patients.csv") if r["DEATHDATE"])
    assert t["death"].loaded_rows == deaths
    payers = {r["Id"]: r["NAME"] for r in rows(DATA, "payers.csv")}
    self_pay = sum(1 for r in rows(DATA, "payer_transitions.csv")
                   if payers[r["PAYER"]] == "NO_INSURANCE")
    assert (t["eligibility"].loaded_rows, t["eligibility"].quarantined_rows) == (
        n["payer_transitions.csv"] - self_pay, self_pay)
    obs = rows(DATA, "observations.csv")
    not_loinc = sum(1 for r in obs if not r["CODE"][:1].isdigit())
    other = sum(1 for r in obs if r["CODE"][:1].isdigit() and r["CATEGORY"] in ("", "exam"))
    assert t["observation"].quarantined_rows == not_loinc + other
    assert t["observation"].loaded_rows == len(obs) - not_loinc - other
    assert t["encounter"].loaded_rows + t["medical_claim"].quarantined_rows >= 0
    assert (t["medical_claim"].loaded_rows + t["medical_claim"].quarantined_rows
            == n["encounters.csv"])
    # no CMS NPIs in Synthea: providers and organizations are all quarantined, never faked
    n_prov = len(rows(DATA, "providers.csv")) + len(rows(DATA, "organizations.csv"))
    assert (t["provider"].loaded_rows, t["provider"].quarantined_rows) == (0, n_prov)
    assert ws.table("encounter").attending_provider_id.notnull().all().to_pyarrow().as_py()


def test_every_source_record_is_accounted_for(loaded: tuple[Workspace, object]) -> None:
    _, report = loaded
    assert report.reconciles  # type: ignore[attr-defined]
    src = {s.source: s for s in report.sources}  # type: ignore[attr-defined]
    for name in ("patients.csv", "payers.csv", "payer_transitions.csv", "organizations.csv",
                 "providers.csv", "encounters.csv", "conditions.csv", "procedures.csv",
                 "observations.csv", "medications.csv", "claims.csv",
                 "claims_transactions.csv"):
        s = src[name]
        assert s.records == len(rows(DATA, name)), name
        assert s.records == s.mapped + s.quarantined, name
    assert src["encounters.csv (claim)"].records == len(rows(DATA, "encounters.csv"))
    assert not set(src) & set(NOT_READ)


def test_medical_cost_per_patient_to_the_cent(loaded: tuple[Workspace, object]) -> None:
    ws, report = loaded
    expected = total_by_patient(DATA)
    assert charge_by_patient(ws) == expected
    mc = report.tables["medical_claim"]  # type: ignore[attr-defined]
    assert mc.input_totals["charge_amount"] == sum(expected.values())
    # the claims the crosswalk cannot code are few, and keep their money
    assert mc.quarantined_rows < mc.loaded_rows / 5
    assert set(mc.by_rule) == {"source:unmapped_code"}


def test_quarantine_rows_say_where_and_why(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    q = ws.table("quarantine").to_pandas()
    assert len(q) > 0
    assert q.file_name.notna().all() and (q.row_number > 0).all() and q.rule.notna().all()
    assert q.raw_record.notna().all()
    rules = Counter(q.rule)
    assert set(rules) == {"missing_npi", "no_insurance", "unmapped_code"}
    mc = q[q.table_name == "medical_claim"]
    assert (mc.column_name == "DIAGNOSIS1").all()
    assert (mc.file_name == "encounters.csv (claim)").all()
    ph = q[(q.table_name == "pharmacy_claim") & (q.file_name == "claims.csv")]
    assert len(ph) > 0 and ph.charge_amount.notna().all()


def test_not_read_files_are_listed(tmp_path: Path) -> None:
    out = Conversion(tmp_path / "stage", "synthea-csv")
    SyntheaCsv().convert(DATA, out)
    out.finish()
    assert out.notes["not_read"] == list(NOT_READ)
    assert all((DATA / f).is_file() for f in NOT_READ)


# ---- both schema versions ---------------------------------------------------------------
def test_newer_schema_loads_the_same(tmp_path: Path, loaded: tuple[Workspace, object]) -> None:
    _, old = loaded
    src = copy_data(tmp_path)
    for name in ("conditions.csv", "procedures.csv"):
        data = rows(src, name)
        write(src, name, [{**{k: v for k, v in r.items() if k != "CODE"},
                           "SYSTEM": "SNOMED-CT", "CODE": r["CODE"]} for r in data])
    pats = rows(src, "patients.csv")
    write(src, "patients.csv", [{**r, "MIDDLE": ""} for r in pats])
    report = Workspace(tmp_path / "ws").load(src, format="synthea-csv")
    assert report.reconciles
    for name, t in old.tables.items():  # type: ignore[attr-defined]
        new = report.tables[name]
        assert (new.loaded_rows, new.quarantined_rows) == (t.loaded_rows, t.quarantined_rows)
        assert new.input_totals == t.input_totals


# ---- malformed input --------------------------------------------------------------------
def test_row_level_problems_are_quarantined(tmp_path: Path) -> None:
    src = copy_data(tmp_path)
    enc = rows(src, "encounters.csv")
    enc[0]["PATIENT"] = "no-such-patient"  # missing reference
    enc[1]["TOTAL_CLAIM_COST"] = "12.345"  # bad amount
    enc[2]["START"] = "2014-13-45T00:00:00Z"  # bad date
    write(src, "encounters.csv", enc)
    cond = rows(src, "conditions.csv")
    touched = {e["Id"] for e in enc[:3]}
    k = next(i for i, r in enumerate(cond) if r["ENCOUNTER"] not in touched)
    cond[k]["START"] = "yesterday"
    write(src, "conditions.csv", cond)
    # a truncated file: the last record stops half-way
    text = (src / "procedures.csv").read_text(encoding="utf-8").rstrip("\n")
    (src / "procedures.csv").write_text(text[: text.rfind(",", 0, len(text) - 5)],
                                        encoding="utf-8")
    ws = Workspace(tmp_path / "ws")
    report = ws.load(src, format="synthea-csv")
    assert report.reconciles
    q = ws.table("quarantine").to_pandas()
    got = {(r.file_name, r.row_number, r.rule, r.column_name) for r in q.itertuples()}
    assert ("encounters.csv", 1, "missing_reference", "PATIENT") in got
    assert ("encounters.csv (claim)", 1, "missing_reference", "PATIENT") in got
    assert ("encounters.csv (claim)", 2, "bad_amount", "TOTAL_CLAIM_COST") in got
    assert ("encounters.csv", 3, "bad_date", "START") in got
    assert ("conditions.csv", k + 1, "bad_date", "START") in got
    n_proc = len(rows(DATA, "procedures.csv"))
    assert ("procedures.csv", n_proc, "malformed_row", None) in got
    # the encounter of the unknown patient keeps its money in the quarantine
    mc = report.tables["medical_claim"]
    first = Decimal(rows(DATA, "encounters.csv")[0]["TOTAL_CLAIM_COST"])
    assert mc.quarantined_totals["charge_amount"] >= first


def test_unknown_code_is_quarantined(tmp_path: Path) -> None:
    src = copy_data(tmp_path)
    cond = rows(src, "conditions.csv")
    cond[0]["SYSTEM"] = "KLINGON"
    for r in cond[1:]:
        r["SYSTEM"] = ""
    write(src, "conditions.csv", cond)
    ws = Workspace(tmp_path / "ws")
    report = ws.load(src, format="synthea-csv")
    assert report.tables["condition"].by_rule == {"source:unmapped_code": 1}
    q = ws.table("quarantine").to_pandas()
    hit = q[(q.file_name == "conditions.csv")]
    assert list(hit.column_name) == ["SYSTEM"] and list(hit.value) == ["KLINGON"]


@pytest.mark.parametrize("case", ["missing_column", "missing_file", "empty_file"])
def test_file_level_problems_are_clear_errors(tmp_path: Path, case: str) -> None:
    src = copy_data(tmp_path)
    ws = Workspace(tmp_path / "ws")
    if case == "missing_column":
        data = rows(src, "encounters.csv")
        write(src, "encounters.csv", [{k: v for k, v in r.items() if k != "TOTAL_CLAIM_COST"}
                                      for r in data])
        with pytest.raises(InvalidInput, match=r"encounters\.csv.*TOTAL_CLAIM_COST"):
            ws.load(src, format="synthea-csv")
    elif case == "missing_file":
        (src / "claims.csv").unlink()
        with pytest.raises(MissingFile, match=r"claims\.csv"):
            ws.load(src, format="synthea-csv")
    else:
        (src / "patients.csv").write_text("", encoding="utf-8")
        with pytest.raises(InvalidInput, match=r"patients\.csv.*empty"):
            ws.load(src, format="synthea-csv")


# ---- end to end ---------------------------------------------------------------------------

def test_pipeline_runs_after_the_load(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    result = ws.run()
    # Synthea gives members, enrollment and claims: every stage runs
    assert result.notes.get("skipped", {}) == {}
    claims = ws.to_pandas("medical_claim")
    header = ws.to_pandas("claim_header")
    assert len(header) == claims.claim_id.nunique()
    assert header.paid_amount.sum() == claims.paid_amount.sum()
    assert ws.table("care_cycles").count().to_pyarrow().as_py() > 0
    assert ws.table("measure_results").count().to_pyarrow().as_py() > 0
