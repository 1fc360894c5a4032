"""Members: demographics, geography, dual status, social needs, chronic conditions, deaths.

Vectorised over a chunk of members; every draw comes from the chunk's own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valuecare.synth import params as P
from valuecare.synth.providers import Providers
from valuecare.synth.util import S_MEMBERS, day, rng_for

NO_DEATH = np.iinfo(np.int32).max

#: Age mix per baseline payer type, as (band lower bounds, shares): Medicare is 65+
#: except ~12% disabled under-65 (MedPAC data book 2023); MA ~8% under 65; commercial and
#: Medicaid include children (KFF: ~40% of Medicaid enrollees are children).
_AGE_EDGES = np.array([0, 18, 45, 65, 75, 85, 100])
_AGE_MIX = {
    P.MEDICARE: np.array([0.0, 0.04, 0.08, 0.46, 0.29, 0.13]),
    P.MA: np.array([0.0, 0.02, 0.06, 0.49, 0.31, 0.12]),
    P.COMMERCIAL: np.array([0.22, 0.42, 0.36, 0.0, 0.0, 0.0]),
    P.MEDICAID: np.array([0.42, 0.36, 0.22, 0.0, 0.0, 0.0]),
}
#: Dual status codes among duals (CMS MMCO: ~70% full-benefit duals).
_DUAL_CODES = np.array(["02", "08", "04", "01", "03", "06"], dtype=object)
_DUAL_SHARE = np.array([0.38, 0.30, 0.04, 0.16, 0.08, 0.04])
#: Dual share among Medicare FFS and MA (MedPAC/MACPAC duals data book: ~19% / ~18%).
_DUAL_P = {P.MEDICARE: 0.20, P.MA: 0.16}


@dataclass
class Members:
    """A chunk of members as parallel arrays (index i = member i of the chunk)."""

    n: int
    offset: int
    sex: np.ndarray            # 0 male, 1 female
    birth: np.ndarray          # day number
    age0: np.ndarray           # age in years at the start of the window (float)
    race: np.ndarray
    hispanic: np.ndarray
    region: np.ndarray
    state: np.ndarray
    zip5: np.ndarray
    payer0: np.ndarray         # baseline payer index (params.PAYERS)
    dual: np.ndarray           # bool
    dual_code: np.ndarray      # object, None for non-dual
    reason: np.ndarray         # Medicare original reason for entitlement (0-3), -1 none
    esrd: np.ndarray           # bool: end-stage renal disease on dialysis
    social: np.ndarray         # n x 3 bool (food, housing, transportation)
    cond: np.ndarray           # n x len(CONDITIONS) bool
    frailty: np.ndarray        # utilisation multiplier (heavy-tailed)
    death: np.ndarray          # day number of death, NO_DEATH if alive at the end
    death_source: np.ndarray   # object
    pcp: np.ndarray            # provider index of the member's PCP
    hospital: np.ndarray       # provider index of the member's usual hospital
    _codes: np.ndarray | None = None

    def age_at(self, days: np.ndarray, person: np.ndarray) -> np.ndarray:
        return (days - self.birth[person]) / 365.25

    def cond_codes(self) -> np.ndarray:
        """n x C object array of each member's ICD-10-CM code per condition (or None),
        packed so that present codes come first (the member's problem list)."""
        if self._codes is not None:
            return self._codes
        rng = np.random.default_rng(self.offset + 17)
        out = np.full(self.cond.shape, None, dtype=object)
        for c, (_, codes) in enumerate(P.CONDITIONS):
            pick = np.array(codes, dtype=object)[rng.integers(0, len(codes), self.n)]
            out[:, c] = np.where(self.cond[:, c], pick, None)
        order = np.argsort(~self.cond, axis=1, kind="stable")
        self._codes = np.take_along_axis(out, order, axis=1)
        return self._codes


def _band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(P.AGE_BANDS, age, side="right") - 1


def build_members(seed: int, chunk: int, offset: int, n: int, start_year: int, years: int,
                  providers: Providers) -> Members:
    rng = rng_for(seed, chunk, S_MEMBERS)
    start = day(start_year)

    ptype = rng.choice(4, size=n, p=P.PAYER_TYPE_SHARE)
    payer0 = np.empty(n, dtype=np.int64)
    for t in range(4):
        sel = np.flatnonzero(ptype == t)
        cand = np.flatnonzero(t == P.PAYER_TYPE_OF)
        w = P.PAYER_WEIGHT[cand]
        payer0[sel] = rng.choice(cand, size=len(sel), p=w / w.sum())

    age0 = np.empty(n)
    for t in range(4):
        sel = np.flatnonzero(ptype == t)
        band = rng.choice(6, size=len(sel), p=_AGE_MIX[t])
        lo, hi = _AGE_EDGES[band], _AGE_EDGES[band + 1]
        if t in (P.MEDICARE, P.MA):  # 85+ thins out with age
            hi = np.where(band == 5, 99, hi)
        age0[sel] = lo + rng.random(len(sel)) * (hi - lo)
    birth = (start - age0 * 365.25).astype(np.int64)
    # Women are ~56% of Medicare 65+ (more at older ages) and ~51% otherwise (Census).
    p_female = np.where(age0 >= 75, 0.58, np.where(age0 >= 65, 0.54, 0.51))
    sex = (rng.random(n) < p_female).astype(np.int64)

    medicaid_like = ptype == P.MEDICAID
    dual = np.zeros(n, dtype=bool)
    for t, p in _DUAL_P.items():
        sel = ptype == t
        dual[sel] = rng.random(int(sel.sum())) < p * np.where(age0[sel] < 65, 2.2, 1.0)
    dual_code = np.where(dual, _DUAL_CODES[rng.choice(6, size=n, p=_DUAL_SHARE)], None)
    medicare_like = np.isin(ptype, [P.MEDICARE, P.MA])
    reason = np.where(medicare_like, np.where(age0 < 65, 1, 0), -1)
    esrd = medicare_like & (rng.random(n) < 0.012)
    reason = np.where(esrd, np.where(age0 < 65, 2, reason), reason)

    race = np.where(medicaid_like | dual,
                    rng.choice(7, size=n, p=P.RACE_SHARE_MEDICAID / P.RACE_SHARE_MEDICAID.sum()),
                    rng.choice(7, size=n, p=P.RACE_SHARE / P.RACE_SHARE.sum()))
    p_hisp = np.array([P.HISPANIC_SHARE[t] for t in range(4)])[ptype]
    hispanic = np.where(rng.random(n) < 0.03, 2, np.where(rng.random(n) < p_hisp, 0, 1))

    region = rng.choice(4, size=n, p=P.REGION_SHARE)
    st_region = np.array([s[1] for s in P.STATES])
    st_w = np.array([s[2] for s in P.STATES])
    state = np.empty(n, dtype=np.int64)
    for r in range(4):
        sel = np.flatnonzero(region == r)
        cand = np.flatnonzero(st_region == r)
        state[sel] = rng.choice(cand, size=len(sel), p=st_w[cand] / st_w[cand].sum())
    lo = np.array([s[3] for s in P.STATES])[state]
    hi = np.array([s[4] for s in P.STATES])[state]
    zip5 = (lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)) * 100 + rng.integers(0, 100, n)

    need_p = np.where((medicaid_like | dual)[:, None], P.SOCIAL_NEEDS["medicaid"],
                      np.where(medicare_like[:, None], P.SOCIAL_NEEDS["medicare"],
                               P.SOCIAL_NEEDS["low"]))
    # One latent 'hardship' factor correlates the three needs with each other.
    hardship = rng.random(n) < 0.5
    social = rng.random((n, 3)) < need_p * np.where(hardship, 1.6, 0.4)[:, None]

    band = _band(age0)
    prev = P.PREVALENCE[:, band].T * np.where((medicaid_like | dual)[:, None],
                                              P.MEDICAID_COND_MULT, 1.0)
    cond = rng.random(prev.shape) < prev
    hf, cad, htn = P.COND["heart_failure"], P.COND["cad"], P.COND["hypertension"]
    # Heart failure clusters with coronary disease and hypertension (Framingham).
    extra_hf = (cad_or := cond[:, cad] | cond[:, htn]) & (rng.random(n) < prev[:, hf] * 0.6)
    cond[:, hf] |= extra_hf
    cond[:, hf] &= cad_or | (rng.random(n) < 0.35)
    # Frailty: gamma(shape 0.3) x chronic-condition load -> heavy-tailed spending.
    frailty = rng.gamma(0.3, 1 / 0.3, n) * (1 + 0.22 * cond.sum(axis=1))

    # Deaths: annual Gompertz hazard, x2.5 with heart failure, x frailty (bounded).
    death = np.full(n, NO_DEATH, dtype=np.int64)
    for y in range(years):
        age = age0 + y
        q = np.clip(np.exp(P.GOMPERTZ_A + P.GOMPERTZ_B * age), 0.0004, 0.5)
        q = q * np.where(cond[:, hf], P.HF_MORTALITY_MULT, 1.0) * np.clip(frailty, 0.5, 2.0)
        q = q * np.where(cond[:, P.COND["ckd"]], 1.4, 1.0)
        dies = (death == NO_DEATH) & (rng.random(n) < q)
        death[dies] = day(start_year + y) + (rng.random(int(dies.sum())) * 365).astype(np.int64)
    death_source = np.where(rng.random(n) < 0.85, "enrollment", "registry").astype(object)

    pcp_role = np.where(age0 < 18, 2, np.where(rng.random(n) < 0.6, 0, 1))
    pcp = np.empty(n, dtype=np.int64)
    for k, role in enumerate(("pcp", "pcp_im", "pediatrics")):
        sel = np.flatnonzero(pcp_role == k)
        pcp[sel] = providers.pick(rng, role, region[sel], skew=0.3)
    hospital = providers.pick(rng, "hospital", region, skew=1.0)
    return Members(n, offset, sex, birth, age0, race, hispanic, region, state, zip5, payer0,
                   dual, dual_code, reason, esrd, social, cond, frailty, death, death_source,
                   pcp, hospital)
