"""Hand-built claims and a hand-built costing folder with worked TDABC numbers.

The costing folder replaces the hip_knee process map with a small one whose rates are
round: surgeon_x $1.50 a minute (120,000 / (100,000 x 80%)), nurse_x $1.00 (60,000 /
60,000) and $1.10 at hospital H1 (66,000 / 60,000), bed_x $1.00 (85,000 / (100,000 x 85%))
and $1.20 at H1 (72,000 / (100,000 x 60%, an overridden practical share)), implant_x $4,000.
H1 timed its ward day at 330 nurse minutes (map: 300); the organization's standard consult
is 30 minutes (map: 40).  CABG and diabetes use the packaged maps and reference catalog.

Worked costs (docs/costing.md repeats them):

- P1 knee: consult 30 min x 1.50 = 45.00 (prepare); ward 3 days at H1: nurse 3 x 330 min x
  1.10 = 1,089.00, bed 3 x 1,440 min x 1.20 = 5,184.00; surgeon 90 min x 1.50 = 135.00 and
  implant 4,000.00; readmission 2 days at H2: nurse 480 min x 1.00 = 480.00, bed 2,880 min
  x 1.00 = 2,880.00 (intervene 13,768.00); therapy 2 units x 15 min x 1.736111 (reference
  physical therapist) = 52.08 (recover).  Total 13,865.08; standard 12,812.08.
- P2 hip with a complication (MS-DRG 469), stay reversed and replaced (counted once):
  ward 2 days at H1: nurse 2 x (330 + 60) min x 1.10 = 858.00, bed 2,880 x 1.20 = 3,456.00;
  bilateral surgeon (modifier 50) 150 min x 1.50 = 225.00 and 2 implants 8,000.00;
  pre-operative X-ray 5 min x 1.50 = 7.50 (a low-value rule).  Total 12,546.50.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conditions.edge_data import COLUMNS, H1, H2, MEDICARE, inst, ip, prof, reversal

S1, PT, CS, CARD, PCP = "2000000001", "5000000001", "2000000009", "3000000009", "3000000001"
LAB = "6000000009"
ALL_COLUMNS = [*COLUMNS, "service_unit_quantity", "procedure_code_2"]


def _line(r: dict, n: int, **kw: str) -> dict:
    return dict(r, claim_line_number=str(n), **kw)


_p1 = ip("P1A", "P1", "2024-03-04", "2024-03-07", "470", "M1711", "15000.00",
         service_unit_quantity="3")
_p2 = ip("P2A", "P2", "2024-06-01", "2024-06-03", "469", "M1611", "20000.00",
         service_unit_quantity="2")
_p3 = ip("P3A", "P3", "2024-08-05", "2024-08-12", "233", "I2510", "50000.00",
         service_unit_quantity="7", procedure_code_1="02100Z9", fac=H2)
CLAIMS: list[dict] = [
    # P1 knee replacement at H1, readmission at H2
    prof("P1C", "P1", "2024-02-01", "99204", "M1711", "170.00", S1, pos="11"),
    _p1, _line(_p1, 2, revenue_center_code="0250", service_unit_quantity="1"),
    prof("P1K", "P1", "2024-03-04", "27447", "M1711", "1350.00", S1, facility_npi=H1),
    prof("P1T", "P1", "2024-03-20", "97110", "M1711", "60.00", PT, pos="11",
         service_unit_quantity="2"),
    ip("P1R", "P1", "2024-04-10", "2024-04-12", "863", "T8453XA", "8500.00", fac=H2,
       service_unit_quantity="2"),
    # P2 hip replacement with a complication, bilateral; the stay reversed and replaced
    prof("P2X", "P2", "2024-05-01", "71046", "M1611", "40.00", S1, pos="11"),
    _p2, reversal(_p2, "P2AR"),
    dict(_p2, claim_id="P2AA", adjustment_type="adjustment", original_claim_id="P2A",
         allowed_amount="20500.00", paid_amount="20500.00"),
    prof("P2K", "P2", "2024-06-01", "27130", "M1611", "1420.00", S1, facility_npi=H1,
         hcpcs_modifier_1="50"),
    # P3 CABG with a catheterization during the stay (MS-DRG 233), packaged map
    _p3, _line(_p3, 2, revenue_center_code="0360", service_unit_quantity="1"),
    _line(_p3, 3, revenue_center_code="0270", service_unit_quantity="1"),
    prof("P3S", "P3", "2024-08-05", "33533", "I2510", "2300.00", CS, facility_npi=H2),
    _line(prof("P3S", "P3", "2024-08-05", "33518", "I2510", "600.00", CS, facility_npi=H2),
          2),
    prof("P3N", "P3", "2024-08-05", "00567", "I2510", "900.00", "3000000010",
         facility_npi=H2, service_unit_quantity="20"),
    inst("P3H", "P3", "2024-09-01", "2024-09-01", "131", "Z951", "120.00", H2,
         hcpcs_code="93798", revenue_center_code="0943"),
    prof("P3V", "P3", "2024-07-20", "99214", "I2510", "130.00", CARD, pos="11"),
    # P4 a year of diabetes care
    prof("P4V1", "P4", "2024-02-01", "99213", "E119", "92.00", PCP, pos="11"),
    prof("P4V2", "P4", "2024-06-01", "99214", "E119", "130.00", PCP, pos="11"),
    prof("P4L", "P4", "2024-06-01", "83036", "E119", "9.70", LAB, pos="81"),
]
PERSONS = ["P1", "P2", "P3", "P4"]
PROVIDERS = [
    (S1, "orthopedic surgery", "surgeon", "individual"),
    (PT, "physical therapy", "specialist", "individual"),
    (CS, "cardiothoracic surgery", "surgeon", "individual"),
    ("3000000010", "anesthesiology", "specialist", "individual"),
    (CARD, "cardiology", "specialist", "individual"),
    (PCP, "family medicine", "primary_care", "individual"),
    (H1, "acute care hospital", "hospital", "organization"),
    (H2, "acute care hospital", "hospital", "organization"),
]

RESOURCES_CSV = """site_npi,resource,kind,salary,benefits,space,equipment,overhead,\
theoretical_minutes,practical_share,unit_cost
*,surgeon_x,person,100000,20000,,,,100000,,
*,nurse_x,person,50000,10000,,,,75000,,
*,bed_x,space,,,85000,,,100000,,
*,implant_x,consumable,,,,,,,,4000.00
1000000001,nurse_x,,55000,11000,,,,75000,,
1000000001,bed_x,,,,72000,,,100000,0.60,
"""
STEP_TIMES_CSV = """site_npi,step,resource,term,minutes
1000000001,ward_day,nurse_x,base,330
*,consult,surgeon_x,base,30
"""
HIP_MAP = """id: hip_knee
name: Worked example of a joint replacement process map
drivers:
  complication: {description: MS-DRG with MCC, criteria: [{drg: ["469"]}]}
  bilateral: {description: both joints, criteria: [{modifiers: ["50"]}]}
targets: {ward_day: 2}
low_value:
  - {id: preop_xray, name: Pre-operative X-ray, match: {hcpcs: ["71046"],
     phases: [diagnose, prepare]}, source: test rule}
steps:
  - id: consult
    name: Consultation
    match: {claim_types: [professional], hcpcs: ["99204"]}
    resources: [{resource: surgeon_x, minutes: 40}]
  - id: joint
    name: Joint replacement
    match: {claim_types: [professional], hcpcs: ["27130", "27447"]}
    resources: [{resource: surgeon_x, minutes: {base: 90, bilateral: 60}}]
    consumables: [{item: implant_x, quantity: {base: 1, bilateral: 1}}]
  - id: ward_day
    name: Ward day after the operation
    match: {claim_types: [institutional], revenue: ["0120"], drg: ["469", "470"]}
    per: unit
    resources:
      - {resource: nurse_x, minutes: {base: 300, complication: 60}}
      - {resource: bed_x, minutes: 1440}
  - id: readmission_day
    name: Readmission day
    match: {claim_types: [institutional], revenue: ["0120"]}
    per: unit
    resources: [{resource: nurse_x, minutes: 240}, {resource: bed_x, minutes: 1440}]
  - id: therapy
    name: Physical therapy unit
    match: {claim_types: [professional], hcpcs: ["97110"]}
    per: unit
    resources: [{resource: clinician, minutes: 15, substitute: nurse_x}]
  - id: xray
    name: X-ray read in the office
    match: {claim_types: [professional], hcpcs: ["70010-79999"]}
    resources: [{resource: surgeon_x, minutes: 5}]
sources:
  - {choice: worked example, source: tests/costing/cost_data.py}
"""


def write_costing(folder: Path) -> Path:
    """The organization's costing folder of the worked example."""
    (folder / "process_maps").mkdir(parents=True, exist_ok=True)
    (folder / "resources.csv").write_text(RESOURCES_CSV)
    (folder / "step_times.csv").write_text(STEP_TIMES_CSV)
    (folder / "process_maps" / "hip_knee.yaml").write_text(HIP_MAP)
    return folder


def write(folder: Path) -> Path:
    """member, eligibility, provider and medical_claim CSVs of the worked example."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "member.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "sex", "birth_date", "data_source"])
        w.writerows([p, "female", "1950-03-01", "cost"] for p in PERSONS)
    with (folder / "eligibility.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "enrollment_start_date", "enrollment_end_date", "payer",
                    "payer_type", "plan", "data_source"])
        w.writerows([p, "2024-01-01", "2024-12-31", *MEDICARE, "cost"] for p in PERSONS)
    with (folder / "provider.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["npi", "provider_name", "entity_type", "provider_type", "specialty",
                    "data_source"])
        w.writerows([n, f"Provider {n}", e, t, s, "cost"] for n, s, t, e in PROVIDERS)
    with (folder / "medical_claim.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, ALL_COLUMNS, restval="")
        w.writeheader()
        w.writerows(dict(r, data_source="cost") for r in CLAIMS)
    return folder
