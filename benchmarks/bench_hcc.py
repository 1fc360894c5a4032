"""Throughput of CMS-HCC scoring in the engine versus hccinfhir called per member.

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_hcc.py --members 200000 --sample 2000

Builds a random Medicare population (every segment, dual code and OREC; Poisson(4)
diagnosis codes drawn from the V24/V28 crosswalks, 10% with 8 more), writes it to
Parquet, scores it with :func:`valuecare.risk.hcc_scores` on DuckDB (result written to
Parquet, so every row is computed), then scores a sample with ``hccinfhir.calculate_raf``
one member at a time, checks the sample agrees, and prints members per second for both.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from valuecare.risk import hcc_scores, load_tables

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # hccinfhir's importlib use
    from hccinfhir.model_calculate import calculate_raf
    from hccinfhir.utils import load_coefficients, load_dx_to_cc_mapping, load_hierarchies


def population(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pool = np.array(sorted(set(load_tables("V24", 2026).dx_to_cc.diagnosis_code)
                           | set(load_tables("V28", 2026).dx_to_cc.diagnosis_code)))
    ids = np.char.add("B", np.char.zfill(np.arange(n).astype(str), 8))
    persons = pd.DataFrame({
        "person_id": ids,
        "age": rng.integers(20, 101, n),
        "sex": rng.choice(["M", "F"], n),
        "dual_elgbl_cd": rng.choice(["00", "00", "00", "01", "02", "03", "08"], n),
        "orec": rng.choice(["0", "0", "0", "1"], n),
        "lti": rng.random(n) < 0.03,
        "new_enrollee": rng.random(n) < 0.05,
        "snp": False,
    })
    k = rng.poisson(4, n) + (rng.random(n) < 0.1) * 8
    dx = pd.DataFrame({"person_id": np.repeat(ids, k),
                       "diagnosis_code": rng.choice(pool, int(k.sum()))})
    return persons, dx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1_000_000, help="members to score")
    ap.add_argument("--sample", type=int, default=2_000, help="members for hccinfhir")
    ap.add_argument("--model", default="V28", choices=["V24", "V28"])
    ap.add_argument("--year", type=int, default=2026, help="payment year of the tables")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t0 = time.perf_counter()
    persons, dx = population(args.members, args.seed)
    print(f"population: {len(persons):,} members, {len(dx):,} diagnoses "
          f"({time.perf_counter() - t0:.1f} s to generate)")

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        persons.to_parquet(d / "persons.parquet")
        dx.to_parquet(d / "dx.parquet")
        con = ibis.duckdb.connect()
        p = con.read_parquet(d / "persons.parquet")
        x = con.read_parquet(d / "dx.parquet")
        t0 = time.perf_counter()
        expr = hcc_scores(p, x, model=args.model, payment_year=args.year,
                          normalization_factor=1.0, coding_adjustment=0.0)
        con.to_parquet(expr, d / "scores.parquet")
        engine_s = time.perf_counter() - t0
        scores = pd.read_parquet(d / "scores.parquet")
    assert len(scores) == len(persons)
    engine_rate = len(persons) / engine_s
    print(f"engine (DuckDB): {engine_s:.2f} s, {engine_rate:,.0f} members/s")

    sample = persons.sample(min(args.sample, len(persons)), random_state=args.seed)
    codes = (dx[dx.person_id.isin(sample.person_id)]
             .groupby("person_id")["diagnosis_code"].apply(list).to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tables = dict(dx_to_cc_mapping=load_dx_to_cc_mapping(f"ra_dx_to_cc_{args.year}.csv"),
                      hierarchies_mapping=load_hierarchies(f"ra_hierarchies_{args.year}.csv"),
                      coefficients_mapping=load_coefficients(
                          f"ra_coefficients_{args.year}.csv"))
    t0 = time.perf_counter()
    oracle = {}
    for r in sample.itertuples(index=False):
        oracle[r.person_id] = calculate_raf(
            codes.get(r.person_id, []), model_name=f"CMS-HCC Model {args.model}",
            age=int(r.age), sex=r.sex, dual_elgbl_cd=r.dual_elgbl_cd, orec=r.orec,
            new_enrollee=bool(r.new_enrollee), snp=bool(r.snp), lti=bool(r.lti),
            **tables).risk_score
    per_member_s = time.perf_counter() - t0
    per_member_rate = len(sample) / per_member_s
    print(f"hccinfhir per member: {per_member_s:.2f} s for {len(sample):,}, "
          f"{per_member_rate:,.0f} members/s")
    got = scores.set_index("person_id").raw_score.loc[list(oracle)]
    diff = float(np.max(np.abs(got.to_numpy() - np.array(list(oracle.values())))))
    print(f"sample agreement: max |engine - hccinfhir| = {diff:.2e} over {len(oracle):,}")
    print(f"ratio engine / hccinfhir: {engine_rate / per_member_rate:,.1f}x")


if __name__ == "__main__":
    main()
