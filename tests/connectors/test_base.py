"""The connector framework: source ledgers, source rejects in the quarantine, reconciliation.

A toy connector reads a two-file format (people.txt, bills.txt, ``|``-separated) so every
path of :class:`valuecare.connectors.base.Conversion` and the loader's connector branch is
exercised with numbers worked by hand: 3 people (one without a birth date: loader reject),
4 bills of 100.00, 250.50, 49.50 and 10.00 (one for an unknown person: source reject
``missing_reference``; one with 3 decimals: source reject ``bad_amount``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from valuecare import InvalidInput, Workspace
from valuecare.connectors import base
from valuecare.connectors.base import Conversion, money


class Toy:
    name = "toy"
    description = "test format"

    def convert(self, source: Path, out: Conversion) -> None:
        people = source / "people.txt"
        out.read_input(people)
        t = out.tally("people.txt", "member")
        ids = set()
        for line in people.read_text().splitlines()[1:]:
            pid, sex, birth = line.split("|")
            t.records += 1
            ids.add(pid)
            out.emit("member", {"person_id": pid, "sex": sex, "birth_date": birth or None,
                                "data_source": "toy", "file_name": "people.txt"})
            t.mapped += 1
        bills = source / "bills.txt"
        out.read_input(bills)
        b = out.tally("bills.txt", "medical_claim")
        for i, line in enumerate(bills.read_text().splitlines()[1:], start=1):
            bid, pid, day, amount = line.split("|")
            b.records += 1
            raw = {"id": bid, "person": pid, "day": day, "amount": amount}
            try:
                amt = money(amount)
            except ValueError as exc:
                out.reject(b, table="medical_claim", row_number=i, rule="bad_amount",
                           column="amount", value=amount, reason=str(exc), raw=raw)
                continue
            b.add_money({"paid_amount": amt, "allowed_amount": amt, "charge_amount": amt})
            if pid not in ids:
                out.reject(b, table="medical_claim", row_number=i, rule="missing_reference",
                           column="person", value=pid, raw=raw,
                           amounts={"paid_amount": amt, "allowed_amount": amt,
                                    "charge_amount": amt})
                continue
            out.emit("medical_claim", {
                "claim_id": bid, "claim_line_number": 1, "claim_type": "professional",
                "person_id": pid, "payer": "toy", "claim_start_date": day,
                "claim_end_date": day, "charge_amount": amt, "allowed_amount": amt,
                "paid_amount": amt, "adjustment_type": "original", "data_source": "toy",
                "diagnosis_code_type": "icd-10-cm", "diagnosis_code_1": "E119",
                "file_name": "bills.txt"})
            b.mapped += 1


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setitem(base._REGISTRY, "toy", f"{__name__}:Toy")
    src = tmp_path / "src"
    src.mkdir()
    (src / "people.txt").write_text("id|sex|birth\np1|female|1950-01-02\np2|male|1948-05-06\n"
                                    "p3|female|\n")
    (src / "bills.txt").write_text("id|person|day|amount\nb1|p1|2024-01-05|100.00\n"
                                   "b2|p2|2024-02-01|250.50\nb3|p9|2024-02-03|49.50\n"
                                   "b4|p1|2024-03-01|10.001\n")
    return src


def test_money_is_exact() -> None:
    assert money("129.160000") == Decimal("129.16")
    assert money(" 5 ") == Decimal("5.00")
    assert money("") is None and money(None) is None
    with pytest.raises(ValueError, match="two decimals"):
        money("1.005")
    with pytest.raises(ValueError, match="not an amount"):
        money("NaN")


def test_connector_load_reconciles(toy: Path, tmp_path: Path, backend: str) -> None:
    ws = Workspace(tmp_path / "ws", backend=backend)
    report = ws.load(toy, format="toy")
    assert report.format == "toy" and report.reconciles
    member = report.tables["member"]
    assert (member.input_rows, member.loaded_rows, member.quarantined_rows) == (3, 2, 1)
    claims = report.tables["medical_claim"]
    # 2 emitted + 1 source reject with money; the bad amount has no money to count
    assert (claims.input_rows, claims.loaded_rows, claims.quarantined_rows) == (4, 2, 2)
    assert claims.input_totals["paid_amount"] == Decimal("400.00")
    assert claims.loaded_totals["paid_amount"] == Decimal("350.50")
    assert claims.quarantined_totals["paid_amount"] == Decimal("49.50")
    assert claims.by_rule == {"source:bad_amount": 1, "source:missing_reference": 1}
    src = {s.source: s for s in report.sources}
    assert (src["bills.txt"].records, src["bills.txt"].mapped,
            src["bills.txt"].quarantined) == (4, 2, 2)
    assert src["bills.txt"].money_in["paid_amount"] == Decimal("400.00")
    assert src["bills.txt"].money_quarantined["paid_amount"] == Decimal("49.50")
    q = ws.table("quarantine").order_by(["table_name", "row_number"]).to_pyarrow().to_pylist()
    by_rule = {r["rule"]: r for r in q}
    assert set(by_rule) == {"missing_required", "bad_amount", "missing_reference"}
    ref = by_rule["missing_reference"]
    assert (ref["file_name"], ref["row_number"], ref["column_name"], ref["value"]) == (
        "bills.txt", 3, "person", "p9")
    assert json.loads(ref["raw_record"])["amount"] == "49.50"
    assert all(r["run_id"] == report.run_id for r in q)
    # canonical rows name the source file they came from
    files = ws.table("medical_claim").file_name.to_pyarrow().to_pylist()
    assert set(files) == {"bills.txt"}
    inputs = json.loads(ws.runs().iloc[0]["inputs"])
    assert sorted(Path(i["path"]).name for i in inputs) == ["bills.txt", "people.txt"]


def test_reload_replaces_quarantine(toy: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.load(toy, format="toy")
    ws.load(toy, format="toy")
    assert ws.table("quarantine").count().to_pyarrow().as_py() == 3


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InvalidInput, match="unknown format 'xml'.*synthea-csv"):
        ws.load(tmp_path, format="xml")


def test_run_skips_stages_whose_tables_are_missing(toy: Path, tmp_path: Path) -> None:
    """The toy format gives members and claims but no eligibility: the stages that need
    eligibility (and those that need their results) are skipped with the reason."""
    ws = Workspace(tmp_path / "ws")
    ws.load(toy, format="toy")
    report = ws.run()
    skipped = report.notes["skipped"]
    assert skipped["member_months"] == "needs eligibility"
    assert "claim_header" in report.stages
    assert set(report.stages).isdisjoint(skipped)
    with pytest.raises(Exception, match="no eligibility table"):
        ws.run(["member_months"])


def test_quality_years_are_the_latest_five_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measurement periods: the years with member months, the latest five unless
    ``VALUECARE_QUALITY_YEARS`` says otherwise (a whole-life EHR extract spans decades)."""
    import ibis

    from valuecare.outcomes.stage import quality_years

    class Run:
        def table(self, name: str):
            assert name == "member_months"
            return ibis.memtable({"year": [1990, 2001, 2019, 2020, 2021, 2022, 2023, 2023]})

    monkeypatch.delenv("VALUECARE_QUALITY_YEARS")
    assert quality_years(Run()) == [2019, 2020, 2021, 2022, 2023]
    monkeypatch.setenv("VALUECARE_QUALITY_YEARS", "all")
    assert quality_years(Run()) == [1990, 2001, 2019, 2020, 2021, 2022, 2023]
    monkeypatch.setenv("VALUECARE_QUALITY_YEARS", "2")
    assert quality_years(Run()) == [2022, 2023]
    monkeypatch.setenv("VALUECARE_QUALITY_YEARS", "two")
    with pytest.raises(InvalidInput, match="VALUECARE_QUALITY_YEARS"):
        quality_years(Run())


def test_npi_check_digit() -> None:
    """CMS's worked example: 123456789 with the 80840 prefix gives check digit 3."""
    from valuecare.connectors.base import valid_npi

    assert valid_npi("1234567893") == "1234567893"
    assert valid_npi(" 1234567893 ") == "1234567893"
    assert valid_npi("1234567890") is None
    assert valid_npi("123456789") is None and valid_npi(None) is None
