"""OMOP concepts mapped to the canonical vocabularies.

OMOP identifies everything by ``concept_id``; the ``concept`` table says which vocabulary
(``vocabulary_id``) and code (``concept_code``) a concept is.  The few concept ids that
the CDM fixes for demographics and visits (gender, race, ethnicity, visit concepts, place
of service) are listed here, from the OHDSI standardized vocabularies
(https://athena.ohdsi.org); every clinical code is read from the source's own ``concept``
table, never guessed.  A value not listed maps to the canonical "unknown"/"other" value,
or is quarantined when it is the payload of the record (a diagnosis, a drug, a lab).
"""

from __future__ import annotations

from dataclasses import dataclass

from valuecare.connectors.base import valid_npi


@dataclass(frozen=True)
class Concept:
    concept_id: int
    vocabulary_id: str
    concept_code: str
    concept_name: str | None
    domain_id: str | None
    standard: bool


# Gender (vocabulary "Gender").
SEX = {8507: "male", 8532: "female"}
SEX_SOURCE = {"m": "male", "male": "male", "f": "female", "female": "female"}

# Race (vocabulary "Race", OMB categories).
RACE = {
    8527: "white",
    8516: "black or african american",
    8515: "asian",
    8657: "american indian or alaska native",
    8557: "native hawaiian or other pacific islander",
    8522: "other race",
    8552: "unknown",
}
# Race source values as US ETLs (Synthea, CDC race codes' words) write them.
RACE_SOURCE = {
    "white": "white", "black": "black or african american",
    "black or african american": "black or african american", "asian": "asian",
    "native": "american indian or alaska native",
    "american indian or alaska native": "american indian or alaska native",
    "hawaiian": "native hawaiian or other pacific islander",
    "native hawaiian or other pacific islander": "native hawaiian or other pacific islander",
    "other": "other race", "other race": "other race",
}
# Ethnicity (vocabulary "Ethnicity").
ETHNICITY = {38003563: "hispanic or latino", 38003564: "not hispanic or latino"}
ETHNICITY_SOURCE = {
    "hispanic": "hispanic or latino", "hispanic or latino": "hispanic or latino",
    "nonhispanic": "not hispanic or latino", "non-hispanic": "not hispanic or latino",
    "not hispanic or latino": "not hispanic or latino",
}

# Visit concepts (vocabulary "Visit", "CMS Place of Service", "Visit Type" v5.4).
VISIT = {
    9201: "inpatient",        # Inpatient Visit
    9202: "outpatient",       # Outpatient Visit
    9203: "emergency",        # Emergency Room Visit
    262: "inpatient",         # Emergency Room and Inpatient Visit: an admission via the ER
    581476: "home health",    # Home Visit
    581477: "ambulatory",     # Office Visit
    581478: "other",          # Ambulance Visit
    581479: "other",          # Rehabilitation Visit
    581458: "other",          # Pharmacy visit
    32036: "outpatient",      # Laboratory Visit
    32037: "inpatient",       # Intensive Care
    5083: "telehealth",       # Telehealth
    38004193: "other",        # Case Management Visit
    42898160: "other",        # Non-hospital institution Visit
    8717: "inpatient",        # Inpatient Hospital (place of service used as visit)
    8756: "outpatient",       # Outpatient Hospital
    8870: "emergency",        # Emergency Room - Hospital
    8863: "snf",              # Skilled Nursing Facility
    8546: "hospice",          # Hospice
    8782: "urgent care",      # Urgent Care Facility
    8940: "ambulatory",       # Office
}
INSTITUTIONAL_VISITS = {9201, 262, 32037, 8717, 8863}

# Discharge destination concepts → UB-04 patient discharge status.
DISCHARGE = {
    8536: "01",      # Home
    8717: "02",      # Inpatient Hospital (transfer to acute care)
    8863: "03",      # Skilled Nursing Facility
    8546: "51",      # Hospice (medical facility)
    581476: "06",    # Home Visit (home health)
}

# Death type concepts (vocabulary "Type Concept" and the older "Death Type").
# (other type concepts are read by name from the concept table: "claim", "payer"/
# "enrollment", "certificate"/"registry")
DEATH_SOURCE = {
    32815: "registry",  # Death Certificate
    32879: "registry",  # Registry
    32810: "claims",    # Claim
}

# Place of service (CMS POS codes; concept ids of the "CMS Place of Service" vocabulary).
POS_CONCEPT = {
    8717: "21", 8756: "22", 8870: "23", 8883: "24", 8863: "31", 8676: "32", 8940: "11",
    8782: "20", 8536: "12", 8546: "34",
}
POS_PROVIDER_TYPE = {
    "21": "hospital", "23": "hospital", "22": "outpatient_facility", "19": "outpatient_facility",
    "24": "outpatient_facility", "11": "outpatient_facility", "20": "outpatient_facility",
    "49": "outpatient_facility", "50": "outpatient_facility", "71": "outpatient_facility",
    "72": "outpatient_facility", "31": "snf", "32": "snf", "12": "home_health",
    "81": "lab", "01": "pharmacy",
}

# Code systems per OMOP vocabulary_id.
VOCABULARY = {
    "ICD10CM": "icd-10-cm", "ICD9CM": "icd-9-cm", "ICD10PCS": "icd-10-pcs",
    "ICD9Proc": "icd-9-pcs", "CPT4": "cpt", "HCPCS": "hcpcs", "SNOMED": "snomed-ct",
    "LOINC": "loinc", "RxNorm": "rxnorm", "RxNorm Extension": "rxnorm", "NDC": "ndc",
    "CVX": "cvx",
}
CONDITION_SYSTEMS = {"icd-10-cm", "icd-9-cm", "snomed-ct"}
PROCEDURE_SYSTEMS = {"cpt", "hcpcs", "icd-10-pcs", "icd-9-pcs", "snomed-ct", "loinc"}
DRUG_SYSTEMS = {"rxnorm", "ndc", "cvx", "snomed-ct"}
OBSERVATION_SYSTEMS = {"loinc", "snomed-ct"}
#: the OMOP domain a SNOMED concept must have to stand for a record of each table
#: (SNOMED spans every domain; LOINC and the drug vocabularies are specific enough)
SNOMED_DOMAINS = {
    "condition": {"Condition", "Observation"},
    "procedure": {"Procedure"},
    "drug": {"Drug"},
    "measurement": {"Measurement"},
}

# LOINC codes of vital signs (the HL7 FHIR vital-signs profile set and common companions).
VITAL_LOINC = {
    "8302-2", "8306-3", "29463-7", "3141-9", "39156-5", "8480-6", "8462-4", "85354-9",
    "8867-4", "9279-1", "8310-5", "8331-1", "2708-6", "59408-5", "8287-5", "9843-4",
    "72514-3", "56086-2", "8478-0", "55284-4",
}
# LOINC codes of social-needs and risk screenings kept as ``screening`` observations.
SCREENING_LOINC = {
    "72166-2",   # Tobacco smoking status
    "88122-7", "88123-5",  # AHC HRSN food insecurity
    "71802-3",   # Housing status
    "93030-5",   # Transportation needs (PRAPARE)
    "93025-5",   # PRAPARE
    "96777-8", "96778-6", "97023-6",  # AHC HRSN screening panels
    "44249-1", "44261-6", "55757-9", "89204-2",  # PHQ-9 / PHQ-2
    "69737-5", "70274-6",  # GAD-7
    "72109-2", "75624-7",  # AUDIT-C
}

# Source of Payment Typology (vocabulary "SOPT") first digits → payer type.
SOPT = {"1": "medicare", "2": "medicaid", "5": "commercial", "6": "commercial"}
SOPT_MEDICARE_ADVANTAGE = ("11", "111", "112", "113", "119")

PRIMARY_CARE_WORDS = ("family", "general practice", "internal medicine", "pediatric",
                      "geriatric", "nurse practitioner", "physician assistant", "primary care",
                      "preventive")


def payer_type_from_text(text: str | None) -> str | None:
    """Line of business from a payer or plan name that says it; ``None`` otherwise."""
    t = (text or "").strip().lower()
    if not t:
        return None
    if "medicare advantage" in t or "medicare part c" in t:
        return "medicare advantage"
    if "dual" in t or "medicare" in t:
        return "medicare"
    if "medicaid" in t or "chip" in t.split():
        return "medicaid"
    if "commercial" in t or "private" in t or "employer" in t:
        return "commercial"
    return None


def provider_type_from_specialty(text: str | None) -> str | None:
    t = (text or "").strip().lower()
    if not t:
        return None
    if "surg" in t:
        return "surgeon"
    if any(w in t for w in PRIMARY_CARE_WORDS):
        return "primary_care"
    if "pharmac" in t:
        return "pharmacy"
    if "laborator" in t:
        return "lab"
    return "specialist"


def npi_is_valid(npi: str | None) -> bool:
    """Ten digits with a valid Luhn check digit over the ``80840`` prefix (CMS NPI rule)."""
    return npi is not None and valid_npi(npi) == npi
