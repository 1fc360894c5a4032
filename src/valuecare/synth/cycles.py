"""The planted care cycles as they really happened (truth/care_cycles).

Outcome flags are computed from what was finally written, so they are the truth an
analysis should recover: ``readmission_30d`` is any acute admission starting 1-30 days
after the index discharge; ``death_90d`` a death within 90 days of the index
procedure/admission; ``revision_2y`` a revision of the joint inside the data window;
``complication`` the planted complication.  Chronic-year cycles (diabetes, depression) and
low back pain episodes have no index stay: their flags are null.  ``true_cost_cents`` is
the net allowed amount (originals + reversals + adjustments) of the claims generated as
part of the cycle.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from valuecare.synth.claims import MedicalResult
from valuecare.synth.context import Context
from valuecare.synth.util import date_array, prefixed_ids, str_array


def _bool(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(np.where(valid, values, False).astype(bool), pa.bool_(), mask=~valid)


def cycles_table(ctx: Context, med: MedicalResult, pid: pa.Array, end_day: int) -> pa.Table:
    cols = ("cycle", "person", "start", "end", "trigger", "accountable", "facility",
            "index_day", "index_end", "revision")
    C = {k: np.concatenate([np.asarray(c[k], dtype=np.int64) for c in ctx.cycles])
         for k in cols} if ctx.cycles else {k: np.empty(0, np.int64) for k in cols}
    cond = np.concatenate([np.full(len(c["cycle"]), c["condition"], dtype=object)
                           for c in ctx.cycles]) if ctx.cycles else np.empty(0, object)
    comp = np.concatenate([np.asarray(c["complication"], dtype=object) for c in ctx.cycles]) \
        if ctx.cycles else np.empty(0, object)
    reop = np.concatenate([np.asarray(c["reoperation"], dtype=object) for c in ctx.cycles]) \
        if ctx.cycles else np.empty(0, object)
    order = np.argsort(C["cycle"])
    C = {k: v[order] for k, v in C.items()}
    cond, comp, reop = cond[order], comp[order], reop[order]
    n = len(C["cycle"])
    ids = med.claim_id_of_seq
    trigger = np.full(n, None, dtype=object)
    has_t = C["trigger"] >= 0
    trigger[has_t] = ids[C["trigger"][has_t]]

    # chronic years: trigger = earliest kept visit of the cycle
    if ctx.cycle_visits:
        V = {k: np.concatenate([v[k] for v in ctx.cycle_visits]) for k in ctx.cycle_visits[0]}
        kept = ids[V["seq"]] != None  # noqa: E711
        V = {k: v[kept] for k, v in V.items()}
        o = np.lexsort((V["day"], V["cycle"]))
        V = {k: v[o] for k, v in V.items()}
        first = np.ones(len(V["cycle"]), dtype=bool)
        first[1:] = V["cycle"][1:] != V["cycle"][:-1]
        pos = np.searchsorted(C["cycle"], V["cycle"][first])
        trigger[pos] = ids[V["seq"][first]]
        C["start"][pos] = V["day"][first]
        C["accountable"][pos] = V["doc"][first]
    keep = trigger != None  # noqa: E711
    m = ctx.m
    person = C["person"]
    end = np.minimum(np.minimum(C["end"], end_day - 1), m.death[person])

    # readmissions from the admissions actually written
    K = np.int64(1 << 20)
    akey = np.sort(med.adm_person.astype(np.int64) * K + med.adm_start)
    idx = C["index_end"] >= 0
    lo = person * K + C["index_end"] + 1
    hi = person * K + C["index_end"] + 30
    readmit = (np.searchsorted(akey, hi, side="right") - np.searchsorted(akey, lo, side="left")) > 0
    death90 = m.death[person] <= C["index_day"] + 90
    is_jr = cond == "hip_knee"
    rev_ok = np.zeros(n, dtype=bool)
    has_rev = C["revision"] >= 0
    rev_ok[has_rev] = ids[C["revision"][has_rev]] != None  # noqa: E711
    comp_valid = np.array([c is not None for c in comp], dtype=bool)
    reop_valid = np.array([c is not None for c in reop], dtype=bool)
    cost = np.array([med.cycle_cost.get(int(c), 0) for c in C["cycle"]], dtype=np.int64)
    prov = ctx.prov
    acc = C["accountable"]
    fac = C["facility"]
    table = pa.table({
        "cycle_id": prefixed_ids("CY", ctx.chunk * 100_000_000 + C["cycle"], 12),
        "person_id": pid.take(pa.array(person)),
        "condition": str_array(cond),
        "start_date": date_array(C["start"]),
        "end_date": date_array(np.maximum(end, C["start"])),
        "trigger_claim_id": str_array(trigger),
        "accountable_npi": str_array(np.where(acc >= 0, prov.npi[np.maximum(acc, 0)], None)),
        "facility_npi": str_array(np.where(fac >= 0, prov.npi[np.maximum(fac, 0)], None)),
        "complication": _bool(comp == True, comp_valid),  # noqa: E712
        "readmission_30d": _bool(readmit, idx),
        "death_90d": _bool(death90, idx),
        "revision_2y": _bool(rev_ok, is_jr),
        "reoperation": _bool(reop == True, reop_valid),  # noqa: E712
        "true_cost_cents": pa.array(cost, pa.int64()),
    })
    return table.filter(pa.array(keep))
