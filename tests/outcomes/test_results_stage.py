"""The measure_results and utilization stages on the hand-built outcome data, and the CLI
views of them (DuckDB)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from valuecare.cli import app


@pytest.fixture(scope="module")
def ws(oc_duckdb):
    ws, _, _ = oc_duckdb
    ws.run(["measure_results", "utilization"])
    return ws


def test_measure_results_hold_every_measure_kind(ws) -> None:
    r = ws.to_pandas("measure_results")
    kinds = set(r.measure_kind)
    assert kinds == {"care_cycle_outcome", "claims_quality", "ecqm"}
    assert {"CMS122", "CMS165", "CMS125", "CMS130", "CMS2", "READMIT_30D",
            "hip_knee.complication_90d"} <= set(r.measure)
    # performance denominator = denominator - exclusions - exceptions, rate = numerator / it
    q = r[r.measure_kind != "care_cycle_outcome"]
    assert (q.performance_denominator == q.denominator - q.exclusions - q.exceptions).all()
    ok = q[q.performance_denominator > 0]
    assert ((ok.numerator / ok.performance_denominator - ok.rate).abs() < 1e-12).all()


def test_readmission_rate_matches_the_readmissions_table(ws) -> None:
    stays = ws.to_pandas("readmissions")
    stays["year"] = stays.discharge_date.map(lambda d: d.year)
    r = ws.to_pandas("measure_results")
    r = r[(r.measure == "READMIT_30D") & (r.entity_type == "overall")]
    for _, row in r.iterrows():
        s = stays[stays.year == row.period_start.year]
        assert row.denominator == len(s)
        assert row.performance_denominator == int(s.index_eligible.sum())
        assert row.numerator == sum(1 for v in s.readmitted_30d if v is True)


def test_member_level_reasons_exist_for_every_member(ws) -> None:
    m = ws.to_pandas("measure_members")
    assert len(m) > 0 and m.reason.notna().all()


def test_utilization_totals_reconcile_to_member_months(ws) -> None:
    u = ws.to_pandas("utilization")
    mm = ws.to_pandas("member_months")
    for year, g in u[u.entity_type == "overall"].groupby("year"):
        months = mm[mm.year == year][["person_id", "year_month"]].drop_duplicates()
        assert int(g.member_months.iloc[0]) == len(months)
    pm = ws.to_pandas("utilization_pmpm")
    overall = pm[pm.entity_type == "overall"].groupby("year").paid_amount.sum()
    tot = u[u.entity_type == "overall"].set_index("year").paid_amount
    for year, paid in overall.items():
        assert paid == tot[year]  # Decimal: exact


def test_cli_measures(ws) -> None:
    res = CliRunner().invoke(app, ["measures", "-w", str(ws.path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for word in ("CMS122", "CMS165", "CMS125", "CMS130", "CMS2", "READMIT_30D"):
        assert word in res.output
    res = CliRunner().invoke(app, ["measures", "-w", str(ws.path), "--measure",
                                   "hip_knee.length_of_stay", "--by", "clinician"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "hip_knee.length_of_stay" in res.output
