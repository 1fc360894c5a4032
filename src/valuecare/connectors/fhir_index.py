"""The first pass over FHIR input: validation and what references need to resolve.

Everything a mapper looks up in another resource is gathered here, across every file
(Synthea puts practitioners and organizations in their own bundles; Bulk Data puts each
type in its own NDJSON file): the ``fullUrl`` of every Bundle entry, business identifiers
(``Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|...``), patients, the codes of
conditions and encounters (for claim diagnoses), the ExplanationOfBenefit of each Claim,
practitioner roles and medications.  Only resources that pass FHIR R4B validation are
indexed, so a reference to an invalid resource does not resolve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

#: FHIR code system URIs → canonical code system names (``schema.CODE_SYSTEMS``).
SYSTEMS: dict[str, str] = {
    "http://snomed.info/sct": "snomed-ct",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd-10-cm",
    "http://hl7.org/fhir/sid/icd-9-cm": "icd-9-cm",
    "http://www.cms.gov/medicare/coding/icd10": "icd-10-pcs",
    "http://www.icd10data.com/icd10pcs": "icd-10-pcs",
    "http://www.ama-assn.org/go/cpt": "cpt",
    "https://www.cms.gov/medicare/coding/hcpcsreleasecodesets": "hcpcs",
    "urn:oid:2.16.840.1.113883.6.285": "hcpcs",
    "http://loinc.org": "loinc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "http://hl7.org/fhir/sid/ndc": "ndc",
    "http://hl7.org/fhir/sid/cvx": "cvx",
}
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"

#: Resource types the connector reads (everything else is counted in notes["not_read"]).
TABLE_OF: dict[str, str] = {
    "Patient": "member",
    "Coverage": "eligibility",
    "Practitioner": "provider",
    "Organization": "provider",
    "PractitionerRole": "provider",
    "Encounter": "encounter",
    "Condition": "condition",
    "Procedure": "procedure",
    "Observation": "observation",
    "QuestionnaireResponse": "observation",
    "MedicationRequest": "medication",
    "MedicationDispense": "medication",
    "MedicationAdministration": "medication",
    "Claim": "medical_claim",
    "ExplanationOfBenefit": "medical_claim",
}
#: Read as lookups only (they give no canonical row of their own).
LOOKUP_ONLY = ("Medication",)


def system_name(uri: str | None) -> str | None:
    """Canonical name of a FHIR code system URI; ``None`` when it is not one we know."""
    if not uri:
        return None
    return SYSTEMS.get(uri.strip().rstrip("/").lower())


def codings(concept: Any) -> list[tuple[str, str, str | None]]:
    """``(system URI, code, display)`` of a CodeableConcept, in order."""
    if not isinstance(concept, dict):
        return []
    out = []
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and c.get("code"):
            out.append((str(c.get("system") or ""), str(c["code"]), c.get("display")))
    return out


def key_of(resource: dict[str, Any]) -> str | None:
    rid = resource.get("id")
    return f"{resource['resourceType']}/{rid}" if rid else None


def npi_in(identifiers: Any) -> str | None:
    """The NPI among ``identifiers``: system us-npi and ten digits, else ``None``."""
    for ident in identifiers or []:
        if not isinstance(ident, dict):
            continue
        value = str(ident.get("value") or "").strip()
        if ident.get("system") == NPI_SYSTEM and len(value) == 10 and value.isdigit():
            return value
    return None


@dataclass
class Index:
    full_urls: dict[str, str] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)
    valid: set[str] = field(default_factory=set)
    errors: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    npi: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    encounter_codes: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    claim_of_encounter: dict[str, str] = field(default_factory=dict)
    eob_of_claim: dict[str, tuple[str, int]] = field(default_factory=dict)
    eobs: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    medications: dict[str, dict[str, Any]] = field(default_factory=dict)
    organization_names: dict[str, str] = field(default_factory=dict)

    # ---- building ------------------------------------------------------------------
    def add(self, file: str, row: int, res: dict[str, Any], full_url: str | None) -> None:
        rtype = res["resourceType"]
        key = key_of(res)
        if full_url and key:
            self.full_urls[full_url] = key
        if rtype not in TABLE_OF and rtype not in LOOKUP_ONLY:
            return
        err = validate(res)
        if err is not None:
            self.errors[(file, row)] = err
            return
        if key is None:
            return
        self.valid.add(key)
        for ident in res.get("identifier") or []:
            if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
                self.identifiers.setdefault(f"{ident['system']}|{ident['value']}", key)
        if rtype in ("Practitioner", "Organization"):
            npi = npi_in(res.get("identifier"))
            if npi:
                self.npi[key] = npi
            if rtype == "Organization" and res.get("name"):
                self.organization_names[key] = str(res["name"])
        elif rtype == "Condition":
            self.conditions[key] = codings(res.get("code"))
        elif rtype == "Encounter":
            reasons = [c for cc in res.get("reasonCode") or [] for c in codings(cc)]
            types = [c for cc in res.get("type") or [] for c in codings(cc)]
            self.encounter_codes[key] = reasons or types
        elif rtype == "Medication":
            self.medications[key] = res
        elif rtype == "PractitionerRole":
            self._pending_roles.append(res)
        elif rtype == "ExplanationOfBenefit":
            self._pending_eobs.append((file, row, res))
        elif rtype == "Claim":
            self._pending_claims.append(res)

    def __post_init__(self) -> None:
        self._pending_roles: list[dict[str, Any]] = []
        self._pending_eobs: list[tuple[str, int, dict[str, Any]]] = []
        self._pending_claims: list[dict[str, Any]] = []

    def finish(self) -> None:
        """Resolve what needed every file first (roles, EOB → Claim, Claim → Encounter)."""
        for role in self._pending_roles:
            prac = self.resolve(role.get("practitioner"))
            if prac is not None:
                self.roles.setdefault(prac, role)
        for file, row, eob in self._pending_eobs:
            claim = self.resolve(eob.get("claim"))
            if claim is not None and claim.startswith("Claim/"):
                self.eob_of_claim.setdefault(claim, (file, row))
                self.eobs[(file, row)] = eob
        for claim in self._pending_claims:
            if _claim_kind(claim) == "pharmacy":
                continue
            for item in claim.get("item") or []:
                for enc in item.get("encounter") or []:
                    e = self.resolve(enc)
                    if e is not None and claim.get("id"):
                        self.claim_of_encounter.setdefault(e, str(claim["id"]))
        self._pending_roles, self._pending_eobs, self._pending_claims = [], [], []

    # ---- looking up ----------------------------------------------------------------
    def resolve(self, ref: Any, *, valid_only: bool = True) -> str | None:
        """``Type/id`` of a Reference (literal, ``urn:uuid:``, conditional or logical);
        with ``valid_only`` (the default) only a resource that passed validation."""
        if not isinstance(ref, dict):
            return None
        text = ref.get("reference")
        if isinstance(text, str) and text:
            if text in self.full_urls:
                key = self.full_urls[text]
                return key if key in self.valid or not valid_only else None
            if text.startswith("#"):
                return None
            if "?" in text:
                query = text.split("?", 1)[1]
                for part in query.split("&"):
                    if part.startswith("identifier="):
                        found = self.identifiers.get(part[len("identifier="):])
                        if found is not None:
                            return found
                return None
            parts = [p for p in text.split("/") if p]
            if "_history" in parts:
                parts = parts[: parts.index("_history")]
            if len(parts) >= 2:
                key = f"{parts[-2]}/{parts[-1]}"
                return key if key in self.valid or not valid_only else None
            return None
        ident = ref.get("identifier")
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            return self.identifiers.get(f"{ident['system']}|{ident['value']}")
        return None

    def npi_of(self, ref: Any) -> str | None:
        """The NPI a Reference names: the resolved resource's NPI, or an NPI identifier in
        the reference itself (Synthea's ``Practitioner?identifier=...us-npi|999...``)."""
        key = self.resolve(ref)
        if key is not None and key in self.npi:
            return self.npi[key]
        if not isinstance(ref, dict):
            return None
        text = ref.get("reference")
        if isinstance(text, str) and f"identifier={NPI_SYSTEM}|" in text:
            value = text.split(f"identifier={NPI_SYSTEM}|", 1)[1].split("&")[0]
            return value if len(value) == 10 and value.isdigit() else None
        ident = ref.get("identifier")
        if isinstance(ident, dict):
            return npi_in([ident])
        return None


def _claim_kind(claim: dict[str, Any]) -> str | None:
    cc = codings(claim.get("type"))
    return cc[0][1] if cc else None


def validate(res: dict[str, Any]) -> tuple[str, str] | None:
    """``(location, message)`` of the first R4B validation error, or ``None``.

    The message is pydantic's sentence for the error type; the offending value is not
    included (it may be health information)."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or res["resourceType"]
        return loc, str(first.get("msg", "invalid"))[:200]
    return None
