"""Providers and their planted latent quality and efficiency (generated once per seed).

Counts grow with the square root of the population (a bigger population is served by more
clinicians, each with more patients).  Volume weights are lognormal (sigma 1.4), so a few
high-volume surgeons and hospitals do most procedures and many do few, as in Medicare
data (e.g. Katz 2004 JBJS: most US surgeons do <12 TKAs a year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from valuecare.model.schema import PROVIDER
from valuecare.model.types import arrow_schema
from valuecare.synth.config import DATA_SOURCE
from valuecare.synth.params import REGION_SHARE, REGIONS, STATES
from valuecare.synth.util import S_PROVIDERS, npi_check_digit, rng_for, str_array

#: role, provider_type, specialty, facility_type, individual?, count per sqrt(members), min
ROLES: tuple[tuple[str, str, str, str | None, bool, float, int], ...] = (
    ("pcp", "primary_care", "family medicine", None, True, 1.2, 8),
    ("pcp_im", "primary_care", "internal medicine", None, True, 0.6, 4),
    ("pediatrics", "primary_care", "pediatrics", None, True, 0.3, 4),
    ("cardiology", "specialist", "cardiology", None, True, 0.25, 4),
    ("endocrinology", "specialist", "endocrinology", None, True, 0.10, 4),
    ("oncology", "specialist", "hematology/oncology", None, True, 0.10, 4),
    ("radiation_oncology", "specialist", "radiation oncology", None, True, 0.05, 4),
    ("psychiatry", "specialist", "psychiatry", None, True, 0.15, 4),
    ("radiology", "specialist", "diagnostic radiology", None, True, 0.15, 4),
    ("emergency", "specialist", "emergency medicine", None, True, 0.25, 4),
    ("hospitalist", "specialist", "hospitalist", None, True, 0.25, 4),
    ("gastroenterology", "specialist", "gastroenterology", None, True, 0.08, 4),
    ("anesthesiology", "specialist", "anesthesiology", None, True, 0.12, 4),
    ("physical_therapy", "specialist", "physical therapy", None, True, 0.25, 4),
    ("ophthalmology", "specialist", "ophthalmology", None, True, 0.10, 4),
    ("dermatology", "specialist", "dermatology", None, True, 0.08, 4),
    ("urology", "specialist", "urology", None, True, 0.06, 4),
    ("nephrology", "specialist", "nephrology", None, True, 0.05, 4),
    ("ortho", "surgeon", "orthopedic surgery", None, True, 0.35, 12),
    ("cardiac_surgery", "surgeon", "cardiothoracic surgery", None, True, 0.08, 8),
    ("breast_surgery", "surgeon", "breast surgery", None, True, 0.10, 8),
    ("hospital", "hospital", "acute care hospital", "acute hospital", False, 0.22, 12),
    ("asc", "outpatient_facility", "ambulatory surgery", "ASC", False, 0.12, 4),
    ("imaging_center", "outpatient_facility", "imaging", "imaging center", False, 0.08, 4),
    ("ambulance", "outpatient_facility", "ambulance", "ambulance supplier", False, 0.05, 4),
    ("dme", "outpatient_facility", "durable medical equipment", "DME supplier", False,
     0.05, 4),
    ("dialysis", "outpatient_facility", "dialysis", "dialysis facility", False, 0.05, 4),
    ("snf", "snf", "skilled nursing", "SNF", False, 0.18, 8),
    ("home_health", "home_health", "home health", "home health agency", False, 0.10, 4),
    ("lab", "lab", "clinical laboratory", "independent lab", False, 0.05, 4),
    ("pharmacy", "pharmacy", "pharmacy", "retail pharmacy", False, 0.25, 4),
)

_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
          "David", "Elizabeth", "William", "Barbara", "Maria", "Wei", "Priya", "Ahmed",
          "Carlos", "Aisha", "Hiro", "Olga", "Kwame", "Sofia", "Daniel", "Grace")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
         "Rodriguez", "Martinez", "Nguyen", "Patel", "Kim", "Chen", "Okafor", "Cohen",
         "Schmidt", "Rossi", "Silva", "Haddad", "Novak", "Walker", "Hughes", "Park")
_PLACE = ("Riverside", "Lakeview", "Summit", "Cedar", "Harbor", "Valley", "Mercy",
          "St. Luke's", "Pinecrest", "Fairview", "Northgate", "Baptist", "Memorial",
          "Good Samaritan", "Highland", "Meadowbrook")
_FAC_SUFFIX = {
    "hospital": "Medical Center", "asc": "Surgery Center", "imaging_center": "Imaging",
    "ambulance": "Ambulance Service", "dme": "Medical Supply", "snf": "Skilled Nursing",
    "home_health": "Home Health", "lab": "Clinical Laboratory", "pharmacy": "Pharmacy",
    "dialysis": "Dialysis Center",
}


@dataclass
class Providers:
    """All providers: the canonical table, arrays for fast lookup, and the planted truth."""

    table: pa.Table
    truth: pa.Table
    npi: np.ndarray            # object array of NPI strings
    tin: np.ndarray            # object array of TINs
    role: np.ndarray           # role name per provider
    region: np.ndarray         # region index
    weight: np.ndarray         # volume weight (lognormal)
    complication: np.ndarray
    readmission: np.ndarray
    mortality: np.ndarray
    cost: np.ndarray
    low_value: np.ndarray
    upcoder: np.ndarray
    home: np.ndarray           # hospital a clinician operates/admits at (-1 none)
    by_role: dict[str, np.ndarray]

    def pick(self, rng: np.random.Generator, role: str, regions: np.ndarray,
             skew: float = 1.0) -> np.ndarray:
        """One provider of ``role`` per element, in the member's region, volume-weighted.

        ``skew`` raises the weights to a power: 1 keeps the planted volume skew, 0 picks
        uniformly (used for primary-care panels, which are flatter than surgery).
        """
        pool = self.by_role[role]
        out = np.empty(len(regions), dtype=np.int64)
        for r in range(len(REGIONS)):
            sel = np.flatnonzero(regions == r)
            if len(sel) == 0:
                continue
            cand = pool[self.region[pool] == r]
            if len(cand) == 0:
                cand = pool
            w = self.weight[cand] ** skew
            cum = np.cumsum(w)
            k = np.searchsorted(cum, rng.random(len(sel)) * cum[-1], side="right")
            out[sel] = cand[k.clip(0, len(cand) - 1)]
        return out


def _latent(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Lognormal multipliers around 1, with ~5% clearly bad (x2.5) and ~5% clearly good
    (x0.4) providers so that comparisons have something unmistakable to find."""
    m = np.exp(rng.normal(-sigma**2 / 2, sigma, n))
    u = rng.random(n)
    m[u < 0.05] = 2.5
    m[u > 0.95] = 0.4
    return np.round(m, 4)


def build_providers(seed: int, members: int) -> Providers:
    """Generate the provider directory and its planted truth for a population size."""
    rng = rng_for(seed, 0, S_PROVIDERS)
    scale = np.sqrt(members)
    counts = [max(mn, int(round(k * scale))) for (*_, k, mn) in ROLES]
    n = int(sum(counts))
    role_idx = np.repeat(np.arange(len(ROLES)), counts)
    role = np.array([ROLES[i][0] for i in role_idx], dtype=object)

    # Regions: first four of each role one per region, the rest by population share.
    region = np.empty(n, dtype=np.int64)
    start = 0
    for c in counts:
        region[start:start + c] = np.concatenate(
            [np.arange(min(4, c)), rng.choice(4, size=max(0, c - 4), p=REGION_SHARE)])
        start += c
    st_region = np.array([s[1] for s in STATES])
    st_w = np.array([s[2] for s in STATES])
    state = np.empty(n, dtype=np.int64)
    for r in range(4):
        sel = np.flatnonzero(region == r)
        cand = np.flatnonzero(st_region == r)
        state[sel] = rng.choice(cand, size=len(sel), p=st_w[cand] / st_w[cand].sum())
    lo = np.array([s[3] for s in STATES])[state]
    hi = np.array([s[4] for s in STATES])[state]
    zip5 = (lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)) * 100 + rng.integers(0, 100, n)

    # NPIs: unique 9-digit bases starting 1 (individuals) or 1/2 (organizations) + Luhn.
    bases = np.unique(rng.integers(100_000_000, 300_000_000, size=n * 2))
    bases = rng.permutation(bases)[:n]
    npi_num = bases * 10 + npi_check_digit(bases)
    npi = np.array([str(x) for x in npi_num], dtype=object)

    individual = np.array([ROLES[i][4] for i in role_idx])
    # TINs: clinicians grouped in practices of ~1-8 per role and region; facilities own TIN.
    tin_num = rng.integers(10_000_000, 99_999_999, size=n) + 100_000_000 * rng.integers(1, 9, n)
    group_tin = tin_num.copy()
    for r in range(len(ROLES)):
        sel = np.flatnonzero(role_idx == r)
        if ROLES[r][4] and len(sel) > 1:
            leaders = sel[rng.integers(0, max(1, len(sel) // 4), size=len(sel))]
            group_tin[sel] = tin_num[leaders]
    tin = np.array([f"{t:09d}" for t in group_tin], dtype=object)

    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    place = rng.integers(0, len(_PLACE), n)
    names = np.empty(n, dtype=object)
    for i in range(n):  # provider directory is small (sqrt of members): a loop is fine
        rl = role[i]
        if individual[i]:
            title = "PT" if rl == "physical_therapy" else "MD"
            names[i] = f"{_FIRST[first[i]]} {_LAST[last[i]]}, {title}"
        else:
            names[i] = f"{_PLACE[place[i]]} {STATES[state[i]][0]} {_FAC_SUFFIX[rl]} {i % 97 + 1}"

    weight = np.exp(rng.normal(0, 1.4, n))
    complication = _latent(rng, n, 0.25)
    readmission = _latent(rng, n, 0.25)
    mortality = _latent(rng, n, 0.25)
    cost = np.round(np.exp(rng.normal(0, 0.15, n)).clip(0.6, 1.7), 4)
    ptype = np.array([ROLES[i][1] for i in role_idx], dtype=object)
    clin = np.isin(ptype, ["primary_care", "specialist"]) & ~np.isin(
        role, ["radiology", "anesthesiology", "physical_therapy", "hospitalist"])
    from valuecare.synth.params import LOW_VALUE_SHARE, UPCODER_SHARE
    low_value = (np.isin(role, ["pcp", "pcp_im"])
                 & (rng.random(n) < LOW_VALUE_SHARE))
    upcoder = clin & (rng.random(n) < UPCODER_SHARE)

    tier = np.empty(n, dtype=object)
    for r in range(len(ROLES)):
        sel = np.flatnonzero(role_idx == r)
        q50, q90 = np.quantile(weight[sel], [0.5, 0.9])
        tier[sel] = np.where(weight[sel] >= q90, "high",
                             np.where(weight[sel] >= q50, "medium", "low"))

    states = np.array([s[0] for s in STATES], dtype=object)[state]
    regions = np.array(REGIONS, dtype=object)[region]
    cols = {
        "npi": npi,
        "provider_name": names,
        "entity_type": np.where(individual, "individual", "organization").astype(object),
        "provider_type": ptype,
        "specialty": np.array([ROLES[i][2] for i in role_idx], dtype=object),
        "facility_type": np.array([ROLES[i][3] for i in role_idx], dtype=object),
        "practice_affiliation": tin,
        "state": states,
        "zip_code": np.array([f"{z:05d}" for z in zip5], dtype=object),
        "region": regions,
        "data_source": np.full(n, DATA_SOURCE, dtype=object),
        "file_name": np.full(n, None, dtype=object),
    }
    schema = arrow_schema(PROVIDER)
    table = pa.table({f.name: str_array(cols[f.name]) for f in schema}, schema=schema)
    truth = pa.table({
        "npi": str_array(npi),
        "provider_type": str_array(ptype),
        "specialty": str_array(cols["specialty"]),
        "region": str_array(regions),
        "complication_mult": complication,
        "readmission_mult": readmission,
        "mortality_mult": mortality,
        "cost_mult": cost,
        "low_value_orderer": low_value,
        "upcoder": upcoder,
        "volume_weight": np.round(weight, 6),
        "volume_tier": str_array(tier),
    })
    by_role = {r[0]: np.flatnonzero(role == r[0]) for r in ROLES}
    home = np.full(n, -1, dtype=np.int64)
    hospitals = by_role["hospital"]
    for r in range(4):
        cand = hospitals[region[hospitals] == r]
        sel = np.flatnonzero((region == r) & individual)
        w = weight[cand]
        home[sel] = cand[np.searchsorted(np.cumsum(w), rng.random(len(sel)) * w.sum(),
                                         side="right").clip(0, len(cand) - 1)]
    return Providers(table, truth, npi, tin, role, region, weight, complication, readmission,
                     mortality, cost, low_value, upcoder, home, by_role)
