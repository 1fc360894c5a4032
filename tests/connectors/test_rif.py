"""The CCW RIF connector on hand-made fixtures (tests/data/rif) and the shared RIF sample.

Fixture faults, one per rule: a truncated line in beneficiary_2016 and carrier
(``malformed_line``), an impossible date (beneficiary B4 31-Feb, carrier C3 32-Jan, PDE R4
``01-Xyz``: ``bad_date``), a three-decimal amount (carrier C4: ``bad_amount``), a sex code
7 (B3: ``unmapped_code``, so its claim C7 is ``missing_reference``), an unknown
beneficiary (carrier C5, PDE R3: ``missing_reference``), a claim type 99 in the SNF file
(``unmapped_code``), FINAL_ACTION N (carrier C6, inpatient I2: ``not_final_action``), a
DML DELETE (PDE R5: ``deleted_record``), and an inpatient claim whose lines disagree on
the header (I3, both lines ``malformed_line``).  Counts and money are computed here from
the files, independently of the connector.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import Workspace
from valuecare.connectors import cms_common as cc
from valuecare.model.schema import TABLES

DATA = Path(__file__).resolve().parents[1] / "data" / "rif"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "cms_rif_synthea"
INSTITUTIONAL = ("inpatient.csv", "outpatient.csv", "snf.csv", "hha.csv", "hospice.csv")


def rows(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = [ln for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    return lines[0].split("|"), [ln.split("|") for ln in lines[1:]]


def dec(text: str) -> Decimal | None:
    """Decimal when the text is an amount with at most two decimals."""
    return Decimal(text) if re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", text) else None


def paid_in(path: Path) -> Decimal:
    """Medicare paid of a file, from the source text: line paid for carrier/DME, header
    CLM_PMT_AMT once per claim (negated for voids) for institutional files, plan paid
    for PDE; malformed lines and unparsable amounts count nothing."""
    head, body = rows(path)
    good = [dict(zip(head, r, strict=True)) for r in body if len(r) == len(head)]
    total = Decimal(0)
    if "CLM_PMT_AMT" not in head and "PDE_ID" not in head:
        return total  # beneficiary files hold no claim money
    if path.name in INSTITUTIONAL:
        seen = set()
        for r in good:
            if r["CLM_ID"] in seen:
                continue
            seen.add(r["CLM_ID"])
            v = dec(r["CLM_PMT_AMT"]) or Decimal(0)
            total += -v if r.get("CLM_FREQ_CD") == "8" else v
    elif path.name == "pde.csv":
        for r in good:
            a, b = dec(r["CVRD_D_PLAN_PD_AMT"]), dec(r["NCVRD_PLAN_PD_AMT"])
            if a is not None and b is not None and dec(r["TOT_RX_CST_AMT"]) is not None:
                total += a + b
    else:
        for r in good:
            amts = [dec(r[c]) for c in ("LINE_NCH_PMT_AMT", "LINE_ALOWD_CHRG_AMT",
                                        "LINE_SBMTD_CHRG_AMT")]
            if all(a is not None for a in amts):
                total += amts[0]  # type: ignore[operator]
    return total


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, object]]:
    ws = Workspace(tmp_path_factory.mktemp("rif") / "ws")
    report = ws.load(DATA, format="rif")
    yield ws, report
    ws.close()


EXPECTED_RULES = {
    "beneficiary_2015.csv": {"unmapped_code": 1, "bad_date": 1},
    "beneficiary_2016.csv": {"malformed_line": 1},
    "beneficiary_history.csv": {},
    "carrier.csv": {"bad_date": 1, "bad_amount": 1, "missing_reference": 2,
                    "malformed_line": 1, "not_final_action": 1},
    "dme.csv": {},
    "inpatient.csv": {"not_final_action": 1, "malformed_line": 2},
    "outpatient.csv": {}, "snf.csv": {"unmapped_code": 1}, "hha.csv": {}, "hospice.csv": {},
    "pde.csv": {"missing_reference": 1, "bad_date": 1, "deleted_record": 1},
}


def test_every_source_row_is_counted_once(loaded: tuple[Workspace, object]) -> None:
    _, report = loaded
    src = {s.source: s for s in report.sources}  # type: ignore[attr-defined]
    assert set(src) == set(EXPECTED_RULES)
    for name, rules in EXPECTED_RULES.items():
        _, body = rows(DATA / name)
        s = src[name]
        assert s.records == len(body), name
        assert s.records == s.mapped + s.quarantined, name
        assert s.by_rule == rules, name
        assert s.money_in.get("paid_amount", Decimal(0)) == paid_in(DATA / name), name


def test_load_reconciles_and_quarantine_rows_point_at_the_source(
        loaded: tuple[Workspace, object]) -> None:
    ws, report = loaded
    assert report.reconciles  # type: ignore[attr-defined]
    mc = report.tables["medical_claim"]  # type: ignore[attr-defined]
    assert mc.input_totals["paid_amount"] == mc.loaded_totals["paid_amount"] + \
        mc.quarantined_totals["paid_amount"]
    q = ws.table("quarantine").to_pyarrow().to_pylist()
    key = {(r["file_name"], r["row_number"], r["rule"]): r for r in q}
    bad = key[("carrier.csv", 4, "bad_date")]
    assert (bad["column_name"], bad["value"], bad["table_name"]) == (
        "CLM_FROM_DT", "32-Jan-2015", "medical_claim")
    assert bad["paid_amount"] == Decimal("40.00")
    assert json.loads(bad["raw_record"])["CLM_ID"] == "C3"
    assert key[("carrier.csv", 5, "bad_amount")]["column_name"] == "LINE_NCH_PMT_AMT"
    assert key[("carrier.csv", 6, "missing_reference")]["value"] == "B9"
    assert key[("carrier.csv", 7, "malformed_line")]["raw_record"].startswith("INSERT|B1|C8")
    assert key[("beneficiary_2015.csv", 3, "unmapped_code")]["column_name"] == \
        "BENE_SEX_IDENT_CD"
    assert key[("snf.csv", 1, "unmapped_code")]["column_name"] == "NCH_CLM_TYPE_CD"
    assert key[("pde.csv", 5, "deleted_record")]["allowed_amount"] == Decimal("4.00")
    # reasons name the column and rule, never the source value
    for r in q:
        reason = (r["all_reasons"] or "").partition(" - ")[2]
        if r["value"] and len(r["value"]) > 2:
            assert r["value"] not in reason, r["rule"]


def test_members_eligibility_and_deaths(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    m = {r["person_id"]: r for r in ws.table("member").to_pyarrow().to_pylist()}
    assert set(m) == {"B1", "B2", "B5"}  # B3 bad sex code, B4 bad birth date, B6 truncated
    assert (m["B1"]["sex"], m["B1"]["race"], m["B1"]["state"], m["B1"]["zip_code"],
            m["B1"]["region"]) == ("female", "white", "MA", "01730", "northeast")
    assert (m["B2"]["death_flag"], str(m["B2"]["death_date"]), m["B2"]["dual_status_code"],
            m["B2"]["state"]) == (1, "2015-10-15", "02", "CA")
    assert (m["B5"]["race"], m["B5"]["state"]) == ("asian", "NY")
    e = sorted((r["person_id"], str(r["enrollment_start_date"]), str(r["enrollment_end_date"]),
                r["plan"], r["payer_type"])
               for r in ws.table("eligibility").to_pyarrow().to_pylist())
    assert e == [
        ("B1", "2015-01-01", "2016-12-31", "medicare ffs", "medicare"),
        ("B2", "2015-01-01", "2015-03-31", "medicare ffs", "medicare"),
        ("B2", "2015-04-01", "2015-10-31", "medicare advantage", "medicare advantage"),
    ]
    d = ws.table("death").to_pyarrow().to_pylist()
    assert [(r["person_id"], str(r["death_date"])) for r in d] == [("B2", "2015-10-15")]


def test_claim_lines(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    lines = {(r["claim_id"], r["claim_line_number"]): r
             for r in ws.table("medical_claim").to_pyarrow().to_pylist()}
    c1 = lines[("C1", 1)]
    assert (c1["claim_type"], c1["hcpcs_code"], c1["place_of_service_code"],
            c1["rendering_npi"], c1["paid_amount"], c1["allowed_amount"],
            c1["charge_amount"], c1["diagnosis_code_1"], c1["diagnosis_code_2"],
            c1["diagnosis_code_type"]) == (
        "professional", "99213", "11", "1234567893", Decimal("80.00"), Decimal("100.00"),
        Decimal("150.00"), "E119", "I10", "icd-10-cm")
    assert lines[("C1", 2)]["rendering_npi"] is None  # 1234567890 fails the check digit
    # institutional: header money on line 1, zero on the others
    i1, i2 = lines[("I1", 1)], lines[("I1", 2)]
    assert (i1["paid_amount"], i1["allowed_amount"], i1["charge_amount"]) == (
        Decimal("9000.00"), Decimal("10260.00"), Decimal("20000.00"))
    assert (i2["paid_amount"], i2["allowed_amount"], i2["charge_amount"]) == (0, 0, 0)
    assert (i1["bill_type_code"], i1["drg_code"], i1["discharge_disposition_code"],
            i1["revenue_center_code"], i2["revenue_center_code"], i1["procedure_code_1"],
            i1["diagnosis_poa_1"], i1["diagnosis_poa_2"]) == (
        "111", "470", "01", "0120", "0250", "0SRD0JZ", "Y", "N")
    assert lines[("H1", 1)]["bill_type_code"] == "329"
    assert lines[("P1", 1)]["bill_type_code"] == "811"
    assert lines[("S2", 1)]["allowed_amount"] == Decimal("1176.00")
    # a void (frequency 8) reverses O1 with amounts <= 0
    o2 = lines[("O2", 1)]
    assert (o2["adjustment_type"], o2["original_claim_id"], o2["paid_amount"],
            o2["allowed_amount"], o2["charge_amount"]) == (
        "reversal", "O1", Decimal("-200.00"), Decimal("-250.00"), Decimal("-400.00"))
    rx = {r["claim_id"]: r for r in ws.table("pharmacy_claim").to_pyarrow().to_pylist()}
    assert (rx["R1"]["ndc_code"], rx["R1"]["quantity"], rx["R1"]["paid_amount"],
            rx["R1"]["allowed_amount"], rx["R2"]["adjustment_type"]) == (
        "00093721401", 30, Decimal("20.00"), Decimal("30.00"), "adjustment")


def test_icd9_claims_keep_their_code_system(loaded: tuple[Workspace, object]) -> None:
    """O3 (2014, version code 9) is emitted as ICD-9-CM; the canonical diagnosis pattern
    is ICD-10-CM, so the loader keeps or quarantines it according to the schema."""
    ws, report = loaded
    pattern = TABLES["medical_claim"].column("diagnosis_code_1").pattern or ""
    loaded_ids = set(ws.table("medical_claim").claim_id.to_pyarrow().to_pylist())
    if re.match(pattern, "4019"):
        assert "O3" in loaded_ids
    else:
        assert "O3" not in loaded_ids
        q = [r for r in ws.table("quarantine").to_pyarrow().to_pylist()
             if r["rule"] == "bad_code_format"]
        assert [json.loads(r["raw_record"])["diagnosis_code_type"] for r in q] == ["icd-9-cm"]
    assert cc.icd_dx_type("", cc.parse_cms_date("30-Sep-2015")) == "icd-9-cm"
    assert cc.icd_dx_type("", cc.parse_cms_date("01-Oct-2015")) == "icd-10-cm"


def test_cms_common_helpers() -> None:
    assert cc.parse_cms_date("30-May-2015") == cc.parse_cms_date("20150530")
    with pytest.raises(ValueError):
        cc.parse_cms_date("31-Feb-2015")
    assert cc.bill_type("1", "3", "1") == "131" and cc.bill_type("8", "1", "A") is None
    assert cc.dual_status("4") == "04" and cc.dual_status("NA") is None
    assert cc.dual_status("99") is None
    assert cc.valid_npi("1234567893") == "1234567893" and cc.valid_npi("1234567890") is None
    assert cc.zip5("1730") == "01730" and cc.zip5("021151234") == "02115"
    assert cc.clean_icd("e11.9 ") == "E119"
    assert cc.race_ethnicity("5") == ("unknown", "hispanic or latino")


def test_first_pipeline_stages_run_on_the_load(loaded: tuple[Workspace, object]) -> None:
    """The enrollment and claim stages run on what the connector loaded (the full
    ``ws.run()`` is in the end-to-end test below)."""
    ws, _ = loaded
    run = ws.run(["member_months", "claim_header", "pmpm"])
    assert run.row_counts.get("member_months", 0) > 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared CMS RIF sample not present")
def test_shared_rif_sample_end_to_end(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    report = ws.load(SHARED, format="rif")
    assert report.reconciles
    src = {s.source: s for s in report.sources}
    assert "export_summary.csv" not in src
    for name, s in src.items():
        _, body = rows(SHARED / name)
        assert (s.records, s.mapped, s.quarantined) == (len(body), len(body), 0), name
        assert s.money_in.get("paid_amount", Decimal(0)) == paid_in(SHARED / name), name
    assert report.tables["member"].loaded_rows == 3
    # every carrier line and every institutional claim header, to the cent
    mc = report.tables["medical_claim"]
    assert mc.input_totals["paid_amount"] == sum(
        (paid_in(SHARED / f) for f in ("carrier.csv", "dme.csv", *INSTITUTIONAL)), Decimal(0))
    assert mc.quarantined_rows == 0
    run = ws.run()
    assert run.row_counts.get("member_months", 0) > 0
    assert "member_months" not in run.notes.get("skipped", {})
    ws.close()
