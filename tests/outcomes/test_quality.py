"""Quality measures (CMS122, CMS165, CMS125, CMS130, CMS2) on hand-worked members.

The expected outcomes come from the eCQM population criteria (QI-Core 2024 CQL, eCQI
measure pages; see each YAML under ``valuecare/reference/measures``), worked by hand for
each member below, not from the function's output.  Measurement period: calendar 2024, so
the default versions are CMS122v12, CMS165v12, CMS125v12, CMS130v12 and CMS2v13.

Boundaries worked out by hand:

- AgeInYearsAt(31 Dec 2024): born 31 Dec 1949 -> 75 (in CMS122's 18-75), born 31 Dec 1948
  -> 76 (out); born 31 Dec 2006 -> 18 (in), born 1 Jan 2007 -> 17 (out).
- CMS2 age at 1 Jan 2024: born 1 Jan 2012 -> 12 (in), born 1 Jun 2012 -> 11 (out).
- Diabetes "overlapping the period": a diagnosis from 1 Jan 2023 (in) - 1 Jun 2022 is out.
- Hypertension: a diagnosis before 1 Jul 2024 (30 Jun in, 1 Aug out).
- Mammogram window: from 1 Oct 2022 (30 Sep 2022 is out).  Colonoscopy: from 1 Jan 2015
  (31 Dec 2014 is out); FIT-DNA from 1 Jan 2022; flexible sigmoidoscopy from 1 Jan 2020.
- CMS2: qualifying encounter 15 Jun 2024; a screen on 1 Jun (14 days before) counts, on
  31 May (15 days) does not; follow-up on 17 Jun (2 days after) counts, 18 Jun does not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import spark_available
from tests.outcomes.quality_data import NPI_A, NPI_B, Data
from valuecare.errors import InvalidInput
from valuecare.outcomes.quality import MEASURES, OUTPUT_COLUMNS, quality_members, summarise
from valuecare.outcomes.quality_defs import (
    MeasureDefinitionError,
    load_measures,
    parse_measure,
    parse_yaml,
)
from valuecare.outcomes.quality_rules import age_at, expand, shift_months, shift_years

START, END = date(2024, 1, 1), date(2024, 12, 31)
D = date.fromisoformat


def build() -> Data:
    """Every hand-worked member (comments give the expected outcome)."""
    d = Data()
    dm = ("E119",)

    def diabetic(pid: str, birth: str, **kw: object) -> str:
        d.member(pid, birth, "male", **kw)
        d.visit(pid, "2024-03-01", dm)
        return pid

    # --- CMS122 -----------------------------------------------------------------------
    diabetic("D01", "1949-12-31")                 # 75: most recent 9.1 -> poor control
    d.obs("D01", "2024-02-01", "4548-4", 10.0)
    d.obs("D01", "2024-06-01", "4548-4", 9.1)
    diabetic("D02", "1948-12-31")                 # 76 on period end: out
    diabetic("D03", "2006-12-31")                 # 18 on period end: in, no HbA1c
    diabetic("D04", "2007-01-01")                 # 17: out
    diabetic("D05", "1970-05-05")                 # most recent 9.0: not poor control
    d.obs("D05", "2024-03-01", "4548-4", 10.5)
    d.obs("D05", "2024-09-01", "4548-4", 9.0)
    diabetic("D06", "1970-05-05")                 # HbA1c only in 2023: missing
    d.obs("D06", "2023-11-01", "4548-4", 8.0)
    diabetic("D07", "1970-05-05")                 # billed test, no result
    d.claim("D07", "2024-05-01", "83036", dm, pos="81", npi=None)
    d.member("D08", "1970-05-05", "male")         # lab claim only: no qualifying visit
    d.claim("D08", "2024-05-01", "83036", dm, pos="81", npi=None)
    d.member("D09", "1970-05-05", "male")         # diabetes only in 2022: out
    d.claim("D09", "2022-06-01", "99213", dm)
    d.visit("D09", "2024-03-01", ("I10",))
    d.member("D10", "1970-05-05", "male")         # diabetes on 1 Jan 2023: in
    d.claim("D10", "2023-01-01", "99213", dm)
    d.visit("D10", "2024-03-01", ("I10",))
    diabetic("D11", "1970-05-05")                 # hospice claim (811) -> excluded
    d.claim("D11", "2024-11-01", None, ("R627",), inst=True, bill="811", rev="0651",
            end="2024-12-15")
    d.obs("D11", "2024-06-01", "4548-4", 10.0)
    diabetic("D12", "1970-05-05")                 # palliative care Z51.5 -> excluded
    d.claim("D12", "2024-04-01", "99214", ("C3490", "Z515"))
    diabetic("D13", "1958-06-15")                 # 66, walker + heart failure -> excluded
    d.claim("D13", "2024-05-01", "E0143", ("R262",), pos="12", npi=None)
    d.claim("D13", "2023-03-01", "99214", ("I5022",))
    d.obs("D13", "2024-06-01", "4548-4", 7.0)
    diabetic("D14", "1959-06-15")                 # 65, same evidence: not excluded
    d.claim("D14", "2024-05-01", "E0143", ("R262",), pos="12", npi=None)
    d.claim("D14", "2023-03-01", "99214", ("I5022",))
    d.obs("D14", "2024-06-01", "4548-4", 7.0)
    diabetic("D15", "1954-04-04")                 # 70, frailty R54 + donepezil -> excluded
    d.claim("D15", "2024-02-01", "99213", ("R54",))
    d.rx("D15", "2023-06-01", "donepezil")
    diabetic("D16", "1954-04-04", long_term_institutional_flag=1)   # -> excluded
    d.member("D17", "1970-05-05", "male")         # only visit reversed: out
    d.reverse(d.visit("D17", "2024-03-01", dm))
    diabetic("D18", "1970-05-05")                 # CPT II 3044F most recent: not poor
    d.obs("D18", "2024-04-01", "4548-4", 10.0)
    d.claim("D18", "2024-11-01", "3044F", dm)
    diabetic("D19", "1970-05-05", death="2023-12-31")   # died before the period: out
    diabetic("D20", "1970-05-05")                 # GMI 9.5 only: counts from v13
    d.obs("D20", "2024-07-01", "97506-0", 9.5)
    diabetic("D23", "1954-04-04")                 # nursing facility 15 Jan-14 Apr: 91 days
    for day in ("2024-01-15", "2024-02-14", "2024-03-15", "2024-04-14"):
        d.claim("D23", day, "99309", ("R4181",), pos="32")
    diabetic("D24", "1954-04-04")                 # 15 Jan-13 Apr: 90 days, not more
    for day in ("2024-01-15", "2024-02-14", "2024-03-15", "2024-04-13"):
        d.claim("D24", day, "99309", ("Z7409",), pos="32")
    diabetic("D22", "1970-05-05")                 # two results on the last day: lowest
    d.obs("D22", "2024-08-01", "4548-4", 9.4)
    d.obs("D22", "2024-08-01", "4548-4", 8.8)
    d.claim("D22", "2024-08-01", "83036", dm, pos="81", npi=None)

    # --- CMS165 -----------------------------------------------------------------------
    def hypertensive(pid: str, birth: str = "1960-02-02", sex: str = "male",
                     day: str = "2024-02-01") -> str:
        d.member(pid, birth, sex)
        return d.visit(pid, day, ("I10",))

    hypertensive("H01", "1939-12-31")             # 85: 138/88 -> controlled
    d.bp("H01", "2024-10-01", 138, 88)
    hypertensive("H02", "1938-12-31")             # 86: out
    hypertensive("H03")                           # 150/85 and 135/92 same day -> 135/85
    d.bp("H03", "2024-05-01", 120, 70)
    d.bp("H03", "2024-10-01", 150, 85)
    d.bp("H03", "2024-10-01", 135, 92)
    hypertensive("H04")                           # most recent 142/80 -> not controlled
    d.bp("H04", "2024-03-01", 120, 70)
    d.bp("H04", "2024-11-01", 142, 80)
    hypertensive("H05")                           # no reading
    office = hypertensive("H06")                  # ED reading ignored -> 130/80
    d.bp("H06", "2024-02-01", 130, 80, enc=office)
    ed = d.claim("H06", "2024-12-01", "99284", ("R030",), pos="23")
    d.bp("H06", "2024-12-01", 150, 95, enc=ed)
    hypertensive("H07")                           # ESRD in 2023 -> excluded
    d.claim("H07", "2023-05-01", "99214", ("N186",))
    hypertensive("H08")                           # dialysis facility claim -> excluded
    d.claim("H08", "2024-05-01", "90999", ("Z992",), inst=True, bill="721", rev="0821",
            end="2024-05-31")
    hypertensive("H09", "1994-04-04", "female")   # pregnancy in the period -> excluded
    d.claim("H09", "2024-04-01", "99213", ("Z3401",))
    d.member("H10", "1960-02-02", "male")         # hypertension first on 1 Aug: out
    d.visit("H10", "2024-08-01", ("I10",))
    d.member("H11", "1960-02-02", "male")         # hypertension on 30 Jun: in
    d.visit("H11", "2024-06-30", ("I10",))
    hypertensive("H12", "1943-03-01")             # 81 with a walker -> excluded
    d.claim("H12", "2024-05-01", "E0143", ("R262",), pos="12", npi=None)
    d.bp("H12", "2024-06-01", 120, 70)
    hypertensive("H13", "1944-03-01")             # 80 with a walker only: in, 120/70
    d.claim("H13", "2024-05-01", "E0143", ("R262",), pos="12", npi=None)
    d.bp("H13", "2024-06-01", 120, 70)
    hypertensive("H14", "1944-03-01")             # 80, walker + heart failure -> excluded
    d.claim("H14", "2024-05-01", "E0143", ("R262",), pos="12", npi=None)
    d.claim("H14", "2024-01-10", "99214", ("I5022",))
    hypertensive("H15")                           # CPT II 3074F / 3078F most recent
    d.bp("H15", "2024-06-01", 150, 95)
    d.claim("H15", "2024-12-10", "3074F", ("I10",))
    d.claim("H15", "2024-12-10", "3078F", ("I10",))
    hypertensive("H16")                           # kidney transplant status -> excluded
    d.claim("H16", "2024-03-03", "99213", ("Z940",))

    # --- CMS125 -----------------------------------------------------------------------
    def woman(pid: str, birth: str = "1960-02-02", sex: str = "female") -> None:
        d.member(pid, birth, sex)
        d.visit(pid, "2024-03-01", ("Z0000",))

    woman("B01", "1950-12-31")                    # 74: mammogram 1 Oct 2022 -> met
    d.claim("B01", "2022-10-01", "77067", ("Z1231",))
    woman("B02")                                  # mammogram 30 Sep 2022 -> not met
    d.claim("B02", "2022-09-30", "77067", ("Z1231",))
    woman("B03", "1972-12-31")                    # 52 on period end: in
    woman("B04", "1973-01-01")                    # 51: out (in from v14)
    woman("B05", sex="male")                      # men: out
    woman("B06")                                  # 19303-50 -> bilateral mastectomy
    d.claim("B06", "2015-03-01", "19303", ("C50911",), mods=("50",), pos="22")
    woman("B07")                                  # right only + mammogram -> met
    d.claim("B07", "2023-05-05", "99213", ("Z9011",))
    d.claim("B07", "2024-02-01", "77067", ("Z1231",))
    woman("B08")                                  # Z90.11 + Z90.12 -> excluded
    d.claim("B08", "2023-05-05", "99213", ("Z9011",))
    d.claim("B08", "2023-08-05", "99213", ("Z9012",))
    woman("B09")                                  # 0HTT0ZZ + 19303-LT -> excluded
    d.claim("B09", "2019-01-10", None, ("C50911",), px=("0HTT0ZZ",), inst=True, bill="111",
            end="2019-01-12")
    d.claim("B09", "2021-02-02", "19303", ("C50912",), mods=("LT",), pos="22")
    woman("B10")                                  # reversed mammogram -> not met
    d.reverse(d.claim("B10", "2024-02-01", "77067", ("Z1231",)))
    woman("B11", "1980-05-05")                    # 44: out in v12, in (met) in v14
    d.claim("B11", "2024-05-01", "77067", ("Z1231",))
    woman("B12")                                  # 19303-RT only: not excluded
    d.claim("B12", "2020-03-01", "19303", ("C50911",), mods=("RT",), pos="22")

    # --- CMS130 -----------------------------------------------------------------------
    def adult(pid: str, birth: str = "1960-02-02") -> None:
        d.member(pid, birth, "male")
        d.visit(pid, "2024-03-01", ("Z0000",))

    adult("C01")                                  # colonoscopy 1 Jan 2015 -> met
    d.claim("C01", "2015-01-01", "45378", ("Z1211",), pos="24")
    adult("C02")                                  # colonoscopy 31 Dec 2014 -> not met
    d.claim("C02", "2014-12-31", "45378", ("Z1211",), pos="24")
    adult("C03")                                  # FIT-DNA 1 Jan 2022 -> met
    d.claim("C03", "2022-01-01", "81528", ("Z1211",), pos="81")
    adult("C04")                                  # FIT-DNA 31 Dec 2021 -> not met
    d.claim("C04", "2021-12-31", "81528", ("Z1211",), pos="81")
    adult("C05")                                  # FOBT 31 Dec 2023 -> not met
    d.claim("C05", "2023-12-31", "82274", ("Z1211",), pos="81")
    adult("C06")                                  # FOBT in the period -> met
    d.claim("C06", "2024-03-05", "82274", ("Z1211",), pos="81")
    adult("C07")                                  # flexible sigmoidoscopy 1 Jan 2020 -> met
    d.claim("C07", "2020-01-01", "45330", ("Z1211",), pos="24")
    adult("C08")                                  # colon cancer in 2020 -> excluded
    d.claim("C08", "2020-06-01", "99214", ("C189",))
    adult("C09")                                  # total colectomy 2019 -> excluded
    d.claim("C09", "2019-06-01", "44150", ("K5190",), pos="21")
    adult("C10", "1978-12-31")                    # 46 on period end: in
    adult("C11", "1979-01-01")                    # 45: out
    adult("C12")                                  # discharged to hospice (51) -> excluded
    d.claim("C12", "2024-04-01", None, ("C787",), inst=True, bill="111", disp="51",
            end="2024-04-05", rev="0120")
    adult("C13")                                  # reversed colonoscopy, replaced -> met
    c13 = d.claim("C13", "2020-05-01", "G0121", ("Z1211",), pos="24")
    d.reverse(c13)
    d.replace(c13)
    adult("C14")                                  # reversed colonoscopy only -> not met
    d.reverse(d.claim("C14", "2020-05-01", "G0121", ("Z1211",), pos="24"))

    # --- CMS2 -------------------------------------------------------------------------
    def patient(pid: str, birth: str = "1980-02-02") -> str:
        d.member(pid, birth, "female")
        return d.visit(pid, "2024-06-15", ("Z0000",))

    patient("S01")                                # PHQ-9 5, 14 days before -> met
    d.obs("S01", "2024-06-01", "44261-6", 5, otype="prom_score")
    patient("S02")                                # PHQ-9 5, 15 days before -> no screen
    d.obs("S02", "2024-05-31", "44261-6", 5, otype="prom_score")
    # group psychotherapy (90853) is follow-up but not itself a qualifying encounter
    patient("S03")                                # positive, therapy 2 days after -> met
    d.obs("S03", "2024-06-15", "44261-6", 15, otype="prom_score")
    d.claim("S03", "2024-06-17", "90853", ("F329",), npi=NPI_B)
    patient("S04")                                # positive, therapy 3 days after
    d.obs("S04", "2024-06-15", "44261-6", 15, otype="prom_score")
    d.claim("S04", "2024-06-18", "90853", ("F329",), npi=NPI_B)
    patient("S05")                                # G8431 -> met
    d.claim("S05", "2024-06-15", "G8431", ("Z0000",))
    patient("S06")                                # bipolar in 2023 -> excluded
    d.claim("S06", "2023-05-01", "99213", ("F319",))
    patient("S07")                                # bipolar after the last visit: stays
    d.claim("S07", "2024-09-01", "80053", ("F319",), pos="81", npi=None)
    patient("S08")                                # G8433 -> exception
    d.claim("S08", "2024-06-15", "G8433", ("Z0000",))
    patient("S09")                                # G8433 + G8510 -> met, no exception
    d.claim("S09", "2024-06-15", "G8433", ("Z0000",))
    d.claim("S09", "2024-06-15", "G8510", ("Z0000",))
    patient("S10", "2012-06-01")                  # 11 at period start: out
    patient("S11", "2012-01-01")                  # 12 at period start: in
    patient("S12")                                # 96127 without result
    d.claim("S12", "2024-06-15", "96127", ("Z0000",))
    patient("S13")                                # PHQ-2 3 + SSRI next day -> met
    d.obs("S13", "2024-06-15", "55758-7", 3, otype="prom_score")
    d.rx("S13", "2024-06-16", "ssri")
    patient("S14")                                # positive then negative: negative counts
    d.obs("S14", "2024-06-10", "44261-6", 15, otype="prom_score")
    d.obs("S14", "2024-06-12", "44261-6", 4, otype="prom_score")

    # --- payer and provider attribution (read on CMS130) ------------------------------
    d.member("P01", "1960-02-02", "male", enrolled=False)
    d.enroll("P01", "Medicare", "2023-01-01", "2024-06-30")
    d.enroll("P01", "Humana", "2024-07-01", "2025-06-30")
    for day, npi in (("2024-02-01", NPI_A), ("2024-03-01", NPI_A), ("2024-04-01", NPI_B),
                     ("2024-05-01", NPI_B)):
        d.visit("P01", day, npi=npi)
    d.member("P02", "1960-02-02", "male", enrolled=False)
    d.enroll("P02", "Aetna", "2023-01-01", "2024-09-30")
    d.visit("P02", "2024-03-01", npi=NPI_B)
    d.visit("P02", "2024-03-01", npi=NPI_A)
    d.member("P03", "1960-02-02", "male", enrolled=False)   # no enrollment: still counted
    d.visit("P03", "2024-03-01")
    return d


def _records(t: ibis.Table) -> dict[str, dict]:
    return {r["person_id"]: r for r in t.to_pyarrow().to_pylist()}


RUNS = {  # run name -> (measure, version)
    "CMS122": ("CMS122", None), "CMS122v11": ("CMS122", "11"), "CMS122v13": ("CMS122", "13"),
    "CMS165": ("CMS165", None), "CMS125": ("CMS125", None), "CMS125v14": ("CMS125", "v14"),
    "CMS130": ("CMS130", None), "CMS2": ("CMS2", None),
}


def _run_all(tables: dict[str, ibis.Table],
             runs: tuple[str, ...] = tuple(RUNS)) -> dict[str, dict[str, dict]]:
    return {name: _records(quality_members(tables, RUNS[name][0], period_start=START,
                                           period_end=END, version=RUNS[name][1]))
            for name in runs}


@pytest.fixture(scope="module")
def arrow_data() -> dict[str, pa.Table]:
    return build().arrow()


@pytest.fixture(scope="module")
def duck(arrow_data: dict[str, pa.Table]) -> dict[str, dict[str, dict]]:
    con = ibis.duckdb.connect()
    tables = {name: con.create_table(name, t) for name, t in arrow_data.items()}
    return _run_all(tables)


@pytest.fixture(scope="module")
def without_optional(arrow_data: dict[str, pa.Table]) -> dict[str, dict[str, dict]]:
    """CMS122 on member, eligibility and medical_claim only."""
    con = ibis.duckdb.connect()
    tables = {name: con.create_table(name, arrow_data[name])
              for name in ("member", "eligibility", "medical_claim")}
    return _run_all(tables, ("CMS122",))


def _row(duck: dict, run: str, pid: str) -> tuple:
    r = duck[run][pid]
    return (r["exclusion"], r["exception"], r["numerator"], r["reason"], r["evidence_date"],
            r["evidence_value"])


def _ip(duck: dict, run: str, prefix: str) -> set[str]:
    return {p for p in duck[run] if p.startswith(prefix)}


# --- populations ---------------------------------------------------------------------------


@pytest.mark.parametrize(("run", "prefix", "expected"), [
    ("CMS122", "D", {"D01", "D03", "D05", "D06", "D07", "D10", "D11", "D12", "D13", "D14",
                     "D15", "D16", "D18", "D20", "D22", "D23", "D24"}),
    ("CMS165", "H", {"H01", "H03", "H04", "H05", "H06", "H07", "H08", "H09", "H11", "H12",
                     "H13", "H14", "H15", "H16"}),
    ("CMS125", "B", {"B01", "B02", "B03", "B06", "B07", "B08", "B09", "B10", "B12"}),
    ("CMS125v14", "B", {"B01", "B02", "B03", "B04", "B06", "B07", "B08", "B09", "B10", "B11",
                        "B12"}),
    ("CMS130", "C", {"C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10",
                     "C12", "C13", "C14"}),
    ("CMS2", "S", {"S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09", "S11",
                   "S12", "S13", "S14"}),
])
def test_initial_population(duck: dict, run: str, prefix: str, expected: set[str]) -> None:
    """Age at the boundary (birthday on the period end), sex, visit, diagnosis window,
    reversed visit, death before the period (worked in the module docstring)."""
    assert _ip(duck, run, prefix) == expected


def test_output_columns_and_versions(duck: dict) -> None:
    r = duck["CMS122"]["D01"]
    assert tuple(r) == OUTPUT_COLUMNS
    assert (r["measure"], r["version"], r["period_start"], r["period_end"]) == (
        "CMS122", "CMS122v12", START, END)
    assert r["initial_population"] and r["denominator"]
    assert {run: next(iter(duck[run].values()))["version"] for run in duck} == {
        "CMS122": "CMS122v12", "CMS122v11": "CMS122v11", "CMS122v13": "CMS122v13",
        "CMS165": "CMS165v12",
        "CMS125": "CMS125v12", "CMS125v14": "CMS125v14", "CMS130": "CMS130v12",
        "CMS2": "CMS2v13"}


# --- CMS122 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "expected"), [
    ("D01", (False, False, True, "numerator:hba1c_gt_9", D("2024-06-01"), "9.1")),
    ("D03", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D05", (False, False, False, "not_met:hba1c_le_9", D("2024-09-01"), "9.0")),
    ("D06", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D07", (False, False, True, "numerator:hba1c_no_result", D("2024-05-01"), None)),
    ("D10", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D11", (True, False, False, "excluded:hospice", D("2024-11-01"), None)),
    ("D12", (True, False, False, "excluded:palliative_care", D("2024-04-01"), None)),
    ("D13", (True, False, False, "excluded:frailty_advanced_illness", D("2024-05-01"), None)),
    ("D14", (False, False, False, "not_met:hba1c_le_9", D("2024-06-01"), "7.0")),
    ("D15", (True, False, False, "excluded:frailty_dementia_medication", D("2024-02-01"),
             None)),
    ("D16", (True, False, False, "excluded:long_term_institutional", D("2024-01-01"), None)),
    ("D18", (False, False, False, "not_met:hba1c_le_9", D("2024-11-01"), "3044F <7.0")),
    ("D20", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D22", (False, False, False, "not_met:hba1c_le_9", D("2024-08-01"), "8.8")),
    ("D23", (True, False, False, "excluded:long_term_institutional", D("2024-01-15"), None)),
    ("D24", (False, False, True, "numerator:hba1c_missing", None, None)),
])
def test_cms122(duck: dict, pid: str, expected: tuple) -> None:
    """Inverse measure: numerator = poor control (> 9.0, missing, or no result)."""
    assert _row(duck, "CMS122", pid) == expected


def test_cms122_v11_advanced_illness_needs_encounters(duck: dict) -> None:
    """Before 2024 (v11) advanced illness needed two outpatient encounters on different
    dates or one inpatient stay: D13's single office claim with I50.22 no longer excludes."""
    assert _row(duck, "CMS122v11", "D13") == (
        False, False, False, "not_met:hba1c_le_9", D("2024-06-01"), "7.0")


def test_cms122_gmi_counts_from_v13(duck: dict) -> None:
    """CMS122v13 accepts GMI (LOINC 97506-0): D20's 9.5 is poor control only in v13."""
    assert _row(duck, "CMS122v13", "D20") == (
        False, False, True, "numerator:hba1c_gt_9", D("2024-07-01"), "9.5")


@pytest.mark.parametrize(("pid", "expected"), [
    ("D01", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D07", (False, False, True, "numerator:hba1c_no_result", D("2024-05-01"), None)),
    ("D15", (False, False, True, "numerator:hba1c_missing", None, None)),
    ("D18", (False, False, False, "not_met:hba1c_le_9", D("2024-11-01"), "3044F <7.0")),
])
def test_cms122_without_optional_tables(without_optional: dict, pid: str,
                                        expected: tuple) -> None:
    """Claims only: results come from CPT II codes alone (D01's lab values are gone, D18's
    3044F stays); without pharmacy claims D15's donepezil cannot exclude her."""
    assert _row(without_optional, "CMS122", pid) == expected


# --- CMS165 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "expected"), [
    ("H01", (False, False, True, "met:bp_controlled", D("2024-10-01"), "138/88")),
    ("H03", (False, False, True, "met:bp_controlled", D("2024-10-01"), "135/85")),
    ("H04", (False, False, False, "not_met:bp_not_controlled", D("2024-11-01"), "142/80")),
    ("H05", (False, False, False, "not_met:no_bp", None, None)),
    ("H06", (False, False, True, "met:bp_controlled", D("2024-02-01"), "130/80")),
    ("H07", (True, False, False, "excluded:esrd", D("2023-05-01"), None)),
    ("H08", (True, False, False, "excluded:dialysis", D("2024-05-01"), None)),
    ("H09", (True, False, False, "excluded:pregnancy", D("2024-04-01"), None)),
    ("H11", (False, False, False, "not_met:no_bp", None, None)),
    ("H12", (True, False, False, "excluded:frailty_age_81", D("2024-05-01"), None)),
    ("H13", (False, False, True, "met:bp_controlled", D("2024-06-01"), "120/70")),
    ("H14", (True, False, False, "excluded:frailty_advanced_illness", D("2024-05-01"), None)),
    ("H15", (False, False, True, "met:bp_controlled", D("2024-12-10"),
             "3074F <130/3078F <80")),
    ("H16", (True, False, False, "excluded:kidney_transplant", D("2024-03-03"), None)),
])
def test_cms165(duck: dict, pid: str, expected: tuple) -> None:
    """Lowest systolic and diastolic of the most recent BP day, ED readings ignored."""
    assert _row(duck, "CMS165", pid) == expected


# --- CMS125 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "expected"), [
    ("B01", (False, False, True, "met:mammography", D("2022-10-01"), "77067")),
    ("B02", (False, False, False, "not_met:no_screening", None, None)),
    ("B03", (False, False, False, "not_met:no_screening", None, None)),
    ("B06", (True, False, False, "excluded:bilateral_mastectomy", D("2015-03-01"), None)),
    ("B07", (False, False, True, "met:mammography", D("2024-02-01"), "77067")),
    ("B08", (True, False, False, "excluded:unilateral_mastectomy_right_and_left",
             D("2023-08-05"), None)),
    ("B09", (True, False, False, "excluded:unilateral_mastectomy_right_and_left",
             D("2021-02-02"), None)),
    ("B10", (False, False, False, "not_met:no_screening", None, None)),
    ("B12", (False, False, False, "not_met:no_screening", None, None)),
])
def test_cms125(duck: dict, pid: str, expected: tuple) -> None:
    assert _row(duck, "CMS125", pid) == expected


def test_cms125_v14_age_band(duck: dict) -> None:
    """CMS125v14 (2026 spec) starts at 42: B11 (44) is in and met."""
    assert _row(duck, "CMS125v14", "B11") == (
        False, False, True, "met:mammography", D("2024-05-01"), "77067")


# --- CMS130 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "expected"), [
    ("C01", (False, False, True, "met:colonoscopy", D("2015-01-01"), "45378")),
    ("C02", (False, False, False, "not_met:no_screening", None, None)),
    ("C03", (False, False, True, "met:fit_dna", D("2022-01-01"), "81528")),
    ("C04", (False, False, False, "not_met:no_screening", None, None)),
    ("C05", (False, False, False, "not_met:no_screening", None, None)),
    ("C06", (False, False, True, "met:fobt", D("2024-03-05"), "82274")),
    ("C07", (False, False, True, "met:flexible_sigmoidoscopy", D("2020-01-01"), "45330")),
    ("C08", (True, False, False, "excluded:colorectal_cancer", D("2020-06-01"), None)),
    ("C09", (True, False, False, "excluded:total_colectomy", D("2019-06-01"), None)),
    ("C12", (True, False, False, "excluded:hospice", D("2024-04-01"), None)),
    ("C13", (False, False, True, "met:colonoscopy", D("2020-05-01"), "G0121")),
    ("C14", (False, False, False, "not_met:no_screening", None, None)),
])
def test_cms130(duck: dict, pid: str, expected: tuple) -> None:
    assert _row(duck, "CMS130", pid) == expected


# --- CMS2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "expected"), [
    ("S01", (False, False, True, "met:screen_negative", D("2024-06-01"), "44261-6 5")),
    ("S02", (False, False, False, "not_met:no_screening", None, None)),
    ("S03", (False, False, True, "met:screen_positive_follow_up", D("2024-06-15"),
             "44261-6 15")),
    ("S04", (False, False, False, "not_met:positive_no_follow_up", D("2024-06-15"),
             "44261-6 15")),
    ("S05", (False, False, True, "met:screen_positive_follow_up", D("2024-06-15"), "G8431")),
    ("S06", (True, False, False, "excluded:bipolar", D("2023-05-01"), None)),
    ("S07", (False, False, False, "not_met:no_screening", None, None)),
    ("S08", (False, True, False, "exception:medical_or_patient_reason", D("2024-06-15"),
             None)),
    ("S09", (False, False, True, "met:screen_negative", D("2024-06-15"), "G8510")),
    ("S11", (False, False, False, "not_met:no_screening", None, None)),
    ("S12", (False, False, False, "not_met:screen_result_unknown", D("2024-06-15"), "96127")),
    ("S13", (False, False, True, "met:screen_positive_follow_up", D("2024-06-15"),
             "55758-7 3")),
    ("S14", (False, False, True, "met:screen_negative", D("2024-06-12"), "44261-6 4")),
])
def test_cms2(duck: dict, pid: str, expected: tuple) -> None:
    """Screen 14 days before / follow-up 2 days after; exceptions only when not met."""
    assert _row(duck, "CMS2", pid) == expected


# --- attribution ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "payer", "npi"), [
    ("P01", "Humana", NPI_B),   # span covering 31 Dec; 2 visits each, B more recent
    ("P02", "Aetna", NPI_A),    # latest span in the period; tie on count and date: lowest
    ("P03", None, NPI_A),       # no enrollment: in the measure, payer unknown
])
def test_payer_and_provider(duck: dict, pid: str, payer: str | None, npi: str) -> None:
    r = duck["CMS130"][pid]
    assert (r["payer"], r["provider_npi"]) == (payer, npi)


# --- summaries -----------------------------------------------------------------------------


def _members(rows: list[tuple[str, bool, bool, bool]]) -> ibis.Table:
    """Hand-built member rows: (group, exclusion, exception, numerator)."""
    return ibis.memtable(pa.table({
        "grp": [r[0] for r in rows], "initial_population": [True] * len(rows),
        "denominator": [True] * len(rows), "exclusion": [r[1] for r in rows],
        "exception": [r[2] for r in rows], "numerator": [r[3] for r in rows]}))


SUMMARY_ROWS = (
    [("A", True, False, False)] * 2 + [("A", False, True, False)]
    + [("A", False, False, True)] * 4 + [("A", False, False, False)] * 3
    + [("B", True, False, False)] * 2)


def test_summarise_rate_arithmetic() -> None:
    """Group A: 10 in the denominator, 2 excluded, 1 exception, 4 met -> 4 / (10-2-1) =
    4/7; group B: both excluded -> performance denominator 0, rate null."""
    con = ibis.duckdb.connect()
    out = con.execute(summarise(_members(SUMMARY_ROWS), ["grp"])).to_dict("records")
    assert [{k: v for k, v in r.items() if k != "rate"} for r in out] == [
        dict(grp="A", initial_population=10, denominator=10, exclusions=2, exceptions=1,
             numerator=4, performance_denominator=7),
        dict(grp="B", initial_population=2, denominator=2, exclusions=2, exceptions=0,
             numerator=0, performance_denominator=0)]
    assert out[0]["rate"] == pytest.approx(4 / 7)
    assert out[1]["rate"] != out[1]["rate"]  # NaN in pandas = SQL null
    total = con.execute(summarise(_members(SUMMARY_ROWS))).to_dict("records")[0]
    assert (total["denominator"], total["performance_denominator"]) == (12, 7)
    assert total["rate"] == pytest.approx(4 / 7)


def test_summarise_measure_results(duck: dict) -> None:
    """CMS130 on the C members: 13 in the IP, 3 excluded (C08, C09, C12), 5 met (C01, C03,
    C06, C07, C13) -> 5 / 10."""
    rows = [r for p, r in duck["CMS130"].items() if p.startswith("C")]
    t = ibis.memtable(pa.Table.from_pylist(rows))
    out = ibis.duckdb.connect().execute(summarise(t, ["measure"])).to_dict("records")[0]
    assert (out["initial_population"], out["exclusions"], out["exceptions"],
            out["numerator"], out["performance_denominator"]) == (13, 3, 0, 5, 10)
    assert out["rate"] == pytest.approx(0.5)


def test_summarise_unknown_column() -> None:
    with pytest.raises(InvalidInput, match="cannot group by nope"):
        summarise(_members(SUMMARY_ROWS), ["nope"])


# --- building blocks and definitions ----------------------------------------------------


def test_age_at_leap_day() -> None:
    """CQL AgeInYearsAt: born 29 Feb 2000 -> 22 on 28 Feb 2023, 23 on 1 Mar 2023,
    23 on 28 Feb 2024, 24 on 29 Feb 2024 (the birthday counts from 1 Mar in common years)."""
    t = ibis.memtable(pa.table({"b": pa.array([date(2000, 2, 29)], pa.date32())}))
    con = ibis.duckdb.connect()
    ages = [con.execute(t.select(a=age_at(t.b, on)))["a"][0]
            for on in (date(2023, 2, 28), date(2023, 3, 1), date(2024, 2, 28),
                       date(2024, 2, 29))]
    assert ages == [22, 23, 23, 24]


def test_date_shifts_and_ranges() -> None:
    assert shift_years(date(2024, 2, 29), -1) == date(2023, 2, 28)
    assert shift_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert shift_months(date(2024, 1, 1), 6) == date(2024, 7, 1)
    assert expand(["99202-99205", "E0100-E0102", "G0438", "E01"]) == (
        ["99202", "99203", "99204", "99205", "E0100", "E0101", "E0102", "G0438"], ["E01"])


def test_definitions_load() -> None:
    lib = load_measures()
    assert tuple(lib.measures) == MEASURES == ("CMS122", "CMS165", "CMS125", "CMS130", "CMS2")
    mips = {m.id: m.mips for m in lib.measures.values()}
    assert mips == {"CMS122": "001", "CMS165": "236", "CMS125": "112", "CMS130": "113",
                    "CMS2": "134"}
    for m in lib.measures.values():
        for key, vs in m.value_sets.items():
            assert vs.oids or vs.note, f"{m.id}.{key} names no OID and has no note"


@pytest.mark.parametrize(("measure", "year", "version", "expected"), [
    ("CMS122", 2024, None, 12), ("CMS122", 2025, None, 13), ("CMS122", 2030, None, 14),
    ("CMS122", 2019, None, 11), ("CMS125", 2024, "CMS125v14", 14), ("CMS2", 2024, "v12", 12),
])
def test_version_choice(measure: str, year: int, version: str | None, expected: int) -> None:
    assert load_measures().get(measure).version_for(year, version).version == expected


def test_unknown_version_and_measure() -> None:
    lib = load_measures()
    with pytest.raises(MeasureDefinitionError, match="CMS122 has no version '9'"):
        lib.get("CMS122").version_for(2024, "9")
    with pytest.raises(MeasureDefinitionError, match="no quality measure 'CMS999'"):
        lib.get("CMS999")


def test_bad_definition_names_the_field() -> None:
    text = (Path(__file__).resolve().parents[2] / "src" / "valuecare" / "reference"
            / "measures" / "cms130.yaml").read_text()
    data = parse_yaml(text, "cms130.yaml")
    data["value_sets"]["colorectal_cancer"]["diagnoses"] = ["C18-C20"]
    with pytest.raises(MeasureDefinitionError,
                       match=r"cms130.yaml: .*value_sets.colorectal_cancer.*prefixes"):
        parse_measure(data, "cms130.yaml")
    with pytest.raises(MeasureDefinitionError, match="not valid YAML"):
        parse_yaml("a: [", "x.yaml")


def test_missing_tables_and_bad_period(arrow_data: dict[str, pa.Table]) -> None:
    con = ibis.duckdb.connect()
    member = con.create_table("member", arrow_data["member"])
    with pytest.raises(InvalidInput, match="missing: eligibility, medical_claim"):
        quality_members({"member": member}, "CMS122", period_start=START, period_end=END)
    with pytest.raises(InvalidInput, match="is after period_end"):
        quality_members({"member": member}, "CMS122", period_start=END, period_end=START)


# --- Spark ---------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_spark_gives_identical_member_results(duck: dict, arrow_data: dict[str, pa.Table],
                                              tmp_path: Path) -> None:
    """All five measures (default versions) on Spark local mode: the same member-level
    rows as DuckDB."""
    from valuecare.model.engines import spark_session

    con = ibis.pyspark.connect(spark_session())
    tables = {}
    for name, t in arrow_data.items():
        folder = tmp_path / name
        folder.mkdir()
        pq.write_table(t, folder / "part-0.parquet")
        tables[name] = con.read_parquet(str(folder), table_name=f"q_{name}")
    spark = _run_all(tables, MEASURES)
    assert spark == {name: duck[name] for name in MEASURES}
