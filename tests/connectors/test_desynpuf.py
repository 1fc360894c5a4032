"""The DE-SynPUF connector on hand-made fixtures (tests/data/desynpuf) and the shared sample.

Fixture faults: sex code 9 (P3: ``unmapped_code``), birth date 19401340 (P4: ``bad_date``),
truncated lines in the 2009 summary and carrier B (``malformed_line``), a claim date
20080231 (K3) and a Part D date 2008031 (R3) (``bad_date``), amounts ``12.345`` (K4) and
``6O`` (U2) (``bad_amount``), claims of the unknown beneficiary P9 (K2, N2, R2:
``missing_reference``).  Counts and money are computed here from the files.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import Workspace
from valuecare.connectors.desynpuf import place_months
from valuecare.model.schema import TABLES

DATA = Path(__file__).resolve().parents[1] / "data" / "desynpuf"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "desynpuf_sample0"


def records(path: Path) -> list[dict[str, str] | None]:
    with path.open(newline="") as fh:
        rd = csv.reader(fh)
        head = next(rd)
        return [dict(zip(head, r, strict=True)) if len(r) == len(head) else None
                for r in rd if r]


def amount(text: str) -> Decimal | None:
    t = text.strip() or "0"
    return Decimal(t) if re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", t) else None


def paid_in(path: Path) -> Decimal:
    """Medicare paid of a file from the source text (rows with an unparsable amount and
    malformed lines count nothing)."""
    total = Decimal(0)
    for r in records(path):
        if r is None:
            continue
        if "LINE_NCH_PMT_AMT_1" in r:
            vals = [amount(r[f"{k}_{i}"]) for i in range(1, 14) for k in (
                "LINE_NCH_PMT_AMT", "LINE_ALOWD_CHRG_AMT", "LINE_BENE_PTB_DDCTBL_AMT",
                "LINE_COINSRNC_AMT", "LINE_BENE_PRMRY_PYR_PD_AMT")]
            if all(v is not None for v in vals):
                total += sum((amount(r[f"LINE_NCH_PMT_AMT_{i}"]) or 0 for i in range(1, 14)),
                             Decimal(0))
        elif "CLM_PMT_AMT" in r:
            cols = [c for c in r if c.endswith("_AMT") or c.endswith("_AM")]
            if all(amount(r[c]) is not None for c in cols):
                total += amount(r["CLM_PMT_AMT"]) or 0
        elif "TOT_RX_CST_AMT" in r:
            a, b = amount(r["TOT_RX_CST_AMT"]), amount(r["PTNT_PAY_AMT"])
            if a is not None and b is not None:
                total += a - b
    return total


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, object]]:
    ws = Workspace(tmp_path_factory.mktemp("desynpuf") / "ws")
    report = ws.load(DATA, format="desynpuf")
    yield ws, report
    ws.close()


EXPECTED_RULES = {
    "DE1_0_2008_Beneficiary_Summary_File_Sample_1.csv": {"unmapped_code": 1, "bad_date": 1},
    "DE1_0_2009_Beneficiary_Summary_File_Sample_1.csv": {"malformed_line": 1},
    "DE1_0_2008_to_2010_Carrier_Claims_Sample_1A.csv": {"missing_reference": 1,
                                                        "bad_date": 1, "bad_amount": 1},
    "DE1_0_2008_to_2010_Carrier_Claims_Sample_1B.csv": {"malformed_line": 1},
    "DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.csv": {"missing_reference": 1},
    "DE1_0_2008_to_2010_Outpatient_Claims_Sample_1.csv": {"bad_amount": 1},
    "DE1_0_2008_to_2010_Prescription_Drug_Events_Sample_1.csv": {"missing_reference": 1,
                                                                 "bad_date": 1},
}


def test_every_source_row_is_counted_once(loaded: tuple[Workspace, object]) -> None:
    _, report = loaded
    assert report.reconciles  # type: ignore[attr-defined]
    src = {s.source: s for s in report.sources}  # type: ignore[attr-defined]
    assert set(src) == set(EXPECTED_RULES)
    for name, rules in EXPECTED_RULES.items():
        s = src[name]
        assert s.records == len(records(DATA / name)), name
        assert s.records == s.mapped + s.quarantined, name
        assert s.by_rule == rules, name
        assert s.money_in.get("paid_amount", Decimal(0)) == paid_in(DATA / name), name


def test_quarantine_rows(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    q = {(r["file_name"], r["row_number"], r["rule"]): r
         for r in ws.table("quarantine").to_pyarrow().to_pylist()}
    k3 = q[("DE1_0_2008_to_2010_Carrier_Claims_Sample_1A.csv", 3, "bad_date")]
    assert (k3["column_name"], k3["value"], k3["paid_amount"]) == (
        "CLM_FROM_DT", "20080231", Decimal("40.00"))
    k2 = q[("DE1_0_2008_to_2010_Carrier_Claims_Sample_1A.csv", 2, "missing_reference")]
    assert (k2["column_name"], k2["value"]) == ("DESYNPUF_ID", "P9")
    assert json.loads(k2["raw_record"])["CLM_ID"] == "K2"
    u2 = q[("DE1_0_2008_to_2010_Outpatient_Claims_Sample_1.csv", 2, "bad_amount")]
    assert u2["column_name"] == "CLM_PMT_AMT" and u2["paid_amount"] is None
    p3 = q[("DE1_0_2008_Beneficiary_Summary_File_Sample_1.csv", 3, "unmapped_code")]
    assert p3["column_name"] == "BENE_SEX_IDENT_CD" and p3["table_name"] == "member"
    assert ("DE1_0_2009_Beneficiary_Summary_File_Sample_1.csv", 2, "malformed_line") in q


def test_members_and_eligibility(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    m = {r["person_id"]: r for r in ws.table("member").to_pyarrow().to_pylist()}
    assert set(m) == {"P1", "P2"}
    assert (m["P1"]["sex"], m["P1"]["race"], m["P1"]["state"]) == ("female", "white", "MA")
    assert (m["P2"]["ethnicity"], m["P2"]["state"], str(m["P2"]["death_date"])) == (
        "hispanic or latino", "TX", "2008-06-15")
    e = sorted((r["person_id"], str(r["enrollment_start_date"]), str(r["enrollment_end_date"]),
                r["plan"]) for r in ws.table("eligibility").to_pyarrow().to_pylist())
    assert e == [
        ("P1", "2008-01-01", "2008-12-31", "medicare ffs"),
        ("P1", "2009-07-01", "2009-12-31", "medicare ffs"),
        ("P2", "2008-01-01", "2008-02-29", "medicare ffs"),
        ("P2", "2008-03-01", "2008-06-30", "medicare advantage"),
    ]
    assert place_months(2010, 12, 12, 0, date(2009, 5, 1)) == []


def test_claims_emitted_and_loaded_per_schema(loaded: tuple[Workspace, object]) -> None:
    """Claims are emitted with ICD-9-CM codes; the loader keeps those whose codes fit the
    canonical diagnosis pattern (an ICD-9 V code like V5869 does) and quarantines the rest
    as bad_code_format under today's ICD-10-only pattern."""
    ws, report = loaded
    mc = report.tables["medical_claim"]  # type: ignore[attr-defined]
    pattern = TABLES["medical_claim"].column("diagnosis_code_1").pattern or ""
    q = [r for r in ws.table("quarantine").to_pyarrow().to_pylist()
         if r["table_name"] == "medical_claim" and r["rule"] == "bad_code_format"]
    assert {k for k in mc.by_rule if not k.startswith("source:")} <= {"bad_code_format"}
    emitted = 2 + 1 + 2 + 1  # K1 (2 lines), K5, N1 (2 HCPCS lines), U1
    assert mc.loaded_rows + len(q) == emitted
    px_pattern = TABLES["medical_claim"].column("procedure_code_1").pattern or ""
    for r in q:
        raw = json.loads(r["raw_record"])
        assert raw["diagnosis_code_type"] == "icd-9-cm"
        dx = [v for k, v in raw.items() if k.startswith("diagnosis_code_") and k[-1].isdigit()
              and v]
        px = [v for k, v in raw.items() if k.startswith("procedure_code_") and k[-1].isdigit()
              and v]
        assert not all(re.match(pattern, c) for c in dx) or \
            not all(re.match(px_pattern, c) for c in px)
    rows = {(r["claim_id"], r["claim_line_number"]): r
            for r in ws.table("medical_claim").to_pyarrow().to_pylist()}
    if re.match(pattern, "V5869"):
        u1 = rows[("U1", 1)]
        assert (u1["bill_type_code"], u1["paid_amount"], u1["allowed_amount"],
                u1["charge_amount"], u1["diagnosis_code_type"]) == (
            "131", Decimal("60.00"), Decimal("80.00"), Decimal("80.00"), "icd-9-cm")
    rx = ws.table("pharmacy_claim").to_pyarrow().to_pylist()
    assert [(r["claim_id"], r["ndc_code"], r["paid_amount"], r["allowed_amount"])
            for r in rx] == [("R1", "00093721401", Decimal("30.00"), Decimal("40.00"))]


def test_first_pipeline_stages_run_on_the_load(loaded: tuple[Workspace, object]) -> None:
    """The enrollment and claim stages run on what the connector loaded (the full
    ``ws.run()`` is in the end-to-end test below)."""
    ws, _ = loaded
    run = ws.run(["member_months", "claim_header", "pmpm"])
    assert run.row_counts.get("member_months", 0) > 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared DE-SynPUF sample not present")
def test_shared_sample_end_to_end(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    report = ws.load(SHARED, format="desynpuf")
    assert report.reconciles
    src = {s.source: s for s in report.sources}
    assert len(src) == 8
    for name, s in src.items():
        assert (s.records, s.mapped, s.quarantined) == (
            len(records(SHARED / name)), len(records(SHARED / name)), 0), name
        assert s.money_in.get("paid_amount", Decimal(0)) == paid_in(SHARED / name), name
    assert report.tables["member"].loaded_rows == 2
    assert report.tables["eligibility"].loaded_rows >= 2
    run = ws.run()
    assert "skipped" not in run.notes or isinstance(run.notes["skipped"], dict)
    ws.close()
