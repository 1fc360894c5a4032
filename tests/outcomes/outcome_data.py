"""Hand-built canonical data for the readmission and care-cycle outcome tests.

One member per scenario; each block says what it tests and the expected result, worked
out by hand from the rules in :mod:`valuecare.outcomes.readmissions` (CMS HWR index rules,
Planned Readmission Algorithm v4.0 in outline) and :mod:`valuecare.outcomes.cycles`
(definitions in ``valuecare/reference/outcomes/hip_knee.yaml`` and ``diabetes.yaml``).

**Last date of data** (``as_of``) = the latest service date of an active claim =
2025-12-31, set by the office visit ``LATEV`` of member ``RLATE``.  Everyone is enrolled
in Medicare FFS 2024-01-01..2025-12-31 unless the block says otherwise.

Stay ids are ``<person>:<n>``, the n-th stay of the person by admission date.  Medical
stays use pneumonia (DRG 193, J189) as the index and sepsis (DRG 871, A419) as an
unplanned readmission: neither has a potentially planned procedure, so they are unplanned.
Days to readmission = readmission admission date - index discharge date; it counts when
0..30 (rule 3).
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conditions.edge_data import COLUMNS as EDGE_COLUMNS
from tests.conditions.edge_data import H1, H2, MEDICARE, S1, SNF, inst, ip, prof, reversal

AS_OF = "2025-12-31"
COLUMNS = [*EDGE_COLUMNS, "diagnosis_code_2", "diagnosis_poa_1", "diagnosis_poa_2"]
OBS_COLUMNS = ["observation_id", "person_id", "encounter_id", "panel_id", "observation_date",
               "observation_type", "source_code_type", "source_code", "result",
               "result_numeric", "source_units", "data_source"]
ENROLL = ("2024-01-01", "2025-12-31")


def pneumonia(cid: str, pid: str, admit: str, dis: str, **kw: str) -> dict:
    return ip(cid, pid, admit, dis, "193", "J189", "8000.00", **kw)


def sepsis(cid: str, pid: str, admit: str, dis: str, **kw: str) -> dict:
    return ip(cid, pid, admit, dis, "871", "A419", "12000.00", **kw)


def hip(pid: str, admit: str, dis: str, **kw: str) -> list[dict]:
    """A total hip replacement: MS-DRG 470 stay with ICD-10-PCS 0SR90J9 for primary
    osteoarthritis (M1611), plus the surgeon's CPT 27130 line during the stay (POS 21).
    Opens a ``hip_knee`` cycle ``hip_knee:<pid>:<admit>`` (anchor = the stay)."""
    return [ip(f"{pid}HIP", pid, admit, dis, "470", "M1611", "12000.00",
               procedure_code_1="0SR90J9", diagnosis_poa_1="Y", **kw),
            prof(f"{pid}HIPP", pid, admit, "27130", "M1611", "1500.00", S1, facility_npi=H1)]


def knee(pid: str, admit: str, dis: str, dx: str = "M1711", drg: str = "470") -> list[dict]:
    """A total knee replacement stay (ICD-10-PCS 0SRC0J9) with principal diagnosis ``dx``."""
    return [ip(f"{pid}KNEE", pid, admit, dis, drg, dx, "12000.00", procedure_code_1="0SRC0J9",
               diagnosis_poa_1="Y")]


CLAIMS: list[dict] = []
#: person -> (enrollment end, death date); others are enrolled through 2025-12-31, alive.
SPECIAL: dict[str, tuple[str, str | None]] = {}

# ---- 30-day readmissions (table ``readmissions``) ---------------------------------------
# RD30: discharged alive 2024-03-04, readmitted 2024-04-03 = day 30 -> readmitted, 30 days.
CLAIMS += [pneumonia("RD30A", "RD30", "2024-03-01", "2024-03-04"),
           sepsis("RD30B", "RD30", "2024-04-03", "2024-04-06")]
# RD31: the same, readmitted 2024-04-04 = day 31 -> eligible, not readmitted, no stay found.
CLAIMS += [pneumonia("RD31A", "RD31", "2024-03-01", "2024-03-04"),
           sepsis("RD31B", "RD31", "2024-04-04", "2024-04-06")]
# RDIED: discharge status 20 (expired) -> excluded died_in_hospital; readmitted_30d null.
# No date of death is recorded, so the discharge status alone decides (enrollment ends
# with the month).
CLAIMS += [pneumonia("RDIEDA", "RDIED", "2024-03-01", "2024-03-04", disp="20")]
SPECIAL["RDIED"] = ("2024-03-31", None)
# RAMA: left against medical advice (07), back on 2024-03-09 -> excluded
# against_medical_advice; readmitted_30d null although the next stay (RAMA:2) is reported.
CLAIMS += [pneumonia("RAMAA", "RAMA", "2024-03-01", "2024-03-04", disp="07"),
           sepsis("RAMAB", "RAMA", "2024-03-09", "2024-03-12")]
# RTRF: H1 2024-03-01..03-03 discharged 02 (transfer), admitted at H2 on 2024-03-04 (the
# next day) -> one stay RTRF:1, admit 03-01, discharge 03-08, facility H2, status 01 (the
# final hospital carries the stay).  Readmitted at H1 on 2024-03-18 = 10 days after the
# final discharge (17 after the first hospital's) -> readmitted, 10 days.
CLAIMS += [pneumonia("RTRFA", "RTRF", "2024-03-01", "2024-03-03", disp="02"),
           pneumonia("RTRFB", "RTRF", "2024-03-04", "2024-03-08", fac=H2),
           sepsis("RTRFC", "RTRF", "2024-03-18", "2024-03-20")]
# RTOUT: discharged 02 with no following stay -> excluded transfer_out.
CLAIMS += [pneumonia("RTOUTA", "RTOUT", "2024-03-01", "2024-03-04", disp="02")]
# RPSY: principal diagnosis F322 (major depression, CCS mental illness) -> excluded
# psychiatric, even with a readmission on 2024-03-10.
CLAIMS += [ip("RPSYA", "RPSY", "2024-03-01", "2024-03-04", "885", "F322", "6000.00"),
           sepsis("RPSYB", "RPSY", "2024-03-10", "2024-03-12")]
# RLATE: discharged 2025-12-15; day 30 = 2026-01-14 is after as_of 2025-12-31 -> excluded
# insufficient_followup.  Its office visit on 2025-12-31 is the latest claim (sets as_of).
CLAIMS += [pneumonia("RLATEA", "RLATE", "2025-12-12", "2025-12-15"),
           prof("LATEV", "RLATE", AS_OF, "99213", "J189", "90.00", S1, pos="11")]
# REDGE: discharged 2025-12-01; day 30 = 2025-12-31 = as_of -> follow-up complete, eligible,
# not readmitted (boundary of the insufficient_followup rule).
CLAIMS += [pneumonia("REDGEA", "REDGE", "2025-11-28", "2025-12-01")]
# RNENR: discharged 2024-03-04, enrollment ends 2024-03-14 (day 10), alive -> excluded
# not_enrolled_30d.
CLAIMS += [pneumonia("RNENRA", "RNENR", "2024-03-01", "2024-03-04")]
SPECIAL["RNENR"] = ("2024-03-14", None)
# RNDIE: the same enrollment end, but the member died on 2024-03-14 (day 10 <= 30) ->
# eligible (death ends follow-up), not readmitted.
CLAIMS += [pneumonia("RNDIEA", "RNDIE", "2024-03-01", "2024-03-04")]
SPECIAL["RNDIE"] = ("2024-03-14", "2024-03-14")
# RPLN: readmitted 2024-03-14 (day 10) for a knee replacement (0SRC0J9, potentially
# planned) with principal M1711 (not acute) -> the readmission is planned; index not
# readmitted, first_readmission_planned true.
CLAIMS += [pneumonia("RPLNA", "RPLN", "2024-03-01", "2024-03-04"),
           *knee("RPLN", "2024-03-14", "2024-03-17")]
# RUNP: the same procedure with principal T8450XA (infection of the joint prosthesis, T84
# on the acute list) -> unplanned; index readmitted, 10 days.
CLAIMS += [pneumonia("RUNPA", "RUNP", "2024-03-01", "2024-03-04"),
           *knee("RUNP", "2024-03-14", "2024-03-17", dx="T8450XA", drg="485")]
# RUNPA: the same procedure with principal I214 (NSTEMI, I21 acute) -> unplanned, 10 days.
CLAIMS += [pneumonia("RUNPAA", "RUNPA", "2024-03-01", "2024-03-04"),
           *knee("RUNPA", "2024-03-14", "2024-03-17", dx="I214", drg="246")]
# RPTHEN: first readmission 2024-03-09 (day 5) for chemotherapy (Z5111, always planned),
# then an unplanned sepsis stay on 2024-03-20 (day 16) -> only the first counts: not
# readmitted, readmission_stay_id RPTHEN:2, first_readmission_planned true.
CLAIMS += [pneumonia("RPTHENA", "RPTHEN", "2024-03-01", "2024-03-04"),
           ip("RPTHENB", "RPTHEN", "2024-03-09", "2024-03-10", "837", "Z5111", "7000.00"),
           sepsis("RPTHENC", "RPTHEN", "2024-03-20", "2024-03-23")]
# RCHEMO: readmitted 2024-03-14 (day 10) with principal Z5111 (maintenance chemotherapy,
# always planned) -> planned, index not readmitted.  The chemo stay itself is planned and
# excluded as an index (cancer_treatment).
CLAIMS += [pneumonia("RCHEMOA", "RCHEMO", "2024-03-01", "2024-03-04"),
           ip("RCHEMOB", "RCHEMO", "2024-03-14", "2024-03-15", "837", "Z5111", "7000.00")]
# RREV: the readmission claim of 2024-03-14 is reversed -> no stay, not readmitted; the
# member has one stay only.
_rev = sepsis("RREVB", "RREV", "2024-03-14", "2024-03-17")
CLAIMS += [pneumonia("RREVA", "RREV", "2024-03-01", "2024-03-04"), _rev,
           reversal(_rev, "RREVBR")]

# ---- hip and knee cycle outcomes (table ``outcomes``) ----------------------------------
# Unless said otherwise: hip stay 2024-04-01..2024-04-04 (3 nights), so day 0 = 2024-04-01,
# day 7 = 04-08, day 60 = 05-31, day 89 = 06-29, day 90 = 06-30, day 95 = 07-05.
# length_of_stay = 3; complication_90d covers days 0-90 from admission (PE 0-30, AMI 0-7);
# on the index stay only diagnoses not present on admission (POA N/U) count.
# HPEN: pulmonary embolism I2699 as a secondary diagnosis of the index stay with POA N ->
# complication_90d 1, dated 2024-04-01 (the stay's service date).
CLAIMS += hip("HPEN", "2024-04-01", "2024-04-04", diagnosis_code_2="I2699",
              diagnosis_poa_2="N")
# HPEY: the same with POA Y (present on admission) -> complication_90d 0.  No PROM
# answers, follow-up window closed (2024-04-04 + 425 = 2025-06-03 <= as_of) ->
# hoos_jr_change and hoos_jr_change_mcid missing, missing_both.
CLAIMS += hip("HPEY", "2024-04-01", "2024-04-04", diagnosis_code_2="I2699",
              diagnosis_poa_2="Y")
# HINF60: readmitted 2024-05-31 (day 60) with periprosthetic infection T8450XA ->
# complication_90d 1 dated 05-31; readmission_30d 0 (57 days after discharge).
CLAIMS += [*hip("HINF60", "2024-04-01", "2024-04-04"),
           ip("HINF60R", "HINF60", "2024-05-31", "2024-06-03", "863", "T8450XA", "9000.00")]
# HINF95: the same on 2024-07-05 (day 95, after the 90-day window) -> complication_90d 0.
CLAIMS += [*hip("HINF95", "2024-04-01", "2024-04-04"),
           ip("HINF95R", "HINF95", "2024-07-05", "2024-07-08", "863", "T8450XA", "9000.00")]
# HAMI7: admitted with AMI I214 on 2024-04-08 (day 7 from admission) -> complication_90d 1
# dated 04-08; also an unplanned readmission 4 days after discharge -> readmission_30d 1
# dated 04-08.
CLAIMS += [*hip("HAMI7", "2024-04-01", "2024-04-04"),
           ip("HAMI7R", "HAMI7", "2024-04-08", "2024-04-11", "281", "I214", "9000.00")]
# HAMI8: the AMI on 2024-04-09 (day 8, after the 0-7 window) -> complication_90d 0; still
# readmission_30d 1 dated 04-09 (5 days after discharge).
CLAIMS += [*hip("HAMI8", "2024-04-01", "2024-04-04"),
           ip("HAMI8R", "HAMI8", "2024-04-09", "2024-04-12", "281", "I214", "9000.00")]
# HDIE89: died 2024-06-29 (day 89; days: 90 = days 0-89) -> mortality_90d 1 dated 06-29.
CLAIMS += hip("HDIE89", "2024-04-01", "2024-04-04")
SPECIAL["HDIE89"] = ("2024-06-30", "2024-06-29")
# HDIE90: died 2024-06-30 (day 90) -> mortality_90d 0 (enrolled through day 89, 06-29).
CLAIMS += hip("HDIE90", "2024-04-01", "2024-04-04")
SPECIAL["HDIE90"] = ("2024-06-30", "2024-06-30")
# HDIE95: died 2024-07-05 (day 95) -> mortality_90d 0.
CLAIMS += hip("HDIE95", "2024-04-01", "2024-04-04")
SPECIAL["HDIE95"] = ("2024-07-31", "2024-07-05")
# HCENS: hip stay 2025-11-03..11-06; day 89 = 2026-01-31 is after as_of -> mortality_90d
# censored with null value and date.
CLAIMS += hip("HCENS", "2025-11-03", "2025-11-06")
# HSNF: hip stay 04-01..04-04 (3 days) then SNF 04-04..04-14 (10 days) -> facility_days_90d
# = 3 + 10 = 13 (discharge day not counted), dated day 89 = 2024-06-29; length_of_stay 3.
CLAIMS += [*hip("HSNF", "2024-04-01", "2024-04-04"),
           inst("HSNFS", "HSNF", "2024-04-04", "2024-04-14", "211", "M1611", "6000.00", SNF,
                revenue_center_code="0120")]
# HPROM: full HOOS JR answers at baseline 2024-03-02 (day -30 from admission, window -90..0)
# 3+3+3+3+3+3 = raw 18 -> 32.735, and at follow-up 2025-04-04 (discharge + 365, window
# 300..425 after discharge) 1+1+1+1+0+0 = raw 4 -> 76.776 (HOOS JR conversion table,
# Lyman et al. 2016 / HSS).  Change = 76.776 - 32.735 = +44.041 >= 22 -> _mcid 1; both rows
# dated at the follow-up 2025-04-04.
CLAIMS += hip("HPROM", "2024-04-01", "2024-04-04")
PROM_ANSWERS = {"2024-03-02": [3, 3, 3, 3, 3, 3], "2025-04-04": [1, 1, 1, 1, 0, 0]}
# KNEE: total knee replacement (DRG 470, 0SRC0J9, M1711) -> no hoos_jr_change rows (the
# HOOS JR population is hip codes only); koos_jr_change missing, missing_both.
CLAIMS += knee("KNEE", "2024-04-01", "2024-04-04")

# ---- diabetes (chronic year 2024) --------------------------------------------------------
# DM1: E119 on two days of 2024 -> cycle diabetes:DM1:2024-01-01; HbA1c 7.5 (03-01) then
# 8.2 (09-01): the last of the year is 8.2, not < 8.0 -> hba1c_below_8 0 dated 09-01.
# DM2: diabetic, no HbA1c -> hba1c_below_8 missing, no_result.
# DM3: HbA1c 8.4 (03-01) then 7.9 (09-01) -> hba1c_below_8 1 dated 09-01.
for _p in ("DM1", "DM2", "DM3"):
    CLAIMS += [prof(f"{_p}V1", _p, "2024-02-01", "99213", "E119", "90.00", S1, pos="11"),
               prof(f"{_p}V2", _p, "2024-05-01", "99213", "E119", "90.00", S1, pos="11")]
HBA1C = {"DM1": [("2024-03-01", 7.5), ("2024-09-01", 8.2)],
         "DM3": [("2024-03-01", 8.4), ("2024-09-01", 7.9)]}


def persons() -> list[str]:
    """Every member, in first-claim order."""
    return list(dict.fromkeys(r["person_id"] for r in CLAIMS))


def observations() -> list[dict]:
    rows = []
    for pid, results in HBA1C.items():
        for i, (day, value) in enumerate(results, 1):
            rows.append(dict(observation_id=f"{pid}-A1C{i}", person_id=pid, encounter_id="",
                             panel_id="", observation_date=day, observation_type="lab",
                             source_code_type="loinc", source_code="4548-4",
                             result=str(value), result_numeric=str(value), source_units="%",
                             data_source="outcomes"))
    for day, answers in PROM_ANSWERS.items():
        for item, answer in enumerate(answers, 1):
            rows.append(dict(observation_id=f"HPROM-{day}-{item}", person_id="HPROM",
                             encounter_id="", panel_id="HOOS_JR", observation_date=day,
                             observation_type="prom_item", source_code_type="prom",
                             source_code=f"HOOS_JR.{item}", result=str(answer),
                             result_numeric=str(answer), source_units="",
                             data_source="outcomes"))
    return rows


def write(folder: Path) -> Path:
    """Write member, eligibility, medical_claim and observation CSVs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    people = persons()
    with (folder / "member.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "sex", "birth_date", "death_date", "data_source"])
        for p in people:
            w.writerow([p, "female", "1950-03-01", SPECIAL.get(p, ("", None))[1] or "",
                        "outcomes"])
    with (folder / "eligibility.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "enrollment_start_date", "enrollment_end_date", "payer",
                    "payer_type", "plan", "data_source"])
        for p in people:
            end = SPECIAL[p][0] if p in SPECIAL else ENROLL[1]
            w.writerow([p, ENROLL[0], end, *MEDICARE, "outcomes"])
    with (folder / "medical_claim.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, restval="")
        w.writeheader()
        w.writerows(CLAIMS)
    with (folder / "observation.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, OBS_COLUMNS)
        w.writeheader()
        w.writerows(observations())
    return folder
