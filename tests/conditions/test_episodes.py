"""Care-cycle edge cases on hand-built claims (``edge_data.py``), on DuckDB and Spark.

Worked numbers (paid; every claim has one line):

- P1 knee: pre-op 150 (prepare) + stay 10,000 + surgeon 1,000 (intervene) + readmission on
  day 77 after discharge 5,000 (intervene, inside the 90-day window ending 2024-06-02) =
  16,150.  The readmission on 2024-06-03 (day 91, 4,000) is outside: unassigned.
- P2 bilateral knees: the second replacement (15 Apr) falls inside the first window but
  opens its own episode.  Episode 1 = 10,000 + 1,000 + PT 100 + visit 130 (the visit on
  20 Mar is before the second anchor, so the most recent anchor, 1 Feb, takes it) =
  11,230; episode 2 = 11,000 + 1,200 + SNF 6,000 (recover) = 18,200.
- P3 transfer: H1 stay (status 02, 10-11 Jun) + H2 CABG stay (11-18 Jun) = one stay:
  anchor 10-18 Jun, trigger the DRG 236 claim, facility H2, surgeon S2;
  3,000 + 30,000 + 2,000 = 35,000.
- P4 hip stay reversed and never replaced: no cycle; both lines unassigned (net 0).
- P5 hip stay reversed and replaced: trigger is the adjustment; 9,000 - 9,000 + 9,500.
- P6 CABG, death on 30 Aug: the window (to 6 Nov) ends on 30 Aug, end_reason death.
- P7 knee under Medicare, SNF under Humana after 1 July: one cycle, payer Medicare,
  12,000 + 3,000.
- P8 breast: re-excision joins; 150 (diagnose) + 4,000 + 700 + 3,500 + 700 + chemo 140.
- P9 two diabetes visits: a chronic year (180); P10 one visit: no diabetes year.
- Totals: 32 lines, paid 158,540.00; unassigned 3 lines (P1A3, P4D1, P4D1R), 4,000.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conditions.edge_data import H2, S1, S2, S3
from tests.conftest import BACKENDS
from valuecare import Workspace

D = Decimal


@pytest.fixture(scope="module", params=BACKENDS)
def edge(request: pytest.FixtureRequest):
    return request.getfixturevalue(f"ws_{request.param}")


def _cycles(ws: Workspace) -> dict[str, dict]:
    rows = ws.table("care_cycles").to_pyarrow().to_pylist()
    return {r["cycle_id"]: r for r in rows if r["cycle_kind"] != "primary_care_segment"}


def test_cycles_found(edge) -> None:
    ws, _ = edge
    assert sorted(_cycles(ws)) == [
        "breast_cancer:P8:2024-02-10", "cabg:P3:2024-06-10", "cabg:P6:2024-08-01",
        "diabetes:P9:2024-01-01", "hip_knee:P1:2024-03-01", "hip_knee:P2:2024-02-01",
        "hip_knee:P2:2024-04-15", "hip_knee:P5:2024-05-01", "hip_knee:P7:2024-06-20"]


@pytest.mark.parametrize(("cycle_id", "paid", "services", "trigger"), [
    ("hip_knee:P1:2024-03-01", "16150.00", 4, "P1A1"),
    ("hip_knee:P2:2024-02-01", "11230.00", 4, "P2K1"),
    ("hip_knee:P2:2024-04-15", "18200.00", 3, "P2K2"),
    ("cabg:P3:2024-06-10", "35000.00", 3, "P3B2"),
    ("hip_knee:P5:2024-05-01", "9500.00", 3, "P5E1A"),
    ("cabg:P6:2024-08-01", "40000.00", 1, "P6F1"),
    ("hip_knee:P7:2024-06-20", "15000.00", 2, "P7G1"),
    ("breast_cancer:P8:2024-02-10", "9190.00", 6, "P8L"),
    ("diabetes:P9:2024-01-01", "180.00", 2, "P9V1"),
])
def test_cycle_totals(edge, cycle_id: str, paid: str, services: int, trigger: str) -> None:
    c = _cycles(edge[0])[cycle_id]
    assert (c["paid_amount"], c["services"], c["trigger_claim_id"]) == (D(paid), services,
                                                                          trigger)


def test_readmission_inside_and_outside_window(edge) -> None:
    ws, _ = edge
    svc = ws.table("care_cycle_services").to_pandas()
    assert svc[svc.claim_id == "P1A2"].cycle_id.tolist() == ["hip_knee:P1:2024-03-01"]
    assert svc[svc.claim_id == "P1A3"].empty
    c = _cycles(ws)["hip_knee:P1:2024-03-01"]
    assert (str(c["start_date"]), str(c["end_date"])) == ("2023-12-02", "2024-06-02")
    assert c["paid_prepare"] == D("150.00") and c["paid_intervene"] == D("16000.00")


def test_bilateral_joints_open_two_episodes(edge) -> None:
    ws, _ = edge
    svc = ws.table("care_cycle_services").to_pandas().set_index("claim_id")
    assert svc.loc["P2PRE", "cycle_id"] == "hip_knee:P2:2024-02-01"
    assert svc.loc["P2SNF", "cycle_id"] == "hip_knee:P2:2024-04-15"
    assert svc.loc["P2SNF", "phase"] == "recover_rehabilitate"
    c = _cycles(ws)
    assert c["hip_knee:P2:2024-02-01"]["accountable_npi"] == S1
    assert c["hip_knee:P2:2024-04-15"]["accountable_npi"] == S2


def test_transfer_joins_one_stay(edge) -> None:
    c = _cycles(edge[0])["cabg:P3:2024-06-10"]
    assert (str(c["anchor_start_date"]), str(c["anchor_end_date"])) == ("2024-06-10",
                                                                        "2024-06-18")
    assert (c["facility_npi"], c["accountable_npi"]) == (H2, S2)
    assert c["paid_intervene"] == D("35000.00")


def test_reversed_trigger_makes_no_cycle(edge) -> None:
    ws, _ = edge
    cc = ws.table("care_cycles").to_pandas()
    assert cc[(cc.person_id == "P4") & (cc.cycle_kind == "acute_episode")].empty


def test_death_ends_the_window(edge) -> None:
    c = _cycles(edge[0])["cabg:P6:2024-08-01"]
    assert (str(c["end_date"]), c["end_reason"]) == ("2024-08-30", "death")


def test_payer_change_keeps_one_cycle(edge) -> None:
    ws, _ = edge
    c = _cycles(ws)["hip_knee:P7:2024-06-20"]
    assert c["payer"] == "Medicare"
    assert c["paid_recover_rehabilitate"] == D("3000.00")


def test_breast_reexcision_and_adjuvant_therapy_join(edge) -> None:
    c = _cycles(edge[0])["breast_cancer:P8:2024-02-10"]
    assert (c["paid_diagnose"], c["paid_intervene"]) == (D("150.00"), D("9040.00"))
    assert c["accountable_npi"] == S3


def test_money_is_conserved(edge) -> None:
    ws, report = edge
    notes = report.notes["care_cycles"]
    assert (notes["lines_total"], notes["lines_assigned"], notes["lines_unassigned"]) == (
        32, 29, 3)
    assert (notes["paid_total"], notes["paid_unassigned"]) == ("158540.00", "4000.00")
    svc = ws.table("care_cycle_services")
    mc = ws.table("medical_claim")
    j = svc.select("claim_id", "claim_line_number", "data_source",
                   svc_paid=svc.paid_amount).join(
        mc, ["claim_id", "claim_line_number", "data_source"])
    sums = j.aggregate(a=j.svc_paid.sum(), b=j.paid_amount.sum(), n=j.count()
                       ).to_pyarrow().to_pylist()[0]
    assert sums["a"] == sums["b"] == D(notes["paid_assigned"]) == D("154540.00")
    assert sums["n"] == 29
    cc = ws.table("care_cycles")
    assert cc.paid_amount.sum().to_pyarrow().as_py() == D("154540.00")


@pytest.mark.spark
def test_duckdb_and_spark_identical(ws_duckdb, ws_pyspark) -> None:
    """Every row of the four result tables is the same on both engines."""
    for name in ("care_cycles", "care_cycle_services", "condition_volumes", "site_of_care"):
        rows = []
        for ws, _ in (ws_duckdb, ws_pyspark):
            df = ws.table(name).to_pyarrow().to_pylist()
            rows.append(sorted(df, key=lambda r: tuple(str(v) for v in r.values())))
        assert rows[0] == rows[1], name
        assert rows[0], name
