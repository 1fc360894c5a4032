"""The builder recovers the planted surgical care cycles of a 20,000-member population.

The truth (``truth/care_cycles.parquet``) is written by the generator, which never imports
the analytics.  A planted cycle is matched when a found cycle has the same member,
condition and anchor start date (the admission or procedure date of the planted trigger
claim, read from the generated claim files with pandas).  The trigger claim must be the
planted one, or - when that claim was reversed and replaced - its adjustment (DESIGN.md §4);
when it was reversed and never replaced, another claim of the same procedure (the
surgeon's) triggers the cycle.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from valuecare import Workspace
from valuecare.synth import SynthConfig, generate

SURGICAL = ("hip_knee", "cabg", "breast_cancer")


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pop20k")
    generate(SynthConfig(members=20000, years=3, seed=2024, start_year=2023), out=out)
    return out


@pytest.fixture(scope="module")
def ws(pop: Path, tmp_path_factory: pytest.TempPathFactory):
    ws = Workspace(tmp_path_factory.mktemp("ws20k"))
    ws.load(pop)
    ws.run(["member_months", "care_cycles"])
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def expected(pop: Path) -> pd.DataFrame:
    """The planted surgical cycles with their anchor date and expected trigger claim."""
    truth = pd.read_parquet(pop / "truth" / "care_cycles.parquet")
    truth = truth[truth.condition.isin(SURGICAL)]
    claims = pd.read_parquet(pop / "medical_claim", columns=[
        "claim_id", "claim_start_date", "admission_date", "adjustment_type",
        "original_claim_id"])
    first = claims.drop_duplicates("claim_id").set_index("claim_id")
    day = first.admission_date.fillna(first.claim_start_date)
    truth = truth.assign(anchor=pd.to_datetime(truth.trigger_claim_id.map(day)).dt.date)
    adj = claims[claims.adjustment_type == "adjustment"].drop_duplicates("claim_id")
    replaced = dict(zip(adj.original_claim_id, adj.claim_id, strict=True))
    rev = set(claims[claims.adjustment_type == "reversal"].original_claim_id)
    return truth.assign(
        expected_trigger=truth.trigger_claim_id.map(lambda c: replaced.get(c, c)),
        # reversed and never replaced: another claim of the procedure (the surgeon's) triggers
        lost=truth.trigger_claim_id.map(lambda c: c in rev and c not in replaced))


@pytest.mark.slow
@pytest.mark.parametrize("condition", SURGICAL)
def test_precision_and_recall_are_one(expected: pd.DataFrame, ws: Workspace,
                                      condition: str) -> None:
    exp = expected[expected.condition == condition]
    found = ws.to_pandas("care_cycles")
    found = found[found.condition == condition].assign(
        anchor=lambda d: pd.to_datetime(d.anchor_start_date).dt.date)
    key = ["person_id", "anchor"]
    m = exp.merge(found, on=key, suffixes=("_t", "_f"))
    tp = len(m)
    precision = tp / len(found)
    recall = tp / len(exp)
    agree = (m.accountable_npi_t == m.accountable_npi_f).mean()
    print(f"\n{condition}: planted {len(exp)}, found {len(found)}, precision {precision:.4f}, "
          f"recall {recall:.4f}, accountable clinician agrees {agree:.4f}")
    assert len(exp) >= 20
    assert (precision, recall) == (1.0, 1.0)
    assert ((m.expected_trigger == m.trigger_claim_id_f)
            | (m.lost & (m.trigger_claim_id_t != m.trigger_claim_id_f))).all()
    assert (m.facility_npi_t == m.facility_npi_f).all()
    # a reversed surgeon claim without replacement leaves only the facility's attending
    assert agree >= 0.97
