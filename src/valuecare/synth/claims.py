"""Medical claim assembly: service generators add claims here; ``finalize`` prices them,
drops what falls outside enrollment or after death, plants upcoding, adds reversals and
adjustments, and returns the canonical Arrow table with the truth it implies.

Claims are built from *header arrays* (one element per claim) and *line specs* (one spec
per line position, applied to every claim of the batch, optionally masked), so a batch of
a million claims is a handful of numpy operations, never a loop per claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from valuecare.model.schema import MEDICAL_CLAIM
from valuecare.model.types import arrow_schema
from valuecare.synth import params as P
from valuecare.synth.config import DATA_SOURCE
from valuecare.synth.members import Members
from valuecare.synth.providers import Providers
from valuecare.synth.util import (
    cents_round,
    date_array,
    money_array,
    month_index,
    prefixed_ids,
    str_array,
)

MAX_DX = 8
MONEY_COLS = ("charge_amount", "allowed_amount", "paid_amount", "coinsurance_amount",
              "copayment_amount", "deductible_amount")
#: Share of claims later reversed (~1.5%) and share of reversals followed by a corrected
#: adjustment claim (CMS CCLF data show ~1-3% of claims adjusted; approximate).
REVERSAL_RATE = 0.015
ADJUSTMENT_AFTER_REVERSAL = 0.6

_HEADER_DEFAULTS: dict[str, Any] = {
    "claim_type": "professional", "bill_type": None, "pos": None, "drg": None,
    "admit": False, "disposition": None, "admit_type": None, "admit_source": None,
    "dx1": None, "dx2": None, "dx3": None, "dx2_poa": None, "px1": None, "px2": None,
    "rendering": -1, "billing": -1, "facility": -1, "cycle": -1, "em": False,
    "plist": True,
}
_LINE_DEFAULTS: dict[str, Any] = {
    "hcpcs": None, "rev": None, "units": 1, "cents": 0.0, "offset": 0, "span": False,
    "mod": None, "lv": False, "lv_npi": -1,
}


def _full(value: Any, n: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        if len(value) != n:
            raise ValueError(f"array of length {len(value)} where {n} expected")
        return value
    if value is None or isinstance(value, str):
        return np.full(n, value, dtype=object)
    return np.full(n, value)


def _starts(values: np.ndarray, prefix: str) -> np.ndarray:
    """Vectorised ``str.startswith`` over an object array with None (None gives False)."""
    arr = pc.starts_with(str_array(values), prefix).fill_null(False)
    return arr.to_numpy(zero_copy_only=False).astype(bool)


def _cat(parts: list[dict[str, np.ndarray]], defaults: dict[str, Any], n_of: str
         ) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    keys = set(defaults) | {k for p in parts for k in p}
    for k in keys:
        arrs = [p[k] if k in p else _full(defaults[k], len(p[n_of])) for p in parts]
        out[k] = np.concatenate(arrs) if arrs else np.empty(0)
    return out


class ClaimBuilder:
    """Collects claims of one chunk."""

    def __init__(self) -> None:
        self.headers: list[dict[str, np.ndarray]] = []
        self.lines: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, header: dict[str, Any], lines: list[dict[str, Any]]) -> np.ndarray:
        """Add ``len(header['person'])`` claims; returns their sequence numbers."""
        n = len(header["person"])
        seq = np.arange(self.n, self.n + n, dtype=np.int64)
        if n == 0:
            return seq
        self.n += n
        h = {k: _full(v, n) for k, v in header.items()}
        h["seq"] = seq
        self.headers.append(h)
        for j, spec in enumerate(lines):
            present = spec.get("present")
            idx = np.arange(n) if present is None else np.flatnonzero(present)
            if len(idx) == 0:
                continue
            line = {k: _full(v, n)[idx] for k, v in spec.items() if k != "present"}
            line["seq"] = seq[idx]
            line["order"] = np.full(len(idx), j, dtype=np.int64)
            self.lines.append(line)
        return seq


@dataclass
class MedicalResult:
    table: pa.Table
    cents: dict[str, int]                  # money totals (integer cents) per column
    claim_id_of_seq: np.ndarray            # object array: seq -> claim_id (None if dropped)
    upcoded: pa.Table
    low_value: pa.Table
    cycle_cost: dict[int, int]             # cycle number -> net allowed cents
    adm_person: np.ndarray                 # kept inpatient admissions (bill type 11x)
    adm_start: np.ndarray
    cycle_of_line: np.ndarray              # planted cycle number of each table row (-1 none)


def finalize(b: ClaimBuilder, m: Members, prov: Providers, months: np.ndarray,
             start_year: int, chunk: int, rng: np.random.Generator,
             person_ids: pa.Array, member_ids: pa.Array) -> MedicalResult:
    H = _cat(b.headers, _HEADER_DEFAULTS | {"person": 0, "start": 0, "end": 0}, "seq")
    order = np.argsort(H["seq"], kind="stable")
    H = {k: v[order] for k, v in H.items()}
    L = _cat(b.lines, _LINE_DEFAULTS, "seq")
    lo = np.lexsort((L["order"], L["seq"]))
    L = {k: v[lo] for k, v in L.items()}

    # ---- keep claims that start inside an enrolled month, on or before death
    person = H["person"].astype(np.int64)
    start = H["start"].astype(np.int64)
    mi = month_index(start, start_year)
    inside = (mi >= 0) & (mi < months.shape[1])
    payer = np.full(len(person), -1, dtype=np.int64)
    payer[inside] = months[person[inside], mi[inside]]
    keep = (payer >= 0) & (start <= m.death[person])
    new_index = np.cumsum(keep) - 1
    n_keep = int(keep.sum())
    H = {k: v[keep] for k, v in H.items()}
    person, start, payer = person[keep], start[keep], payer[keep]
    end = np.minimum(np.maximum(H["end"].astype(np.int64), start), m.death[person])
    line_keep = keep[L["seq"]]
    L = {k: v[line_keep] for k, v in L.items()}
    lc = new_index[L["seq"]]                           # line -> kept claim index
    claim_ids = prefixed_ids("C", chunk * 1_000_000_000 + np.arange(n_keep), 14)
    claim_id_np = np.array(claim_ids.to_pylist(), dtype=object)
    claim_id_of_seq = np.full(len(keep), None, dtype=object)
    claim_id_of_seq[keep] = claim_id_np

    # ---- diagnoses: explicit codes, then the member's problem list, packed, deduplicated
    nc = n_keep
    plist = m.cond_codes()
    D = np.full((nc, MAX_DX), None, dtype=object)
    D[:, 0], D[:, 1], D[:, 2] = H["dx1"], H["dx2"], H["dx3"]
    use_pl = H["plist"].astype(bool)
    k = min(MAX_DX - 3, plist.shape[1])
    D[:, 3:3 + k] = np.where(use_pl[:, None], plist[person, :k], None)
    valid = D != None  # noqa: E711
    for j in range(1, MAX_DX):
        for i in range(j):
            valid[:, j] &= D[:, j] != D[:, i]
    D = np.where(valid, D, None)
    pack = np.argsort(~valid, axis=1, kind="stable")
    D = np.take_along_axis(D, pack, axis=1)
    n_dx = valid.sum(axis=1)

    # ---- upcoding: planted unsupported HCC codes on E/M claims of upcoding clinicians
    rend = H["rendering"].astype(np.int64)
    is_up = H["em"].astype(bool) & (rend >= 0) & prov.upcoder[np.maximum(rend, 0)]
    is_up &= rng.random(nc) < P.UPCODE_PROB
    choice = rng.integers(0, len(P.UPCODE_CODES), nc)
    up_code = np.array([c for c, _ in P.UPCODE_CODES], dtype=object)[choice]
    up_cond = np.array([c for _, c in P.UPCODE_CODES])[choice]
    is_up &= ~m.cond[person, up_cond] & (n_dx < MAX_DX)
    up_rows = np.flatnonzero(is_up)
    D[up_rows, n_dx[up_rows]] = up_code[up_rows]
    upcoded = pa.table({
        "claim_id": str_array(claim_id_np[up_rows]),
        "npi": str_array(prov.npi[rend[up_rows]]),
        "code": str_array(up_code[up_rows]),
    })

    # ---- pricing per line (cents): base x payer x region x provider efficiency x noise
    inst = H["claim_type"] == "institutional"
    fac = H["facility"].astype(np.int64)
    bill = H["billing"].astype(np.int64)
    price_prov = np.where(inst, fac, np.where(rend >= 0, rend, bill))
    c_payer = payer[lc]
    factor = np.where(inst[lc], P.PRICE_INST[c_payer], P.PRICE_PROF[c_payer])
    factor = factor * P.REGION_PRICE[m.region[person[lc]]]
    pp = price_prov[lc]
    factor = factor * np.where(pp >= 0, prov.cost[np.maximum(pp, 0)], 1.0)
    factor = factor * np.exp(rng.normal(0, 0.06, len(lc)))
    allowed = cents_round(L["cents"].astype(np.float64) * factor)
    ratio = rng.uniform(2.0, 5.0, nc)
    charge = cents_round(allowed * ratio[lc])
    ptype = P.PAYER_TYPE_OF[c_payer]
    first_line = np.ones(len(lc), dtype=bool)
    first_line[1:] = lc[1:] != lc[:-1]
    inpatient = _starts(H["bill_type"], "11")
    ded = np.where(inpatient[lc] & first_line,
                   np.minimum(P.INPATIENT_DEDUCTIBLE[ptype], allowed), 0)
    is_em = _starts(L["hcpcs"], "992")
    copay = np.where(is_em, np.minimum(P.COPAY_CENTS[ptype], allowed), 0)
    coins_rate = np.where(inpatient[lc], 0.0, P.COINSURANCE[ptype])
    coins = np.where(copay > 0, 0, cents_round((allowed - ded) * coins_rate))
    paid = allowed - ded - copay - coins

    line_number = np.arange(len(lc)) - np.searchsorted(lc, lc, side="left") + 1
    paid_day = end + rng.integers(10, 46, nc)
    line_start = np.where(L["span"].astype(bool), start[lc], start[lc] + L["offset"])
    line_start = np.minimum(line_start, end[lc])
    line_end = np.where(L["span"].astype(bool), end[lc], line_start)

    # ---- columns (line grain; header fields repeated): header-level arrays are converted
    # once per claim and expanded with Arrow's take; small vocabularies go through
    # dictionary arrays, so nothing walks a Python object per line.
    lc_pa = pa.array(lc)
    nl = len(lc)

    def hs(values: np.ndarray) -> pa.Array:
        return str_array(values).take(lc_pa)

    def vocab(idx: np.ndarray, values: np.ndarray) -> pa.Array:
        ind = pa.array(np.maximum(idx, 0).astype(np.int32), mask=idx < 0)
        return pa.DictionaryArray.from_arrays(ind, str_array(values)).cast(pa.string())

    def const(value: str) -> pa.Array:
        return vocab(np.zeros(nl, dtype=np.int64), np.array([value], dtype=object))

    admit = H["admit"].astype(bool)
    pidx = pa.array(person[lc])
    cols: dict[str, pa.Array] = {
        "claim_id": claim_ids.take(lc_pa),
        "claim_line_number": pa.array(line_number, pa.int64()),
        "claim_type": hs(H["claim_type"]),
        "person_id": person_ids.take(pidx),
        "member_id": member_ids.take(pidx),
        "payer": vocab(c_payer, np.array([p[0] for p in P.PAYERS], dtype=object)),
        "payer_type": vocab(ptype, np.array(P.PAYER_TYPES, dtype=object)),
        "plan": vocab(c_payer, np.array([p[1] for p in P.PAYERS], dtype=object)),
        "claim_start_date": date_array(start[lc]),
        "claim_end_date": date_array(end[lc]),
        "claim_line_start_date": date_array(line_start),
        "claim_line_end_date": date_array(line_end),
        "admission_date": date_array(start[lc], admit[lc]),
        "discharge_date": date_array(end[lc], admit[lc]),
        "admit_source_code": hs(H["admit_source"]),
        "admit_type_code": hs(H["admit_type"]),
        "discharge_disposition_code": hs(H["disposition"]),
        "place_of_service_code": hs(H["pos"]),
        "bill_type_code": hs(H["bill_type"]),
        "drg_code_type": hs(np.where(H["drg"] != None, "ms-drg", None)),  # noqa: E711
        "drg_code": hs(H["drg"]),
        "revenue_center_code": str_array(L["rev"]),
        "service_unit_quantity": pa.array(L["units"].astype(np.int64)),
        "hcpcs_code": str_array(L["hcpcs"]),
        "hcpcs_modifier_1": str_array(L["mod"]),
        "rendering_npi": vocab(rend[lc], prov.npi),
        "billing_npi": vocab(bill[lc], prov.npi),
        "rendering_tin": vocab(rend[lc], prov.tin),
        "billing_tin": vocab(bill[lc], prov.tin),
        "facility_npi": vocab(fac[lc], prov.npi),
        "paid_date": date_array(paid_day[lc]),
        "in_network_flag": pa.array(np.ones(nl, dtype=np.int64)),
        "diagnosis_code_type": const("icd-10-cm"),
        "data_source": const(DATA_SOURCE),
    }
    money = {"charge_amount": charge, "allowed_amount": allowed, "paid_amount": paid,
             "coinsurance_amount": coins, "copayment_amount": copay, "deductible_amount": ded}
    for j in range(MAX_DX):
        cols[f"diagnosis_code_{j + 1}"] = hs(D[:, j])
    poa = np.where(inpatient[:, None] & (D != None), "Y", None)  # noqa: E711
    dx2_poa = H["dx2_poa"]
    has_poa2 = inpatient & (dx2_poa != None) & (D[:, 1] != None)  # noqa: E711
    poa[has_poa2, 1] = dx2_poa[has_poa2]
    for j in range(MAX_DX):
        cols[f"diagnosis_poa_{j + 1}"] = hs(poa[:, j])
    has_px = H["px1"] != None  # noqa: E711
    cols["procedure_code_type"] = hs(np.where(has_px, "icd-10-pcs", None))
    cols["procedure_code_1"] = hs(H["px1"])
    cols["procedure_date_1"] = date_array(start[lc], has_px[lc])
    has_px2 = H["px2"] != None  # noqa: E711
    cols["procedure_code_2"] = hs(H["px2"])
    cols["procedure_date_2"] = date_array(start[lc], has_px2[lc])

    # ---- low-value truth (before reversals are appended)
    lv = np.flatnonzero(L["lv"].astype(bool))
    low_value = pa.table({
        "claim_id": str_array(claim_id_np[lc[lv]]),
        "claim_line_number": pa.array(line_number[lv], pa.int64()),
        "npi": str_array(prov.npi[L["lv_npi"][lv].astype(np.int64)]),
        "rule": str_array(np.full(len(lv), P.LBP_RULE, dtype=object)),
    })

    # ---- reversals and adjustments
    table, money, cycle_line = _with_adjustments(
        cols, money, claim_id_np, lc, H["cycle"].astype(np.int64)[lc], paid_day, chunk,
        n_keep, rng)
    cents = {k: int(v.sum()) for k, v in money.items()}
    allowed_all = money["allowed_amount"]
    has_cycle = cycle_line >= 0
    cyc, inv = np.unique(cycle_line[has_cycle], return_inverse=True)
    sums = np.bincount(inv, weights=allowed_all[has_cycle].astype(np.float64), minlength=len(cyc))
    # float sums of integer cents are exact below 2**53
    cycle_cost = {int(c): int(round(s)) for c, s in zip(cyc, sums, strict=True)}
    return MedicalResult(table, cents, claim_id_of_seq, upcoded, low_value, cycle_cost,
                         person[inpatient], start[inpatient], cycle_line)


def _with_adjustments(cols: dict[str, pa.Array], money: dict[str, np.ndarray],
                      claim_id_np: np.ndarray, lc: np.ndarray, cycle_line: np.ndarray,
                      paid_day: np.ndarray, chunk: int, n_keep: int,
                      rng: np.random.Generator
                      ) -> tuple[pa.Table, dict[str, np.ndarray], np.ndarray]:
    n_lines = len(lc)
    rev_claims = np.flatnonzero(rng.random(n_keep) < REVERSAL_RATE)
    adj_claims = rev_claims[rng.random(len(rev_claims)) < ADJUSTMENT_AFTER_REVERSAL]
    rev_new = np.full(n_keep, -1, dtype=np.int64)
    rev_new[rev_claims] = np.arange(len(rev_claims))
    adj_new = np.full(n_keep, -1, dtype=np.int64)
    adj_new[adj_claims] = np.arange(len(adj_claims))
    rev_lines = np.flatnonzero(rev_new[lc] >= 0)
    adj_lines = np.flatnonzero(adj_new[lc] >= 0)
    rev_ids = prefixed_ids("C", chunk * 1_000_000_000 + n_keep + np.arange(len(rev_claims)), 14)
    adj_ids = prefixed_ids(
        "C", chunk * 1_000_000_000 + n_keep + len(rev_claims) + np.arange(len(adj_claims)), 14)
    rev_paid = paid_day + rng.integers(30, 91, n_keep)
    adj_paid = rev_paid + rng.integers(0, 11, n_keep)
    factor = rng.uniform(0.8, 1.1, n_keep)

    extra_idx = pa.array(np.concatenate([rev_lines, adj_lines]))
    n_new = len(rev_lines) + len(adj_lines)
    extra: dict[str, pa.Array] = {k: v.take(extra_idx) for k, v in cols.items()}
    extra["claim_id"] = pa.concat_arrays([
        rev_ids.take(pa.array(rev_new[lc[rev_lines]])),
        adj_ids.take(pa.array(adj_new[lc[adj_lines]]))]).cast(pa.string())
    extra["paid_date"] = date_array(np.concatenate([rev_paid[lc[rev_lines]],
                                                    adj_paid[lc[adj_lines]]]))
    extra["adjustment_type"] = str_array(np.concatenate([
        np.full(len(rev_lines), "reversal", dtype=object),
        np.full(len(adj_lines), "adjustment", dtype=object)]))
    extra["original_claim_id"] = str_array(np.concatenate([
        claim_id_np[lc[rev_lines]], claim_id_np[lc[adj_lines]]]))
    base = dict(cols)
    base["adjustment_type"] = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n_lines, dtype=np.int32)), pa.array(["original"])).cast(pa.string())
    new_money: dict[str, np.ndarray] = {}
    for k, v in money.items():
        added = np.concatenate([-v[rev_lines], cents_round(v[adj_lines] * factor[lc[adj_lines]])])
        new_money[k] = np.concatenate([v, added])
        base[k] = money_array(v)
        extra[k] = money_array(added)
    cyc = np.concatenate([cycle_line, cycle_line[rev_lines], cycle_line[adj_lines]])
    schema = arrow_schema(MEDICAL_CLAIM)

    def assemble(parts: dict[str, pa.Array], total: int) -> pa.Table:
        nulls: dict[pa.DataType, pa.Array] = {}
        arrays = []
        for f in schema:
            if f.name in parts:
                arr = parts[f.name]
                arrays.append(arr.cast(f.type) if arr.type != f.type else arr)
            else:
                if f.type not in nulls:
                    nulls[f.type] = pa.nulls(total, f.type)
                arrays.append(nulls[f.type])
        return pa.Table.from_arrays(arrays, schema=schema)

    table = pa.concat_tables([assemble(base, n_lines), assemble(extra, n_new)])
    return table, new_money, cyc


