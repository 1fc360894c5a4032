"""Rates, prices and skews of a 3,000-member, 3-year population against published ranges.

Ranges are deliberately wider than the point targets in docs/synthetic-data.md because a
3,000-member sample is noisy (a few hundred admissions per payer type).
"""

from __future__ import annotations

import math

import duckdb
import pytest

PER_1000 = """
with mm as (select payer_type, count(*) mm from member_months group by 1),
adm as (select payer_type, count(distinct claim_id) n from medical_claim
        where bill_type_code = '111' and adjustment_type = 'original' group by 1),
ed as (select payer_type, count(distinct claim_id) n from medical_claim
       where bill_type_code = '131' and revenue_center_code = '0450'
         and adjustment_type = 'original' group by 1),
cost as (select payer_type, sum(allowed_amount) a from medical_claim group by 1)
select mm.payer_type, adm.n * 12000.0 / mm, ed.n * 12000.0 / mm, cost.a / mm
from mm join adm using (payer_type) join ed using (payer_type) join cost using (payer_type)
"""


@pytest.fixture(scope="module")
def rates(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, float, float]]:
    return {r[0]: (float(r[1]), float(r[2]), float(r[3]))
            for r in con.execute(PER_1000).fetchall()}


@pytest.mark.parametrize(("payer_type", "low", "high"), [
    ("medicare", 220, 340),            # MedPAC data book 2023: ~250-300 per 1,000 FFS
    ("medicare advantage", 170, 320),  # MA somewhat below FFS (MedPAC / KFF)
    ("commercial", 35, 85),            # HCCI 2021: ~50-60 per 1,000
    ("medicaid", 60, 130),             # MACPAC / HCUP: ~80-100 per 1,000 incl. deliveries
])
def test_admissions_per_1000(rates: dict, payer_type: str, low: float, high: float) -> None:
    """Acute admissions (bill type 111, originals) per 1,000 member-years by payer type."""
    assert low <= rates[payer_type][0] <= high


@pytest.mark.parametrize(("payer_type", "low", "high"), [
    ("medicare", 450, 750),            # CMS geographic variation PUF: ~550-650 per 1,000
    ("commercial", 120, 260),          # HCCI: ~150-200 per 1,000
    ("medicaid", 450, 900),            # NHAMCS / MACPAC: ~700 per 1,000
])
def test_ed_visits_per_1000(rates: dict, payer_type: str, low: float, high: float) -> None:
    """ED visits (facility claims with revenue 0450) per 1,000 member-years."""
    assert low <= rates[payer_type][1] <= high


@pytest.mark.parametrize(("payer_type", "low", "high"), [
    ("medicare", 650, 1300),   # CMS FFS A+B per capita ~$1,000 PMPM (see docs for the gap)
    ("commercial", 330, 650),  # HCCI 2021 ~$500 PMPM incl. Rx; medical only here
    ("medicaid", 170, 600),    # KFF per-enrollee acute-care spending, no LTSS
])
def test_medical_allowed_pmpm(rates: dict, payer_type: str, low: float, high: float) -> None:
    """Medical allowed dollars per member-month (net of reversals and adjustments)."""
    assert low <= rates[payer_type][2] <= high


def test_commercial_prices_exceed_medicare(con: duckdb.DuckDBPyConnection) -> None:
    """RAND round 5: commercial pays hospitals ~2.2-2.5x Medicare for the same service; we
    compare the allowed amount of the ED facility line 99284 by payer type."""
    r = dict(con.execute("""
        select payer_type, median(allowed_amount) from medical_claim
        where hcpcs_code = '99284' and revenue_center_code = '0450'
          and adjustment_type = 'original' group by 1""").fetchall())
    ratio = float(r["commercial"]) / float(r["medicare"])
    assert 1.8 <= ratio <= 3.0


def test_spending_is_heavy_tailed(con: duckdb.DuckDBPyConnection) -> None:
    """AHRQ MEPS: the top 5% of people account for ~50% of spending (we accept >= 35%
    for a 3,000-member sample; see docs) and the top 1% for well over 10%."""
    top5, top1 = con.execute("""
        with pc as (select person_id, sum(allowed_amount) a from medical_claim group by 1),
        r as (select a, row_number() over (order by a desc) rn from pc),
        n as (select count(*) n from member)
        select sum(case when rn <= (select n from n) * 0.05 then a end) / sum(a),
               sum(case when rn <= (select n from n) * 0.01 then a end) / sum(a) from r
    """).fetchone()
    assert float(top5) >= 0.35
    assert float(top1) >= 0.10


def test_joint_replacement_episode_cost_medicare(con: duckdb.DuckDBPyConnection) -> None:
    """CMS CJR / BPCI-A: a DRG 470 episode (index stay + surgeon + 90 days post-acute) costs
    Medicare ~$20k-30k; we accept a mean of $17k-32k over the sample's episodes."""
    mean, n = con.execute("""
        select avg(c.true_cost_cents) / 100, count(*) from care_cycles c
        join medical_claim m on m.claim_id = c.trigger_claim_id and m.claim_line_number = 1
        where c.condition = 'hip_knee' and m.payer_type = 'medicare'""").fetchone()
    assert n >= 15
    assert 17_000 <= mean <= 32_000


def test_index_drg_470_payment(con: duckdb.DuckDBPyConnection) -> None:
    """IPPS FY2023: DRG 470 pays ~$13-16k with add-ons; regional and hospital variation."""
    med = con.execute("""
        select median(a) from (select claim_id, sum(allowed_amount) a from medical_claim
        where drg_code = '470' and payer_type = 'medicare' and adjustment_type = 'original'
        group by 1)""").fetchone()[0]
    assert 11_000 <= float(med) <= 19_000


def test_surgeon_volume_is_skewed(con: duckdb.DuckDBPyConnection) -> None:
    """Real systems: a few high-volume surgeons do most joint replacements; the top 10%
    of orthopedic surgeons (by count of surgeons in the directory) must do > 40%."""
    counts = [r[0] for r in con.execute("""
        select count(*) from care_cycles where condition = 'hip_knee'
        group by accountable_npi order by 1 desc""").fetchall()]
    n_surgeons = con.execute("select count(*) from provider "
                             "where specialty = 'orthopedic surgery'").fetchone()[0]
    top = math.ceil(0.1 * n_surgeons)
    assert sum(counts[:top]) / sum(counts) > 0.40


def test_age_mix_is_medicare_heavy_with_children(con: duckdb.DuckDBPyConnection) -> None:
    """Population design: ~55-60% Medicare (65+ mostly), children present (~8-15%)."""
    old, kids = con.execute("""
        select avg((date_diff('year', birth_date, date '2023-01-01') >= 65)::int),
               avg((date_diff('year', birth_date, date '2023-01-01') < 18)::int) from member
    """).fetchone()
    assert 0.40 <= old <= 0.65
    assert 0.05 <= kids <= 0.20


def test_mortality_is_plausible(con: duckdb.DuckDBPyConnection) -> None:
    """SSA life tables: Medicare-age annual mortality ~4-5%; overall population here
    ~2-4% a year; every death in member has a row in death and vice versa."""
    rate = con.execute("select avg(death_flag) / 3 from member").fetchone()[0]
    assert 0.015 <= rate <= 0.05
    mismatch = con.execute("""
        select count(*) from member m full join death d using (person_id)
        where (m.death_flag = 1) <> (d.person_id is not null)
           or m.death_date <> d.death_date""").fetchone()[0]
    assert mismatch == 0
