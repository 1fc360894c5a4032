"""Member months and PMPM on the hand-made tiny data set, on DuckDB and on Spark.

Expected numbers are worked by hand from ``tests/data/tiny``:

- Medicare: P1 enrolled all 2024 → 12 member months; Acme: P2 15 Jan–30 Jun → 6 months
  (a month counts if any day is enrolled), P3 Mar–Dec → 10 months; Acme total 16.
- C1 (DRG 470 stay, 10,000 + 2,000 paid) and C2 (surgeon at POS 21, 1,200 paid) are
  acute inpatient: 13,200 / 12 = 1,100.00 PMPM paid; allowed 16,000 / 12 = 1,333.33.
- C3 office visit 100.00, reversed by C4 (-100.00), replaced by C5 (110.00): net 110.00;
  110 / 16 = 6.875 → 6.88 (half-up); allowed 130 / 16 = 8.125 → 8.13.
- C6 has an ED revenue line (0450), so both its lines (800 + 50) are emergency department:
  850 / 16 = 53.125 → 53.13; allowed 1,060 / 16 = 66.25.
- R1 pharmacy 45.50 / 16 = 2.84375 → 2.84; allowed 50 / 16 = 3.125 → 3.13.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import BACKENDS, TINY
from valuecare import Workspace

EXPECTED = [
    # year, payer, category_2, member months, paid, allowed, pmpm paid, pmpm allowed
    (2024, "Acme", "emergency department", 16, "850.00", "1060.00", "53.13", "66.25"),
    (2024, "Acme", "office visit", 16, "110.00", "130.00", "6.88", "8.13"),
    (2024, "Acme", "pharmacy", 16, "45.50", "50.00", "2.84", "3.13"),
    (2024, "Medicare", "acute inpatient", 12, "13200.00", "16000.00", "1100.00", "1333.33"),
]


@pytest.fixture(scope="module", params=BACKENDS)
def tiny_ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Tiny data loaded and run once per backend for the whole module."""
    ws = Workspace(tmp_path_factory.mktemp(request.param), backend=request.param)
    ws.load(TINY)
    ws.run(["member_months", "claim_header", "pmpm"])
    yield ws
    ws.close()


def test_pmpm_worked_numbers(tiny_ws: Workspace) -> None:
    rows = tiny_ws.table("pmpm").order_by(["payer", "service_category_2"]).to_pyarrow()
    got = [
        (r["year"], r["payer"], r["service_category_2"], r["member_months"],
         str(r["paid_amount"]), str(r["allowed_amount"]), str(r["pmpm_paid"]),
         str(r["pmpm_allowed"]))
        for r in rows.to_pylist()
    ]
    assert got == EXPECTED
    assert all(isinstance(r["pmpm_paid"], Decimal) for r in rows.to_pylist())


def test_member_months(tiny_ws: Workspace) -> None:
    mm = tiny_ws.to_pandas("member_months")
    counts = mm.groupby("person_id").size().to_dict()
    assert counts == {"P1": 12, "P2": 6, "P3": 10}
    assert sorted(mm[mm.person_id == "P2"].year_month) == [
        "202401", "202402", "202403", "202404", "202405", "202406"]


def test_claim_header_nets_reversals(tiny_ws: Workspace) -> None:
    h = tiny_ws.to_pandas("claim_header").set_index("claim_id")
    assert len(h) == 6
    assert h.loc["C1", "line_count"] == 2
    assert h.loc["C1", "paid_amount"] == Decimal("12000.00")
    assert h.loc["C4", "adjustment_type"] == "reversal"
    assert h.loc["C4", "original_claim_id"] == "C3"
    net = h.loc[["C3", "C4", "C5"], "paid_amount"].sum()
    assert net == Decimal("110.00")
    assert h.loc["C6", "service_category_2"] == "emergency department"
    assert h.loc["C2", "service_category_1"] == "inpatient"


def test_service_categories_of_every_line(tiny_ws: Workspace) -> None:
    from valuecare.pipeline.claims_summary import service_categories

    lines = service_categories(tiny_ws.table("medical_claim"))
    got = {(r["claim_id"], r["claim_line_number"]): r["service_category_2"]
           for r in lines.select("claim_id", "claim_line_number", "service_category_2")
           .to_pyarrow().to_pylist()}
    assert got == {
        ("C1", 1): "acute inpatient", ("C1", 2): "acute inpatient",
        ("C2", 1): "acute inpatient", ("C3", 1): "office visit", ("C4", 1): "office visit",
        ("C5", 1): "office visit", ("C6", 1): "emergency department",
        ("C6", 2): "emergency department",
    }
