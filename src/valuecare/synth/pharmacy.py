"""Pharmacy claims: maintenance fills for chronic conditions plus acute fills.

Allowed amounts per 30 days are rounded 2023 list-to-net approximations (generics ~$5-10,
insulin glargine ~$280, GLP-1 ~$900, SGLT2 ~$550, ARNI ~$600; CMS Part D prescriber PUF
cost per 30-day fill).  Adherence ~80% of intervals filled (PDC; CMS Star measures).
NDCs are illustrative 11-digit codes (labeler-product-package shape), not real products.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from valuecare.model.schema import PHARMACY_CLAIM
from valuecare.model.types import arrow_schema
from valuecare.synth import params as P
from valuecare.synth.config import DATA_SOURCE
from valuecare.synth.context import Context
from valuecare.synth.util import cents_round, date_array, money_array, prefixed_ids, str_array

C = P.COND
#: class, NDC, cents per 30 days, condition (or -1 for special), share of those members,
#: generic?, daily quantity
DRUGS: tuple[tuple[str, str, int, int, float, bool, int], ...] = (
    ("metformin", "00093104801", 800, C["diabetes"], 0.75, True, 2),
    ("insulin", "00088221905", 28000, -2, 1.0, False, 1),
    ("glp1", "00169413013", 90000, C["diabetes"], 0.15, False, 1),
    ("sglt2", "00597015230", 55000, C["diabetes"], 0.12, False, 1),
    ("statin", "00071015523", 800, C["cad"], 0.65, True, 1),
    ("ace_inhibitor", "00172375880", 600, C["hypertension"], 0.5, True, 1),
    ("calcium_channel_blocker", "00069152066", 600, C["hypertension"], 0.35, True, 1),
    ("loop_diuretic", "00054429725", 500, C["heart_failure"], 0.7, True, 1),
    ("beta_blocker", "00007414020", 800, C["heart_failure"], 0.6, True, 2),
    ("arni", "00078065920", 60000, C["heart_failure"], 0.25, False, 2),
    ("ssri", "00093717856", 900, C["depression"], 0.6, True, 1),
    ("lama_inhaler", "00597007541", 45000, C["copd"], 0.4, False, 1),
    ("aromatase_inhibitor", "00310020130", 1500, -3, 0.7, True, 1),
)
REVERSAL_RATE = 0.02


def pharmacy_claims(ctx: Context, person_ids: pa.Array, member_ids: pa.Array
                    ) -> tuple[pa.Table, dict[str, int]]:
    m, rng = ctx.m, ctx.rng
    pairs_p, pairs_d = [], []
    for k, (_, _, _, cond, share, _, _) in enumerate(DRUGS):
        if cond >= 0:
            on = m.cond[:, cond] & (rng.random(m.n) < share)
        elif cond == -2:
            on = ctx.insulin if ctx.insulin is not None else np.zeros(m.n, bool)
            on = on & m.cond[:, C["diabetes"]]
        else:
            on = np.zeros(m.n, bool)
            if ctx.extra_breast is not None:
                bp, _ = ctx.extra_breast
                on[bp[rng.random(len(bp)) < share]] = True
        idx = np.flatnonzero(on)
        pairs_p.append(idx)
        pairs_d.append(np.full(len(idx), k))
    # statins also for diabetics (ADA), acute antibiotics as drug -1 handled below
    person = np.concatenate(pairs_p)
    drug = np.concatenate(pairs_d)
    ds = np.where(rng.random(len(person)) < 0.35, 90, 30)
    start = ctx.start + (rng.random(len(person)) * ds).astype(np.int64)
    if ctx.extra_breast is not None:
        bp, sday = ctx.extra_breast
        first_day = np.full(m.n, ctx.start)
        first_day[bp] = sday + 30
        start = np.maximum(start, first_day[person])
    span = ctx.end - ctx.start
    nfill = np.maximum(1, (span // ds).astype(np.int64))
    rep = np.repeat(np.arange(len(person)), nfill)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(nfill) - nfill, nfill)
    stretch = 1.0 + rng.random(len(person)) * 0.12
    days = start[rep] + np.rint(k * ds[rep] * stretch[rep]).astype(np.int64)
    keep = (days < ctx.end) & (rng.random(len(rep)) < 0.82)
    p, d, dg, dsup = person[rep][keep], days[keep], drug[rep][keep], ds[rep][keep]
    # acute fills (antibiotics etc.): ~0.5 a member-year
    ap, ad = ctx.events(np.full((m.n, ctx.years), 0.5))
    p = np.concatenate([p, ap])
    d = np.concatenate([d, ad])
    dg = np.concatenate([dg, np.full(len(ap), len(DRUGS))])
    dsup = np.concatenate([dsup, np.full(len(ap), 10)])
    ok = ctx.alive_covered(p, d)
    p, d, dg, dsup = p[ok], d[ok], dg[ok], dsup[ok]
    order = np.lexsort((d, p))
    p, d, dg, dsup = p[order], d[order], dg[order], dsup[order]
    n = len(p)

    classes = np.array([x[0] for x in DRUGS] + ["antibiotic"], dtype=object)
    ndcs = np.array([x[1] for x in DRUGS] + ["00093310905"], dtype=object)
    c30 = np.array([x[2] for x in DRUGS] + [1000], dtype=np.float64)
    generic = np.array([x[5] for x in DRUGS] + [True])
    qty_day = np.array([x[6] for x in DRUGS] + [2])
    from valuecare.synth.util import month_index
    mi = np.clip(month_index(d, ctx.start_year), 0, ctx.months.shape[1] - 1)
    payer = ctx.months[p, mi].astype(np.int64)
    ptype = P.PAYER_TYPE_OF[payer]
    factor = np.array([1.0, 0.97, 1.05, 0.9])[ptype] * np.exp(rng.normal(0, 0.05, n))
    allowed = cents_round(c30[dg] * np.where(dsup == 10, 1.0, dsup / 30) * factor)
    copay = np.where(generic[dg], np.array([500, 300, 1000, 100])[ptype],
                     np.array([4700, 4500, 4000, 300])[ptype])
    copay = np.minimum(copay, allowed)
    coins = np.zeros(n, dtype=np.int64)
    ded = np.zeros(n, dtype=np.int64)
    paid = allowed - copay
    charge = cents_round(allowed * rng.uniform(1.1, 1.6, n))
    pharm = ctx.pick("pharmacy", p)
    prescriber = ctx.m.pcp[p]
    paid_day = d + rng.integers(14, 31, n)
    ids = prefixed_ids("R", ctx.chunk * 1_000_000_000 + np.arange(n), 14)
    ids_np = np.asarray(ids.to_pylist(), dtype=object)

    rev = np.flatnonzero(rng.random(n) < REVERSAL_RATE)
    rev_ids = prefixed_ids("R", ctx.chunk * 1_000_000_000 + n + np.arange(len(rev)), 14)
    allr = np.concatenate([np.arange(n), rev])
    sign = np.concatenate([np.ones(n, np.int64), -np.ones(len(rev), np.int64)])
    names = np.array([x[0] for x in P.PAYERS], dtype=object)
    plans = np.array([x[1] for x in P.PAYERS], dtype=object)
    pids = pa.array(p[allr])
    total = len(allr)
    money = {"charge_amount": charge[allr] * sign, "allowed_amount": allowed[allr] * sign,
             "paid_amount": paid[allr] * sign, "coinsurance_amount": coins[allr] * sign,
             "copayment_amount": copay[allr] * sign, "deductible_amount": ded[allr] * sign}
    cols: dict[str, pa.Array] = {
        "claim_id": pa.concat_arrays([ids, rev_ids]).cast(pa.string()),
        "claim_line_number": pa.array(np.ones(total, np.int64)),
        "person_id": person_ids.take(pids),
        "member_id": member_ids.take(pids),
        "payer": str_array(names[payer[allr]]),
        "payer_type": str_array(np.array(P.PAYER_TYPES, dtype=object)[ptype[allr]]),
        "plan": str_array(plans[payer[allr]]),
        "prescribing_provider_npi": str_array(ctx.prov.npi[prescriber[allr]]),
        "dispensing_provider_npi": str_array(ctx.prov.npi[pharm[allr]]),
        "dispensing_date": date_array(d[allr]),
        "ndc_code": str_array(ndcs[dg[allr]]),
        "drug_class": str_array(classes[dg[allr]]),
        "quantity": pa.array((qty_day[dg] * dsup)[allr].astype(np.int64)),
        "days_supply": pa.array(dsup[allr].astype(np.int64)),
        "refills": pa.array(np.minimum(k_refill(p, dg), 11)[allr]),
        "paid_date": date_array(np.concatenate([paid_day, paid_day[rev] + 7])),
        "adjustment_type": str_array(np.concatenate([
            np.full(n, "original", object), np.full(len(rev), "reversal", object)])),
        "original_claim_id": str_array(np.concatenate([
            np.full(n, None, object), ids_np[rev]])),
        "data_source": str_array(np.full(total, DATA_SOURCE, dtype=object)),
        "file_name": pa.nulls(total, pa.string()),
    }
    for name, v in money.items():
        cols[name] = money_array(v)
    schema = arrow_schema(PHARMACY_CLAIM)
    table = pa.table([cols[f.name] for f in schema], schema=schema)
    return table, {k: int(v.sum()) for k, v in money.items()}


def k_refill(person: np.ndarray, drug: np.ndarray) -> np.ndarray:
    """Refill number: position of the fill within its (person, drug) series (sorted input)."""
    key = person.astype(np.int64) * 64 + drug
    order = np.lexsort((np.arange(len(key)), key))
    sk = key[order]
    first = np.searchsorted(sk, sk, side="left")
    out = np.empty(len(key), dtype=np.int64)
    out[order] = np.arange(len(key)) - first
    return out
