"""The CCLF connector on hand-made fixed-width files (tests/data/cclf, see make_fixtures.py).

Worked by hand from the fixture content (amounts as the files carry them):

* CCLF1 headers: 1001 original 1000.00 (charge 5000.00); 1002 cancels it (1000.00 / 5000.00,
  counted negated: CCLF IP 5.3.1); 1003 adjustment 1100.00 (5200.00); 1004 200.50 (800.00)
  under a previous MBI (CCLF9); 1005 beneficiary not in CCLF8 300.00 (900.00); 1006 amount
  with three decimals (no money); 1007 adjustment code 7 50.00 (60.00); 1008 cancellation
  with nothing to cancel 75.00 (80.00, negated); 1009 truncated.
  paid in = 1000 - 1000 + 1100 + 200.50 + 300 + 50 - 75 = 1575.50; emitted 1300.50.
* CCLF5: 2001/1 80.00 (allowed 100.00), 2001/2 20.00 (25.00), 2002/1 cancels 2001/1,
  2003/1 replaces it 90.00 (110.00), 2004/1 impossible from date.
* CCLF6: one DME line 40.00 (50.00) without diagnosis (loaded: CCLF6 carries none).
* CCLF7: beneficiary payments 10.00, 5.00 (bad NDC), 7.50 (previous MBI).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import Workspace
from valuecare.connectors.cclf import Version, layouts, parse_amount, resolve_versions

DATA = Path(__file__).parents[1] / "data" / "cclf"
D = Decimal


def _file(tag: str) -> str:
    return f"P.A1234.ACO.ZC{tag}Y23.D230115.T0000001"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, object]:
    ws = Workspace(tmp_path_factory.mktemp("cclf") / "ws")
    report = ws.load(DATA, format="cclf")
    return ws, report


def test_layouts_are_contiguous_and_fixtures_fit() -> None:
    lay = layouts()
    assert set(lay) == {"1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B"}
    assert lay["1"].record_length == 437 and lay["8"].record_length == 549
    # every good fixture line has exactly the layout's length
    lines = (DATA / _file("2")).read_text().splitlines()
    assert {len(x) for x in lines} == {lay["2"].record_length}


def test_amounts_are_exact() -> None:
    assert parse_amount("-000000123.45") == D("-123.45")
    assert parse_amount("+12.00") == D("12.00") and parse_amount("12.00-") == D("-12.00")
    assert parse_amount("") is None
    with pytest.raises(ValueError):
        parse_amount("0000012.345")


def test_ip_table_4_example_nets() -> None:
    """CCLF IP 5.3.2 Table 4 (as replicated by Tuva): final action total is 260.00."""
    from datetime import date
    k = ("oscar", date(2020, 7, 1), date(2020, 7, 2), "mbi")
    rows = [("1", "0", "200", (7, 20)), ("2", "2", "0", (9, 20)), ("3", "1", "200", (8, 7)),
            ("4", "2", "210", (9, 20)), ("5", "2", "0", (8, 7)), ("6", "1", "0", (10, 7)),
            ("7", "0", "50", (9, 20))]
    vs = [Version(cid, k if cid != "7" else (*k[:3], "other"), code, D(a),
                  date(2020, *md), (0, i)) for i, (cid, code, a, md) in enumerate(rows)]
    resolve_versions(vs)
    by = {v.claim_id: v for v in vs}
    assert by["3"].original_claim_id == "1"
    assert by["6"].original_claim_id in ("2", "5")
    net = sum((-v.amount if v.code == "1" else v.amount) for v in vs)
    assert net == D("260")
    assert not any(v.unmatched for v in vs)


def test_source_ledgers(loaded: tuple[Workspace, object]) -> None:
    _, report = loaded
    src = {s.source: s for s in report.sources}  # type: ignore[attr-defined]
    expect = {  # file: (records, mapped, quarantined)
        "CCLF9.txt": (2, 1, 1), _file("8"): (5, 3, 2), _file("1"): (9, 4, 5),
        _file("2"): (10, 8, 2), _file("3"): (5, 4, 1), _file("4"): (9, 8, 1),
        _file("A"): (4, 3, 1), _file("5"): (5, 4, 1), _file("6"): (1, 1, 0),
        _file("B"): (2, 1, 1), _file("7"): (3, 2, 1)}
    for name, (rec, mapped, quar) in expect.items():
        s = src[name]
        assert (s.records, s.mapped, s.quarantined) == (rec, mapped, quar), name
        assert s.reconciles
    # every non-blank line of every file is one record
    for name, (rec, _, _) in expect.items():
        assert sum(1 for x in (DATA / name).read_text().splitlines() if x.strip()) == rec
    assert src[_file("1")].by_rule == {"bad_amount": 1, "malformed_line": 1,
                                       "missing_reference": 2, "unmapped_code": 1}
    a = src[_file("1")]
    assert a.money_in["paid_amount"] == D("1000.00") - D("1000.00") + D("1100.00") + \
        D("200.50") + D("300.00") + D("50.00") - D("75.00")
    assert a.money_in["charge_amount"] == D("5000") - D("5000") + D("5200") + D("800") + \
        D("900") + D("60") - D("80")
    assert a.money_quarantined["paid_amount"] == D("300.00") + D("50.00") - D("75.00")
    b = src[_file("5")]
    # the line with an impossible date is rejected while parsing: no money is counted
    assert b.money_in["paid_amount"] == D("80") + D("20") - D("80") + D("90")
    assert "paid_amount" not in b.money_quarantined
    assert src[_file("7")].money_in["allowed_amount"] == D("22.50")
    assert "README.txt" in report_notes_ignored(loaded)


def report_notes_ignored(loaded: tuple[Workspace, object]) -> list[str]:
    ws, _ = loaded
    notes = json.loads(ws.runs().iloc[0]["notes"]) if "notes" in ws.runs() else {}
    names = [s["source"] for s in notes.get("sources", [])]
    assert "make_fixtures.py" not in names and "README.txt" not in names
    return ["README.txt"]


def test_load_reconciles_and_quarantine_rows(loaded: tuple[Workspace, object]) -> None:
    ws, report = loaded
    assert report.reconciles  # type: ignore[attr-defined]
    claims = report.tables["medical_claim"]  # type: ignore[attr-defined]
    # 1001 x2 + 1002 x2 + 1003 x3 + 1004 x1 institutional lines, 4 professional, 1 DME
    assert claims.input_rows == 13 + 12 and claims.loaded_rows == 13
    assert "missing_required" not in claims.by_rule  # the DME line loads without diagnosis
    assert claims.loaded_totals["paid_amount"] == D("1300.50") + D("110.00") + D("40.00")
    q = ws.table("quarantine").to_pyarrow().to_pylist()
    rows = {(r["file_name"], r["row_number"]): r for r in q}
    miss = rows[(_file("1"), 5)]
    assert (miss["rule"], miss["column_name"]) == ("missing_reference", "BENE_MBI_ID")
    assert miss["paid_amount"] == D("300.00")
    assert rows[(_file("1"), 9)]["rule"] == "malformed_line"
    assert rows[(_file("1"), 6)]["rule"] == "bad_amount"
    assert rows[(_file("1"), 7)]["rule"] == "unmapped_code"
    assert rows[(_file("1"), 8)]["paid_amount"] == D("-75.00")
    assert rows[(_file("8"), 5)][("rule")] == "bad_date"
    assert rows[(_file("7"), 2)]["rule"] == "unmapped_code"
    assert rows[(_file("2"), 9)]["rule"] == "missing_reference"  # line of quarantined 1005
    # reasons never carry member-level values
    for r in q:
        assert "1AA0AA0AA0" not in (r["all_reasons"] or "")
        assert "PERSON" not in (r["raw_record"] or "")


def test_adjustments_net(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    mc = ws.table("medical_claim").to_pandas()
    head = mc[mc.claim_line_number == 1].set_index("claim_id")
    assert head.loc["1002", "adjustment_type"] == "reversal"
    assert head.loc["1002", "original_claim_id"] == "1001"
    assert head.loc["1002", "paid_amount"] == D("-1000.00")
    assert head.loc["1003", "adjustment_type"] == "adjustment"
    assert head.loc["1003", "original_claim_id"] == "1001"
    inst = mc[mc.claim_type == "institutional"]
    assert inst.paid_amount.sum() == D("1300.50")  # header money once per claim
    assert (inst[inst.claim_line_number > 1].paid_amount == 0).all()
    episode = inst[inst.claim_id.isin(["1001", "1002", "1003"])]
    assert episode.paid_amount.sum() == D("1100.00")
    assert head.loc["1001", "deductible_amount"] == D("1600.00")
    assert head.loc["1001", "drg_code"] == "470" and head.loc["1001", "bill_type_code"] == "111"
    assert list(head.loc["1003", ["diagnosis_code_1", "diagnosis_code_2",
                                  "diagnosis_code_3"]]) == ["I10", "E119", "N179"]
    assert head.loc["1003", "procedure_code_2"] == "0DB64Z3"
    assert head.loc["1004", "person_id"] == "1AA0AA0AA03"  # crosswalked from the old MBI
    prof = mc[mc.claim_type == "professional"]
    line1 = prof[prof.claim_line_number == 1].set_index("claim_id")
    assert line1.loc["2002", "original_claim_id"] == "2001"
    assert line1.loc["2003", "original_claim_id"] == "2001"
    assert line1.loc["2001", "deductible_amount"] == D("10.00")
    dme = prof.file_name == _file("6")
    assert prof[~dme].paid_amount.sum() == D("110.00")
    assert prof[dme].paid_amount.sum() == D("40.00")  # CCLF6: loaded without a diagnosis
    assert prof[dme].diagnosis_code_1.isna().all()
    rx = ws.table("pharmacy_claim").to_pandas().set_index("claim_id")
    assert rx.loc["4003", "person_id"] == "1AA0AA0AA03"


def test_members_eligibility_death(loaded: tuple[Workspace, object]) -> None:
    ws, _ = loaded
    m = ws.table("member").to_pandas().set_index("person_id")
    assert sorted(m.index) == ["1AA0AA0AA01", "1AA0AA0AA02", "1AA0AA0AA03"]
    assert m.loc["1AA0AA0AA01", "dual_status_code"] == "02"
    assert m.loc["1AA0AA0AA02", "dual_status_code"] is None  # NA is not a status
    assert m.loc["1AA0AA0AA02", "death_flag"] == 1
    assert str(m.loc["1AA0AA0AA02", "death_date"])[:10] == "2023-03-10"
    e = ws.table("eligibility").to_pandas().set_index("person_id")
    assert str(e.loc["1AA0AA0AA01", "enrollment_start_date"])[:10] == "2023-01-01"
    assert str(e.loc["1AA0AA0AA01", "enrollment_end_date"])[:10] == "2023-02-28"
    assert str(e.loc["1AA0AA0AA02", "enrollment_end_date"])[:10] == "2023-02-28"
    assert ws.table("death").count().to_pyarrow().as_py() == 1


def test_run_end_to_end(loaded: tuple[Workspace, object]) -> None:
    """The whole pipeline runs on CCLF data."""
    ws, _ = loaded
    report = ws.run()
    assert isinstance(report.notes, dict)
