"""Synthea value sets mapped to the canonical vocabularies, shared by both Synthea formats.

The Synthea CSV exporter (``Exporter.java``/``CSVExporter.java``) and the FHIR exporter
write the same simulator values: encounter classes (``EncounterType`` enum, lower case in
CSV, FHIR ``Encounter.class`` codes in FHIR), payer names (``payers.csv`` /
``Organization.name`` of the payer), ``M``/``F`` genders and the race/ethnicity words of
the Massachusetts demographics file.  Each function maps one such value to the canonical
vocabulary of :mod:`valuecare.model.schema`; an unknown value maps to the canonical
"other"/"unknown" value, never to a guess.

Names are stable: the FHIR connector imports them.
"""

from __future__ import annotations

# Synthea ``EncounterType`` (CSV lower case; FHIR v3-ActCode / Synthea codes in brackets).
_ENCOUNTER_TYPES: dict[str, str] = {
    "ambulatory": "ambulatory",
    "amb": "ambulatory",  # FHIR v3-ActCode AMB
    "wellness": "wellness",
    "outpatient": "outpatient",
    "emergency": "emergency",
    "emer": "emergency",  # FHIR EMER
    "inpatient": "inpatient",
    "imp": "inpatient",  # FHIR IMP
    "acute": "inpatient",  # FHIR ACUTE
    "urgentcare": "urgent care",
    "urgent care": "urgent care",
    "snf": "snf",
    "hospice": "hospice",
    "home": "home health",
    "hh": "home health",  # FHIR HH
    "virtual": "virtual",
    "vr": "virtual",  # FHIR VR
    "telehealth": "telehealth",
}


def encounter_type(encounter_class: str) -> str:
    """Synthea encounter class (``ambulatory``, ``urgentcare``, FHIR ``AMB`` ...) → canonical.

    Unknown or empty classes are ``other``.
    """
    return _ENCOUNTER_TYPES.get((encounter_class or "").strip().lower(), "other")


# Synthea's payers (``src/main/resources/payers/insurance_companies.csv`` and the
# government programs it adds: Medicare, Medicaid, Dual Eligible; NO_INSURANCE is the
# simulator's "no payer" record).
_GOVERNMENT: dict[str, str] = {
    "medicare": "medicare",
    "medicaid": "medicaid",
    "dual eligible": "medicare",  # Medicare is primary for dual eligibles
    "dual_eligible": "medicare",
}
_NO_INSURANCE = {"no_insurance", "no insurance", ""}


def payer_type(payer_name: str) -> str | None:
    """Line of business of a Synthea payer, by name.

    ``Medicare`` → medicare, ``Medicaid`` → medicaid, ``Dual Eligible`` → medicare (Medicare
    pays first; :func:`dual_status_code` gives the dual status), ``NO_INSURANCE`` or empty →
    ``None`` (self-pay: not an enrollment span, not a payer), any other named payer
    (Synthea's private insurers: Aetna, Anthem, Blue Cross Blue Shield, Cigna Health,
    Humana, UnitedHealthcare ...) → commercial.
    """
    key = (payer_name or "").strip().lower()
    if key in _NO_INSURANCE:
        return None
    return _GOVERNMENT.get(key, "commercial")


def is_no_insurance(payer_name: str) -> bool:
    """True for Synthea's ``NO_INSURANCE`` payer (or no payer at all)."""
    return (payer_name or "").strip().lower() in _NO_INSURANCE


def dual_status_code(payer_name: str) -> str | None:
    """CMS dual status code implied by a Synthea payer name.

    Synthea's ``Dual Eligible`` payer covers people who qualify for full Medicare *and*
    full Medicaid; the simulator does not model QMB/SLMB, so the CMS code is ``08``
    ("other full dual eligible").  Medicare alone is ``00`` (not dual); any other payer
    has no dual status (``None``).
    """
    key = (payer_name or "").strip().lower()
    if key in ("dual eligible", "dual_eligible"):
        return "08"
    if key == "medicare":
        return "00"
    return None


def sex(code: str) -> str:
    """Synthea ``GENDER`` (``M``/``F``; FHIR ``male``/``female``) → canonical sex."""
    key = (code or "").strip().lower()
    if key in ("m", "male"):
        return "male"
    if key in ("f", "female"):
        return "female"
    return "unknown"


_RACES: dict[str, str] = {
    "white": "white",
    "black": "black or african american",
    "black or african american": "black or african american",
    "asian": "asian",
    "native": "american indian or alaska native",
    "american indian or alaska native": "american indian or alaska native",
    "hawaiian": "native hawaiian or other pacific islander",
    "native hawaiian or other pacific islander": "native hawaiian or other pacific islander",
    "other": "other race",
    "other race": "other race",
}


def race(text: str) -> str:
    """Synthea ``RACE`` (``white``, ``black``, ``asian``, ``native``, ``hawaiian``,
    ``other``; or the US Core OMB display) → canonical race; anything else ``unknown``."""
    return _RACES.get((text or "").strip().lower(), "unknown")


_ETHNICITIES: dict[str, str] = {
    "hispanic": "hispanic or latino",
    "hispanic or latino": "hispanic or latino",
    "nonhispanic": "not hispanic or latino",
    "non hispanic": "not hispanic or latino",
    "not hispanic or latino": "not hispanic or latino",
}


def ethnicity(text: str) -> str:
    """Synthea ``ETHNICITY`` (``hispanic``/``nonhispanic``; or the US Core display)."""
    return _ETHNICITIES.get((text or "").strip().lower(), "unknown")
