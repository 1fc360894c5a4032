"""Planted truth: present, linked to real claims, and recoverable from the claims."""

from __future__ import annotations

import duckdb


def test_reversals_net_to_zero(con: duckdb.DuckDBPyConnection) -> None:
    """A reversal repeats its original's lines with negated amounts (medical and pharmacy),
    so original + reversal nets to zero line by line; ~1-2% of claims are reversed."""
    for t in ("medical_claim", "pharmacy_claim"):
        bad = con.execute(f"""
            select count(*) from {t} r join {t} o
              on o.claim_id = r.original_claim_id and o.claim_line_number = r.claim_line_number
            where r.adjustment_type = 'reversal'
              and (o.allowed_amount + r.allowed_amount <> 0 or o.paid_amount + r.paid_amount <> 0
                   or o.charge_amount + r.charge_amount <> 0)""").fetchone()[0]
        assert bad == 0, t
        share, orphans = con.execute(f"""
            select count(distinct claim_id) filter (where adjustment_type = 'reversal')
                   / count(distinct claim_id) filter (where adjustment_type = 'original'),
                   count(*) filter (where adjustment_type <> 'original' and original_claim_id
                                    not in (select claim_id from {t}))
            from {t}""").fetchone()
        assert 0.008 <= share <= 0.03, t
        assert orphans == 0


def test_paid_not_above_allowed_and_signs(con: duckdb.DuckDBPyConnection) -> None:
    """Schema rules amount_sign and paid_not_above_allowed; charges are 2-5x allowed."""
    bad = con.execute("""
        select count(*) from medical_claim where abs(paid_amount) > abs(allowed_amount)
           or (adjustment_type <> 'reversal' and (paid_amount < 0 or allowed_amount < 0))
           or (adjustment_type = 'reversal' and allowed_amount > 0)""").fetchone()[0]
    assert bad == 0
    ratio = con.execute("""select sum(charge_amount) / sum(allowed_amount) from medical_claim
                           where adjustment_type = 'original'""").fetchone()[0]
    assert 2.0 <= float(ratio) <= 5.0


def test_care_cycles_link_to_claims(con: duckdb.DuckDBPyConnection) -> None:
    """Every planted cycle's trigger claim exists for the same person; all seven conditions
    are present; joint-replacement triggers are DRG 469/470 stays with a 0SR PCS code."""
    missing = con.execute("""
        select count(*) from care_cycles c left join medical_claim m
          on m.claim_id = c.trigger_claim_id and m.person_id = c.person_id
        where m.claim_id is null""").fetchone()[0]
    assert missing == 0
    conds = {r[0] for r in con.execute("select distinct condition from care_cycles").fetchall()}
    assert conds == {"hip_knee", "cabg", "breast_cancer", "diabetes", "heart_failure",
                     "low_back_pain", "depression"}
    bad = con.execute("""
        select count(*) from care_cycles c join medical_claim m
          on m.claim_id = c.trigger_claim_id and m.claim_line_number = 1
        where c.condition = 'hip_knee'
          and (m.drg_code not in ('469', '470') or m.procedure_code_1 not like '0SR%')
    """).fetchone()[0]
    assert bad == 0


def test_low_value_imaging_is_planted_and_recoverable(con: duckdb.DuckDBPyConnection) -> None:
    """Each low-value row is a lumbar imaging line (72148/72100) within 42 days of a low
    back pain visit by the recorded NPI; planted orderers image LBP far more (65% vs 12%)."""
    bad = con.execute("""
        select count(*) from low_value_services l join medical_claim i
          on i.claim_id = l.claim_id and i.claim_line_number = l.claim_line_number
        where i.hcpcs_code not in ('72148', '72100') or not exists (
          select 1 from medical_claim v where v.person_id = i.person_id
            and v.rendering_npi = l.npi and v.diagnosis_code_1 like 'M54%'
            and i.claim_start_date between v.claim_start_date and v.claim_start_date + 42)
    """).fetchone()[0]
    assert bad == 0
    rates = dict(con.execute("""
        with visits as (
          select c.cycle_id, c.accountable_npi npi from care_cycles c
          where condition = 'low_back_pain'),
        imaged as (select distinct claim_id from low_value_services)
        select p.low_value_orderer, count(distinct l.claim_id) * 1.0 / count(distinct v.cycle_id)
        from visits v join provider_truth p on p.npi = v.npi
        left join low_value_services l on l.npi = v.npi
        group by 1""").fetchall())
    assert rates[True] > 2 * rates[False]


def test_upcoded_codes_are_unsupported(con: duckdb.DuckDBPyConnection) -> None:
    """Upcoded diagnoses sit on claims rendered by planted upcoders, and the member does not
    have the condition anywhere else (no other claim carries that condition's codes)."""
    n, not_upcoder = con.execute("""
        select count(*), count(*) filter (where not p.upcoder)
        from upcoded_diagnoses u join provider_truth p using (npi)""").fetchone()
    assert n >= 20
    assert not_upcoder == 0
    on_claim = con.execute("""
        select count(*) from upcoded_diagnoses u where not exists (
          select 1 from medical_claim m where m.claim_id = u.claim_id
            and u.code in (diagnosis_code_2, diagnosis_code_3, diagnosis_code_4,
                           diagnosis_code_5, diagnosis_code_6, diagnosis_code_7,
                           diagnosis_code_8))""").fetchone()[0]
    assert on_claim == 0
    supported = con.execute("""
        select count(*) from upcoded_diagnoses u join medical_claim m on m.claim_id = u.claim_id
        where u.code = 'E1122' and exists (select 1 from medical_claim x
          where x.person_id = m.person_id and x.diagnosis_code_1 like 'E11%')""").fetchone()[0]
    assert supported == 0


def test_surgeon_quality_drives_outcomes(con: duckdb.DuckDBPyConnection) -> None:
    """Planted: complication probability scales with the surgeon's complication_mult, so
    cycles of surgeons with mult >= 1.5 have more complications than those <= 0.8."""
    hi, lo = con.execute("""
        select avg(c.complication::int) filter (where p.complication_mult >= 1.5),
               avg(c.complication::int) filter (where p.complication_mult <= 0.8)
        from care_cycles c join provider_truth p on p.npi = c.accountable_npi
        where c.condition in ('hip_knee', 'cabg', 'heart_failure')""").fetchone()
    assert hi > lo


def test_proms_items_and_followup_nonresponse(con: duckdb.DuckDBPyConnection) -> None:
    """HOOS JR has 6 items and KOOS JR 7 (0-4); PROMIS-10 10 items; baseline within 90 days
    before surgery; ~70% one-year response; scores are labelled raw."""
    items = dict(con.execute("""
        select panel_id, count(distinct source_code) from observation
        where observation_type = 'prom_item' group by 1""").fetchall())
    assert items == {"HOOS_JR": 6, "KOOS_JR": 7, "PROMIS10": 10}
    rng = con.execute("""select min(result_numeric), max(result_numeric) from observation
                         where panel_id in ('HOOS_JR', 'KOOS_JR')
                           and observation_type = 'prom_item'""").fetchone()
    assert rng == (0.0, 4.0)
    assert con.execute("""select count(*) from observation where observation_type =
        'prom_score' and panel_id <> 'PHQ9' and source_code not like '%RAW'""").fetchone()[0] == 0
    pre, post = con.execute("""
        with jr as (select c.person_id, c.trigger_claim_id, m.claim_start_date surgery
                    from care_cycles c join medical_claim m on m.claim_id = c.trigger_claim_id
                     and m.claim_line_number = 1 where c.condition = 'hip_knee'),
        o as (select distinct person_id, observation_date from observation
              where source_code in ('HOOS_JR.RAW', 'KOOS_JR.RAW'))
        select avg(exists (select 1 from o where o.person_id = jr.person_id and
                   o.observation_date between surgery - 90 and surgery - 1)::int),
               avg(exists (select 1 from o where o.person_id = jr.person_id and
                   o.observation_date between surgery + 300 and surgery + 430)::int)
        from jr where surgery < date '2025-01-01'""").fetchone()
    assert pre >= 0.75
    assert 0.4 <= post <= 0.85


def test_hba1c_results_for_lab_claims(con: duckdb.DuckDBPyConnection) -> None:
    """Each HbA1c result (LOINC 4548-4) belongs to an 83036 lab claim of the same person."""
    bad = con.execute("""
        select count(*) from observation o where source_code = '4548-4' and not exists (
          select 1 from medical_claim m where m.claim_id = o.encounter_id
            and m.person_id = o.person_id and m.hcpcs_code = '83036')""").fetchone()[0]
    n = con.execute("select count(*) from observation where source_code = '4548-4'"
                    ).fetchone()[0]
    assert n > 500
    assert bad == 0
