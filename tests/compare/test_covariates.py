"""Patient covariates per care cycle (``cycle_risk``), from hand-built claims.

Three knee replacements (MS-DRG 470, admitted 2024-06-10, so each ``hip_knee`` cycle starts
90 days earlier, on 2024-03-12; the 365-day lookback runs 2023-03-13 .. 2024-03-11):

- ``KA``: female, born 1950-03-12 (74 on the cycle start, her birthday), dual ``02``, food
  insecure and housing unstable.  Prior claims: E11.9 on 2023-03-13 (first lookback day,
  counts), J44.9 on 2024-03-11 (last lookback day, counts), I50.22 on 2023-03-12 (one day
  too early), N18.30 on 2024-03-12 (the cycle start: inside the cycle, not before it) and
  C79.51 on a claim that was reversed (does not count).  So her lookback diagnoses are
  E11.9 and J44.9: CMS-HCC V28 HCC 38 (diabetes) and HCC 280 (COPD); Elixhauser diabetes
  uncomplicated (van Walraven weight 0) and chronic pulmonary disease (3); Charlson diabetes
  without complications (1) and chronic pulmonary disease (1).
- ``KB``: male, born 1950-03-13 (73: birthday the day after the start), no prior claims.
- ``KC``: sex unknown, born 1950-01-01 -> no CMS-HCC score (``hcc_missing`` = 1).

The CMS-HCC raw scores are hccinfhir's own, computed member by member (the oracle of
``tests/risk/test_hcc.py``), not the engine's.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from tests.conditions.edge_data import COLUMNS, ip, prof, reversal
from tests.risk.test_hcc import oracle
from valuecare import Workspace
from valuecare.compare.covariates import cycle_covariates

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")
PCP = "3000000009"


def _claims() -> list[dict]:
    rows: list[dict] = []
    for p in ("KA", "KB", "KC"):
        rows.append(ip(f"{p}KNEE", p, "2024-06-10", "2024-06-13", "470", "M1711", "12000.00",
                       procedure_code_1="0SRC0J9"))
    visit = {"E119": "2023-03-13", "J449": "2024-03-11", "I5022": "2023-03-12",
             "N1830": "2024-03-12", "C7951": "2023-09-01"}
    for dx, day in visit.items():
        rows.append(prof(f"KA{dx}", "KA", day, "99213", dx, "90.00", PCP, pos="11"))
    rows.append(reversal(rows[-1], "KAREV"))
    return rows


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = [("KA", "female", "1950-03-12", "02", "true", "true"),
               ("KB", "male", "1950-03-13", "00", "false", "false"),
               ("KC", "unknown", "1950-01-01", "", "", "")]
    with (folder / "member.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "sex", "birth_date", "dual_status_code", "food_insecurity",
                    "housing_instability", "data_source"])
        w.writerows([(*m, "cov") for m in members])
    with (folder / "eligibility.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "enrollment_start_date", "enrollment_end_date", "payer",
                    "payer_type", "plan", "data_source"])
        for p, *_ in members:
            w.writerow([p, "2023-01-01", "2024-12-31", "Medicare", "medicare", "FFS", "cov"])
    with (folder / "medical_claim.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, [*COLUMNS], restval="")
        w.writeheader()
        w.writerows(_claims())
    return folder


@pytest.fixture(scope="module")
def covariates(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("covariates")
    ws = Workspace(tmp / "ws")
    ws.load(_write(tmp / "data"))
    ws.run(["member_months", "care_cycles"])
    cycles = ws.table("care_cycles").filter(ws.table("care_cycles").condition == "hip_knee")
    out = cycle_covariates(cycles, ws.table("member"), ws.table("medical_claim")).to_pandas()
    ws.close()
    return out.set_index("person_id")


def test_one_row_per_cycle_at_the_cycle_start(covariates: pd.DataFrame) -> None:
    assert sorted(covariates.index) == ["KA", "KB", "KC"]
    assert covariates.loc["KA", "age"] == 74 and covariates.loc["KB", "age"] == 73
    assert covariates.loc["KA", "age_sq"] == pytest.approx(74 * 74 / 100)
    assert covariates.loc["KA", ["female", "dual", "social_needs"]].tolist() == [1, 1, 2]
    assert covariates.loc["KB", ["female", "dual", "social_needs"]].tolist() == [0, 0, 0]
    assert covariates.loc["KC", "female"] == 0


def test_hcc_score_uses_the_lookback_diagnoses_only(covariates: pd.DataFrame) -> None:
    persons = pd.DataFrame({"person_id": ["KA", "KB"], "age": [74, 73], "sex": ["F", "M"],
                            "dual_elgbl_cd": ["02", "00"], "orec": ["0", "0"],
                            "crec": [None, None], "new_enrollee": [False, False],
                            "snp": [False, False], "lti": [False, False]})
    dx = pd.DataFrame({"person_id": ["KA", "KA"], "diagnosis_code": ["E119", "J449"]})
    want = oracle(persons, dx, "V28", 2026).set_index("person_id")
    assert want.loc["KA", "o_hccs"] == "38,280"  # the hand-read HCCs, as hccinfhir reads them
    for p in ("KA", "KB"):
        assert covariates.loc[p, "hcc_score"] == pytest.approx(want.loc[p, "o_raw"], abs=1e-9)
    assert covariates.loc["KA", "hcc_count"] == 2 and covariates.loc["KB", "hcc_count"] == 0
    assert covariates.loc["KA", "hcc_missing"] == 0
    assert pd.isna(covariates.loc["KC", "hcc_score"]) and covariates.loc["KC", "hcc_missing"] == 1


def test_comorbidity_indices_of_the_lookback(covariates: pd.DataFrame) -> None:
    assert covariates.loc["KA", "elixhauser_vw"] == 3  # diabetes 0 + chronic pulmonary 3
    assert covariates.loc["KA", "charlson"] == 2  # diabetes 1 + chronic pulmonary 1
    assert covariates.loc["KB", "elixhauser_vw"] == 0 and covariates.loc["KB", "charlson"] == 0
