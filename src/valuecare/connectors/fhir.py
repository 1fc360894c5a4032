"""The FHIR R4 connector: ``valuecare load PATH --format fhir``.

``PATH`` is a folder (read recursively) or one file: Bulk Data NDJSON (``*.ndjson``, one
resource a line) and Bundle JSON (``*.json``: a Bundle, or a single resource), e.g. a
Synthea export (one transaction Bundle per patient plus ``practitionerInformation*.json``
and ``hospitalInformation*.json``).

Two passes over the files:

1. :mod:`~valuecare.connectors.fhir_index` validates every resource of a type the
   connector reads with the ``fhir.resources`` **R4B** models (R4's technical correction;
   the package's default models are R5, which do not read R4 JSON) and indexes what
   references need (``fullUrl``, business identifiers, patients, conditions, encounters,
   the EOB of each Claim, practitioner roles, medications).
2. Each record is mapped (:mod:`~valuecare.connectors.fhir_clinical`,
   :mod:`~valuecare.connectors.fhir_claims`) or quarantined.

The ledger: one :class:`~valuecare.connectors.base.SourceTally` per file; every NDJSON
line / Bundle entry of a type the connector reads is one record, mapped or quarantined
(rules: ``malformed_json``, ``fhir_validation``, ``missing_reference``,
``unknown_code_system``, ``missing_code``, ``unmapped_code``, ``missing_diagnosis``,
``missing_npi``, ``missing_role``, ``missing_payer``, ``not_insurance``, ``bad_amount``,
``missing_amount``, ``duplicate_eob``).  Resources of other types (DiagnosticReport,
DocumentReference, CarePlan, CareTeam, Immunization, ImagingStudy, Provenance, Location,
Device, SupplyDelivery, AllergyIntolerance, Medication ...) have no canonical table to
go to: they are not records of any tally and are counted by type in
``out.notes["not_read"]``.  See ``docs/connectors.md``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.connectors.base import Conversion, SourceTally
from valuecare.connectors.fhir_claims import eob_for, map_claim, map_eob
from valuecare.connectors.fhir_clinical import MAPPERS, Ctx, Quarantine
from valuecare.connectors.fhir_index import TABLE_OF, Index
from valuecare.connectors.fhir_read import Record, input_files, records
from valuecare.model.validate import MONEY_TOTAL_COLUMNS

_FALLBACK_TABLE = "member"  # the table of a record whose resource type cannot be told


class FhirR4:
    name = "fhir"
    description = ("FHIR R4 resources: Bulk Data NDJSON and Bundle JSON (Synthea exports "
                   "included), validated with the R4B models")

    def convert(self, source: Path, out: Conversion) -> None:
        files = input_files(source)
        index = Index()
        for path, name in files:
            out.read_input(path)
            for rec in records(path, name):
                if rec.resource is not None:
                    index.add(rec.file, rec.row, rec.resource, rec.full_url)
        index.finish()
        not_read: dict[str, int] = {}
        by_type: dict[str, int] = {}
        for path, name in files:
            for rec in records(path, name):
                rtype = rec.resource["resourceType"] if rec.resource else None
                if rtype is not None and rtype not in TABLE_OF:
                    not_read[rtype] = not_read.get(rtype, 0) + 1
                    continue
                by_type[rtype or "unreadable"] = by_type.get(rtype or "unreadable", 0) + 1
                tally = out.tally(name)
                tally.records += 1
                _one(rec, index, out, tally)
        out.notes["not_read"] = dict(sorted(not_read.items()))
        out.notes["records_by_type"] = dict(sorted(by_type.items()))


def _one(rec: Record, index: Index, out: Conversion, tally: SourceTally) -> None:
    res = rec.resource
    if res is None:
        table = TABLE_OF.get(rec.guessed_type or "", _FALLBACK_TABLE)
        out.reject(tally, table=table, row_number=rec.row, rule="malformed_json",
                   column=None, reason=rec.error or "", raw=rec.raw)
        return
    rtype = res["resourceType"]
    table = TABLE_OF[rtype]
    err = index.errors.get((rec.file, rec.row))
    if err is not None:
        loc, msg = err
        amounts = _claim_money(res) if rtype == "Claim" else None
        if amounts:
            tally.add_money(amounts)
        out.reject(tally, table=_claim_table(res, table), row_number=rec.row,
                   rule="fhir_validation", column=loc, reason=f"{loc}: {msg}",
                   raw=_raw(res), amounts=amounts)
        return
    ctx = Ctx(index, rec.file)
    try:
        if rtype == "Claim":
            rows = map_claim(res, ctx, eob_for(res, ctx))
        elif rtype == "ExplanationOfBenefit":
            rows = map_eob(res, ctx, (rec.file, rec.row))
        else:
            rows = MAPPERS[rtype](res, ctx)
    except Quarantine as q:
        if q.amounts:
            tally.add_money(q.amounts)
        out.reject(tally, table=q.table or _claim_table(res, table), row_number=rec.row,
                   rule=q.rule, column=q.column, value=q.value, reason=q.reason,
                   raw=_raw(res), amounts=q.amounts)
        return
    for t, row in rows:
        tally.add_money({c: row.get(c) for c in MONEY_TOTAL_COLUMNS if c in row})
        out.emit(t, row)
    tally.mapped += 1


def _claim_table(res: dict[str, Any], table: str) -> str:
    if res["resourceType"] in ("Claim", "ExplanationOfBenefit"):
        for c in (res.get("type") or {}).get("coding") or []:
            if isinstance(c, dict) and c.get("code") == "pharmacy":
                return "pharmacy_claim"
    return table


def _claim_money(res: dict[str, Any]) -> dict[str, Decimal | None] | None:
    """Claim.total of an invalid Claim, when it is still a readable amount."""
    from valuecare.connectors.base import money

    try:
        charge = money((res.get("total") or {}).get("value"))
    except (ValueError, AttributeError):
        return None
    return {"charge_amount": charge} if charge is not None else None


def _raw(res: dict[str, Any]) -> str:
    return json.dumps(res, default=str, separators=(",", ":"))
