"""The synthetic organization's costing data, with planted truth (TDABC).

The generator plays a health system that has timed its processes and costed its resources:
it writes ``<out>/costing/resources.csv`` (cost of capacity supplied and theoretical minutes
per hospital and resource, and ``*`` rows for every other site) and
``<out>/costing/step_times.csv`` (minutes per site, process step, resource and term of the
time equation), the folder an organization hands to ``valuecare`` (``docs/costing.md``).

Planted truth, encoded here and never read from the analytics (DESIGN.md §6):

- the organization's standard minutes of every activity (:data:`STEPS`) and standard cost
  of every resource (:data:`RESOURCES`, :data:`ITEMS`);
- per hospital a process-time multiplier ``time_mult`` and a cost-of-capacity multiplier
  ``rate_mult`` (lognormal; with +-4% noise per step and resource), so ``cost_mult =
  time_mult x rate_mult`` is what its patients' care costs against the standard;
- per hospital and resource a utilization of practical capacity (55-95%): capacity is sized
  from the minutes the planted cycles use (a token working day where they use none).

True costs (``truth/service_costs``, ``truth/cycle_costs``) are computed line by line in
:mod:`valuecare.synth.costing_truth`.  A separate random stream (``S_COSTING``) leaves every
other output byte-identical for the same seed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from valuecare.synth.providers import Providers
from valuecare.synth.util import S_COSTING, rng_for, str_array
from valuecare.synth.writer import csv_bytes

#: resource -> (kind, annual cost of capacity in dollars, theoretical minutes, practical
#: share): the organization's standard (2023 US wages, BLS / Doximity, with 45% on-costs)
RESOURCES: dict[str, tuple[str, float, int, float]] = {
    "orthopedic_surgeon": ("person", 860_000, 124_200, 0.8),
    "cardiac_surgeon": ("person", 1_020_000, 124_200, 0.8),
    "anesthesiologist": ("person", 660_000, 124_200, 0.8),
    "cardiologist": ("person", 825_000, 124_200, 0.8),
    "hospitalist": ("person", 500_000, 124_200, 0.8),
    "primary_care_physician": ("person", 415_000, 124_200, 0.8),
    "endocrinologist": ("person", 418_000, 124_200, 0.8),
    "emergency_physician": ("person", 550_000, 124_200, 0.8),
    "radiologist": ("person", 740_000, 124_200, 0.8),
    "physician": ("person", 525_000, 124_200, 0.8),
    "crna": ("person", 314_000, 108_000, 0.8),
    "nurse_practitioner": ("person", 192_000, 108_000, 0.8),
    "registered_nurse": ("person", 142_000, 108_000, 0.8),
    "or_nurse": ("person", 150_000, 108_000, 0.8),
    "icu_nurse": ("person", 150_000, 108_000, 0.8),
    "surgical_technologist": ("person", 92_000, 108_000, 0.8),
    "perfusionist": ("person", 208_000, 108_000, 0.8),
    "medical_assistant": ("person", 64_000, 108_000, 0.8),
    "physical_therapist": ("person", 150_000, 108_000, 0.8),
    "pt_assistant": ("person", 100_000, 108_000, 0.8),
    "radiology_technologist": ("person", 110_000, 108_000, 0.8),
    "lab_technologist": ("person", 94_000, 108_000, 0.8),
    "care_coordinator": ("person", 135_000, 108_000, 0.8),
    "pharmacist": ("person", 200_000, 108_000, 0.8),
    "home_health_nurse": ("person", 127_000, 108_000, 0.8),
    "snf_care_staff": ("person", 68_000, 108_000, 0.8),
    "exercise_physiologist": ("person", 88_000, 108_000, 0.8),
    "operating_room": ("equipment", 1_200_000, 150_000, 0.85),
    "cath_lab": ("equipment", 900_000, 150_000, 0.85),
    "inpatient_bed": ("space", 225_000, 525_600, 0.85),
    "icu_bed": ("space", 400_000, 525_600, 0.85),
    "snf_bed": ("space", 65_000, 525_600, 0.85),
    "exam_room": ("space", 30_000, 150_000, 0.85),
    "imaging_room": ("equipment", 450_000, 150_000, 0.85),
    "lab_analyzer": ("equipment", 300_000, 525_600, 0.85),
    "ed_bay": ("space", 180_000, 525_600, 0.85),
    "pt_gym": ("space", 60_000, 150_000, 0.85),
    "rehab_gym": ("equipment", 120_000, 150_000, 0.85),
}
#: consumable -> standard cost per item (dollars)
ITEMS: dict[str, float] = {
    "hip_implant": 4900.0, "knee_implant": 4400.0, "revision_implant": 7600.0,
    "joint_or_supplies": 950.0, "cabg_supplies": 3600.0, "or_supplies": 520.0,
    "inpatient_drugs": 360.0, "med_surg_supplies": 310.0, "lab_reagents": 4.0,
    "snf_drugs": 240.0,
}
_C = "clinician"  # the rendering clinician (priced by role)
#: step -> (per unit of service?, {resource or item: {term: minutes or items}}): the
#: organization's measured standard times
STEPS: dict[str, tuple[bool, dict[str, dict[str, float]]]] = {
    # hip and knee replacement
    "joint_operating_room": (False, {"operating_room": {"base": 140, "bilateral": 70},
                                     "or_nurse": {"base": 145, "bilateral": 70},
                                     "surgical_technologist": {"base": 140, "bilateral": 70},
                                     "joint_or_supplies": {"base": 1, "bilateral": 0.5}}),
    "joint_ward_day": (True, {"registered_nurse": {"base": 250, "complication": 70},
                              "inpatient_bed": {"base": 1440}, "care_coordinator": {"base": 15}}),
    "total_hip_arthroplasty": (False, {_C: {"base": 105, "bilateral": 80},
                                       "hip_implant": {"base": 1, "bilateral": 1}}),
    "total_knee_arthroplasty": (False, {_C: {"base": 95, "bilateral": 75},
                                        "knee_implant": {"base": 1, "bilateral": 1}}),
    "revision_arthroplasty": (False, {_C: {"base": 180}, "revision_implant": {"base": 1}}),
    "joint_anesthesia": (False, {_C: {"base": 160, "bilateral": 60}}),
    "joint_xray": (False, {"radiology_technologist": {"base": 15}, "imaging_room": {"base": 15},
                           _C: {"base": 5}}),
    "surgeon_consultation": (False, {_C: {"base": 35}, "medical_assistant": {"base": 15},
                                     "exam_room": {"base": 50}}),
    "preoperative_clearance": (False, {_C: {"base": 25}, "medical_assistant": {"base": 15},
                                       "exam_room": {"base": 40}}),
    "closed_reduction": (False, {_C: {"base": 30}}),
    # CABG
    "cabg_operating_room": (False, {
        "operating_room": {"base": 310}, "or_nurse": {"base": 310},
        "surgical_technologist": {"base": 300}, "perfusionist": {"base": 240},
        "cath_lab": {"base": 0, "catheterization": 60},
        "cardiologist": {"base": 0, "catheterization": 45},
        "registered_nurse": {"base": 0, "catheterization": 60}}),
    "cabg_ward_day": (True, {"registered_nurse": {"base": 360, "complication": 90},
                             "inpatient_bed": {"base": 1440}, "care_coordinator": {"base": 15}}),
    "cabg_surgery": (False, {_C: {"base": 240}, "cabg_supplies": {"base": 1}}),
    "cabg_additional_graft": (False, {_C: {"base": 30}, "operating_room": {"base": 30},
                                      "or_nurse": {"base": 30},
                                      "surgical_technologist": {"base": 30},
                                      "perfusionist": {"base": 30}}),
    "cabg_anesthesia": (False, {_C: {"base": 330}}),
    # every cycle
    "inpatient_day": (True, {"registered_nurse": {"base": 240, "complication": 60},
                             "inpatient_bed": {"base": 1440}, "care_coordinator": {"base": 10}}),
    "inpatient_pharmacy": (False, {"pharmacist": {"base": 20}, "inpatient_drugs": {"base": 1}}),
    "inpatient_lab": (False, {"lab_technologist": {"base": 30}, "lab_analyzer": {"base": 20},
                              "lab_reagents": {"base": 8}}),
    "inpatient_imaging": (False, {"radiology_technologist": {"base": 20},
                                  "imaging_room": {"base": 20}, "radiologist": {"base": 5}}),
    "inpatient_supplies": (False, {"med_surg_supplies": {"base": 1}}),
    "inpatient_ecg": (False, {"registered_nurse": {"base": 10}, "cardiologist": {"base": 3}}),
    "inpatient_therapy": (True, {"physical_therapist": {"base": 60}}),
    "cardiac_cath_facility": (False, {"cath_lab": {"base": 60}, "registered_nurse": {"base": 60},
                                      "radiology_technologist": {"base": 60}}),
    "operating_room_other": (False, {"operating_room": {"base": 120}, "or_nurse": {"base": 120},
                                     "surgical_technologist": {"base": 120},
                                     "or_supplies": {"base": 1}}),
    "asc_procedure_facility": (False, {"operating_room": {"base": 60}, "or_nurse": {"base": 60},
                                       "or_supplies": {"base": 1}}),
    "ed_facility": (False, {"registered_nurse": {"base": 60}, "ed_bay": {"base": 180}}),
    "snf_day": (True, {"snf_care_staff": {"base": 150}, "registered_nurse": {"base": 30},
                       "snf_bed": {"base": 1440}}),
    "snf_therapy": (True, {"physical_therapist": {"base": 45}}),
    "snf_pharmacy": (False, {"snf_drugs": {"base": 1}}),
    "home_health_start": (False, {"care_coordinator": {"base": 60}}),
    "home_nursing_visit": (True, {"home_health_nurse": {"base": 75}}),
    "home_therapy_visit": (True, {"physical_therapist": {"base": 75}}),
    "hospital_clinic_visit": (False, {"registered_nurse": {"base": 15}, "exam_room": {"base": 30}}),
    "cardiac_rehab_session": (False, {"exercise_physiologist": {"base": 60},
                                      "registered_nurse": {"base": 15}, "rehab_gym": {"base": 60}}),
    "lab_test": (False, {"lab_technologist": {"base": 6}, "lab_analyzer": {"base": 4},
                         "lab_reagents": {"base": 1}}),
    "imaging_study": (False, {"radiology_technologist": {"base": 25},
                              "imaging_room": {"base": 25}}),
    "ecg": (False, {"registered_nurse": {"base": 10}, "cardiologist": {"base": 2}}),
    "anesthesia_other": (False, {_C: {"base": 120}}),
    "ed_physician": (False, {_C: {"base": 25}}),
    "inpatient_admission_visit": (False, {_C: {"base": 60}}),
    "inpatient_daily_visit": (True, {_C: {"base": 25}}),
    "discharge_visit": (False, {_C: {"base": 30}, "care_coordinator": {"base": 20}}),
    "office_visit_new": (False, {_C: {"base": 30}, "medical_assistant": {"base": 15},
                                 "exam_room": {"base": 45}}),
    "office_visit": (False, {_C: {"base": 20}, "medical_assistant": {"base": 12},
                             "exam_room": {"base": 30}}),
    "cardiac_cath_professional": (False, {_C: {"base": 45}}),
    "imaging_read": (False, {_C: {"base": 10}}),
    "office_imaging": (False, {"radiology_technologist": {"base": 15},
                               "imaging_room": {"base": 15}, _C: {"base": 5}}),
    "pt_evaluation": (False, {_C: {"base": 45}, "pt_gym": {"base": 45}}),
    "pt_treatment": (True, {_C: {"base": 15}, "pt_gym": {"base": 15}}),
    "procedure_professional": (False, {_C: {"base": 60}}),
}
#: provider role -> the resource a clinician of that role is
ROLE_RESOURCE = {
    "pcp": "primary_care_physician", "pcp_im": "primary_care_physician",
    "pediatrics": "primary_care_physician", "cardiology": "cardiologist",
    "endocrinology": "endocrinologist", "emergency": "emergency_physician",
    "hospitalist": "hospitalist", "anesthesiology": "anesthesiologist",
    "physical_therapy": "physical_therapist", "radiology": "radiologist",
    "ortho": "orthopedic_surgeon", "cardiac_surgery": "cardiac_surgeon",
}
TIME_SIGMA, RATE_SIGMA, NOISE = 0.15, 0.12, 0.04
#: theoretical minutes of a hospital resource the planted cycles never use: on the books,
#: not dedicated to the costed conditions (one working day)
TOKEN_MINUTES = 480.0


def rate_of(resource: str) -> float:
    """Standard dollars a minute (or a consumable's cost per item)."""
    if resource in ITEMS:
        return ITEMS[resource]
    _, cost, minutes, share = RESOURCES[resource]
    return cost / (minutes * share)


@dataclass
class CostingPlan:
    """Planted costing truth of one run, and the minutes the planted cycles use."""

    hospitals: np.ndarray                      # provider indices of hospitals
    time_mult: np.ndarray
    rate_mult: np.ndarray
    minutes: dict[tuple[int, str, str, str], float]   # (hospital, step, item, term)
    rates: dict[tuple[int, str], float]                # (hospital, resource or item)
    utilization: dict[tuple[int, str], float]
    used: dict[tuple[int, str, int], float] = field(default_factory=lambda: defaultdict(float))

    def site_minutes(self, h: int, step: str, item: str, term: str) -> float:
        if h < 0:
            return STEPS[step][1][item][term]
        return self.minutes[(h, step, item, term)]

    def site_rate(self, h: int, resource: str) -> float:
        return rate_of(resource) if h < 0 else self.rates[(h, resource)]


def plan(seed: int, prov: Providers) -> CostingPlan:
    """Plant multipliers, noise and utilization per hospital (its own random stream)."""
    rng = rng_for(seed, 0, S_COSTING)
    hosp = prov.by_role["hospital"]
    n = len(hosp)
    tm = np.round(np.exp(rng.normal(0, TIME_SIGMA, n)).clip(0.7, 1.5), 4)
    rm = np.round(np.exp(rng.normal(0, RATE_SIGMA, n)).clip(0.75, 1.4), 4)
    minutes, rates, util = {}, {}, {}
    for k, h in enumerate(hosp):
        for step in sorted(STEPS):
            for item in sorted(STEPS[step][1]):
                noise = math.exp(rng.normal(0, NOISE))
                for term, v in sorted(STEPS[step][1][item].items()):
                    mult = 1.0 if item in ITEMS else tm[k] * noise
                    minutes[(int(h), step, item, term)] = round(v * mult, 2)
        for res in sorted([*RESOURCES, *ITEMS]):
            noise = math.exp(rng.normal(0, NOISE))
            rate = rate_of(res) * rm[k] * noise
            rates[(int(h), res)] = round(rate, 2) if res in ITEMS else rate
            if res in RESOURCES:
                util[(int(h), res)] = round(float(rng.uniform(0.55, 0.95)), 3)
    return CostingPlan(hosp, tm, rm, minutes, rates, util)


def _money(x: float) -> str:
    return f"{x:.2f}"


def finish(p: CostingPlan, prov: Providers, out: Path, years: list[int]
           ) -> tuple[list[str], dict[str, pa.Table]]:
    """Write ``costing/resources.csv`` and ``costing/step_times.csv``; return the file
    names and the truth tables ``facility_costing`` and ``costing_capacity``."""
    folder = out / "costing"
    folder.mkdir(parents=True, exist_ok=True)
    res_rows: dict[str, list] = {k: [] for k in (
        "site_npi", "resource", "kind", "salary", "benefits", "space", "equipment", "overhead",
        "theoretical_minutes", "practical_share", "unit_cost")}
    cap: dict[str, list] = {k: [] for k in ("site_npi", "resource", "planted_utilization",
                                            "planted_used_minutes", "theoretical_minutes")}

    def add(site: str, res: str, cost: float | None, minutes: float | None,
            share: float | None, unit: float | None) -> None:
        kind = "consumable" if res in ITEMS else RESOURCES[res][0]
        split = ((0.69, 0.21, 0.04, 0.02) if kind == "person" else (0.0, 0.0, 0.25, 0.45))
        parts = [round((cost or 0) * s, 2) for s in split]
        over = round((cost or 0) - sum(parts), 2)
        vals = [site, res, kind, *(_money(x) if cost is not None else "" for x in
                                   (*parts, over)),
                f"{minutes:.2f}" if minutes is not None else "",
                f"{share:.2f}" if share is not None else "",
                _money(unit) if unit is not None else ""]
        for k, v in zip(res_rows, vals, strict=True):
            res_rows[k].append(v)

    for res in sorted([*RESOURCES, *ITEMS]):
        if res in ITEMS:
            add("*", res, None, None, None, ITEMS[res])
        else:
            _, cost, minutes, share = RESOURCES[res]
            add("*", res, cost, minutes, share, None)
    n_years = max(len(years), 1)
    for h in p.hospitals:
        npi = prov.npi[h]
        for res in sorted([*RESOURCES, *ITEMS]):
            if res in ITEMS:
                add(npi, res, None, None, None, p.rates[(int(h), res)])
                continue
            share = RESOURCES[res][3]
            used = sum(p.used.get((int(h), res, y), 0.0) for y in years) / n_years
            u = p.utilization[(int(h), res)] if used > 0 else None
            theoretical = round(used / u / share, 2) if u else TOKEN_MINUTES
            add(npi, res, p.rates[(int(h), res)] * theoretical * share, theoretical, share, None)
            for k, v in zip(cap, (npi, res, u, round(used, 2), theoretical), strict=True):
                cap[k].append(v)
    (folder / "resources.csv").write_bytes(csv_bytes(pa.table(res_rows)))
    times: dict[str, list] = {k: [] for k in ("site_npi", "step", "resource", "term", "minutes")}
    for step in sorted(STEPS):
        for item in sorted(STEPS[step][1]):
            for term, v in sorted(STEPS[step][1][item].items()):
                for site, val in [("*", v)] + [
                        (prov.npi[h], p.minutes[(int(h), step, item, term)])
                        for h in p.hospitals if item not in ITEMS]:
                    for k, x in zip(times, (site, step, item, term, f"{val:.2f}"), strict=True):
                        times[k].append(x)
    (folder / "step_times.csv").write_bytes(csv_bytes(pa.table(times)))
    facility = pa.table({
        "npi": str_array(prov.npi[p.hospitals]),
        "time_mult": pa.array(p.time_mult), "rate_mult": pa.array(p.rate_mult),
        "cost_mult": pa.array(np.round(p.time_mult * p.rate_mult, 4)),
    })
    capacity = pa.table({k: pa.array(v, pa.float64() if k != "site_npi" and k != "resource"
                                     else pa.string()) for k, v in cap.items()})
    return (["costing/resources.csv", "costing/step_times.csv"],
            {"facility_costing": facility, "costing_capacity": capacity})
