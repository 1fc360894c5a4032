"""30-day readmissions (table ``readmissions``) on the hand-built data of ``outcome_data.py``.

Expected values are worked out by hand from the rules in the docstring of
:mod:`valuecare.outcomes.readmissions`: the CMS Hospital-Wide Readmission index rules
(NQF 1789, 2021 specification) and the Planned Readmission Algorithm v4.0 in outline, as
summarised in ``payment-and-measures.md`` §3.1.  The last date of data is 2025-12-31 (the
latest active claim).  Each scenario's dates and arithmetic are in ``outcome_data.py``.
The scenarios run on DuckDB; ``test_cycle_outcomes.test_spark_gives_identical_tables``
checks that Spark builds the same ``readmissions`` table.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.conditions.edge_data import H2


@pytest.fixture(scope="module", params=["duckdb"])
def run(request: pytest.FixtureRequest):
    return request.getfixturevalue(f"oc_{request.param}")


@pytest.fixture(scope="module")
def stays(run) -> dict[str, dict]:
    ws, _, _ = run
    return {r["stay_id"]: r for r in ws.table("readmissions").to_pyarrow().to_pylist()}


def test_data_loaded_without_quarantine(run) -> None:
    _, load, _ = run
    assert {name: t.quarantined_rows for name, t in load.tables.items()} == {
        "member": 0, "eligibility": 0, "medical_claim": 0, "observation": 0}


# (stay, index_eligible, exclusion_reason, readmitted_30d, readmission_stay_id,
#  first_readmission_planned, days_to_readmission)
INDEX_CASES = [
    pytest.param("RD30:1", True, None, True, "RD30:2", False, 30, id="readmitted-day-30"),
    pytest.param("RD31:1", True, None, False, None, None, None, id="readmitted-day-31"),
    pytest.param("RDIED:1", False, "died_in_hospital", None, None, None, None,
                 id="died-in-hospital"),
    pytest.param("RAMA:1", False, "against_medical_advice", None, "RAMA:2", False, 5,
                 id="against-medical-advice"),
    pytest.param("RTRF:1", True, None, True, "RTRF:2", False, 10, id="transfer-chain"),
    pytest.param("RTOUT:1", False, "transfer_out", None, None, None, None,
                 id="transfer-out"),
    pytest.param("RPSY:1", False, "psychiatric", None, "RPSY:2", False, 6, id="psychiatric"),
    pytest.param("RLATE:1", False, "insufficient_followup", None, None, None, None,
                 id="insufficient-followup"),
    pytest.param("REDGE:1", True, None, False, None, None, None,
                 id="followup-ends-on-last-date"),
    pytest.param("RNENR:1", False, "not_enrolled_30d", None, None, None, None,
                 id="not-enrolled-30d"),
    pytest.param("RNDIE:1", True, None, False, None, None, None,
                 id="enrollment-ends-at-death"),
    pytest.param("RPLN:1", True, None, False, "RPLN:2", True, 10,
                 id="planned-procedure-non-acute-dx"),
    pytest.param("RUNP:1", True, None, True, "RUNP:2", False, 10,
                 id="planned-procedure-acute-dx-T84"),
    pytest.param("RUNPA:1", True, None, True, "RUNPA:2", False, 10,
                 id="planned-procedure-acute-dx-I21"),
    pytest.param("RPTHEN:1", True, None, False, "RPTHEN:2", True, 5,
                 id="planned-then-unplanned"),
    pytest.param("RCHEMO:1", True, None, False, "RCHEMO:2", True, 10,
                 id="always-planned-chemotherapy"),
    pytest.param("RREV:1", True, None, False, None, None, None,
                 id="reversed-readmission"),
]


@pytest.mark.parametrize(("stay_id", "eligible", "reason", "readmitted", "r_stay",
                          "r_planned", "days"), INDEX_CASES)
def test_index_stay(stays: dict[str, dict], stay_id: str, eligible: bool, reason: str | None,
                    readmitted: bool | None, r_stay: str | None, r_planned: bool | None,
                    days: int | None) -> None:
    """Index eligibility, the first-failing exclusion and the 30-day outcome of one stay
    (readmitted_30d is null for an excluded stay; the first stay within 30 days is still
    reported)."""
    r = stays[stay_id]
    assert (r["index_eligible"], r["exclusion_reason"], r["readmitted_30d"],
            r["readmission_stay_id"], r["first_readmission_planned"],
            r["days_to_readmission"]) == (eligible, reason, readmitted, r_stay, r_planned,
                                          days)


def _of(stays: dict[str, dict], person: str) -> list[str]:
    return sorted(s for s in stays if s.split(":")[0] == person)


def test_transfer_chain_is_one_stay_at_the_final_hospital(stays: dict[str, dict]) -> None:
    """H1 1-3 Mar discharged 02, H2 4-8 Mar (next day): one stay from the first admission to
    the last discharge, carrying H2 and H2's discharge status 01 (rule 1)."""
    assert _of(stays, "RTRF") == ["RTRF:1", "RTRF:2"]
    r = stays["RTRF:1"]
    assert (r["admit_date"], r["discharge_date"], r["facility_npi"], r["disposition"],
            r["principal_dx"]) == (date(2024, 3, 1), date(2024, 3, 8), H2, "01", "J189")


def test_reversed_claim_is_no_stay(stays: dict[str, dict]) -> None:
    """The reversed readmission claim (and its reversal) form no stay."""
    assert _of(stays, "RREV") == ["RREV:1"]


@pytest.mark.parametrize(("stay_id", "planned"), [
    ("RPLN:2", True),      # 0SRC0J9 potentially planned, principal M1711 not acute
    ("RUNP:2", False),     # 0SRC0J9 with principal T8450XA (T84 acute)
    ("RUNPA:2", False),    # 0SRC0J9 with principal I214 (I21 acute)
    ("RCHEMO:2", True),    # principal Z5111 always planned
    ("RPTHEN:2", True),    # principal Z5111 always planned
    ("RD30:2", False),     # sepsis, no planned procedure
    ("HPEN:1", True),      # elective hip replacement 0SR90J9 with M1611 (not acute)
])
def test_planned_flag(stays: dict[str, dict], stay_id: str, planned: bool) -> None:
    """Planned Readmission Algorithm v4.0 outline (rule 4)."""
    assert stays[stay_id]["planned"] is planned


def test_planned_stay_is_itself_an_index_stay(stays: dict[str, dict]) -> None:
    """A chemotherapy stay is planned as a readmission and excluded as an index stay
    (medical treatment of cancer)."""
    r = stays["RCHEMO:2"]
    assert (r["planned"], r["index_eligible"], r["exclusion_reason"],
            r["readmitted_30d"]) == (True, False, "cancer_treatment", None)


def test_stage_notes(run, stays: dict[str, dict]) -> None:
    """45 stays; 8 fail an index rule (RDIED:1, RAMA:1, RTOUT:1, RPSY:1, RLATE:1, RNENR:1
    and the chemotherapy stays RCHEMO:2, RPTHEN:2) -> 37 index stays; readmitted: RD30,
    RTRF, RUNP, RUNPA and the hip cycles HAMI7, HAMI8 -> 6.  as_of is the office visit of
    2025-12-31."""
    _, _, report = run
    notes = report.notes["outcomes"]
    assert len(stays) == 45
    assert (notes["as_of"], notes["index_stays"], notes["readmissions_30d"]) == (
        "2025-12-31", 37, 6)
