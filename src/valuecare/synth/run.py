"""The generator's entry point: ``generate(config, out, progress)``."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from valuecare._version import __version__
from valuecare.model.schema import DEATH, MEMBER, TABLES
from valuecare.model.types import arrow_schema
from valuecare.synth import claims_chronic, claims_surgery, claims_utilization, faults
from valuecare.synth import costing as synth_costing
from valuecare.synth import params as P
from valuecare.synth.claims import finalize
from valuecare.synth.config import DATA_SOURCE, GENERATOR_VERSION, SynthConfig
from valuecare.synth.context import Context
from valuecare.synth.costing_truth import chunk_truth
from valuecare.synth.cycles import cycles_table
from valuecare.synth.enrollment import (
    build_months,
    eligibility_table,
    member_ids,
    person_ids,
    truncate_at_death,
)
from valuecare.synth.members import Members, build_members
from valuecare.synth.observations import observation_table
from valuecare.synth.pharmacy import pharmacy_claims
from valuecare.synth.providers import build_providers
from valuecare.synth.util import (
    S_FAULTS,
    S_FINALIZE,
    S_OBS,
    S_PHARMACY,
    S_UTIL,
    date_array,
    rng_for,
    str_array,
)
from valuecare.synth.writer import (
    TruthWriter,
    csv_bytes,
    decimal_cents,
    fmt_cents,
    part_path,
    text_money_cents,
    write_part,
)

Progress = Callable[[str, int, int], None]
CANONICAL = ("member", "eligibility", "provider", "medical_claim", "pharmacy_claim",
             "observation", "death")
TRUTH = ("provider_truth", "care_cycles", "low_value_services", "upcoded_diagnoses",
         "cycle_costs", "service_costs", "facility_costing", "costing_capacity")


def _member_table(m: Members, pid: pa.Array, end_day: int) -> pa.Table:
    died = m.death < end_day
    st = np.array([s[0] for s in P.STATES], dtype=object)[m.state]
    cols = {
        "person_id": pid,
        "sex": str_array(np.array(["male", "female"], dtype=object)[m.sex]),
        "race": str_array(np.array(P.RACES, dtype=object)[m.race]),
        "ethnicity": str_array(np.array(P.ETHNICITIES, dtype=object)[m.hispanic]),
        "birth_date": date_array(m.birth),
        "death_date": date_array(np.where(died, m.death, 0), died),
        "death_flag": pa.array(died.astype(np.int64)),
        "state": str_array(st),
        "zip_code": str_array(np.char.mod("%05d", m.zip5).astype(object)),
        "zip3": str_array(np.char.mod("%03d", m.zip5 // 100).astype(object)),
        "region": str_array(np.array(P.REGIONS, dtype=object)[m.region]),
        "dual_status_code": str_array(m.dual_code),
        "food_insecurity": pa.array(m.social[:, 0]),
        "housing_instability": pa.array(m.social[:, 1]),
        "transportation_barrier": pa.array(m.social[:, 2]),
        "data_source": str_array(np.full(m.n, DATA_SOURCE, dtype=object)),
        "file_name": pa.nulls(m.n, pa.string()),
    }
    schema = arrow_schema(MEMBER)
    return pa.table([cols[f.name] for f in schema], schema=schema)


def _death_table(m: Members, pid: pa.Array, end_day: int) -> pa.Table:
    died = np.flatnonzero(m.death < end_day)
    cols = {
        "person_id": pid.take(pa.array(died)),
        "death_date": date_array(m.death[died]),
        "death_source": str_array(m.death_source[died]),
        "data_source": str_array(np.full(len(died), DATA_SOURCE, dtype=object)),
        "file_name": pa.nulls(len(died), pa.string()),
    }
    schema = arrow_schema(DEATH)
    return pa.table([cols[f.name] for f in schema], schema=schema)


class _Output:
    """Writes parts (injecting faults when dirty) and keeps row counts and money totals."""

    def __init__(self, cfg: SynthConfig, out: Path) -> None:
        self.cfg, self.out = cfg, out
        self.rows = {t: 0 for t in CANONICAL}
        self.files: dict[str, list[str]] = {t: [] for t in CANONICAL}
        self.cents: dict[str, dict[str, int]] = {
            t: {c: 0 for c in TABLES[t].money_columns} for t in CANONICAL}
        self.non_numeric: dict[str, dict[str, int]] = {
            t: {c: 0 for c in TABLES[t].money_columns} for t in CANONICAL}
        self.faults = faults.FaultLog()

    def write(self, name: str, table: pa.Table, part: int) -> None:
        path = part_path(self.out, name, part, self.cfg.fmt)
        rel = path.relative_to(self.out).as_posix()
        self.files[name].append(rel)
        if not self.cfg.dirty:
            write_part(table, path, self.cfg.fmt)
            self.rows[name] += table.num_rows
            for c in self.cents[name]:
                self.cents[name][c] += decimal_cents(table.column(c))
            return
        rng = rng_for(self.cfg.seed, part, S_FAULTS * 100 + CANONICAL.index(name))
        text = faults.inject(name, table, rel, rng, self.faults, part == 0)
        self.rows[name] += text.num_rows
        for c in self.cents[name]:
            if c in text.column_names:
                cents, bad = text_money_cents(text.column(c))
                self.cents[name][c] += cents
                self.non_numeric[name][c] += bad
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(faults.latin1(csv_bytes(text)))

    def manifest(self, truth_rows: dict[str, int], truth_files: dict[str, str]
                 ) -> dict[str, Any]:
        tables = {}
        for t in CANONICAL:
            entry: dict[str, Any] = {"rows": self.rows[t], "files": self.files[t]}
            if self.cents[t]:
                entry["money"] = {c: fmt_cents(v) for c, v in self.cents[t].items()}
                entry["money_cents"] = dict(self.cents[t])
                if self.cfg.dirty:
                    entry["non_numeric_amounts"] = dict(self.non_numeric[t])
            tables[t] = entry
        return {
            "generator": "valuecare.synth",
            "generator_version": GENERATOR_VERSION,
            "package_version": __version__,
            "data_source": DATA_SOURCE,
            "config": self.cfg.as_dict(),
            "format": self.cfg.fmt,
            "tables": tables,
            "truth": {k: {"file": truth_files[k], "rows": truth_rows[k]} for k in truth_rows},
            "money_note": "sums of the values written, exact to the cent; in dirty mode "
                          "cells that are not plain amounts are counted in "
                          "non_numeric_amounts and left out of the sums",
        }


def generate(config: SynthConfig, out: Path | str, progress: Progress | None = None
             ) -> dict[str, Any]:
    """Generate a synthetic population into ``out`` and return a summary.

    Writes one folder per canonical table (``out/<table>/part-NNNNN.<fmt>``), planted
    truth under ``out/truth/`` and ``out/manifest.json``.  Same config -> same bytes.
    """
    t0 = time.perf_counter()
    cfg = config
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda step, done, total: None)
    sink = _Output(cfg, out)
    prov = build_providers(cfg.seed, cfg.members)
    plan = synth_costing.plan(cfg.seed, prov)
    sink.write("provider", prov.table, 0)
    report("providers", 1, 1)
    ext = cfg.fmt
    truth = {t: TruthWriter(out / "truth" / f"{t}.{ext}", ext) for t in TRUTH}
    truth["provider_truth"].write(prov.truth)
    end_day = int((np.datetime64(f"{cfg.start_year + cfg.years}-01-01") -
                   np.datetime64("1970-01-01")).astype(int))
    for chunk in range(cfg.n_chunks):
        offset = chunk * cfg.chunk_size
        n = min(cfg.chunk_size, cfg.members - offset)
        tables, truths = _chunk(cfg, chunk, offset, n, prov, end_day, plan)
        for name in CANONICAL:
            if name in tables:
                sink.write(name, tables[name], chunk)
        for name, t in truths.items():
            truth[name].write(t)
        del tables, truths
        gc.collect()
        pa.default_memory_pool().release_unused()  # keep the peak to one chunk
        report("members", offset + n, cfg.members)
    costing_files, costing_truth = synth_costing.finish(
        plan, prov, out, list(range(cfg.start_year, cfg.start_year + cfg.years)))
    for name, t in costing_truth.items():
        truth[name].write(t)
    for w in truth.values():
        w.close()
    if cfg.dirty:
        fpath = out / "truth" / "faults.csv"
        fpath.write_bytes(csv_bytes(sink.faults.table()))
    manifest = sink.manifest({k: w.rows for k, w in truth.items()},
                             {k: f"truth/{k}.{ext}" for k in truth})
    manifest["costing"] = {"files": costing_files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - t0
    report("done", 1, 1)
    return {
        "rows": dict(sink.rows),
        "money": {t: v["money"] for t, v in manifest["tables"].items() if "money" in v},
        "truth_rows": {k: w.rows for k, w in truth.items()},
        "faults": len(sink.faults.rows),
        "elapsed_seconds": round(elapsed, 3),
        "out": str(out),
    }


def _chunk(cfg: SynthConfig, chunk: int, offset: int, n: int, prov: Any, end_day: int,
           plan: synth_costing.CostingPlan
           ) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    m = build_members(cfg.seed, chunk, offset, n, cfg.start_year, cfg.years, prov)
    months = build_months(cfg.seed, chunk, m, cfg.start_year, cfg.years)
    pid, mid = person_ids(offset, n), member_ids(offset, n)
    ctx = Context(cfg.seed, chunk, cfg.start_year, cfg.years, m, prov, months,
                  rng_for(cfg.seed, chunk, S_UTIL), episode_scale=cfg.episode_scale)
    # procedures and admissions first: their planted deaths end enrollment
    claims_surgery.joint_replacement(ctx)
    claims_surgery.cabg(ctx)
    claims_surgery.breast_cancer(ctx)
    claims_chronic.heart_failure(ctx)
    claims_utilization.general_admissions(ctx)
    truncate_at_death(months, m, cfg.start_year)
    claims_utilization.everyday(ctx)
    claims_chronic.diabetes(ctx)
    claims_chronic.depression(ctx)
    claims_chronic.low_back_pain(ctx)
    med = finalize(ctx.claims, m, prov, months, cfg.start_year, chunk,
                   rng_for(cfg.seed, chunk, S_FINALIZE), pid, mid)
    ctx.rng = rng_for(cfg.seed, chunk, S_PHARMACY)
    rx, _ = pharmacy_claims(ctx, pid, mid)
    ctx.rng = rng_for(cfg.seed, chunk, S_OBS)
    obs = observation_table(ctx, med.claim_id_of_seq, pid)
    tables = {
        "member": _member_table(m, pid, end_day),
        "eligibility": eligibility_table(months, m, cfg.start_year, pid, mid),
        "medical_claim": med.table,
        "pharmacy_claim": rx,
        "observation": obs,
        "death": _death_table(m, pid, end_day),
    }
    truths = {
        "care_cycles": cycles_table(ctx, med, pid, end_day),
        "low_value_services": med.low_value,
        "upcoded_diagnoses": med.upcoded,
        **chunk_truth(plan, ctx, med, pid),
    }
    return tables, truths
