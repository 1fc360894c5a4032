"""Care-cycle outcomes (table ``outcomes``) on the hand-built data of ``outcome_data.py``.

Expected values are worked out by hand from the definitions in
``valuecare/reference/outcomes/hip_knee.yaml`` (CMS THA/TKA complication measure NQF 1550
components and windows, ICHOM Hip & Knee mortality, CMS THA/TKA PRO-PM CBE #3559 windows
and the 22-point HOOS JR substantial clinical benefit) and ``diabetes.yaml`` (HEDIS
HbA1c < 8.0%), with the status rules of :mod:`valuecare.outcomes.cycles`.  HOOS JR interval
scores are typed from the published conversion table (Lyman et al., Clin Orthop Relat Res
2016; HSS scoring instructions): raw 18 -> 32.735, raw 4 -> 76.776.  Last date of data:
2025-12-31.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.conftest import BACKENDS, spark_available
from valuecare.outcomes.proms import score_items


def hk(pid: str, admit: str = "2024-04-01") -> str:
    return f"hip_knee:{pid}:{admit}"


def dm(pid: str) -> str:
    return f"diabetes:{pid}:2024-01-01"


@pytest.fixture(scope="module", params=BACKENDS)
def run(request: pytest.FixtureRequest):
    return request.getfixturevalue(f"oc_{request.param}")


@pytest.fixture(scope="module")
def rows(run) -> list[dict]:
    ws, _, _ = run
    return ws.table("outcomes").to_pyarrow().to_pylist()


@pytest.fixture(scope="module")
def outcomes(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["cycle_id"], r["measure"]): r for r in rows}


D = date.fromisoformat
# (cycle, measure, status, value, date, status_reason)
CASES = [
    # complication_90d: PE on the index stay counts only when not present on admission
    pytest.param(hk("HPEN"), "complication_90d", "measured", 1.0, D("2024-04-01"), None,
                 id="pe-poa-n"),
    pytest.param(hk("HPEY"), "complication_90d", "measured", 0.0, None, None,
                 id="pe-poa-y"),
    # periprosthetic infection: days 0-90 from admission
    pytest.param(hk("HINF60"), "complication_90d", "measured", 1.0, D("2024-05-31"), None,
                 id="infection-day-60"),
    pytest.param(hk("HINF95"), "complication_90d", "measured", 0.0, None, None,
                 id="infection-day-95"),
    # AMI: days 0-7 from admission
    pytest.param(hk("HAMI7"), "complication_90d", "measured", 1.0, D("2024-04-08"), None,
                 id="ami-day-7"),
    pytest.param(hk("HAMI8"), "complication_90d", "measured", 0.0, None, None,
                 id="ami-day-8"),
    # mortality_90d: days 0-89 from admission; censored when day 89 is after the data
    pytest.param(hk("HDIE89"), "mortality_90d", "measured", 1.0, D("2024-06-29"), None,
                 id="death-day-89"),
    pytest.param(hk("HDIE90"), "mortality_90d", "measured", 0.0, None, None,
                 id="death-day-90"),
    pytest.param(hk("HDIE95"), "mortality_90d", "measured", 0.0, None, None,
                 id="death-day-95"),
    pytest.param(hk("HCENS", "2025-11-03"), "mortality_90d", "censored", None, None, None,
                 id="mortality-censored"),
    # readmission_30d at cycle level: the AMI stays are 4 and 5 days after discharge
    pytest.param(hk("HAMI7"), "readmission_30d", "measured", 1.0, D("2024-04-08"), None,
                 id="readmitted-day-4"),
    pytest.param(hk("HAMI8"), "readmission_30d", "measured", 1.0, D("2024-04-09"), None,
                 id="readmitted-day-5"),
    pytest.param(hk("HINF60"), "readmission_30d", "measured", 0.0, None, None,
                 id="readmitted-day-57"),
    pytest.param(hk("HCENS", "2025-11-03"), "readmission_30d", "measured", 0.0, None, None,
                 id="readmission-followup-complete"),
    # length of stay and facility days
    pytest.param(hk("HSNF"), "length_of_stay", "measured", 3.0, D("2024-04-04"), None,
                 id="length-of-stay"),
    pytest.param(hk("HSNF"), "facility_days_90d", "measured", 13.0, D("2024-06-29"), None,
                 id="facility-days-stay-plus-snf"),
    pytest.param(hk("HINF95"), "facility_days_90d", "measured", 3.0, D("2024-06-29"), None,
                 id="facility-days-readmission-after-window"),
    # HOOS JR: 76.776 - 32.735 = 44.041 >= 22
    pytest.param(hk("HPROM"), "hoos_jr_change", "measured", 44.041, D("2025-04-04"), None,
                 id="hoos-jr-change"),
    pytest.param(hk("HPROM"), "hoos_jr_change_mcid", "measured", 1.0, D("2025-04-04"), None,
                 id="hoos-jr-mcid"),
    pytest.param(hk("HPEY"), "hoos_jr_change", "missing", None, None, "missing_both",
                 id="hoos-jr-missing"),
    pytest.param(hk("HPEY"), "hoos_jr_change_mcid", "missing", None, None, "missing_both",
                 id="hoos-jr-mcid-missing"),
    pytest.param(hk("HCENS", "2025-11-03"), "hoos_jr_change", "censored", None, None,
                 "not_due", id="hoos-jr-not-due"),
    pytest.param(hk("KNEE"), "koos_jr_change", "missing", None, None, "missing_both",
                 id="koos-jr-missing"),
    # diabetes: the last HbA1c of the year
    pytest.param(dm("DM1"), "hba1c_below_8", "measured", 0.0, D("2024-09-01"), None,
                 id="hba1c-last-8.2"),
    pytest.param(dm("DM3"), "hba1c_below_8", "measured", 1.0, D("2024-09-01"), None,
                 id="hba1c-last-7.9"),
    pytest.param(dm("DM2"), "hba1c_below_8", "missing", None, None, "no_result",
                 id="hba1c-none"),
]


@pytest.mark.parametrize(("cycle_id", "measure", "status", "value", "when", "reason"), CASES)
def test_outcome(outcomes: dict, cycle_id: str, measure: str, status: str,
                 value: float | None, when: date | None, reason: str | None) -> None:
    r = outcomes[(cycle_id, measure)]
    expected = pytest.approx(value, abs=1e-9) if value is not None else None
    assert (r["status"], r["value"], r["date"], r["status_reason"]) == (
        status, expected, when, reason)


@pytest.mark.parametrize(("cycle_id", "has", "lacks"), [
    (hk("HPROM"), "hoos_jr_change", "koos_jr_change"),
    (hk("KNEE"), "koos_jr_change", "hoos_jr_change"),
])
def test_prom_population(outcomes: dict, cycle_id: str, has: str, lacks: str) -> None:
    """HOOS JR applies to hip cycles (CPT 27130/27132, ICD-10-PCS 0SR9/0SRB), KOOS JR to
    knee cycles; the other instrument has no row at all (not a missing one)."""
    measures = {m for c, m in outcomes if c == cycle_id}
    assert {has, f"{has}_mcid"} <= measures
    assert not {lacks, f"{lacks}_mcid"} & measures


def test_one_row_per_cycle_and_measure(rows: list[dict], outcomes: dict) -> None:
    """No duplicate rows; every hip/knee cycle has the 12 rows of its definitions (10
    shared measures incl. the PROMIS-10 _mcid row, plus HOOS JR or KOOS JR and its _mcid)."""
    assert len(rows) == len(outcomes)
    per_cycle: dict[str, int] = {}
    for c, _ in outcomes:
        if c.startswith("hip_knee:"):
            per_cycle[c] = per_cycle.get(c, 0) + 1
    assert len(per_cycle) == 14
    assert set(per_cycle.values()) == {12}


def test_hoos_jr_scores_from_the_published_table(run) -> None:
    """HPROM's answers score to the HOOS JR table values: raw 18 -> 32.735 (baseline),
    raw 4 -> 76.776 (follow-up)."""
    ws, _, _ = run
    s = score_items(ws.table("observation"))
    got = {(r["observation_date"], r["raw_score"], r["score"], r["status"])
           for r in s.filter(s.person_id == "HPROM").to_pyarrow().to_pylist()}
    assert got == {(date(2024, 3, 2), 18, 32.735, "scored"),
                   (date(2025, 4, 4), 4, 76.776, "scored")}


# --- Spark ---------------------------------------------------------------------------------

KEYS = {"readmissions": ["stay_id"], "outcomes": ["cycle_id", "measure"]}


def _frame(ws, name: str) -> pd.DataFrame:
    df = ws.to_pandas(name).sort_values(KEYS[name]).reset_index(drop=True)
    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col]):
            df[col] = df[col].round(9)
    return df


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
@pytest.mark.parametrize("name", ["readmissions", "outcomes"])
def test_spark_gives_identical_tables(oc_duckdb, oc_pyspark, name: str) -> None:
    """The same ``readmissions`` and ``outcomes`` rows on Spark local mode as on DuckDB."""
    duck, spark = _frame(oc_duckdb[0], name), _frame(oc_pyspark[0], name)
    assert len(duck) > 0
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_spark_gives_identical_cycle_covariates(oc_duckdb, oc_pyspark) -> None:
    """``cycle_risk`` covariates (age, CMS-HCC score of the lookback year, comorbidity
    indices) are the same on Spark as on DuckDB."""
    from valuecare.compare.covariates import cycle_covariates

    def frame(ws) -> pd.DataFrame:
        t = cycle_covariates(ws.table("care_cycles"), ws.table("member"),
                             ws.table("medical_claim"))
        return t.to_pandas().sort_values("cycle_id").reset_index(drop=True).round(9)

    duck, spark = frame(oc_duckdb[0]), frame(oc_pyspark[0])
    assert len(duck) > 0 and duck["hcc_count"].sum() > 0
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
