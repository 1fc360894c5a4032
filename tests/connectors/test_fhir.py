"""The FHIR R4 connector (``--format fhir``).

Hand-made fixtures (``tests/data/fhir``): one transaction Bundle with every resource type
the connector reads and one fault of each kind, two NDJSON files (a truncated line, a
date that is not a date, references to unknown or invalid patients) and a truncated
Bundle.  Expected counts are taken from the fixture files themselves; expected money is
worked by hand from the Bundle (Claim.total 150.25 / 40.10 / 12.50, pharmacy 25.00 /
9.99, a lone EOB of 200.00).

The Synthea check uses the public data in ``/work/shared/data`` (see its README): for
each of the 10 patients, Σ FHIR Claim.total over non-pharmacy claims equals Σ CSV
``encounters.TOTAL_CLAIM_COST``, and the canonical medical_claim charge (loaded +
quarantined) must equal both.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import Workspace
from valuecare.connectors.fhir_index import TABLE_OF

FIXTURES = Path(__file__).parent.parent / "data" / "fhir"
SHARED = Path("/work/shared/data")
SYNTHEA_FHIR = SHARED / "synthea_fhir_11"
SYNTHEA_CSV = SHARED / "synthea_csv_11"


def _fixture_records() -> dict[str, Counter[str]]:
    """Per file: resource types of the records the connector must count (read types)."""
    out: dict[str, Counter[str]] = {}
    for p in sorted(FIXTURES.iterdir()):
        c: Counter[str] = Counter()
        if p.suffix == ".ndjson":
            for line in p.read_text().splitlines():
                if line.strip():
                    try:
                        c[json.loads(line)["resourceType"]] += 1
                    except json.JSONDecodeError:
                        c["unreadable"] += 1
        else:
            try:
                doc = json.loads(p.read_text())
            except json.JSONDecodeError:
                c["unreadable"] += 1
            else:
                c.update(e["resource"]["resourceType"] for e in doc["entry"])
        out[p.name] = Counter({t: n for t, n in c.items() if t in TABLE_OF or t == "unreadable"})
    return out


@pytest.fixture(scope="module")
def fixture_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, object]:
    ws = Workspace(tmp_path_factory.mktemp("fhir") / "ws")
    return ws, ws.load(FIXTURES, format="fhir")


def test_every_record_is_counted_once(fixture_ws: tuple[Workspace, object]) -> None:
    _, report = fixture_ws
    assert report.format == "fhir" and report.reconciles
    expected = _fixture_records()
    sources = {s.source: s for s in report.sources}
    assert set(sources) == set(expected)
    for name, types in expected.items():
        s = sources[name]
        assert s.records == sum(types.values()), name
        assert s.records == s.mapped + s.quarantined, name


def test_quarantine_rules_and_locations(fixture_ws: tuple[Workspace, object]) -> None:
    ws, report = fixture_ws
    sources = {s.source: s for s in report.sources}
    assert sources["Patient.ndjson"].by_rule == {"fhir_validation": 1, "malformed_json": 1}
    assert sources["Encounter.ndjson"].by_rule == {"missing_reference": 2}
    assert sources["truncated_bundle.json"].by_rule == {"malformed_json": 1}
    assert sources["bundle.json"].by_rule == {
        "missing_npi": 2, "unknown_code_system": 1, "fhir_validation": 1,
        "unmapped_code": 4, "missing_reference": 1}
    q = ws.table("quarantine").to_pyarrow().to_pylist()
    key = {(r["file_name"], r["row_number"]): r for r in q}
    bad_date = key[("Patient.ndjson", 2)]
    assert (bad_date["table_name"], bad_date["column_name"], bad_date["rule"]) == (
        "member", "birthDate", "fhir_validation")
    assert "1961" not in bad_date["all_reasons"]  # the reason names the field, not the value
    assert key[("Patient.ndjson", 3)]["rule"] == "malformed_json"
    assert key[("truncated_bundle.json", 0)]["rule"] == "malformed_json"
    ref = key[("Encounter.ndjson", 2)]
    assert (ref["column_name"], ref["rule"], ref["value"]) == (
        "subject", "missing_reference", "Patient/p99")
    assert key[("Encounter.ndjson", 3)]["value"] == "Patient/p3"  # an invalid patient
    assert key[("bundle.json", 10)]["rule"] == "unknown_code_system"
    assert key[("bundle.json", 12)]["column_name"] == "onsetDateTime"
    unmapped = key[("bundle.json", 24)]
    assert (unmapped["table_name"], unmapped["rule"], unmapped["charge_amount"]) == (
        "medical_claim", "unmapped_code", Decimal("40.10"))
    assert json.loads(unmapped["raw_record"])["id"] == "claim-2"
    rx = key[("bundle.json", 29)]
    assert (rx["table_name"], rx["rule"], rx["charge_amount"]) == (
        "pharmacy_claim", "unmapped_code", Decimal("9.99"))


def test_clinical_tables(fixture_ws: tuple[Workspace, object]) -> None:
    ws, _ = fixture_ws
    member = ws.table("member").to_pandas().set_index("person_id")
    assert sorted(member.index) == ["00000000-0000-4000-8000-000000000001", "p2"]
    p1 = member.loc["00000000-0000-4000-8000-000000000001"]
    assert (p1["sex"], p1["race"], p1["ethnicity"], p1["state"], p1["zip_code"]) == (
        "female", "white", "not hispanic or latino", "MA", "01420")
    assert str(ws.table("death").to_pandas()["death_date"].iloc[0])[:10] == "2023-06-01"
    elig = ws.table("eligibility").to_pandas()
    assert (elig["payer"].iloc[0], elig["payer_type"].iloc[0]) == ("Medicare", "medicare")
    prov = ws.table("provider").to_pandas().set_index("npi")
    assert prov.loc["1234567893", "provider_type"] == "primary_care"
    assert prov.loc["1999999984", "provider_type"] == "hospital"
    enc = ws.table("encounter").to_pandas().set_index("encounter_id")
    assert enc.loc["enc-1", "encounter_type"] == "ambulatory"
    assert enc.loc["enc-1", "attending_provider_id"] == "1234567893"
    assert enc.loc["enc-1", "claim_id"] == "claim-1"
    assert enc.loc["enc-2", "encounter_type"] == "emergency"
    cond = ws.table("condition").to_pandas().set_index("condition_id")
    assert (cond.loc["cond-1", "source_code_type"], cond.loc["cond-1", "normalized_code"]) == (
        "icd-10-cm", "E119")
    assert cond.loc["cond-3", "normalized_code"] is None  # SNOMED without a crosswalk row
    obs = ws.table("observation").to_pandas().set_index("observation_id")
    assert obs.loc["obs-1-1", "source_code"] == "8480-6"
    assert obs.loc["obs-1-1", "result_numeric"] == 128
    assert obs.loc["obs-2", "observation_type"] == "lab"
    assert (obs.loc["obs-4", "observation_type"], obs.loc["obs-4", "source_code"]) == (
        "prom_item", "HOOS_JR.1")
    koos = obs[obs.panel_id == "KOOS_JR"].sort_values("source_code")
    assert list(koos.source_code) == ["KOOS_JR.1", "KOOS_JR.2"]
    assert list(koos.result_numeric) == [1, 3]
    med = ws.table("medication").to_pandas().set_index("medication_id")
    assert med.loc["mr-1", "rxnorm_code"] == "860975"
    assert med.loc["md-1", "ndc_code"] == "00093104801"


def test_claim_money(fixture_ws: tuple[Workspace, object]) -> None:
    """Header amounts on line 1: charge = Claim.total, paid = EOB.payment, allowed = EOB
    eligible (120.004 rounded half-up), lone EOB mapped as its own claim."""
    ws, report = fixture_ws
    mc = ws.table("medical_claim").to_pandas().sort_values(["claim_id", "claim_line_number"])
    c1 = mc[mc.claim_id == "claim-1"]
    assert list(c1.claim_line_number) == [1, 2]
    assert list(c1.charge_amount) == [Decimal("150.25"), Decimal("0.00")]
    assert list(c1.paid_amount) == [Decimal("96.00"), Decimal("0.00")]
    assert list(c1.allowed_amount) == [Decimal("120.00"), Decimal("0.00")]
    assert c1.hcpcs_code.iloc[1] == "99213" and c1.place_of_service_code.iloc[1] == "11"
    assert c1.diagnosis_code_1.iloc[0] == "E119"
    assert c1.rendering_npi.iloc[0] == "1234567893"
    lone = mc[mc.claim_id == "eob-lone"].iloc[0]
    assert (lone.charge_amount, lone.allowed_amount, lone.paid_amount) == (
        Decimal("200.00"), Decimal("110.00"), Decimal("88.00"))
    assert str(lone.claim_start_date)[:10] == "2022-07-01"
    rx = ws.table("pharmacy_claim").to_pandas().iloc[0]
    assert (rx.ndc_code, rx.charge_amount, rx.paid_amount) == (
        "00093104801", Decimal("25.00"), Decimal("20.00"))
    t = report.tables["medical_claim"]
    # 150.25 + 200.00 loaded; 40.10 (unmapped) + 12.50 (no patient) quarantined
    assert t.input_totals["charge_amount"] == Decimal("402.85")
    assert t.loaded_totals["charge_amount"] == Decimal("350.25")
    assert t.quarantined_totals["charge_amount"] == Decimal("52.60")
    assert report.tables["pharmacy_claim"].input_totals["charge_amount"] == Decimal("34.99")


# ---- Synthea: the cross-format cost check --------------------------------------------
def _fhir_claim_totals() -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for p in SYNTHEA_FHIR.glob("*.json"):
        for e in json.loads(p.read_text(), parse_float=Decimal)["entry"]:
            r = e["resource"]
            if r["resourceType"] == "Claim" and r["type"]["coding"][0]["code"] != "pharmacy":
                pid = r["patient"]["reference"].split(":")[-1]
                out[pid] = out.get(pid, Decimal(0)) + Decimal(str(r["total"]["value"]))
    return {k: v.quantize(Decimal("0.01")) for k, v in out.items()}


def _csv_encounter_totals(patients: set[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    with (SYNTHEA_CSV / "encounters.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            if r["PATIENT"] in patients:
                out[r["PATIENT"]] = out.get(r["PATIENT"], Decimal(0)) + Decimal(
                    r["TOTAL_CLAIM_COST"])
    return out


def _charge_by_person(ws: Workspace) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    mc = ws.table("medical_claim").to_pandas()
    loaded = {k: Decimal(v) for k, v in mc.groupby("person_id")["charge_amount"].sum().items()}
    q = ws.table("quarantine").to_pandas()
    q = q[(q.table_name == "medical_claim") & q.charge_amount.notna()]
    quarantined: dict[str, Decimal] = {}
    for raw, amount in zip(q.raw_record, q.charge_amount, strict=True):
        pid = json.loads(raw)["patient"]["reference"].split(":")[-1]
        quarantined[pid] = quarantined.get(pid, Decimal(0)) + Decimal(amount)
    return loaded, quarantined


@pytest.fixture(scope="module")
def synthea_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, object]:
    if not SYNTHEA_FHIR.is_dir():
        pytest.skip(f"{SYNTHEA_FHIR} is not on this machine")
    ws = Workspace(tmp_path_factory.mktemp("synthea") / "ws")
    return ws, ws.load(SYNTHEA_FHIR, format="fhir")


def test_synthea_load_reconciles(synthea_ws: tuple[Workspace, object]) -> None:
    ws, report = synthea_ws
    assert report.reconciles
    assert all(s.records == s.mapped + s.quarantined for s in report.sources)
    assert ws.table("member").count().to_pyarrow().as_py() == 10
    # Synthea organizations carry no NPI: none is a provider; every practitioner is
    hosp = next(s for s in report.sources if s.source.startswith("hospitalInformation"))
    assert hosp.by_rule == {"missing_npi": hosp.records}
    prac = next(s for s in report.sources if s.source.startswith("practitionerInformation"))
    assert prac.mapped == prac.records


def test_synthea_cost_matches_csv_per_patient(synthea_ws: tuple[Workspace, object]) -> None:
    ws, _ = synthea_ws
    fhir_totals = _fhir_claim_totals()
    assert len(fhir_totals) == 10
    csv_totals = _csv_encounter_totals(set(fhir_totals))
    loaded, quarantined = _charge_by_person(ws)
    for pid, total in fhir_totals.items():
        assert csv_totals[pid] == total, pid
        assert loaded.get(pid, Decimal(0)) + quarantined.get(pid, Decimal(0)) == total, pid


def test_synthea_loaded_charge_equals_csv_path(synthea_ws: tuple[Workspace, object],
                                               tmp_path: Path) -> None:
    if importlib.util.find_spec("valuecare.connectors.synthea") is None:
        pytest.skip("valuecare.connectors.synthea (--format synthea-csv) does not exist yet")
    ws, _ = synthea_ws
    loaded_fhir, _ = _charge_by_person(ws)
    other = Workspace(tmp_path / "csv")
    other.load(SYNTHEA_CSV, format="synthea-csv")
    loaded_csv, _ = _charge_by_person_csv(other)
    for pid in _fhir_claim_totals():
        assert loaded_fhir.get(pid, Decimal(0)) == loaded_csv.get(pid, Decimal(0)), pid


def _charge_by_person_csv(ws: Workspace) -> tuple[dict[str, Decimal], None]:
    mc = ws.table("medical_claim").to_pandas()
    return {k: Decimal(v) for k, v in mc.groupby("person_id")["charge_amount"].sum().items()
            }, None


def test_pipeline_runs_on_synthea_fhir(synthea_ws: tuple[Workspace, object]) -> None:
    ws, _ = synthea_ws
    report = ws.run()
    assert isinstance(report.notes.get("skipped", {}), dict)
