"""The canonical data model: every table, column, type, key and constraint, declared once.

Column names follow the Tuva Project input layer (package 0.18.0,
``models/input_layer/input_layer__<table>.yml``) wherever Tuva has the column, so data
already mapped for Tuva loads unchanged.  Columns Tuva lacks (adjustments and reversals,
social needs, PROM items, provider roles) are valuecare extensions and are marked
``origin="valuecare"``.

Everything else reads this module: the loader validates against it, the synthetic
generator writes it, and ``docs/data-model.md`` is generated from it
(``python -m valuecare.model.docs``); a test fails when the page is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["string", "date", "int", "decimal", "double", "bool"]
Origin = Literal["tuva", "valuecare"]

#: Money is exact: ``decimal(18, 2)`` in every engine, never float.
MONEY_PRECISION = 18
MONEY_SCALE = 2

# Code formats (codes are kept as published, ICD-10 without the dot).
ICD10CM = r"^[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?$"  # U07.1 (COVID-19) is ICD-10-CM since 2020
ICD9CM = r"^([0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4})$"
ICD9PCS = r"^[0-9]{2,4}$"
ICD10PCS = r"^[0-9A-HJ-NP-Z]{7}$"
HCPCS = r"^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$"
MSDRG = r"^[0-9]{3}$"
REVENUE = r"^[0-9]{4}$"
POS = r"^[0-9]{2}$"
NPI = r"^[0-9]{10}$"
NDC = r"^[0-9]{11}$"
ZIP = r"^[0-9]{5}$"
ZIP3 = r"^[0-9]{3}$"
STATE = r"^[A-Z]{2}$"
BILL_TYPE = r"^[0-9]{3,4}$"
LOINC = r"^[0-9]{1,7}-[0-9]$"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``allowed`` closes the vocabulary; ``pattern`` is a regular expression the text form
    must match; ``min_value`` bounds numbers and money (``None``: unbounded);
    ``references`` names ``"table.column"`` that must hold the value (an orphan is
    quarantined); ``money`` marks amounts reconciled to the cent by the loader.
    """

    name: str
    dtype: DType
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    references: str | None = None
    origin: Origin = "tuva"

    @property
    def money(self) -> bool:
        return self.dtype == "decimal"


@dataclass(frozen=True)
class Table:
    """A canonical table: its grain, primary key and columns."""

    name: str
    description: str
    grain: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    #: row-level rules across columns, as ``(rule_name, description)``; the loader
    #: implements each by name in ``valuecare.model.validate``.
    row_rules: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    origin: Origin = "tuva"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def money_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.money)


def _c(name: str, dtype: DType, description: str, **kw: object) -> Column:
    return Column(name, dtype, description, **kw)  # type: ignore[arg-type]


def _v(name: str, dtype: DType, description: str, **kw: object) -> Column:
    return Column(name, dtype, description, origin="valuecare", **kw)  # type: ignore[arg-type]


DATA_SOURCE = _c("data_source", "string", "Name of the source system or feed.", required=True)
FILE_NAME = _c("file_name", "string", "File the row was loaded from (set by the loader).")

#: ``unknown``: coverage is known to exist but not whose (an OMOP observation period)
PAYER_TYPES = ("medicare", "medicare advantage", "commercial", "medicaid", "unknown")
ADJUSTMENT_TYPES = ("original", "adjustment", "reversal")

_ADJ = (
    _v(
        "adjustment_type",
        "string",
        "original: first submission; reversal: cancels `original_claim_id` line by line with "
        "negated amounts; adjustment: replacement of a reversed claim. Marts net them.",
        required=True,
        allowed=ADJUSTMENT_TYPES,
    ),
    _v(
        "original_claim_id",
        "string",
        "For reversals and adjustments, the claim_id of the claim they reverse or replace.",
    ),
)

_MONEY_NONNEG = "amounts are >= 0 except on reversal lines, whose amounts are <= 0"

MEMBER = Table(
    name="member",
    description="One row per person: demographics, dual status, region and social needs.",
    grain="person_id",
    primary_key=("person_id",),
    columns=(
        _c("person_id", "string", "Unique person identifier across payers.", required=True),
        _c("sex", "string", "Sex as recorded.", required=True,
           allowed=("male", "female", "unknown")),
        _c("race", "string", "Race (OMB categories, lower case).",
           allowed=("white", "black or african american", "asian",
                    "american indian or alaska native",
                    "native hawaiian or other pacific islander", "other race", "unknown")),
        _c("ethnicity", "string", "Ethnicity.",
           allowed=("hispanic or latino", "not hispanic or latino", "unknown")),
        _c("birth_date", "date", "Date of birth.", required=True),
        _c("death_date", "date", "Date of death, if known to the enrollment source."),
        _c("death_flag", "int", "1 if the person died.", allowed=("0", "1")),
        _c("state", "string", "State (USPS code).", pattern=STATE),
        _c("zip_code", "string", "Five-digit ZIP code.", pattern=ZIP),
        _v("zip3", "string", "First three digits of the ZIP code.", pattern=ZIP3),
        _v("region", "string", "Census region.",
           allowed=("northeast", "midwest", "south", "west")),
        _c("dual_status_code", "string", "Medicare-Medicaid dual status (CMS codes).",
           allowed=("00", "01", "02", "03", "04", "05", "06", "08", "09", "10")),
        _v("food_insecurity", "bool", "Screened positive for food insecurity (AHC HRSN)."),
        _v("housing_instability", "bool", "Screened positive for housing instability."),
        _v("transportation_barrier", "bool", "Screened positive for transportation needs."),
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(("death_after_birth", "death_date is on or after birth_date"),),
)

ELIGIBILITY = Table(
    name="eligibility",
    description="Enrollment spans: one row per person, payer, plan and continuous span. "
    "Member months are derived from it.",
    grain="person_id, payer, plan, enrollment_start_date",
    primary_key=("person_id", "payer", "plan", "enrollment_start_date"),
    columns=(
        _c("person_id", "string", "Person enrolled.", required=True,
           references="member.person_id"),
        _c("member_id", "string", "Payer's member identifier."),
        _c("gender", "string", "Gender as the payer records it.",
           allowed=("male", "female", "unknown")),
        _c("birth_date", "date", "Date of birth as the payer records it."),
        _c("enrollment_start_date", "date", "First day of the span.", required=True),
        _c("enrollment_end_date", "date", "Last day of the span.", required=True),
        _c("payer", "string", "Payer name.", required=True),
        _c("payer_type", "string", "Line of business.", required=True, allowed=PAYER_TYPES),
        _c("plan", "string", "Plan or product name.", required=True),
        _c("original_reason_entitlement_code", "string",
           "Medicare original reason for entitlement (0 old age, 1 disability, 2 ESRD, "
           "3 disability and ESRD).", allowed=("0", "1", "2", "3")),
        _c("dual_status_code", "string", "Dual status during the span.",
           allowed=("00", "01", "02", "03", "04", "05", "06", "08", "09", "10")),
        _c("medicare_status_code", "string", "Medicare status code.",
           allowed=("00", "10", "11", "20", "21", "31", "40")),
        _c("enrollment_status", "string", "CMS-HCC enrollment segment hint.",
           allowed=("Continuing", "New", "Institutional", "ESRD")),
        _c("institutional_snp_flag", "int", "1 if in an institutional SNP.", allowed=("0", "1")),
        _c("long_term_institutional_flag", "int", "1 if long-term institutionalized.",
           allowed=("0", "1")),
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(("span_order", "enrollment_end_date is on or after enrollment_start_date"),),
)

PROVIDER_TYPES = (
    "primary_care", "specialist", "surgeon", "hospital", "outpatient_facility", "snf",
    "home_health", "lab", "pharmacy",
)

PROVIDER = Table(
    name="provider",
    description="Clinicians and facilities, one row per NPI (Tuva practitioner + location).",
    grain="npi",
    primary_key=("npi",),
    columns=(
        _c("npi", "string", "National Provider Identifier (10 digits).", required=True,
           pattern=NPI),
        _v("provider_name", "string", "Name of the clinician or facility.", required=True),
        _v("entity_type", "string", "individual (NPI type 1) or organization (type 2).",
           required=True, allowed=("individual", "organization")),
        _v("provider_type", "string", "Role in the care system.", required=True,
           allowed=PROVIDER_TYPES),
        _c("specialty", "string", "Specialty (e.g. orthopedic surgery, cardiology)."),
        _c("facility_type", "string", "For organizations: acute hospital, ASC, SNF, ..."),
        _c("practice_affiliation", "string", "TIN of the practice or system the NPI bills under."),
        _c("state", "string", "State (USPS code).", pattern=STATE),
        _c("zip_code", "string", "Five-digit ZIP code.", pattern=ZIP),
        _v("region", "string", "Census region.",
           allowed=("northeast", "midwest", "south", "west")),
        DATA_SOURCE,
        FILE_NAME,
    ),
)

_DX = tuple(
    _c(f"diagnosis_code_{i}", "string",
       ("Principal diagnosis, no dot: ICD-10-CM, or ICD-9-CM when diagnosis_code_type says "
        "so (format checked by code_format_by_system). Empty on lines that carry none "
        "(e.g. DME lines of CCLF6).") if i == 1
       else f"Diagnosis {i} (same code system as diagnosis_code_1).")
    for i in range(1, 26)
)
_POA = tuple(
    _c(f"diagnosis_poa_{i}", "string", f"Present-on-admission indicator for diagnosis {i}.",
       allowed=("Y", "N", "U", "W", "1"))
    for i in range(1, 26)
)
_PX = tuple(
    col
    for i in range(1, 26)
    for col in (
        _c(f"procedure_code_{i}", "string",
           f"Procedure {i}: ICD-10-PCS, or ICD-9 volume 3 when procedure_code_type says so."),
        _c(f"procedure_date_{i}", "date", f"Date of procedure {i}."),
    )
)

MEDICAL_CLAIM = Table(
    name="medical_claim",
    description="Medical claims at line grain; header fields repeat on every line of a "
    "claim (the Tuva input layer shape). Institutional (UB-04) and professional (CMS-1500) "
    "claims, with adjustments and reversals kept as they arrive.",
    grain="claim_id, claim_line_number, data_source",
    primary_key=("claim_id", "claim_line_number", "data_source"),
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c("claim_line_number", "int", "Line number within the claim (1-based).",
           required=True, min_value=1),
        _c("claim_type", "string", "institutional, professional or undetermined.",
           required=True, allowed=("institutional", "professional", "undetermined")),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("member_id", "string", "Payer's member identifier."),
        _c("payer", "string", "Payer name.", required=True),
        _c("payer_type", "string", "Line of business of the payer.", allowed=PAYER_TYPES,
           origin="valuecare"),
        _c("plan", "string", "Plan or product name."),
        _c("claim_start_date", "date", "First date of service on the claim.", required=True),
        _c("claim_end_date", "date", "Last date of service on the claim.", required=True),
        _c("claim_line_start_date", "date", "Line date of service (start)."),
        _c("claim_line_end_date", "date", "Line date of service (end)."),
        _c("admission_date", "date", "Inpatient admission date."),
        _c("discharge_date", "date", "Inpatient discharge date."),
        _c("admit_source_code", "string", "UB-04 point of origin."),
        _c("admit_type_code", "string", "UB-04 priority of admission (1 emergency, 3 elective)."),
        _c("discharge_disposition_code", "string",
           "UB-04 patient discharge status (01 home, 02 transfer to acute, 03 SNF, "
           "06 home health, 07 against medical advice, 20 expired).", pattern=r"^[0-9]{2}$"),
        _c("place_of_service_code", "string", "CMS place of service (professional claims).",
           pattern=POS),
        _c("bill_type_code", "string", "UB-04 type of bill (institutional claims).",
           pattern=BILL_TYPE),
        _c("drg_code_type", "string", "ms-drg or apr-drg.", allowed=("ms-drg", "apr-drg")),
        _c("drg_code", "string", "Diagnosis-related group.", pattern=MSDRG),
        _c("revenue_center_code", "string", "UB-04 revenue code (4 digits).", pattern=REVENUE),
        _c("service_unit_quantity", "int", "Units of service.", min_value=0),
        _c("hcpcs_code", "string", "CPT / HCPCS Level II code.", pattern=HCPCS),
        _c("hcpcs_modifier_1", "string", "First modifier."),
        _c("hcpcs_modifier_2", "string", "Second modifier."),
        _c("hcpcs_modifier_3", "string", "Third modifier."),
        _c("hcpcs_modifier_4", "string", "Fourth modifier."),
        _c("hcpcs_modifier_5", "string", "Fifth modifier."),
        _c("rendering_npi", "string", "Rendering clinician.", pattern=NPI,
           references="provider.npi"),
        _c("billing_npi", "string", "Billing provider.", pattern=NPI,
           references="provider.npi"),
        _c("rendering_tin", "string", "Rendering clinician's tax identification number."),
        _c("billing_tin", "string", "Billing tax identification number."),
        _c("facility_npi", "string", "Facility where care was given.", pattern=NPI,
           references="provider.npi"),
        _c("paid_date", "date", "Date the payer paid the claim."),
        _c("charge_amount", "decimal", "Billed charges.", required=True),
        _c("allowed_amount", "decimal", "Allowed amount (payer + patient share).",
           required=True),
        _c("paid_amount", "decimal", "Amount the payer paid.", required=True),
        _c("coinsurance_amount", "decimal", "Patient coinsurance."),
        _c("copayment_amount", "decimal", "Patient copayment."),
        _c("deductible_amount", "decimal", "Patient deductible."),
        _c("total_cost_amount", "decimal", "Total cost of the line where the source has it."),
        _c("in_network_flag", "int", "1 if the service was in network.", allowed=("0", "1")),
        _c("diagnosis_code_type", "string", "icd-10-cm or icd-9-cm.",
           allowed=("icd-10-cm", "icd-9-cm")),
        *_DX,
        *_POA,
        _c("procedure_code_type", "string", "icd-10-pcs or icd-9-pcs.",
           allowed=("icd-10-pcs", "icd-9-pcs")),
        *_PX,
        *_ADJ,
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(
        ("code_format_by_system", "diagnosis codes have the ICD-10-CM format, or ICD-9-CM when "
         "diagnosis_code_type is icd-9-cm; procedure codes ICD-10-PCS, or ICD-9 when "
         "procedure_code_type is icd-9-pcs"),
        ("claim_dates_order", "claim_end_date is on or after claim_start_date"),
        ("discharge_after_admission", "discharge_date is on or after admission_date"),
        ("amount_sign", _MONEY_NONNEG),
        ("paid_not_above_allowed", "|paid_amount| <= |allowed_amount|"),
    ),
)

PHARMACY_CLAIM = Table(
    name="pharmacy_claim",
    description="Pharmacy (Part D / PBM) claims, one row per dispensing line.",
    grain="claim_id, claim_line_number, data_source",
    primary_key=("claim_id", "claim_line_number", "data_source"),
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c("claim_line_number", "int", "Line number.", required=True, min_value=1),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("member_id", "string", "Payer's member identifier."),
        _c("payer", "string", "Payer name.", required=True),
        _c("payer_type", "string", "Line of business.", allowed=PAYER_TYPES, origin="valuecare"),
        _c("plan", "string", "Plan name."),
        _c("prescribing_provider_npi", "string", "Prescriber.", pattern=NPI,
           references="provider.npi"),
        _c("dispensing_provider_npi", "string", "Pharmacy.", pattern=NPI),
        _c("dispensing_date", "date", "Date dispensed.", required=True),
        _c("ndc_code", "string", "National Drug Code (11 digits).", required=True,
           pattern=NDC),
        _v("drug_class", "string", "Therapeutic class (e.g. metformin, insulin, statin)."),
        _c("quantity", "int", "Quantity dispensed.", min_value=0),
        _c("days_supply", "int", "Days supply.", min_value=0, max_value=365),
        _c("refills", "int", "Refill number.", min_value=0),
        _c("paid_date", "date", "Date paid."),
        _c("charge_amount", "decimal", "Billed amount."),
        _c("allowed_amount", "decimal", "Allowed amount.", required=True),
        _c("paid_amount", "decimal", "Amount the payer paid.", required=True),
        _c("coinsurance_amount", "decimal", "Patient coinsurance."),
        _c("copayment_amount", "decimal", "Patient copayment."),
        _c("deductible_amount", "decimal", "Patient deductible."),
        *_ADJ,
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(
        ("amount_sign", _MONEY_NONNEG),
        ("paid_not_above_allowed", "|paid_amount| <= |allowed_amount|"),
    ),
)

OBSERVATION_TYPES = ("lab", "vital", "prom_item", "prom_score", "screening")

OBSERVATION = Table(
    name="observation",
    description="Clinical observations: labs (LOINC), vitals, PROM item answers and "
    "instrument scores, social-needs screenings. Tuva's observation and lab_result "
    "tables in one long table.",
    grain="observation_id",
    primary_key=("observation_id",),
    columns=(
        _c("observation_id", "string", "Unique identifier.", required=True),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("encounter_id", "string", "Encounter or claim the observation belongs to."),
        _c("panel_id", "string", "Panel or PROM instrument (e.g. HOOS_JR, PROMIS10)."),
        _c("observation_date", "date", "Date observed or answered.", required=True),
        _c("observation_type", "string", "Kind of observation.", required=True,
           allowed=OBSERVATION_TYPES),
        _c("source_code_type", "string", "Code system of source_code.", required=True,
           allowed=("loinc", "snomed-ct", "prom", "local")),
        _c("source_code", "string", "Code as recorded (LOINC for labs and vitals; "
           "instrument item or score id for PROMs).", required=True),
        _c("source_description", "string", "Description of the code."),
        _c("result", "string", "Result as recorded (text)."),
        _v("result_numeric", "double", "Numeric result where the result is a number."),
        _c("source_units", "string", "Units as recorded (e.g. %, mm[Hg])."),
        DATA_SOURCE,
        FILE_NAME,
    ),
)

DEATH = Table(
    name="death",
    description="Deaths from a death source (enrollment file, death master file or registry).",
    grain="person_id",
    primary_key=("person_id",),
    origin="valuecare",
    columns=(
        _c("person_id", "string", "Person who died.", required=True,
           references="member.person_id"),
        _c("death_date", "date", "Date of death.", required=True),
        _v("death_source", "string", "Where the death is known from.",
           allowed=("enrollment", "claims", "registry")),
        DATA_SOURCE,
        FILE_NAME,
    ),
)

CODE_SYSTEMS = ("icd-10-cm", "icd-9-cm", "icd-10-pcs", "icd-9-pcs", "hcpcs", "cpt",
                "snomed-ct", "loinc", "rxnorm", "ndc", "cvx", "omop-concept", "local")

ENCOUNTER = Table(
    name="encounter",
    description="Clinical encounters (visits) from an EHR or a clinical feed: Tuva's clinical "
    "input layer `encounter`. Costs are not kept here: money lives on claims, so nothing is "
    "counted twice.",
    grain="encounter_id, data_source",
    primary_key=("encounter_id", "data_source"),
    columns=(
        _c("encounter_id", "string", "Encounter identifier.", required=True),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("encounter_type", "string", "Setting of the encounter.", required=True,
           allowed=("inpatient", "emergency", "outpatient", "ambulatory", "urgent care",
                    "wellness", "home health", "snf", "hospice", "telehealth", "virtual",
                    "other")),
        _c("encounter_start_date", "date", "First day of the encounter.", required=True),
        _c("encounter_end_date", "date", "Last day of the encounter."),
        _c("admit_source_code", "string", "UB-04 point of origin."),
        _c("discharge_disposition_code", "string", "UB-04 patient discharge status."),
        _c("attending_provider_id", "string", "Attending clinician (NPI where known, else "
           "the source's identifier)."),
        _v("facility_id", "string", "Facility (NPI where known, else the source's id)."),
        _c("primary_diagnosis_code_type", "string", "Code system of the reason for the visit.",
           allowed=CODE_SYSTEMS),
        _c("primary_diagnosis_code", "string", "Reason for the visit, as recorded."),
        _c("source_code_type", "string", "Code system of the encounter's own code.",
           allowed=CODE_SYSTEMS),
        _c("source_code", "string", "Encounter code as recorded (e.g. SNOMED 185349003)."),
        _c("source_description", "string", "Description of the encounter code."),
        _c("claim_id", "string", "Claim that bills the encounter, where known."),
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(("encounter_dates_order",
                "encounter_end_date is on or after encounter_start_date"),),
)

CONDITION = Table(
    name="condition",
    description="Problems and diagnoses recorded clinically (problem list, encounter "
    "diagnoses), codes kept in their own system: Tuva's clinical input layer `condition`. "
    "`normalized_code` holds the ICD-10-CM code when a documented crosswalk gives one.",
    grain="condition_id, data_source",
    primary_key=("condition_id", "data_source"),
    columns=(
        _c("condition_id", "string", "Condition identifier.", required=True),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("encounter_id", "string", "Encounter where it was recorded."),
        _c("claim_id", "string", "Claim it appears on, where known."),
        _c("recorded_date", "date", "Date recorded.", required=True),
        _c("onset_date", "date", "Date of onset."),
        _c("resolved_date", "date", "Date resolved."),
        _c("status", "string", "Clinical status (active, resolved, ...)."),
        _c("source_code_type", "string", "Code system of source_code.", required=True,
           allowed=CODE_SYSTEMS),
        _c("source_code", "string", "Code as recorded.", required=True),
        _c("source_description", "string", "Description as recorded."),
        _c("normalized_code_type", "string", "Code system of normalized_code.",
           allowed=("icd-10-cm",)),
        _c("normalized_code", "string", "ICD-10-CM code from a documented crosswalk.",
           pattern=ICD10CM),
        DATA_SOURCE,
        FILE_NAME,
    ),
    row_rules=(("condition_dates_order", "resolved_date is on or after onset_date"),),
)

PROCEDURE = Table(
    name="procedure",
    description="Procedures recorded clinically, codes kept in their own system: Tuva's "
    "clinical input layer `procedure`.",
    grain="procedure_id, data_source",
    primary_key=("procedure_id", "data_source"),
    columns=(
        _c("procedure_id", "string", "Procedure identifier.", required=True),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("encounter_id", "string", "Encounter where it was done."),
        _c("claim_id", "string", "Claim it appears on, where known."),
        _c("procedure_date", "date", "Date performed.", required=True),
        _c("source_code_type", "string", "Code system of source_code.", required=True,
           allowed=CODE_SYSTEMS),
        _c("source_code", "string", "Code as recorded.", required=True),
        _c("source_description", "string", "Description as recorded."),
        _c("normalized_code_type", "string", "Code system of normalized_code.",
           allowed=("hcpcs", "cpt", "icd-10-pcs")),
        _c("normalized_code", "string", "CPT/HCPCS or ICD-10-PCS from a documented crosswalk."),
        _c("practitioner_id", "string", "Clinician who performed it."),
        DATA_SOURCE,
        FILE_NAME,
    ),
)

MEDICATION = Table(
    name="medication",
    description="Medications prescribed, dispensed or administered, from a clinical source: "
    "Tuva's clinical input layer `medication`. Paid pharmacy claims go in pharmacy_claim.",
    grain="medication_id, data_source",
    primary_key=("medication_id", "data_source"),
    columns=(
        _c("medication_id", "string", "Medication record identifier.", required=True),
        _c("person_id", "string", "Patient.", required=True, references="member.person_id"),
        _c("encounter_id", "string", "Encounter where it was ordered or given."),
        _c("prescribing_date", "date", "Date prescribed or started."),
        _c("dispensing_date", "date", "Date dispensed."),
        _v("end_date", "date", "Date stopped."),
        _c("source_code_type", "string", "Code system of source_code.", required=True,
           allowed=CODE_SYSTEMS),
        _c("source_code", "string", "Code as recorded.", required=True),
        _c("source_description", "string", "Description as recorded."),
        _c("ndc_code", "string", "NDC (11 digits) where known.", pattern=NDC),
        _c("rxnorm_code", "string", "RxNorm concept where known."),
        _c("quantity", "double", "Quantity.", min_value=0),
        _c("days_supply", "int", "Days supply.", min_value=0, max_value=365),
        _c("practitioner_id", "string", "Prescriber."),
        DATA_SOURCE,
        FILE_NAME,
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (MEMBER, ELIGIBILITY, PROVIDER, MEDICAL_CLAIM, PHARMACY_CLAIM, OBSERVATION, DEATH,
              ENCOUNTER, CONDITION, PROCEDURE, MEDICATION)
}

#: Load order: referenced tables before the tables that reference them.
LOAD_ORDER: tuple[str, ...] = (
    "member", "provider", "eligibility", "medical_claim", "pharmacy_claim", "observation",
    "death", "encounter", "condition", "procedure", "medication",
)


def table(name: str) -> Table:
    """The canonical table called ``name``; a clear error names the tables there are."""
    from valuecare.errors import UnknownTable

    try:
        return TABLES[name]
    except KeyError as exc:
        raise UnknownTable(
            f"there is no canonical table {name!r}; the tables are: {', '.join(TABLES)}"
        ) from exc
