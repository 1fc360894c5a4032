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
