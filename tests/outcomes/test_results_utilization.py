"""measure_results arithmetic and utilization per 1,000 / PMPM, from hand-worked tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from valuecare.outcomes.results import outcome_results, readmission_results
from valuecare.outcomes.utilization import attribution, utilization_tables
from valuecare.pipeline.claims_summary import MONEY


@pytest.fixture
def con():
    c = ibis.duckdb.connect()
    yield c
    c.disconnect()


def _outcomes(con) -> ibis.Table:
    # hip_knee.complication_90d, 2024: surgeon A 4 cycles (1 event, 2 clean, 1 censored),
    # surgeon B 2 cycles (1 event, 1 excluded); LOS (continuous) 2 and 4 days.
    rows = [
        ("c1", "A", "complication_90d", 1.0, "measured"),
        ("c2", "A", "complication_90d", 0.0, "measured"),
        ("c3", "A", "complication_90d", 0.0, "measured"),
        ("c4", "A", "complication_90d", None, "censored"),
        ("c5", "B", "complication_90d", 1.0, "measured"),
        ("c6", "B", "complication_90d", None, "excluded"),
        ("c1", "A", "length_of_stay", 2.0, "measured"),
        ("c5", "B", "length_of_stay", 4.0, "measured"),
        ("c2", "A", "hoos_jr_change", None, "missing"),
    ]
    t = pa.table({
        "person_id": [f"p{r[0]}" for r in rows], "cycle_id": [r[0] for r in rows],
        "condition": ["hip_knee"] * len(rows), "measure": [r[2] for r in rows],
        "tier": pa.array([2] * len(rows), pa.int32()),
        "level": pa.array([4] * len(rows), pa.int32()),
        "value": pa.array([r[3] for r in rows], pa.float64()),
        "unit": ["proportion"] * len(rows), "date": pa.nulls(len(rows), pa.date32()),
        "status": [r[4] for r in rows], "status_reason": pa.nulls(len(rows), pa.string()),
        "year": pa.array([2024] * len(rows), pa.int32()), "payer": ["Medicare"] * len(rows),
        "accountable_npi": [r[1] for r in rows], "facility_npi": ["H"] * len(rows),
    })
    return con.create_table("outcomes", t)


def test_outcome_results_count_exclusions_missing_and_rates(con) -> None:
    res = outcome_results(_outcomes(con), {"hip_knee.complication_90d": True,
                                           "hip_knee.length_of_stay": False,
                                           "hip_knee.hoos_jr_change": False})
    df = res.to_pandas().set_index(["measure", "entity_type", "entity_id"])
    overall = df.loc[("hip_knee.complication_90d", "overall", "all")]
    # 6 cycles; censored + excluded = 2 exclusions; 4 measured; 2 events -> 50%
    assert (overall.denominator, overall.exclusions, overall.performance_denominator,
            overall.numerator) == (6, 2, 4, 2)
    assert overall.rate == pytest.approx(0.5)
    assert overall.completeness == pytest.approx(1.0)
    a = df.loc[("hip_knee.complication_90d", "clinician", "A")]
    assert (a.denominator, a.exclusions, a.numerator) == (4, 1, 1)
    assert a.rate == pytest.approx(1 / 3)
    los = df.loc[("hip_knee.length_of_stay", "overall", "all")]
    assert los.mean_value == pytest.approx(3.0) and los.rate != los.rate  # NaN: no rate
    prom = df.loc[("hip_knee.hoos_jr_change", "overall", "all")]
    assert (prom.missing, prom.performance_denominator) == (1, 0)
    assert prom.completeness == pytest.approx(0.0)
    assert str(overall.period_start)[:10] == "2024-01-01"


def test_readmission_results(con) -> None:
    t = pa.table({
        "stay_id": ["s1", "s2", "s3", "s4"], "payer": ["M", "M", "M", "C"],
        "facility_npi": ["H1", "H1", "H2", "H2"],
        "discharge_date": pa.array([date(2024, 3, 1)] * 4, pa.date32()),
        "index_eligible": [True, True, False, True],
        "readmitted_30d": pa.array([True, False, None, False], pa.bool_()),
    })
    df = readmission_results(con.create_table("r", t)).to_pandas().set_index(
        ["entity_type", "entity_id"])
    o = df.loc[("overall", "all")]
    assert (o.denominator, o.exclusions, o.numerator, o.performance_denominator) == (4, 1, 1, 3)
    assert o.rate == pytest.approx(1 / 3)
    assert df.loc[("facility", "H1")].rate == pytest.approx(0.5)


def _lines(con) -> ibis.Table:
    d = date(2024, 2, 1)
    rows = [
        # person, npi, hcpcs, allowed, paid, svc, category2, claim_type, active
        ("p1", "PCP1", "99213", "100.00", "80.00", d, "office visit", "professional", True),
        ("p1", "PCP1", "99214", "150.00", "120.00", d, "office visit", "professional", True),
        ("p1", "PCP2", "99215", "200.00", "160.00", d, "office visit", "professional", True),
        ("p1", "SPEC", "99215", "900.00", "700.00", d, "office visit", "professional", True),
        ("p1", "RAD", "71046", "40.00", "30.00", d, "imaging", "professional", True),
        ("p1", "ER", "99284", "300.00", "250.00", d, "emergency department", "professional",
         True),
        ("p1", "ER", "99284", "300.00", "250.00", d, "emergency department", "professional",
         True),
        # a claim and its reversal: both inactive (prepare_lines), amounts net to zero
        ("p2", "SPEC", "99213", "90.00", "70.00", d, "office visit", "professional", False),
        ("p2", "SPEC", "99213", "-90.00", "-70.00", d, "office visit", "professional", False),
    ]
    t = pa.table({
        "person_id": [r[0] for r in rows], "rendering_npi": [r[1] for r in rows],
        "hcpcs_code": [r[2] for r in rows],
        "allowed_amount": pa.array([Decimal(r[3]) for r in rows], MONEY),
        "paid_amount": pa.array([Decimal(r[4]) for r in rows], MONEY),
        "svc_date": pa.array([r[5] for r in rows], pa.date32()),
        "service_category_1": ["office-based"] * len(rows),
        "service_category_2": [r[6] for r in rows], "claim_type": [r[7] for r in rows],
        "active": [r[8] for r in rows], "payer": ["M"] * len(rows),
    })
    return con.create_table("lines", t)


def test_attribution_prefers_primary_care_by_allowed_amount(con) -> None:
    lines = _lines(con)
    prov = con.create_table("prov", pa.table({
        "npi": ["PCP1", "PCP2", "SPEC"],
        "provider_type": ["primary_care", "primary_care", "specialist"]}))
    att = attribution(lines, prov).to_pandas().set_index("person_id")
    # p1: PCP1 allowed 250 > PCP2 200; the specialist's 900 is step 2 only
    assert att.loc["p1", "provider_npi"] == "PCP1" and att.loc["p1", "step"] == 1
    # p2: the specialist visit was reversed: no active primary-care service, no attribution
    assert "p2" not in att.index


def test_utilization_per_1000_and_pmpm(con) -> None:
    lines = _lines(con)
    stays = con.create_table("stays", pa.table({
        "person_id": ["p1"], "payer": ["M"],
        "admit_date": pa.array([date(2024, 5, 1)], pa.date32())}))
    mm = con.create_table("mm", pa.table({
        "person_id": ["p1"] * 12 + ["p2"] * 6,
        "year": pa.array([2024] * 18, pa.int32()),
        "year_month": [f"2024{m:02d}" for m in range(1, 13)] + [f"2024{m:02d}"
                                                                for m in range(1, 7)],
        "payer": ["M"] * 18}))
    att = con.create_table("att", pa.table({
        "person_id": ["p1"], "year": pa.array([2024], pa.int32()), "provider_npi": ["PCP1"]}))
    util, pm = utilization_tables(lines, stays, mm, att)
    u = util.to_pandas().set_index(["entity_type", "entity_id"])
    o = u.loc[("overall", "all")]
    # 18 member months; 1 admission -> 1 / 18 * 12,000 = 666.6667; ED: 2 lines, one day -> 1
    assert o.member_months == 18 and o.admissions == 1 and o.ed_visits == 1
    assert o.admissions_per_1000 == pytest.approx(666.6667)
    assert o.imaging_studies == 1
    # paid: 80+120+160+700+30+250+250+70-70 = 1590.00 over 18 months = 88.33
    assert o.paid_amount == Decimal("1590.00") and o.pmpm_paid == Decimal("88.33")
    prov = u.loc[("provider", "PCP1")]
    assert prov.member_months == 12 and prov.paid_amount == Decimal("1590.00")
    assert prov.pmpm_paid == Decimal("132.50")
    p = pm.to_pandas()
    ed = p[(p.entity_type == "overall") & (p.service_category_2 == "emergency department")]
    assert ed.paid_amount.iloc[0] == Decimal("500.00")
