"""Planted provider quality is recovered by the raw outcome rates (issue 4).

An enriched synthetic cohort (``episode_scale`` raises the incidence of joint replacement,
CABG and breast surgery so every surgeon has enough cases) carries each surgeon's planted
complication and readmission multipliers in ``truth/provider_truth``.  The generator never
imports the analytics, so agreement here is evidence, not circularity.  Surgeons are
grouped by their planted multiplier (worse >= 1.25, better <= 0.8, average between); the
cycle-level raw rates must rank worse > average > better.  The figures are printed (run
with ``-s``) and recorded as test properties.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from valuecare import Workspace
from valuecare.cli import app
from valuecare.errors import ConditionDefinitionError, InvalidInput
from valuecare.synth import SynthConfig, generate

COMPLICATIONS = ("complication_90d", "major_complication_30d", "surgical_site_infection_30d")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("planted")
    generate(SynthConfig(members=30000, years=2, seed=5, episode_scale=15), out=tmp / "pop")
    ws = Workspace(tmp / "ws")
    ws.load(tmp / "pop")
    ws.run(["member_months", "care_cycles", "outcomes"])
    yield ws, tmp / "pop"
    ws.close()


def _rates(ws: Workspace, pop: Path, measures: tuple[str, ...], mult: str) -> dict[str, tuple]:
    out = ws.to_pandas("outcomes")
    out = out[out.measure.isin(measures) & (out.status == "measured")
              & out.condition.isin(["hip_knee", "cabg", "breast_cancer"])]
    truth = duckdb.sql(
        f"select npi, {mult} as m from read_parquet('{pop}/truth/provider_truth.parquet')"
    ).df()
    j = out.merge(truth, left_on="accountable_npi", right_on="npi")
    j["group"] = j.m.map(lambda m: "worse" if m >= 1.25 else "better" if m <= 0.8
                         else "average")
    g = j.groupby("group").agg(n=("value", "size"), rate=("value", "mean"),
                               surgeons=("npi", "nunique"))
    return {k: (int(r.n), float(r.rate), int(r.surgeons)) for k, r in g.iterrows()}


def _report(record_property, name: str, rates: dict[str, tuple]) -> None:
    text = ", ".join(f"{k}: {v[1]:.1%} of {v[0]} cycles ({v[2]} surgeons)"
                     for k, v in sorted(rates.items()))
    print(f"\n{name}: {text}")
    record_property(name, text)


def test_planted_complication_multipliers_are_recovered(cohort, record_property) -> None:
    ws, pop = cohort
    rates = _rates(ws, pop, COMPLICATIONS, "complication_mult")
    _report(record_property, "complications by planted complication multiplier", rates)
    assert rates["worse"][1] > rates["average"][1] > rates["better"][1], rates


def test_planted_readmission_multipliers_are_recovered(cohort, record_property) -> None:
    ws, pop = cohort
    rates = _rates(ws, pop, ("readmission_30d",), "readmission_mult")
    _report(record_property, "30-day readmissions by planted readmission multiplier", rates)
    assert rates["worse"][1] > rates["average"][1] > rates["better"][1], rates


def test_measured_complications_agree_with_the_planted_events(cohort, record_property) -> None:
    """Cycle by cycle, the claims-based measure finds the complications the generator
    planted (matched on the trigger claim)."""
    ws, pop = cohort
    out = ws.to_pandas("outcomes")
    cyc = ws.to_pandas("care_cycles")[["cycle_id", "trigger_claim_id"]]
    truth = duckdb.sql(f"select trigger_claim_id, complication, readmission_30d from "
                       f"read_parquet('{pop}/truth/care_cycles.parquet') "
                       "where condition = 'hip_knee'").df()
    for measure, flag in (("complication_90d", "complication"),
                          ("readmission_30d", "readmission_30d")):
        o = out[(out.measure == measure) & (out.status == "measured")
                & (out.condition == "hip_knee")]
        j = o.merge(cyc, on="cycle_id").merge(truth, on="trigger_claim_id")
        planted = j[j[flag].astype(bool)]
        sensitivity = float((planted.value == 1).mean())
        specificity = float((j[~j[flag].astype(bool)].value == 0).mean())
        _report(record_property, f"hip_knee {measure} vs planted",
                {"sensitivity": (len(planted), sensitivity, 0),
                 "specificity": (len(j) - len(planted), specificity, 0)})
        assert len(j) > 1000
        assert sensitivity >= 0.9 and specificity >= 0.97, (measure, sensitivity, specificity)


def test_cli_outcomes_view(cohort) -> None:
    ws, _ = cohort
    res = CliRunner().invoke(app, ["outcomes", "-w", str(ws.path), "--condition", "hip_knee"],
                             env={"COLUMNS": "220"})
    assert res.exit_code == 0, res.output
    for word in ("mortality_90d", "koos_jr_change_mcid", "complication_90d", "revision_2y",
                 "survival", "disutility", "missing", "censored"):
        assert word in res.output
    res = CliRunner().invoke(app, ["outcomes", "-w", str(ws.path), "--condition", "nope"])
    assert isinstance(res.exception, ConditionDefinitionError)  # main() prints it, exit 2
    assert "no condition 'nope'" in str(res.exception)


def test_cli_compare_writes_table_and_funnel_chart(cohort, tmp_path: Path) -> None:
    ws, pop = cohort
    chart = tmp_path / "funnel.svg"
    res = CliRunner().invoke(app, ["compare", "-w", str(ws.path), "--condition", "hip_knee",
                                   "--measure", "complication_90d", "--chart", str(chart)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert chart.read_text().startswith("<svg")
    spec = json.loads(chart.with_suffix(".json").read_text())
    assert "$schema" in spec and "vega-lite" in spec["$schema"]
    table = pd.read_csv(chart.with_suffix(".csv"))
    assert {"provider", "n", "observed", "expected", "oe", "label", "srtr_flag"} <= set(table)
    out = ws.to_pandas("outcomes")
    measured = out[(out.condition == "hip_knee") & (out.measure == "complication_90d")
                   & (out.status == "measured")]
    assert table.n.sum() == len(measured)  # every measured cycle is compared once
    assert abs(table.observed.sum() - measured.value.sum()) < 1e-9
    # indirect standardization: expected events sum to observed events overall
    assert abs(table.expected.sum() - table.observed.sum()) < 1e-6
    res = CliRunner().invoke(app, ["compare", "-w", str(ws.path), "--condition", "hip_knee",
                                   "--measure", "length_of_stay"])
    assert isinstance(res.exception, InvalidInput)


SURGICAL = ("hip_knee", "cabg", "breast_cancer")
PLANTED = {"complication_90d": "complication_mult", "major_complication_30d":
           "complication_mult", "surgical_site_infection_30d": "complication_mult",
           "sternal_infection_90d": "complication_mult", "joint_infection_1y":
           "complication_mult", "readmission_30d": "readmission_mult"}


@pytest.fixture(scope="module")
def compared(cohort):
    ws, pop = cohort
    report = ws.run(["comparison"])
    return ws, pop, report


def test_comparison_stage_finds_planted_worse_surgeons(compared, record_property) -> None:
    """Every surgical outcome with a planted multiplier, surgeon by surgeon: at most 5% of
    planted-average surgeons are labelled worse than expected, and planted-worse surgeons
    are labelled worse more often (sensitivity reported)."""
    ws, pop, _ = compared
    pc = ws.to_pandas("provider_comparison")
    truth = duckdb.sql(f"select * from read_parquet('{pop}/truth/provider_truth.parquet')").df()
    pc = pc[pc.condition.isin(SURGICAL) & (pc.role == "clinician")
            & pc.measure.isin(list(PLANTED))].merge(truth, left_on="provider", right_on="npi")
    mult = pd.Series([r[PLANTED[r.measure]] for _, r in pc.iterrows()], index=pc.index)
    group = mult.map(lambda m: "worse" if m >= 1.25 else "better" if m <= 0.8 else "average")
    worse = pc.label == "worse than expected"
    fp, sens = worse[group == "average"].mean(), worse[group == "worse"].mean()
    text = (f"labelled worse: {worse[group == 'average'].sum()} of "
            f"{(group == 'average').sum()} planted-average ({fp:.1%}), "
            f"{worse[group == 'worse'].sum()} of {(group == 'worse').sum()} planted-worse "
            f"({sens:.1%}); too few cases: {(pc.label == 'too few cases').mean():.0%}")
    print("\n" + text)
    record_property("planted comparison", text)
    assert fp <= 0.05 and sens > fp


def test_comparison_tables_reconcile(compared) -> None:
    ws, _, report = compared
    pc = ws.to_pandas("provider_comparison")
    o = ws.table("outcomes")
    o = o.filter(o.status == "measured")
    for role, col in (("clinician", "accountable_npi"), ("facility", "facility_npi")):
        r = o.filter(o[col].notnull())
        m = r.group_by(["condition", "measure"]).aggregate(
            cycles=r.count(), events=r.value.sum()).to_pandas()
        got = pc[pc.role == role].groupby(["condition", "measure"]).agg(
            n=("n", "sum"), observed=("observed", "sum"), expected=("expected", "sum"))
        j = got.join(m.set_index(["condition", "measure"]), how="left")
        assert (j.n == j.cycles).all(), j[j.n != j.cycles]  # every measured cycle, once
        assert j.observed.to_numpy() == pytest.approx(j.events.astype(float).to_numpy())
        # indirect standardization: expected events sum to observed events
        assert j.expected.to_numpy() == pytest.approx(j.observed.to_numpy(), rel=1e-6)
    assert set(pc.label) <= {"better than expected", "as expected", "worse than expected",
                             "too few cases"}
    assert report.notes["comparison"]["cost_source"]["hip_knee"] == "paid"  # no TDABC run
    # value: every complete cycle's cost counted once per (condition, role), to the cent
    pv = ws.to_pandas("provider_value")
    c = ws.table("care_cycles")
    mc = ws.table("medical_claim")
    as_of = mc.aggregate(d=mc.claim_end_date.max()).to_pandas().d.iloc[0]
    one = pv[(pv.condition == "hip_knee") & (pv.role == "facility")
             & (pv.measure == "complication_90d")]
    done = c.filter((c.condition == "hip_knee") & (c.end_date <= as_of)
                    & c.facility_npi.isin(list(one.provider))).select("paid_amount").to_pandas()
    assert one.observed_cost_total.sum() == done.paid_amount.sum()
    assert one.cycles_costed.sum() == len(done)
    assert set(pv.quadrant) <= {f"{o} outcome, {c} cost" for o in ("better", "worse")
                                for c in ("lower", "higher")}


def test_cli_value_writes_quadrant_chart(compared, tmp_path: Path) -> None:
    ws, _, _ = compared
    chart = tmp_path / "value.svg"
    res = CliRunner().invoke(app, ["value", "-w", str(ws.path), "--condition", "hip_knee",
                                   "--measure", "complication_90d", "--chart", str(chart)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert chart.read_text().startswith("<svg")
    assert "vega-lite" in json.loads(chart.with_suffix(".json").read_text())["$schema"]
    table = pd.read_csv(chart.with_suffix(".csv"))
    assert {"provider", "rsr", "risk_adjusted_cost_per_cycle", "quadrant"} <= set(table)
    res = CliRunner().invoke(app, ["value", "-w", str(ws.path), "--condition", "hip_knee",
                                   "--measure", "nope"])
    assert isinstance(res.exception, InvalidInput) and "complication_90d" in str(res.exception)
