"""True TDABC costs of the generated claim lines (truth/service_costs, truth/cycle_costs).

Every line of a member with a planted hip/knee or CABG cycle is recognised as the activity
the generator made it for (its own rules over the codes it emits: revenue code and type of
bill for facility lines, CPT/HCPCS and place of service for professional ones) and costed
as it truly happened: the hospital's true minutes (standard x its ``time_mult`` x noise)
x its true cost per minute (standard x ``rate_mult`` x noise), plus consumables, per line
or per unit, with the cycle's drivers (a complication stay, a catheterization during the
CABG stay).  A line is costed in the context of each planted condition of its member, since
a hip line and a CABG line of the same code are different activities.  Reversals count -1.

``truth/cycle_costs`` sums the lines the generator made for each planted cycle;
``truth/service_costs`` keeps every costed line so a test can sum the lines an analysis put
in a cycle.  The minutes of the planted cycles at each hospital size its capacity.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from valuecare.synth.claims import MedicalResult
from valuecare.synth.context import Context
from valuecare.synth.costing import ITEMS, RESOURCES, ROLE_RESOURCE, STEPS, CostingPlan
from valuecare.synth.util import date_array, prefixed_ids, str_array

CONDITIONS = ("hip_knee", "cabg")
_COLS = ("claim_id", "claim_line_number", "data_source", "person_id", "claim_type",
         "bill_type_code", "place_of_service_code", "revenue_center_code", "hcpcs_code",
         "service_unit_quantity", "drg_code", "diagnosis_code_1", "hcpcs_modifier_1",
         "procedure_code_1", "procedure_code_2", "facility_npi", "billing_npi",
         "rendering_npi", "adjustment_type", "claim_start_date")
_JOINT_DRG = ("461", "462", "469", "470")
_CABG_DRG = ("231", "232", "233", "234", "235", "236")


class _Lines:
    """Columns of the selected lines as numpy arrays (text: '' for null)."""

    def __init__(self, t: pa.Table) -> None:
        self.n = t.num_rows
        self.s = {c: t.column(c).fill_null("").to_numpy(zero_copy_only=False).astype(str)
                  for c in _COLS if pa.types.is_string(t.schema.field(c).type)}
        self.units = np.abs(t.column("service_unit_quantity").fill_null(1)
                            .to_numpy(zero_copy_only=False)).astype(np.int64)
        self.year = pc.year(t.column("claim_start_date")).to_numpy(zero_copy_only=False)
        self.inst = self.s["claim_type"] == "institutional"
        self.prof = self.s["claim_type"] == "professional"

    def code(self, col: str, *specs: str) -> np.ndarray:
        v = self.s[col]
        out = np.zeros(self.n, dtype=bool)
        for spec in specs:
            if "-" in spec:
                lo, hi = spec.split("-")
                out |= (np.char.str_len(v) == len(lo)) & (v >= lo) & (v <= hi)
            else:
                out |= np.char.startswith(v, spec)
        return out

    def bill(self, *prefixes: str) -> np.ndarray:
        return self.inst & self.code("bill_type_code", *prefixes)


def _rules(x: _Lines, condition: str) -> list[tuple[str, np.ndarray]]:
    """(step, line matches) in the order a line is claimed: the condition's, then common."""
    ip, snf, hh, op = x.bill("11", "12"), x.bill("18", "21", "22"), x.bill("32", "33", "34"), \
        x.bill("13", "14", "85")
    rev, hc = (lambda *s: x.code("revenue_center_code", *s)), (lambda *s: x.code("hcpcs_code", *s))
    img = ("0320-0359", "0400-0409", "0610-0619")
    own = {
        "hip_knee": [
            ("joint_operating_room", (x.inst & rev("0360-0369")
                                      & np.isin(x.s["drg_code"], _JOINT_DRG))
             | (x.inst & hc("27130", "27447"))),
            ("joint_ward_day", ip & rev("0100-0199") & np.isin(x.s["drg_code"], _JOINT_DRG)),
            ("total_hip_arthroplasty", x.prof & hc("27130")),
            ("total_knee_arthroplasty", x.prof & hc("27447")),
            ("revision_arthroplasty", x.prof & hc("27134", "27137", "27138", "27486", "27487")),
            ("joint_anesthesia", x.prof & hc("01210-01215", "01400-01404", "01480-01486")),
            ("joint_xray", x.prof & hc("73500-73565")),
            ("surgeon_consultation", x.prof & hc("99202-99205")
             & np.isin(x.s["place_of_service_code"], ("11", "19", "22"))),
            ("preoperative_clearance", x.prof & hc("99211-99215")
             & x.code("diagnosis_code_1", "Z0181")),
            ("closed_reduction", x.prof & hc("27250-27266")),
        ],
        "cabg": [
            ("cabg_operating_room", x.inst & rev("0360-0369") & np.isin(x.s["drg_code"],
                                                                         _CABG_DRG)),
            ("cabg_ward_day", ip & rev("0100-0199") & np.isin(x.s["drg_code"], _CABG_DRG)),
            ("cabg_surgery", x.prof & hc("33510-33516", "33533-33536")),
            ("cabg_additional_graft", x.prof & hc("33517-33523")),
            ("cabg_anesthesia", x.prof & hc("00560-00567")),
        ],
    }[condition]
    reads = hc("70010-79999", "93303-93355")
    return own + [
        ("inpatient_day", ip & rev("0100-0199")), ("icu_day", ip & rev("0200-0219")),
        ("inpatient_pharmacy", ip & rev("0250-0259")), ("inpatient_lab", ip & rev("0300-0319")),
        ("inpatient_imaging", ip & rev(*img)), ("inpatient_supplies", ip & rev("0270-0279")),
        ("inpatient_ecg", ip & rev("0730-0739")), ("inpatient_therapy", ip & rev("0420-0449")),
        ("cardiac_cath_facility", x.inst & hc("93451-93461")),
        ("operating_room_other", x.inst & rev("0360-0369")),
        ("asc_procedure_facility", x.inst & rev("0490-0499")),
        ("ed_facility", x.inst & rev("0450-0459", "0981")),
        ("snf_day", snf & rev("0100-0199")), ("snf_therapy", snf & rev("0420-0449")),
        ("snf_pharmacy", snf & rev("0250-0259")), ("home_health_start", hh & rev("0023")),
        ("home_nursing_visit", hh & rev("0550-0559")),
        ("home_therapy_visit", hh & rev("0420-0449")),
        ("hospital_clinic_visit", x.inst & hc("G0463")),
        ("cardiac_rehab_session", hc("93797", "93798")),
        ("lab_test", (x.prof & hc("80000-89999")) | (op & rev("0300-0319"))),
        ("imaging_study", op & rev(*img, "0480-0489")),
        ("ecg", (op & rev("0730-0739")) | (x.prof & hc("93000-93010"))),
        ("anesthesia_other", x.prof & hc("00100-01999")),
        ("ed_physician", x.prof & hc("99281-99285")),
        ("inpatient_admission_visit", x.prof & hc("99221-99223")),
        ("inpatient_daily_visit", x.prof & hc("99231-99233")),
        ("discharge_visit", x.prof & hc("99238-99239")),
        ("office_visit_new", x.prof & hc("99202-99205")),
        ("office_visit", x.prof & hc("99211-99215")),
        ("cardiac_cath_professional", x.prof & hc("93451-93461")),
        ("imaging_read", x.prof & reads
         & np.isin(x.s["place_of_service_code"], ("19", "21", "22", "23"))),
        ("office_imaging", x.prof & reads), ("pt_evaluation", x.prof & hc("97161-97163")),
        ("pt_treatment", x.prof & hc("97010-97799")),
        ("procedure_professional", x.prof & hc("10004-69990")),
    ]


def _index(values: np.ndarray, npis: pa.Array) -> np.ndarray:
    """Provider index of each NPI (the last index, ``len(npis)``, for none or unknown)."""
    idx = pc.index_in(pa.array(values), value_set=npis)
    return idx.fill_null(len(npis)).to_numpy(zero_copy_only=False).astype(np.int64)


def _claim_any(claim: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """The flag of any line of the same claim."""
    _, inv = np.unique(claim, return_inverse=True)
    return (np.bincount(inv, weights=flag.astype(float)) > 0)[inv]


def _drivers(x: _Lines, condition: str) -> dict[str, np.ndarray]:
    drg, claim = x.s["drg_code"], x.s["claim_id"]
    px = np.char.add(np.char.add(x.s["procedure_code_1"], "|"), x.s["procedure_code_2"])
    both = np.zeros(x.n, dtype=bool)
    for a, b in (("0SR9", "0SRB"), ("0SRC", "0SRD")):
        both |= (np.char.find(px, a) >= 0) & (np.char.find(px, b) >= 0)
    if condition == "hip_knee":
        return {"complication": _claim_any(claim, drg == "469"),
                "bilateral": _claim_any(claim, (x.s["hcpcs_modifier_1"] == "50") | both)}
    return {"complication": _claim_any(claim, np.isin(drg, ("233", "235"))),
            "catheterization": _claim_any(claim, np.isin(drg, ("233", "234")))}


def _cost(p: CostingPlan, ctx: Context, x: _Lines, condition: str, tagged: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step, site, true cost (dollars) and person-minutes of each line; adds the minutes of
    ``tagged`` lines (planted cycles) at hospitals to the plan's usage."""
    step = np.full(x.n, "", dtype=object)
    free = np.ones(x.n, dtype=bool)
    for sid, hit in _rules(x, condition):
        sel = free & hit
        step[sel] = sid
        free &= ~sel
    prov = ctx.prov
    hospitals = [int(h) for h in p.hospitals]
    npis = pa.array(prov.npi.astype(str))
    site = np.where(x.s["facility_npi"] != "", x.s["facility_npi"], x.s["billing_npi"])
    names = sorted([*RESOURCES, *ITEMS])
    rid = {r: i for i, r in enumerate(names)}
    # provider index -> hospital position (len(hospitals): not a costed hospital) and the
    # resource a clinician of that provider's role is; the last entry stands for no NPI
    hpos = np.full(len(prov.npi) + 1, len(hospitals), dtype=np.int64)
    hpos[hospitals] = np.arange(len(hospitals))
    role_res = np.array([rid[ROLE_RESOURCE.get(r, "physician")] for r in prov.role]
                        + [rid["physician"]], dtype=np.int64)
    hk = hpos[_index(site, npis)]
    clin = role_res[_index(x.s["rendering_npi"], npis)]
    rates = np.array([[p.site_rate(h, r) for r in names] for h in [*hospitals, -1]])
    person = np.array([n in RESOURCES and RESOURCES[n][0] == "person" for n in names])
    is_item = np.array([n in ITEMS for n in names])
    sign = np.where(x.s["adjustment_type"] == "reversal", -1.0, 1.0)
    drivers = _drivers(x, condition)
    cost, minutes = np.zeros(x.n), np.zeros(x.n)
    for sid in sorted(set(step[step != ""])):
        rows = np.flatnonzero(step == sid)
        per_unit, uses = STEPS[sid]
        mult = sign[rows] * (x.units[rows] if per_unit else 1)
        k = hk[rows]
        for item, terms in uses.items():
            q = np.zeros(len(rows))
            for term in terms:
                at = np.array([p.site_minutes(h, sid, item, term) for h in [*hospitals, -1]])
                q += at[k] * (1.0 if term == "base" else drivers[term][rows])
            q *= mult
            r = clin[rows] if item == "clinician" else np.full(len(rows), rid[item])
            cost[rows] += q * rates[k, r]
            minutes[rows] += np.where(person[r], q, 0.0)
            use = tagged[rows] & (k < len(hospitals)) & ~is_item[r]
            for j in np.flatnonzero(use):
                p.used[(hospitals[k[j]], names[r[j]], int(x.year[rows[j]]))] += q[j]
    return step, site, cost, minutes


def chunk_truth(p: CostingPlan, ctx: Context, med: MedicalResult, pid: pa.Array
                ) -> dict[str, pa.Table]:
    """``service_costs`` and ``cycle_costs`` truth of one chunk."""
    planted = [c for c in ctx.cycles if c["condition"] in CONDITIONS]
    cond_of = {int(k): c["condition"] for c in planted for k in c["cycle"]}
    t = med.table
    pidx = pc.index_in(t.column("person_id"), value_set=pid).to_numpy(zero_copy_only=False)
    svc, cyc = [], []
    for cond in CONDITIONS:
        cs = [c for c in planted if c["condition"] == cond]
        persons = np.unique(np.concatenate([c["person"] for c in cs])) if cs else np.empty(0)
        rows = np.flatnonzero(np.isin(pidx, persons))
        x = _Lines(t.select(list(_COLS)).take(pa.array(rows)))
        tag = med.cycle_of_line[rows]
        tagged = np.array([cond_of.get(int(k)) == cond for k in tag], dtype=bool)
        step, site, cost, minutes = _cost(p, ctx, x, cond, tagged)
        cents = np.rint(cost * 100).astype(np.int64)
        keep = step != ""
        cid = prefixed_ids("CY", ctx.chunk * 100_000_000 + np.maximum(tag, 0), 12)
        svc.append(pa.table({
            "claim_id": str_array(x.s["claim_id"][keep].astype(object)),
            "claim_line_number": t.column("claim_line_number").take(pa.array(rows[keep])),
            "data_source": str_array(x.s["data_source"][keep].astype(object)),
            "person_id": str_array(x.s["person_id"][keep].astype(object)),
            "condition": str_array(np.full(int(keep.sum()), cond, dtype=object)),
            "step": str_array(step[keep]), "site_npi": str_array(site[keep].astype(object)),
            "true_minutes": pa.array(np.round(minutes[keep], 4)),
            "true_cost_cents": pa.array(cents[keep], pa.int64()),
            "planted_cycle_id": pc.if_else(pa.array(tagged[keep]),
                                           cid.filter(pa.array(keep)), None),
        }))
        cyc.append(_cycles(ctx, med, pid, cs, tag[tagged], cents[tagged], minutes[tagged]))
    return {"service_costs": pa.concat_tables(svc), "cycle_costs": pa.concat_tables(cyc)}


def _cycles(ctx: Context, med: MedicalResult, pid: pa.Array, cs: list[dict],
            tag: np.ndarray, cents: np.ndarray, minutes: np.ndarray) -> pa.Table:
    cols = ("cycle", "person", "trigger", "accountable", "facility", "index_day")
    C = {k: np.concatenate([np.asarray(c[k], dtype=np.int64) for c in cs]) if cs
         else np.empty(0, np.int64) for k in cols}
    trig = med.claim_id_of_seq[np.maximum(C["trigger"], 0)]
    keep = (C["trigger"] >= 0) & (trig != None)  # noqa: E711 - claim kept in the data
    C = {k: v[keep] for k, v in C.items()}
    order = np.argsort(C["cycle"])
    C = {k: v[order] for k, v in C.items()}
    tc = np.bincount(np.searchsorted(C["cycle"], tag), weights=cents,
                     minlength=len(C["cycle"])) if len(tag) else np.zeros(len(C["cycle"]))
    tm = np.bincount(np.searchsorted(C["cycle"], tag), weights=minutes,
                     minlength=len(C["cycle"])) if len(tag) else np.zeros(len(C["cycle"]))
    npi = ctx.prov.npi
    cond = cs[0]["condition"] if cs else ""
    return pa.table({
        "cycle_id": prefixed_ids("CY", ctx.chunk * 100_000_000 + C["cycle"], 12),
        "person_id": pid.take(pa.array(C["person"])),
        "condition": str_array(np.full(len(C["cycle"]), cond, dtype=object)),
        "index_date": date_array(C["index_day"]),
        "trigger_claim_id": str_array(med.claim_id_of_seq[C["trigger"]]),
        "accountable_npi": str_array(npi[C["accountable"]]),
        "facility_npi": str_array(npi[C["facility"]]),
        "true_minutes": pa.array(np.round(tm[:len(C["cycle"])], 4)),
        "true_cost_cents": pa.array(np.rint(tc[:len(C["cycle"])]).astype(np.int64)),
    })
