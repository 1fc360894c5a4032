"""The ``cycle_costs`` stage on hand-built claims with hand-computed costs
(``cost_data.py`` derives every number), money conservation, and DuckDB = Spark."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from tests.conftest import spark_available
from tests.costing.cost_data import H1
from valuecare.conditions.library import PHASES

D = Decimal
P1, P2 = "hip_knee:P1:2024-03-04", "hip_knee:P2:2024-06-01"


def _cycles(ws) -> dict[str, dict]:
    return {r["cycle_id"]: r for r in ws.table("cycle_costs").to_pyarrow().to_pylist()}


@pytest.mark.parametrize(("cycle", "field", "value"), [
    (P1, "cost_total", "13865.08"), (P1, "standard_cost", "12812.08"),
    (P1, "cost_prepare", "45.00"), (P1, "cost_intervene", "13768.00"),
    (P1, "cost_recover_rehabilitate", "52.08"), (P1, "cost_personnel", "1801.08"),
    (P1, "cost_equipment_space", "8064.00"), (P1, "cost_consumables", "4000.00"),
    (P1, "personnel_minutes", "1620.0000"), (P1, "lines_unmapped", 1),
    (P2, "cost_total", "12546.50"), (P2, "cost_diagnose", "7.50"),
    (P2, "cost_consumables", "8000.00"), (P2, "standard_cost", "11832.50"),
])
def test_worked_cycle_costs(worked_duckdb, cycle: str, field: str, value: object) -> None:
    """P1 (knee, readmission elsewhere) and P2 (bilateral hip with a complication, its stay
    reversed and replaced) cost what cost_data.py computes by hand."""
    got = _cycles(worked_duckdb[0])[cycle][field]
    assert got == (D(value) if isinstance(value, str) else value)


def test_cost_beside_paid_and_charges(worked_duckdb) -> None:
    r = _cycles(worked_duckdb[0])[P1]
    assert r["paid_amount"] == D("40080.00")  # 170 + 15,000 x 2 lines + 1,350 + 60 + 8,500
    assert r["charge_amount"] == D("120240.00")  # edge_data charges are 3 x the amount
    assert (r["facility_npi"], r["accountable_npi"]) == (H1, "2000000001")


@pytest.mark.parametrize(("cycle", "step", "resource", "quantity", "cost", "source"), [
    (P1, "ward_day", "nurse_x", "990.0000", "1089.00", "site"),   # 3 x 330 measured at H1
    (P1, "ward_day", "bed_x", "4320.0000", "5184.00", "site"),    # share 60% at H1
    (P1, "consult", "surgeon_x", "30.0000", "45.00", "organization"),
    (P1, "therapy", "physical_therapist", "30.0000", "52.08", "reference"),  # clinician
    (P2, "ward_day", "nurse_x", "780.0000", "858.00", "site"),    # (330 + 60) x 2, once
    (P2, "joint", "implant_x", "2.0000", "8000.00", "organization"),  # bilateral
])
def test_worked_detail(worked_duckdb, cycle: str, step: str, resource: str, quantity: str,
                       cost: str, source: str) -> None:
    d = worked_duckdb[0].table("cycle_cost_detail")
    rows = d.filter((d.cycle_id == cycle) & (d.step == step) & (d.resource == resource)
                    ).to_pyarrow().to_pylist()
    assert [(r["quantity"], r["cost"], r["rate_source"]) for r in rows] == [
        (D(quantity), D(cost), source)]


def test_money_is_conserved(worked_duckdb) -> None:
    """Detail cents sum to each phase and to the cycle total; phases sum to the total."""
    ws = worked_duckdb[0]
    det = ws.to_pandas("cycle_cost_detail")
    by_phase = det.groupby(["cycle_id", "phase"]).cost.sum()
    for cid, r in _cycles(ws).items():
        assert sum(r[f"cost_{p}"] for p in PHASES) == r["cost_total"]
        assert r["cost_personnel"] + r["cost_equipment_space"] + r["cost_consumables"] == \
            r["cost_total"]
        assert det[det.cycle_id == cid].cost.sum() == r["cost_total"]
        for p in PHASES:
            assert by_phase.get((cid, p), D(0)) == r[f"cost_{p}"]


def test_capacity_of_the_site_rows(worked_duckdb) -> None:
    """H1 supplies nurse_x (60,000 practical minutes at $1.10) and bed_x (60,000 at
    $1.20); P1 and P2 use 1,770 nurse and 7,200 bed minutes there in 2024."""
    rows = {r["resource"]: r for r in
            worked_duckdb[0].table("resource_capacity").to_pyarrow().to_pylist()}
    assert set(rows) == {"nurse_x", "bed_x"}
    n, b = rows["nurse_x"], rows["bed_x"]
    assert (n["used_minutes"], n["unused_capacity_cost"], n["utilization"]) == (
        D("1770.0000"), D("64053.00"), D("0.0295"))
    assert (b["practical_minutes"], b["used_cost"], b["unused_capacity_cost"]) == (
        D("60000.00"), D("8640.00"), D("63360.00"))


def test_opportunities_ranked_by_size(worked_duckdb) -> None:
    o = worked_duckdb[0].to_pandas("cost_opportunities")
    assert list(o["rank"]) == list(range(1, len(o) + 1))
    assert list(o["size"]) == sorted(o["size"], reverse=True)
    got = {(r.kind, r.condition, r.step or r.resource): r.size for r in o.itertuples()}
    # one ward day above the target of two: (1,089.00 + 5,184.00) / 3
    assert got[("cycle_time", "hip_knee", "ward_day")] == D("2091.00")
    # 30 therapist minutes at 1.736111 could be nurse_x minutes at 1.00
    assert got[("skill_mix", "hip_knee", "therapy")] == D("22.08")
    assert got[("low_value", "hip_knee", "preop_xray")] == D("7.50")
    assert got[("capacity", None, "nurse_x")] == D("64053.00")
    assert got[("capacity", None, "bed_x")] == D("63360.00")


def test_costing_inputs_are_recorded_with_the_run(worked_duckdb) -> None:
    runs = worked_duckdb[0].runs()
    inputs = json.loads(runs.iloc[0]["inputs"])
    names = {i["path"].rsplit("/", 2)[-1] for i in inputs}
    assert {"resources.csv", "step_times.csv", "hip_knee.yaml"} <= names
    assert all(len(i["sha256"]) == 64 for i in inputs)


TABLES = ("cycle_costs", "cycle_cost_detail", "resource_capacity", "cost_opportunities")


def _frame(ws, name: str) -> pd.DataFrame:
    df = ws.to_pandas(name)
    df = df.astype({c: str for c in df.columns})
    return df.sort_values(list(df.columns)).reset_index(drop=True)


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
@pytest.mark.parametrize("name", TABLES)
def test_spark_gives_identical_tables(worked_duckdb, worked_pyspark, name: str) -> None:
    duck, spark = _frame(worked_duckdb[0], name), _frame(worked_pyspark[0], name)
    assert len(duck) > 0
    pd.testing.assert_frame_equal(duck, spark)
