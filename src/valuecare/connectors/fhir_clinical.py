"""FHIR clinical and administrative resources → canonical rows.

Each ``map_*`` function takes one validated resource and returns the canonical rows it
gives as ``(table, row)`` pairs, or raises :class:`Quarantine` naming the rule, the
element (``column``) and a reason without health information.  See
``docs/connectors.md`` for the mapping table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from valuecare.connectors import synthea_vocab as vocab
from valuecare.connectors.crosswalk import hcpcs_for, icd10cm_for
from valuecare.connectors.fhir_index import Index, codings, npi_in, system_name

DATA_SOURCE = "fhir"
Rows = list[tuple[str, dict[str, Any]]]


class Quarantine(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A source record that cannot be mapped: rule, element and a PHI-free reason."""

    def __init__(self, rule: str, column: str | None = None, value: Any = None,
                 reason: str = "", table: str | None = None,
                 amounts: dict[str, Decimal | None] | None = None) -> None:
        super().__init__(reason or rule)
        self.rule, self.column, self.value, self.reason = rule, column, value, reason
        self.table, self.amounts = table, amounts


@dataclass
class Ctx:
    index: Index
    file: str


def day(value: Any) -> str | None:
    """The calendar date of a FHIR date/dateTime as written (its local date)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    return value[:10]


def period_start(res: dict[str, Any], *names: str) -> str | None:
    for n in names:
        v = res.get(n)
        if isinstance(v, dict):
            v = v.get("start")
        if day(v):
            return day(v)
    return None


def person(res: dict[str, Any], ctx: Ctx, element: str = "subject") -> str:
    """The person_id of the resource's patient reference, or quarantine it."""
    ref = res.get(element)
    key = ctx.index.resolve(ref)
    if key is None or not key.startswith("Patient/"):
        shown = ref.get("reference") if isinstance(ref, dict) else None
        raise Quarantine("missing_reference", element, shown,
                         f"{element} does not resolve to a Patient in the input")
    return key.split("/", 1)[1]


def ref_id(ctx: Ctx, ref: Any, rtype: str) -> str | None:
    key = ctx.index.resolve(ref)
    return key.split("/", 1)[1] if key and key.startswith(f"{rtype}/") else None


def first_code(concept: Any, element: str, allowed: tuple[str, ...] | None = None
               ) -> tuple[str, str, str | None]:
    """``(canonical system, code, display)`` of the first coding in a system we know."""
    cc = codings(concept)
    for uri, code, display in cc:
        name = system_name(uri)
        if name is not None and (allowed is None or name in allowed):
            text = concept.get("text") if isinstance(concept, dict) else None
            return name, code, display or text
    if not cc:
        raise Quarantine("missing_code", element, None, f"{element} has no coding")
    raise Quarantine("unknown_code_system", element, cc[0][0],
                     f"{element} has no coding in a code system the model keeps")


def _ext(res: dict[str, Any], url_end: str) -> str | None:
    for e in res.get("extension") or []:
        if str(e.get("url", "")).endswith(url_end):
            for sub in e.get("extension") or []:
                if sub.get("url") == "text" and sub.get("valueString"):
                    return str(sub["valueString"])
            for sub in e.get("extension") or []:
                if sub.get("url") == "ombCategory":
                    return (sub.get("valueCoding") or {}).get("display")
    return None


# ---- Patient, Coverage ----------------------------------------------------------------
def map_patient(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = str(res["id"])
    addr = next((a for a in res.get("address") or [] if isinstance(a, dict)), {})
    state = str(addr.get("state") or "")
    zip5 = str(addr.get("postalCode") or "")[:5]
    death = day(res.get("deceasedDateTime"))
    dead = bool(death) or res.get("deceasedBoolean") is True
    rows: Rows = [("member", {
        "person_id": pid, "sex": vocab.sex(str(res.get("gender") or "")),
        "race": vocab.race(_ext(res, "us-core-race") or ""),
        "ethnicity": vocab.ethnicity(_ext(res, "us-core-ethnicity") or ""),
        "birth_date": day(res.get("birthDate")) or res.get("birthDate"),
        "death_date": death, "death_flag": "1" if dead else "0",
        "state": state if len(state) == 2 and state.isalpha() and state.isupper() else None,
        "zip_code": zip5 if len(zip5) == 5 and zip5.isdigit() else None,
        "zip3": zip5[:3] if len(zip5) == 5 and zip5.isdigit() else None,
        "data_source": DATA_SOURCE, "file_name": ctx.file})]
    if death:
        rows.append(("death", {"person_id": pid, "death_date": death, "death_source": None,
                               "data_source": DATA_SOURCE, "file_name": ctx.file}))
    return rows


def payer_name(ctx: Ctx, payors: list[Any]) -> str | None:
    for p in payors:
        if not isinstance(p, dict):
            continue
        key = ctx.index.resolve(p)
        if key in ctx.index.organization_names:
            return ctx.index.organization_names[key]
        if p.get("display"):
            return str(p["display"])
    return None


def map_coverage(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = person(res, ctx, "beneficiary")
    payer = payer_name(ctx, res.get("payor") or [])
    if not payer:
        raise Quarantine("missing_payer", "payor", None, "Coverage names no payer")
    ptype = vocab.payer_type(payer)
    if ptype is None:  # Synthea's NO_INSURANCE: self-pay is not an enrollment span
        raise Quarantine("not_insurance", "payor", payer, "the payer is 'no insurance'")
    plan = None
    for cls in res.get("class") or []:
        if any(code == "plan" for _, code, _ in codings(cls.get("type"))):
            plan = cls.get("name") or cls.get("value")
    period = res.get("period") or {}
    return [("eligibility", {
        "person_id": pid, "member_id": res.get("subscriberId"),
        "enrollment_start_date": day(period.get("start")),
        "enrollment_end_date": day(period.get("end")),
        "payer": payer, "payer_type": ptype,
        "plan": plan or (res.get("type") or {}).get("text") or payer,
        "dual_status_code": vocab.dual_status_code(payer),
        "data_source": DATA_SOURCE, "file_name": ctx.file})]


# ---- providers ------------------------------------------------------------------------
_PRIMARY_CARE = {"208D00000X", "207Q00000X", "207R00000X", "208000000X", "363L00000X",
                 "363A00000X", "261QP2300X"}
_SURGEON_PREFIXES = ("2086", "207X", "208G", "2082", "208C", "207T")
_ORG_TYPES = {"282N00000X": "hospital", "314000000X": "snf", "251E00000X": "home_health",
              "291U00000X": "lab", "333600000X": "pharmacy", "261Q00000X": "outpatient_facility",
              "261QA1903X": "outpatient_facility"}


def _taxonomy(concepts: Any) -> list[tuple[str, str | None]]:
    return [(code, display) for cc in concepts or [] for uri, code, display in codings(cc)
            if "nucc.org/provider-taxonomy" in uri]


def map_practitioner(res: dict[str, Any], ctx: Ctx) -> Rows:
    npi = npi_in(res.get("identifier"))
    if npi is None:
        raise Quarantine("missing_npi", "identifier", None,
                         "no http://hl7.org/fhir/sid/us-npi identifier of ten digits")
    role = ctx.index.roles.get(f"Practitioner/{res['id']}")
    tax = _taxonomy((role or {}).get("specialty")) + _taxonomy((role or {}).get("code"))
    if not tax:
        raise Quarantine("missing_role", "PractitionerRole", None,
                         "no PractitionerRole with a NUCC taxonomy: provider_type unknown")
    code, display = tax[0]
    ptype = ("primary_care" if code in _PRIMARY_CARE
             else "surgeon" if code.startswith(_SURGEON_PREFIXES) else "specialist")
    name = next((n for n in res.get("name") or [] if isinstance(n, dict)), {})
    full = " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()
    addr = next((a for a in res.get("address") or [] if isinstance(a, dict)), {})
    return [("provider", _provider_row(ctx, npi, name.get("text") or full or npi,
                                       "individual", ptype, display, addr))]


def map_organization(res: dict[str, Any], ctx: Ctx) -> Rows:
    npi = npi_in(res.get("identifier"))
    if npi is None:
        raise Quarantine("missing_npi", "identifier", None,
                         "no http://hl7.org/fhir/sid/us-npi identifier of ten digits")
    tax = _taxonomy(res.get("type"))
    ptype = next((_ORG_TYPES[c] for c, _ in tax if c in _ORG_TYPES), None)
    if ptype is None:
        raise Quarantine("unmapped_code", "type", None,
                         "Organization.type has no NUCC facility taxonomy we map")
    addr = next((a for a in res.get("address") or [] if isinstance(a, dict)), {})
    return [("provider", _provider_row(ctx, npi, str(res.get("name") or npi),
                                       "organization", ptype, None, addr))]


def _provider_row(ctx: Ctx, npi: str, name: str, entity: str, ptype: str,
                  specialty: str | None, addr: dict[str, Any]) -> dict[str, Any]:
    state = str(addr.get("state") or "")
    zip5 = str(addr.get("postalCode") or "")[:5]
    return {"npi": npi, "provider_name": name, "entity_type": entity, "provider_type": ptype,
            "specialty": specialty.lower() if specialty else None,
            "state": state if len(state) == 2 and state.isupper() else None,
            "zip_code": zip5 if len(zip5) == 5 and zip5.isdigit() else None,
            "data_source": DATA_SOURCE, "file_name": ctx.file}


def map_practitioner_role(res: dict[str, Any], ctx: Ctx) -> Rows:
    """A role gives no row of its own: it types its practitioner's provider row."""
    key = ctx.index.resolve(res.get("practitioner"))
    if key is None or not key.startswith("Practitioner/"):
        raise Quarantine("missing_reference", "practitioner", None,
                         "practitioner does not resolve to a Practitioner in the input")
    return []


# ---- Encounter, Condition, Procedure --------------------------------------------------
def map_encounter(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = person(res, ctx)
    klass = res.get("class") or {}
    period = res.get("period") or {}
    attending = None
    for part in res.get("participant") or []:
        attending = ctx.index.npi_of(part.get("individual")) or ref_id(
            ctx, part.get("individual"), "Practitioner")
        if attending:
            break
    sp = res.get("serviceProvider")
    facility = ctx.index.npi_of(sp) or ref_id(ctx, sp, "Organization")
    reason = next((c for cc in res.get("reasonCode") or [] for c in codings(cc)
                   if system_name(c[0])), None)
    etype = next((c for cc in res.get("type") or [] for c in codings(cc)
                  if system_name(c[0])), None)
    return [("encounter", {
        "encounter_id": str(res["id"]), "person_id": pid,
        "encounter_type": vocab.encounter_type(str(klass.get("code") or "")),
        "encounter_start_date": day(period.get("start")),
        "encounter_end_date": day(period.get("end")),
        "attending_provider_id": attending, "facility_id": facility,
        "primary_diagnosis_code_type": system_name(reason[0]) if reason else None,
        "primary_diagnosis_code": reason[1] if reason else None,
        "source_code_type": system_name(etype[0]) if etype else None,
        "source_code": etype[1] if etype else None,
        "source_description": etype[2] if etype else None,
        "claim_id": ctx.index.claim_of_encounter.get(f"Encounter/{res['id']}"),
        "data_source": DATA_SOURCE, "file_name": ctx.file})]


def map_condition(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = person(res, ctx)
    system, code, display = first_code(res.get("code"), "code")
    icd = icd10cm_for(system, code)
    status = codings(res.get("clinicalStatus"))
    return [("condition", {
        "condition_id": str(res["id"]), "person_id": pid,
        "encounter_id": ref_id(ctx, res.get("encounter"), "Encounter"),
        "recorded_date": day(res.get("recordedDate")) or period_start(res, "onsetDateTime",
                                                                      "onsetPeriod"),
        "onset_date": period_start(res, "onsetDateTime", "onsetPeriod"),
        "resolved_date": period_start(res, "abatementDateTime", "abatementPeriod"),
        "status": status[0][1] if status else None,
        "source_code_type": system, "source_code": code, "source_description": display,
        "normalized_code_type": "icd-10-cm" if icd else None, "normalized_code": icd,
        "data_source": DATA_SOURCE, "file_name": ctx.file})]


def map_procedure(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = person(res, ctx)
    system, code, display = first_code(res.get("code"), "code")
    if system in ("cpt", "hcpcs", "icd-10-pcs"):
        norm_type, norm = system, code
    else:
        norm = hcpcs_for(system, code)
        norm_type = "hcpcs" if norm else None
    performer = next((p.get("actor") for p in res.get("performer") or []), None)
    return [("procedure", {
        "procedure_id": str(res["id"]), "person_id": pid,
        "encounter_id": ref_id(ctx, res.get("encounter"), "Encounter"),
        "procedure_date": period_start(res, "performedDateTime", "performedPeriod"),
        "source_code_type": system, "source_code": code, "source_description": display,
        "normalized_code_type": norm_type, "normalized_code": norm,
        "practitioner_id": ctx.index.npi_of(performer) if performer else None,
        "data_source": DATA_SOURCE, "file_name": ctx.file})]


# ---- Observation, QuestionnaireResponse -----------------------------------------------
@dataclass(frozen=True)
class PromCode:
    instrument: str
    code: str  # item code (HOOS_JR.1) or score id (HOOS_JR)
    kind: str  # prom_item | prom_score


@cache
def prom_codes() -> dict[str, PromCode]:
    """LOINC and item codes of the packaged PROM instruments (``reference/proms``)."""
    out: dict[str, PromCode] = {}
    folder = resources.files("valuecare") / "reference" / "proms"
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if not p.name.endswith((".yaml", ".yml")):
            continue
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        ins = str(doc.get("instrument") or "")
        if doc.get("loinc"):
            out[str(doc["loinc"])] = PromCode(ins, ins, "prom_score")
        for item in doc.get("items") or []:
            pc = PromCode(ins, str(item["code"]), "prom_item")
            out[str(item["code"])] = pc
            if item.get("loinc"):
                out[str(item["loinc"])] = pc
    return out


_CATEGORY = {"vital-signs": "vital", "laboratory": "lab", "survey": "screening",
             "social-history": "screening", "sdoh": "screening"}


def _value(obj: dict[str, Any]) -> tuple[str | None, float | None, str | None]:
    """``(result text, numeric result, units)`` of an Observation value[x] / answer."""
    q = obj.get("valueQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        return str(q["value"]), float(q["value"]), q.get("unit") or q.get("code")
    for k in ("valueInteger", "valueDecimal"):
        if obj.get(k) is not None:
            return str(obj[k]), float(obj[k]), None
    cc = obj.get("valueCodeableConcept")
    if isinstance(cc, dict):
        c = codings(cc)
        return (cc.get("text") or (c[0][2] if c else None) or (c[0][1] if c else None),
                None, None)
    vc = obj.get("valueCoding")
    if isinstance(vc, dict):
        return vc.get("display") or vc.get("code"), None, None
    for k in ("valueString", "valueBoolean", "valueDateTime", "valueDate"):
        if obj.get(k) is not None:
            return str(obj[k]).lower() if k == "valueBoolean" else str(obj[k]), None, None
    return None, None, None


def map_observation(res: dict[str, Any], ctx: Ctx) -> Rows:
    pid = person(res, ctx)
    system, code, display = first_code(res.get("code"), "code", ("loinc", "snomed-ct"))
    when = period_start(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant",
                        "issued")
    cats = [c for cc in res.get("category") or [] for _, c, _ in codings(cc)]
    prom = prom_codes().get(code) if system == "loinc" else None
    otype = prom.kind if prom else next((_CATEGORY[c] for c in cats if c in _CATEGORY), None)
    if otype is None:
        raise Quarantine("unmapped_code", "category", cats[0] if cats else None,
                         "Observation.category is not vital-signs, laboratory, survey, "
                         "social-history or sdoh")
    base = {"person_id": pid, "encounter_id": ref_id(ctx, res.get("encounter"), "Encounter"),
            "observation_date": when, "data_source": DATA_SOURCE, "file_name": ctx.file}
    rid = str(res["id"])
    rows: Rows = []
    parts: list[tuple[str, dict[str, Any], tuple[str, str, str | None]]] = []
    if res.get("component"):
        for i, comp in enumerate(res["component"], start=1):
            try:
                csys = first_code(comp.get("code"), f"component.{i - 1}.code",
                                  ("loinc", "snomed-ct"))
            except Quarantine:
                continue  # a component in another system is dropped; the rest is kept
            parts.append((f"{rid}-{i}", comp, csys))
        if _value(res)[0] is not None:
            parts.insert(0, (rid, res, (system, code, display)))
    else:
        parts.append((rid, res, (system, code, display)))
    if not parts:
        raise Quarantine("unknown_code_system", "component", None,
                         "no component has a LOINC or SNOMED CT code")
    for oid, obj, (osys, ocode, odisp) in parts:
        text, num, units = _value(obj)
        pc = prom_codes().get(ocode) if osys == "loinc" else None
        rows.append(("observation", {
            **base, "observation_id": oid,
            "panel_id": pc.instrument if pc else (code if obj is not res else None),
            "observation_type": pc.kind if pc else otype,
            "source_code_type": "prom" if pc else osys,
            "source_code": pc.code if pc else ocode, "source_description": odisp,
            "result": text, "result_numeric": num, "source_units": units}))
    return rows


def map_questionnaire_response(res: dict[str, Any], ctx: Ctx) -> Rows:
    """Answers of a recognised PROM instrument → ``prom_item`` rows (``linkId`` = the item
    code, e.g. ``KOOS_JR.1``, or its LOINC); a response with no recognised item is
    quarantined ``unmapped_code``."""
    pid = person(res, ctx)
    when = day(res.get("authored"))
    known = prom_codes()
    rows: Rows = []
    stack = list(res.get("item") or [])
    while stack:
        item = stack.pop(0)
        stack[:0] = list(item.get("item") or [])
        pc = known.get(str(item.get("linkId") or ""))
        if pc is None:
            continue
        for j, ans in enumerate(item.get("answer") or [], start=1):
            text, num, _ = _value(ans)
            if num is None and isinstance(ans.get("valueCoding"), dict):
                code = str(ans["valueCoding"].get("code") or "")
                num = float(code) if code.lstrip("-").isdigit() else None
            rows.append(("observation", {
                "observation_id": f"{res['id']}-{item.get('linkId')}-{j}", "person_id": pid,
                "encounter_id": ref_id(ctx, res.get("encounter"), "Encounter"),
                "panel_id": pc.instrument, "observation_date": when,
                "observation_type": pc.kind, "source_code_type": "prom",
                "source_code": pc.code, "source_description": item.get("text"),
                "result": text, "result_numeric": num, "source_units": None,
                "data_source": DATA_SOURCE, "file_name": ctx.file}))
    if not rows:
        raise Quarantine("unmapped_code", "item", None,
                         "no item of a PROM instrument valuecare scores")
    return rows


# ---- medications ----------------------------------------------------------------------
def _medication_code(res: dict[str, Any], ctx: Ctx) -> tuple[str, str, str | None]:
    concept = res.get("medicationCodeableConcept")
    if concept is None:
        key = ctx.index.resolve(res.get("medicationReference"))
        med = ctx.index.medications.get(key or "")
        if med is None:
            raise Quarantine("missing_reference", "medicationReference", None,
                             "medicationReference does not resolve to a Medication")
        concept = med.get("code")
    return first_code(concept, "medication", ("rxnorm", "ndc", "snomed-ct"))


def _ndc11(code: str) -> str | None:
    """An 11-digit NDC from 11 digits or the 5-4-2 hyphenated form; else ``None``."""
    parts = code.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        a, b, c = parts
        if len(a) <= 5 and len(b) <= 4 and len(c) <= 2:
            return a.zfill(5) + b.zfill(4) + c.zfill(2)
        return None
    return code if len(code) == 11 and code.isdigit() else None


def _medication_row(res: dict[str, Any], ctx: Ctx, **dates: Any) -> Rows:
    pid = person(res, ctx)
    system, code, display = _medication_code(res, ctx)
    enc = res.get("encounter") or res.get("context")
    return [("medication", {
        "medication_id": str(res["id"]), "person_id": pid,
        "encounter_id": ref_id(ctx, enc, "Encounter"),
        "source_code_type": system, "source_code": code, "source_description": display,
        "ndc_code": _ndc11(code) if system == "ndc" else None,
        "rxnorm_code": code if system == "rxnorm" else None,
        "data_source": DATA_SOURCE, "file_name": ctx.file, **dates})]


def map_medication_request(res: dict[str, Any], ctx: Ctx) -> Rows:
    supply = (res.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}
    days = supply.get("value") if supply.get("unit") in ("d", "day", "days") else None
    return _medication_row(res, ctx, prescribing_date=day(res.get("authoredOn")),
                           days_supply=int(days) if days is not None else None,
                           practitioner_id=ctx.index.npi_of(res.get("requester")))


def map_medication_dispense(res: dict[str, Any], ctx: Ctx) -> Rows:
    qty = (res.get("quantity") or {}).get("value")
    days = (res.get("daysSupply") or {}).get("value")
    return _medication_row(res, ctx, dispensing_date=day(res.get("whenHandedOver")),
                           quantity=float(qty) if qty is not None else None,
                           days_supply=int(days) if days is not None else None)


def map_medication_administration(res: dict[str, Any], ctx: Ctx) -> Rows:
    return _medication_row(res, ctx, prescribing_date=period_start(
        res, "effectiveDateTime", "effectivePeriod"))


MAPPERS: dict[str, Callable[[dict[str, Any], Ctx], Rows]] = {
    "Patient": map_patient,
    "Coverage": map_coverage,
    "Practitioner": map_practitioner,
    "Organization": map_organization,
    "PractitionerRole": map_practitioner_role,
    "Encounter": map_encounter,
    "Condition": map_condition,
    "Procedure": map_procedure,
    "Observation": map_observation,
    "QuestionnaireResponse": map_questionnaire_response,
    "MedicationRequest": map_medication_request,
    "MedicationDispense": map_medication_dispense,
    "MedicationAdministration": map_medication_administration,
}
