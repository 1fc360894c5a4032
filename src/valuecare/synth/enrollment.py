"""Enrollment: a member x month payer matrix, and the eligibility spans it implies.

Churn follows published patterns, approximately: ~8-10% of members join after the start,
people switch payers at year boundaries (commercial ~8%/yr, Medicaid MCO ~5%, FFS->MA
~4%), Medicaid and commercial members have short mid-year gaps (MACPAC 2021 churn
brief: ~10% of Medicaid enrollees have a gap within a year), people aging in turn
Medicare-eligible in their 65th-birthday month, and enrollment ends with the month of death.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from valuecare.model.schema import ELIGIBILITY
from valuecare.model.types import arrow_schema
from valuecare.synth import params as P
from valuecare.synth.config import DATA_SOURCE
from valuecare.synth.members import NO_DEATH, Members
from valuecare.synth.util import (
    S_ENROLL,
    date_array,
    month_index,
    month_start,
    prefixed_ids,
    rng_for,
    str_array,
)

NONE = -1

#: Probability of switching payer at a year boundary by current payer type, and the
#: payer types switched to (MedPAC 2023: ~4% FFS->MA; KFF employer churn; MACPAC).
_SWITCH = {
    P.MEDICARE: (0.04, np.array([0.0, 1.0, 0.0, 0.0])),
    P.MA: (0.06, np.array([0.45, 0.55, 0.0, 0.0])),
    P.COMMERCIAL: (0.09, np.array([0.0, 0.0, 0.8, 0.2])),
    P.MEDICAID: (0.12, np.array([0.0, 0.0, 0.55, 0.45])),
}
_LEAVE = np.array([0.01, 0.02, 0.05, 0.06])   # leave the population per year
_GAP = np.array([0.0, 0.01, 0.04, 0.10])      # mid-year gap of 1-3 months per year
_NEW = 0.09                                   # share joining after the first month


def _choose_payer(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    out = np.empty(len(types), dtype=np.int64)
    for t in range(4):
        sel = np.flatnonzero(types == t)
        cand = np.flatnonzero(t == P.PAYER_TYPE_OF)
        w = P.PAYER_WEIGHT[cand]
        out[sel] = rng.choice(cand, size=len(sel), p=w / w.sum())
    return out


def build_months(seed: int, chunk: int, m: Members, start_year: int, years: int) -> np.ndarray:
    """n x (12*years) int8 matrix of payer index per month (-1: not enrolled)."""
    rng = rng_for(seed, chunk, S_ENROLL)
    n, nm = m.n, 12 * years
    months = np.full((n, nm), NONE, dtype=np.int8)
    payer = m.payer0.copy()
    active = np.ones(n, dtype=bool)
    first = np.where(rng.random(n) < _NEW, rng.integers(1, nm, n), 0)
    for y in range(years):
        if y > 0:
            ptype = P.PAYER_TYPE_OF[payer]
            u = rng.random(n)
            leave = u < _LEAVE[ptype]
            active &= ~leave
            sw_p = np.array([_SWITCH[t][0] for t in range(4)])[ptype]
            sw = active & (rng.random(n) < sw_p)
            new_type = np.empty(n, dtype=np.int64)
            for t in range(4):
                sel = np.flatnonzero(ptype == t)
                new_type[sel] = rng.choice(4, size=len(sel), p=_SWITCH[t][1])
            payer = np.where(sw, _choose_payer(rng, new_type), payer)
        block = np.where(active, payer, NONE)
        months[:, 12 * y:12 * y + 12] = block[:, None]
        gap = active & (rng.random(n) < _GAP[P.PAYER_TYPE_OF[payer]])
        g_start = rng.integers(0, 10, n)
        g_len = rng.integers(1, 4, n)
        cols = np.arange(12)[None, :]
        in_gap = gap[:, None] & (cols >= g_start[:, None]) & (cols < (g_start + g_len)[:, None])
        months[:, 12 * y:12 * y + 12][in_gap] = NONE
    months[np.arange(nm)[None, :] < first[:, None]] = NONE

    # Aging in: from the 65th-birthday month, non-Medicare members move to Medicare.
    bday65 = month_index(m.birth + int(65 * 365.25), start_year)
    ages_in = (bday65 >= 0) & (bday65 < nm) & (m.age0 < 65)
    new_ptype = np.where(rng.random(n) < 0.55, P.MEDICARE, P.MA)
    new_payer = _choose_payer(rng, new_ptype)
    after = (np.arange(nm)[None, :] >= bday65[:, None]) & ages_in[:, None]
    is_medicare = np.isin(P.PAYER_TYPE_OF[np.maximum(months, 0)], [P.MEDICARE, P.MA])
    switch = after & (months != NONE) & ~is_medicare
    months[switch] = np.broadcast_to(new_payer[:, None], months.shape)[switch]
    return months


def truncate_at_death(months: np.ndarray, m: Members, start_year: int) -> None:
    """Enrollment ends with the month of death (CMS: entitlement ends that month)."""
    dm = np.where(m.death == NO_DEATH, months.shape[1], month_index(m.death, start_year) + 1)
    months[np.arange(months.shape[1])[None, :] >= dm[:, None]] = NONE


def eligibility_table(months: np.ndarray, m: Members, start_year: int,
                      person_ids: pa.Array, member_ids: pa.Array) -> pa.Table:
    """One row per continuous span of the same payer (vectorised run-length encoding)."""
    n, nm = months.shape
    padded = np.concatenate([months, np.full((n, 1), -2, dtype=np.int8)], axis=1).ravel()
    change = np.empty(len(padded), dtype=bool)
    change[0] = True
    change[1:] = padded[1:] != padded[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(padded)) - 1
    vals = padded[starts]
    keep = vals >= 0
    starts, ends, vals = starts[keep], ends[keep], vals[keep].astype(np.int64)
    person = starts // (nm + 1)
    m0 = starts % (nm + 1)
    m1 = ends % (nm + 1)
    start_day = month_start(m0, start_year)
    end_day = month_start(m1 + 1, start_year) - 1

    ptype = P.PAYER_TYPE_OF[vals]
    medicare_like = np.isin(ptype, [P.MEDICARE, P.MA])
    age = (start_day - m.birth[person]) / 365.25
    reason = m.reason[person]
    reason = np.where(medicare_like & (reason < 0), np.where(age >= 65, 0, 1), reason)
    esrd = np.isin(reason, [2, 3]) | m.esrd[person]
    aged = age >= 65
    status = np.where(aged, np.where(esrd, "11", "10"),
                      np.where(reason == 2, "31", np.where(esrd, "21", "20")))
    dual_code = m.dual_code[person]
    # Those who aged in from Medicaid become duals (full benefit, code 08).
    from_medicaid = medicare_like & (dual_code == None) & (  # noqa: E711
        P.PAYER_TYPE_OF[m.payer0[person]] == P.MEDICAID)
    dual_code = np.where(from_medicaid, "08", dual_code)
    age_start_span = age < 65.0 + 1.0
    first_year_medicare = aged & age_start_span & (m.age0[person] < 65.0)
    institutional = medicare_like & (age >= 85) & (person % 23 == 0)
    enroll_status = np.where(
        esrd, "ESRD", np.where(institutional, "Institutional",
                               np.where(first_year_medicare, "New", "Continuing")))

    payer_names = np.array([p[0] for p in P.PAYERS], dtype=object)
    plan_names = np.array([p[1] for p in P.PAYERS], dtype=object)
    sex = np.array(["male", "female"], dtype=object)[m.sex[person]]
    k = len(person)
    cols: dict[str, pa.Array] = {
        "person_id": person_ids.take(pa.array(person)),
        "member_id": pa.compute.binary_join_element_wise(
            member_ids.take(pa.array(person)),
            str_array(np.char.mod("%02d", vals).astype(object)), "-"),
        "gender": str_array(sex),
        "birth_date": date_array(m.birth[person]),
        "enrollment_start_date": date_array(start_day),
        "enrollment_end_date": date_array(end_day),
        "payer": str_array(payer_names[vals]),
        "payer_type": str_array(np.array(P.PAYER_TYPES, dtype=object)[ptype]),
        "plan": str_array(plan_names[vals]),
        "original_reason_entitlement_code": str_array(
            np.where(medicare_like, reason.astype(str), None).astype(object)),
        "dual_status_code": str_array(np.where(medicare_like, dual_code, None).astype(object)),
        "medicare_status_code": str_array(np.where(medicare_like, status, None).astype(object)),
        "enrollment_status": str_array(
            np.where(medicare_like, enroll_status, None).astype(object)),
        "institutional_snp_flag": pa.array(np.where(ptype == P.MA, institutional, 0)
                                           .astype(np.int64), mask=~(ptype == P.MA)),
        "long_term_institutional_flag": pa.array(institutional.astype(np.int64),
                                                 mask=~medicare_like),
        "data_source": pa.array(np.full(k, DATA_SOURCE, dtype=object), pa.string()),
        "file_name": pa.nulls(k, pa.string()),
    }
    schema = arrow_schema(ELIGIBILITY)
    return pa.table([cols[f.name] for f in schema], schema=schema)


def person_ids(offset: int, n: int) -> pa.Array:
    """Person identifiers P0000001... unique across chunks (global member number)."""
    return prefixed_ids("P", np.arange(offset + 1, offset + n + 1), 7)


def member_ids(offset: int, n: int) -> pa.Array:
    return prefixed_ids("M", np.arange(offset + 1, offset + n + 1) * 7 + 1000003, 9)
