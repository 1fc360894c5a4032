"""Hand-built canonical claims for the care-cycle edge cases (see test_episodes.py)."""

from __future__ import annotations

import csv
from pathlib import Path

H1, H2, SNF = "1000000001", "1000000002", "4000000001"
S1, S2, S3, PCP, ONC = "2000000001", "2000000002", "2000000003", "3000000001", "3000000002"
COLUMNS = [
    "claim_id", "claim_line_number", "claim_type", "person_id", "payer", "payer_type", "plan",
    "claim_start_date", "claim_end_date", "admission_date", "discharge_date",
    "discharge_disposition_code", "place_of_service_code", "bill_type_code", "drg_code",
    "revenue_center_code", "hcpcs_code", "hcpcs_modifier_1", "rendering_npi", "billing_npi",
    "facility_npi", "charge_amount", "allowed_amount", "paid_amount", "diagnosis_code_1",
    "procedure_code_1", "adjustment_type", "original_claim_id", "data_source",
]
MEDICARE = ("Medicare", "medicare", "Medicare FFS")
HUMANA = ("Humana", "medicare advantage", "Humana MA")


def _row(cid: str, person: str, start: str, end: str, paid: str, dx: str, *,
         line: int = 1, inst: bool = False, payer: tuple = MEDICARE, **kw: str) -> dict:
    amount = paid.lstrip("-")
    sign = "-" if paid.startswith("-") else ""
    r = {c: "" for c in COLUMNS}
    r.update(claim_id=cid, claim_line_number=str(line),
             claim_type="institutional" if inst else "professional", person_id=person,
             payer=payer[0], payer_type=payer[1], plan=payer[2], claim_start_date=start,
             claim_end_date=end, charge_amount=f"{sign}{float(amount) * 3:.2f}",
             allowed_amount=paid, paid_amount=paid, diagnosis_code_1=dx,
             adjustment_type="original", data_source="edge")
    r.update(kw)
    return r


def ip(cid: str, person: str, admit: str, dis: str, drg: str, dx: str, paid: str,
       fac: str = H1, disp: str = "01", **kw: str) -> dict:
    return _row(cid, person, admit, dis, paid, dx, inst=True, admission_date=admit,
                discharge_date=dis, discharge_disposition_code=disp, bill_type_code="111",
                drg_code=drg, revenue_center_code="0120", billing_npi=fac, facility_npi=fac,
                **kw)


def prof(cid: str, person: str, day: str, hcpcs: str, dx: str, paid: str, npi: str,
         pos: str = "21", **kw: str) -> dict:
    return _row(cid, person, day, day, paid, dx, hcpcs_code=hcpcs, place_of_service_code=pos,
                rendering_npi=npi, billing_npi=npi, **kw)


def inst(cid: str, person: str, start: str, end: str, bill: str, dx: str, paid: str,
         fac: str, **kw: str) -> dict:
    return _row(cid, person, start, end, paid, dx, inst=True, bill_type_code=bill,
                billing_npi=fac, facility_npi=fac, **kw)


def reversal(r: dict, cid: str) -> dict:
    out = dict(r, claim_id=cid, adjustment_type="reversal", original_claim_id=r["claim_id"])
    for k in ("charge_amount", "allowed_amount", "paid_amount"):
        out[k] = "-" + r[k]
    return out


CLAIMS: list[dict] = []
# P1 knee replacement; pre-op visit; readmission inside (day 77) and just outside (day 91)
CLAIMS += [
    prof("P1PRE", "P1", "2024-01-15", "99204", "M1711", "150.00", S1, pos="11"),
    ip("P1A1", "P1", "2024-03-01", "2024-03-04", "470", "M1711", "10000.00"),
    prof("P1A1P", "P1", "2024-03-01", "27447", "M1711", "1000.00", S1, facility_npi=H1),
    ip("P1A2", "P1", "2024-05-20", "2024-05-23", "863", "T8453XA", "5000.00"),
    ip("P1A3", "P1", "2024-06-03", "2024-06-05", "392", "K5290", "4000.00"),
]
# P2 bilateral knees 2.5 months apart, SNF after the second, visits between
CLAIMS += [
    ip("P2K1", "P2", "2024-02-01", "2024-02-03", "470", "M1712", "10000.00"),
    prof("P2K1P", "P2", "2024-02-01", "27447", "M1712", "1000.00", S1, facility_npi=H1),
    prof("P2PT", "P2", "2024-03-10", "97110", "M1712", "100.00", "5000000001", pos="11"),
    prof("P2PRE", "P2", "2024-03-20", "99214", "M1711", "130.00", S2, pos="11"),
    ip("P2K2", "P2", "2024-04-15", "2024-04-17", "470", "M1711", "11000.00", fac=H2),
    prof("P2K2P", "P2", "2024-04-15", "27447", "M1711", "1200.00", S2, facility_npi=H2),
    inst("P2SNF", "P2", "2024-04-17", "2024-05-01", "211", "M1711", "6000.00", SNF,
         revenue_center_code="0120"),
]
# P3 transfer: cath stay at H1 discharged 02 to H2 the same day, CABG at H2
CLAIMS += [
    ip("P3B1", "P3", "2024-06-10", "2024-06-11", "287", "I2510", "3000.00", disp="02"),
    ip("P3B2", "P3", "2024-06-11", "2024-06-18", "236", "I2510", "30000.00", fac=H2,
       procedure_code_1="02100Z9"),
    prof("P3B2P", "P3", "2024-06-12", "33533", "I2510", "2000.00", S2, facility_npi=H2),
]
# P4 hip stay reversed, never replaced: no cycle
_p4 = ip("P4D1", "P4", "2024-03-05", "2024-03-07", "470", "M1611", "9000.00")
CLAIMS += [_p4, reversal(_p4, "P4D1R")]
# P5 hip stay reversed and replaced by an adjustment: the adjustment is the trigger
_p5 = ip("P5E1", "P5", "2024-05-01", "2024-05-03", "470", "M1611", "9000.00")
CLAIMS += [_p5, reversal(_p5, "P5E1R"),
           dict(_p5, claim_id="P5E1A", adjustment_type="adjustment", original_claim_id="P5E1",
                allowed_amount="9500.00", paid_amount="9500.00")]
# P6 CABG, dies on 30 Aug, inside the window
CLAIMS += [ip("P6F1", "P6", "2024-08-01", "2024-08-08", "235", "I2510", "40000.00")]
# P7 knee under Medicare, SNF after switching to Humana MA on 1 July
CLAIMS += [
    ip("P7G1", "P7", "2024-06-20", "2024-06-22", "470", "M1711", "12000.00"),
    inst("P7G2", "P7", "2024-07-05", "2024-07-15", "211", "M1711", "3000.00", SNF,
         payer=HUMANA, revenue_center_code="0120"),
]
# P8 breast: mammogram, lumpectomy (facility + surgeon), re-excision, chemotherapy
CLAIMS += [
    prof("P8MAM", "P8", "2024-01-20", "77066", "R928", "150.00", "6000000001", pos="11"),
    inst("P8L", "P8", "2024-02-10", "2024-02-10", "131", "C50911", "4000.00", H1,
         hcpcs_code="19301", revenue_center_code="0360"),
    prof("P8LP", "P8", "2024-02-10", "19301", "C50911", "700.00", S3, pos="22",
         facility_npi=H1),
    inst("P8R", "P8", "2024-03-05", "2024-03-05", "131", "C50911", "3500.00", H1,
         hcpcs_code="19301", revenue_center_code="0360"),
    prof("P8RP", "P8", "2024-03-05", "19301", "C50911", "700.00", S3, pos="22",
         facility_npi=H1, hcpcs_modifier_1="58"),
    prof("P8CH", "P8", "2024-04-01", "96413", "C50911", "140.00", ONC, pos="11"),
]
# P9 two diabetes visits (a chronic year); P10 one visit (no chronic year)
CLAIMS += [
    prof("P9V1", "P9", "2024-02-01", "99213", "E119", "90.00", PCP, pos="11"),
    prof("P9V2", "P9", "2024-05-01", "99213", "E119", "90.00", PCP, pos="11"),
    prof("P10V1", "P10", "2024-02-01", "99213", "E119", "90.00", PCP, pos="11"),
]

PERSONS = [f"P{i}" for i in range(1, 11)]


def write(folder: Path) -> Path:
    """Write member, eligibility, death and medical_claim CSVs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "member.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "sex", "birth_date", "death_date", "data_source"])
        for p in PERSONS:
            w.writerow([p, "female", "1950-03-01", "2024-08-30" if p == "P6" else "", "edge"])
    with (folder / "eligibility.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "enrollment_start_date", "enrollment_end_date", "payer",
                    "payer_type", "plan", "data_source"])
        for p in PERSONS:
            end = {"P6": "2024-08-31", "P7": "2024-06-30"}.get(p, "2024-12-31")
            w.writerow([p, "2024-01-01", end, *MEDICARE, "edge"])
        w.writerow(["P7", "2024-07-01", "2024-12-31", *HUMANA, "edge"])
    with (folder / "death.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "death_date", "death_source", "data_source"])
        w.writerow(["P6", "2024-08-30", "enrollment", "edge"])
    with (folder / "medical_claim.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(CLAIMS)
    return folder
