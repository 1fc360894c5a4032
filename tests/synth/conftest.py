"""Shared synthetic populations (generated once per test session)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from valuecare.synth import SynthConfig, generate


@pytest.fixture(scope="session")
def pop3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pop3000")
    generate(SynthConfig(members=3000, years=3, seed=7), out=out)
    return out


@pytest.fixture(scope="session")
def dirty500(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty500")
    generate(SynthConfig(members=500, years=2, seed=11, dirty=True), out=out)
    return out


@pytest.fixture(scope="session")
def con(pop3000: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for t in ("member", "eligibility", "provider", "medical_claim", "pharmacy_claim",
              "observation", "death"):
        c.execute(f"create view {t} as select * from read_parquet('{pop3000}/{t}/*.parquet')")
    for t in ("provider_truth", "care_cycles", "low_value_services", "upcoded_diagnoses"):
        c.execute(f"create view {t} as select * from read_parquet('{pop3000}/truth/{t}.parquet')")
    c.execute("""
        create view member_months as
        select e.person_id, e.payer_type,
               unnest(generate_series(date_trunc('month', e.enrollment_start_date),
                                      e.enrollment_end_date, interval 1 month)) as month
        from eligibility e""")
    return c
