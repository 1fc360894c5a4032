"""The ``synthea-csv`` connector: a Synthea CSV export → the canonical model.

Reads both Synthea CSV schema versions (columns are matched by header name; the newer
export adds ``SYSTEM`` to conditions/procedures and ``MIDDLE`` to patients).  Every record
of every file read is counted in a :class:`~valuecare.connectors.base.SourceTally` and is
either mapped or quarantined with a rule; ``docs/connectors.md`` has the full
mapping table.  Decisions in brief:

* **Medical claims at encounter grain.**  One ``medical_claim`` line per encounter:
  ``charge_amount = allowed_amount = encounters.TOTAL_CLAIM_COST`` and ``paid_amount =
  PAYER_COVERAGE``, so each patient's medical cost equals the sum of TOTAL_CLAIM_COST to
  the cent (the FHIR connector gets the same from ``Claim.total``).  Diagnoses come from
  the encounter's medical claims (``claims.csv`` DIAGNOSIS1-8) then the encounter reason,
  each through the documented SNOMED CT → ICD-10-CM crosswalk; a claim none of whose
  diagnoses has a crosswalk row is quarantined (``unmapped_code``) with its money.
  ``claims_transactions.csv`` is read to tell medication claims from medical claims; its
  lines restate the encounter money and are counted as mapped into that claim.
* **Pharmacy claims.**  Synthea codes drugs in RxNorm only; ``pharmacy_claim.ndc_code`` is
  required, so medication claims are quarantined (``unmapped_code``: no NDC) with their
  charges.  The medications themselves load into ``medication`` (RxNorm kept).
* **Providers.**  Synthea has no CMS NPIs; ``provider.npi`` is a required NPI-pattern key,
  so providers and organizations are quarantined (``missing_npi``) and their Synthea ids
  are kept in the free-text ``encounter.attending_provider_id`` / ``facility_id``.
* **Eligibility.**  ``NO_INSURANCE`` periods are self-pay, not enrollment: quarantined with
  rule ``no_insurance`` (kept, counted, not a span).  ``Dual Eligible`` is medicare with
  dual status ``08``.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.connectors import synthea_vocab as vocab
from valuecare.connectors.base import Conversion, SourceTally, money
from valuecare.connectors.crosswalk import icd10cm_for
from valuecare.errors import InvalidInput, MissingFile
from valuecare.model.schema import LOINC

DATA_SOURCE = "synthea"
_LOINC = re.compile(LOINC)
_ZIP = re.compile(r"^[0-9]{5}$")

#: Files the canonical model has no place for: not read (recorded in notes["not_read"]).
NOT_READ = ("allergies.csv", "careplans.csv", "devices.csv", "imaging_studies.csv",
            "immunizations.csv", "supplies.csv")

#: Required header columns per file (optional columns such as SYSTEM/MIDDLE may be absent).
REQUIRED: dict[str, tuple[str, ...]] = {
    "patients.csv": ("Id", "BIRTHDATE", "DEATHDATE", "RACE", "ETHNICITY", "GENDER",
                     "STATE", "ZIP"),
    "payers.csv": ("Id", "NAME"),
    "payer_transitions.csv": ("PATIENT", "START_DATE", "END_DATE", "PAYER"),
    "organizations.csv": ("Id", "NAME"),
    "providers.csv": ("Id", "ORGANIZATION", "NAME"),
    "encounters.csv": ("Id", "START", "STOP", "PATIENT", "ORGANIZATION", "PROVIDER",
                       "PAYER", "ENCOUNTERCLASS", "CODE", "DESCRIPTION",
                       "TOTAL_CLAIM_COST", "PAYER_COVERAGE", "REASONCODE"),
    "conditions.csv": ("START", "STOP", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION"),
    "procedures.csv": ("START", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION"),
    "observations.csv": ("DATE", "PATIENT", "ENCOUNTER", "CATEGORY", "CODE",
                         "DESCRIPTION", "VALUE", "UNITS", "TYPE"),
    "medications.csv": ("START", "STOP", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION"),
    "claims.csv": ("Id", "PATIENTID", "APPOINTMENTID", *(f"DIAGNOSIS{i}" for i in range(1, 9))),
    "claims_transactions.csv": ("ID", "CLAIMID", "TYPE", "AMOUNT", "PROCEDURECODE"),
}

#: Synthea ``SYSTEM`` column values (newer exports) → canonical code systems.
_SYSTEMS = {"snomed-ct": "snomed-ct", "snomed": "snomed-ct", "sct": "snomed-ct",
            "http://snomed.info/sct": "snomed-ct", "icd-10-cm": "icd-10-cm",
            "icd10cm": "icd-10-cm", "loinc": "loinc", "rxnorm": "rxnorm", "cpt": "cpt",
            "hcpcs": "hcpcs"}

#: LOINC total scores of instruments Synthea administers → panel id (observation
#: ``prom_score``); other survey answers are social-needs/screening items.
PROM_SCORES: dict[str, str] = {
    "55758-7": "PHQ-2", "44261-6": "PHQ-9", "89204-2": "PHQ-9-TEEN", "70274-6": "GAD-7",
    "75626-2": "AUDIT-C", "82667-7": "DAST-10", "76504-0": "HARK", "72133-2": "MMSE",
    "72514-3": "PAIN-SEVERITY",
}
_OBS_TYPES = {"laboratory": "lab", "vital-signs": "vital", "social-history": "screening"}

_INSTITUTIONAL = {"inpatient", "snf", "hospice", "home health"}

# US states by name (Synthea writes the full name in patients.csv) → USPS code, region.
_STATES: dict[str, tuple[str, str]] = {
    "Alabama": ("AL", "south"), "Alaska": ("AK", "west"), "Arizona": ("AZ", "west"),
    "Arkansas": ("AR", "south"), "California": ("CA", "west"), "Colorado": ("CO", "west"),
    "Connecticut": ("CT", "northeast"), "Delaware": ("DE", "south"),
    "District of Columbia": ("DC", "south"), "Florida": ("FL", "south"),
    "Georgia": ("GA", "south"), "Hawaii": ("HI", "west"), "Idaho": ("ID", "west"),
    "Illinois": ("IL", "midwest"), "Indiana": ("IN", "midwest"), "Iowa": ("IA", "midwest"),
    "Kansas": ("KS", "midwest"), "Kentucky": ("KY", "south"), "Louisiana": ("LA", "south"),
    "Maine": ("ME", "northeast"), "Maryland": ("MD", "south"),
    "Massachusetts": ("MA", "northeast"), "Michigan": ("MI", "midwest"),
    "Minnesota": ("MN", "midwest"), "Mississippi": ("MS", "south"),
    "Missouri": ("MO", "midwest"), "Montana": ("MT", "west"), "Nebraska": ("NE", "midwest"),
    "Nevada": ("NV", "west"), "New Hampshire": ("NH", "northeast"),
    "New Jersey": ("NJ", "northeast"), "New Mexico": ("NM", "west"),
    "New York": ("NY", "northeast"), "North Carolina": ("NC", "south"),
    "North Dakota": ("ND", "midwest"), "Ohio": ("OH", "midwest"), "Oklahoma": ("OK", "south"),
    "Oregon": ("OR", "west"), "Pennsylvania": ("PA", "northeast"),
    "Rhode Island": ("RI", "northeast"), "South Carolina": ("SC", "south"),
    "South Dakota": ("SD", "midwest"), "Tennessee": ("TN", "south"), "Texas": ("TX", "south"),
    "Utah": ("UT", "west"), "Vermont": ("VT", "northeast"), "Virginia": ("VA", "south"),
    "Washington": ("WA", "west"), "West Virginia": ("WV", "south"),
    "Wisconsin": ("WI", "midwest"), "Wyoming": ("WY", "west"),
}
_REGION_BY_CODE = {code: region for code, region in _STATES.values()}


class _Bad(Exception):
    """A row-level problem: rule, column and value (the message never holds health data)."""

    def __init__(self, rule: str, column: str, value: Any, reason: str = "") -> None:
        super().__init__(reason or rule)
        self.rule, self.column, self.value, self.reason = rule, column, value, reason


def _date(row: dict[str, Any], column: str, required: bool = True) -> str | None:
    text = (row.get(column) or "").strip()
    if not text:
        if required:
            raise _Bad("missing_value", column, text, f"{column} is empty")
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise _Bad("bad_date", column, text, f"{column} is not a date") from None


def _amount(row: dict[str, Any], column: str) -> Decimal | None:
    try:
        return money(row.get(column))
    except ValueError as exc:
        raise _Bad("bad_amount", column, row.get(column), str(exc)) from None


def _id(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:24]


def _system(row: dict[str, Any], default: str) -> str:
    raw = (row.get("SYSTEM") or "").strip()
    if not raw:
        return default
    s = _SYSTEMS.get(raw.lower())
    if s is None:
        raise _Bad("unmapped_code", "SYSTEM", raw, "unknown code system")
    return s


class _Reader:
    """Reads one Synthea CSV file: header check, then (row number, record) pairs."""

    def __init__(self, source: Path, out: Conversion, name: str) -> None:
        self.path = source / name
        self.name = name
        if not self.path.is_file():
            raise MissingFile(
                f"{self.path}: Synthea CSV file not found; export with "
                "exporter.csv.export = true (all files) and load the export folder")
        out.read_input(self.path)
        self.out = out

    def rows(self, tally: SourceTally, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            fh = self.path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise InvalidInput(f"{self.path}: cannot be read ({exc.strerror})") from exc
        with fh:
            try:
                reader = csv.reader(fh)
                header = next(reader, None)
                if not header:
                    raise InvalidInput(f"{self.path}: the file is empty; a Synthea CSV "
                                       "file needs its header row")
                header = [h.strip() for h in header]
                missing = [c for c in REQUIRED[self.name] if c not in header]
                if missing:
                    raise InvalidInput(
                        f"{self.path}: missing column(s) {', '.join(missing)}; is this a "
                        "Synthea CSV export? (see docs/connectors.md)")
                for n, values in enumerate(reader, start=1):
                    if not values:
                        continue  # a blank line is not a record
                    tally.records += 1
                    if len(values) != len(header):
                        self.out.reject(
                            tally, table=table, row_number=n, rule="malformed_row",
                            column=None, value=f"{len(values)} fields",
                            reason=f"expected {len(header)} fields (truncated or broken "
                            "quoting)", raw=",".join(values))
                        continue
                    yield n, dict(zip(header, values, strict=True))
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{self.path}: not UTF-8 text ({exc.reason}); "
                                   "re-save it as UTF-8") from exc
            except csv.Error as exc:
                raise InvalidInput(f"{self.path}: not a readable CSV file ({exc})") from exc


class SyntheaCsv:
    """``valuecare load PATH --format synthea-csv``."""

    name = "synthea-csv"
    description = "Synthea CSV export (patients, encounters, claims, ... ; both schema versions)"

    def convert(self, source: Path, out: Conversion) -> None:
        if not source.is_dir():
            raise MissingFile(f"{source}: not a folder; give the Synthea CSV export folder")
        _Run(source, out).run()


class _Run:
    def __init__(self, source: Path, out: Conversion) -> None:
        self.source, self.out = source, out
        self.files = {name: _Reader(source, out, name) for name in REQUIRED}
        self.patients: set[str] = set()
        self.payers: dict[str, str] = {}
        self.encounters: set[str] = set()
        self.dual: dict[str, tuple[str, str]] = {}  # person → (latest start, dual code)
        out.notes["not_read"] = [n for n in NOT_READ]
        out.notes["grain"] = "medical_claim: one line per encounter (TOTAL_CLAIM_COST)"

    def bad(self, tally: SourceTally, table: str, n: int, exc: _Bad, raw: dict[str, Any],
            amounts: dict[str, Decimal | None] | None = None) -> None:
        self.out.reject(tally, table=table, row_number=n, rule=exc.rule, column=exc.column,
                        value=exc.value, reason=exc.reason, raw=raw, amounts=amounts)

    def person(self, row: dict[str, Any], column: str) -> str:
        pid = (row.get(column) or "").strip()
        if pid not in self.patients:
            raise _Bad("missing_reference", column, pid, "patient not in patients.csv")
        return pid

    def run(self) -> None:
        self.read_payers()
        member_rows = self.read_patients()
        self.read_payer_transitions()
        for pid, row in member_rows.items():
            dual = self.dual.get(pid)
            row["dual_status_code"] = dual[1] if dual else None
            self.out.emit("member", row)
        self.read_lookup_quarantine("organizations.csv")
        self.read_lookup_quarantine("providers.csv")
        med_codes = self.read_medications()
        kinds, tx_rows = self.read_transactions_kinds(med_codes)
        claim_dx = self.read_claims(kinds)
        self.count_transactions(kinds, tx_rows)
        self.read_encounters(claim_dx)
        self.read_conditions()
        self.read_procedures()
        self.read_observations()

    # ---- people and enrollment -----------------------------------------------------
    def read_payers(self) -> None:
        t = self.out.tally("payers.csv", "eligibility")
        for _n, r in self.files["payers.csv"].rows(t, "eligibility"):
            self.payers[r["Id"].strip()] = r["NAME"].strip()
            t.mapped += 1  # a lookup: its name and line of business go on spans and claims

    def read_patients(self) -> dict[str, dict[str, Any]]:
        t = self.out.tally("patients.csv", "member")
        d = self.out.tally("patients.csv (death)", "death")
        rows: dict[str, dict[str, Any]] = {}
        for n, r in self.files["patients.csv"].rows(t, "member"):
            try:
                pid = r["Id"].strip()
                if not pid:
                    raise _Bad("missing_value", "Id", pid)
                if pid in rows:
                    raise _Bad("duplicate_key", "Id", pid, "patient listed twice")
                birth = _date(r, "BIRTHDATE")
                death = _date(r, "DEATHDATE", required=False)
            except _Bad as exc:
                self.bad(t, "member", n, exc, r)
                continue
            state = _STATES.get(r["STATE"].strip())
            code = state[0] if state else (r["STATE"].strip() or None)
            zip_code = r["ZIP"].strip()
            zip_code = zip_code if _ZIP.match(zip_code) else None
            rows[pid] = {
                "person_id": pid, "sex": vocab.sex(r["GENDER"]), "race": vocab.race(r["RACE"]),
                "ethnicity": vocab.ethnicity(r["ETHNICITY"]), "birth_date": birth,
                "death_date": death, "death_flag": "1" if death else "0", "state": code,
                "zip_code": zip_code, "zip3": zip_code[:3] if zip_code else None,
                "region": _REGION_BY_CODE.get(code or ""), "data_source": DATA_SOURCE,
                "file_name": "patients.csv"}
            self.patients.add(pid)
            t.mapped += 1
            if death:
                d.records += 1
                self.out.emit("death", {"person_id": pid, "death_date": death,
                                        "death_source": "enrollment",
                                        "data_source": DATA_SOURCE,
                                        "file_name": "patients.csv"})
                d.mapped += 1
        return rows

    def read_payer_transitions(self) -> None:
        t = self.out.tally("payer_transitions.csv", "eligibility")
        for n, r in self.files["payer_transitions.csv"].rows(t, "eligibility"):
            try:
                pid = self.person(r, "PATIENT")
                start = _date(r, "START_DATE")
                end = _date(r, "END_DATE")
                payer_id = r["PAYER"].strip()
                name = self.payers.get(payer_id)
                if name is None:
                    raise _Bad("missing_reference", "PAYER", payer_id, "payer not in payers.csv")
                if vocab.is_no_insurance(name):
                    raise _Bad("no_insurance", "PAYER", name,
                               "self-pay period (NO_INSURANCE): not an enrollment span")
                ptype = vocab.payer_type(name)
            except _Bad as exc:
                self.bad(t, "eligibility", n, exc, r)
                continue
            dual = vocab.dual_status_code(name)
            self.out.emit("eligibility", {
                "person_id": pid, "member_id": (r.get("MEMBERID") or "").strip() or None,
                "enrollment_start_date": start, "enrollment_end_date": end, "payer": name,
                "payer_type": ptype, "plan": name, "dual_status_code": dual,
                "data_source": DATA_SOURCE, "file_name": "payer_transitions.csv"})
            t.mapped += 1
            last = self.dual.get(pid)
            if last is None or (start or "") >= last[0]:
                self.dual[pid] = (start or "", dual or "00")

    def read_lookup_quarantine(self, name: str) -> None:
        t = self.out.tally(name, "provider")
        for n, r in self.files[name].rows(t, "provider"):
            self.out.reject(t, table="provider", row_number=n, rule="missing_npi",
                            column="Id", value=r["Id"],
                            reason="Synthea has no CMS NPI; the Synthea id is kept on "
                            "encounters (attending_provider_id / facility_id)", raw=r)

    # ---- medications and claims ----------------------------------------------------
    def read_medications(self) -> set[str]:
        t = self.out.tally("medications.csv", "medication")
        codes: set[str] = set()
        for n, r in self.files["medications.csv"].rows(t, "medication"):
            try:
                pid = self.person(r, "PATIENT")
                start = _date(r, "START")
                stop = _date(r, "STOP", required=False)
                code = r["CODE"].strip()
                if not code:
                    raise _Bad("missing_value", "CODE", code)
            except _Bad as exc:
                self.bad(t, "medication", n, exc, r)
                continue
            codes.add(code)
            enc = r["ENCOUNTER"].strip()
            self.out.emit("medication", {
                "medication_id": _id("med", pid, enc, code, r["START"], str(n)),
                "person_id": pid, "encounter_id": enc or None, "prescribing_date": start,
                "end_date": stop, "source_code_type": "rxnorm", "source_code": code,
                "source_description": r["DESCRIPTION"], "rxnorm_code": code,
                "data_source": DATA_SOURCE, "file_name": "medications.csv"})
            t.mapped += 1
        return codes

    def read_transactions_kinds(
        self, med_codes: set[str]
    ) -> tuple[dict[str, dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
        """First pass over claims_transactions: charges per claim and its kind."""
        t = self.out.tally("claims_transactions.csv", "medical_claim")
        kinds: dict[str, dict[str, Any]] = {}
        rows: list[tuple[int, dict[str, Any]]] = []
        for n, r in self.files["claims_transactions.csv"].rows(t, "medical_claim"):
            rows.append((n, r))
            if r["TYPE"].strip() != "CHARGE":
                continue
            k = kinds.setdefault(r["CLAIMID"].strip(),
                                 {"pharmacy": False, "charge": Decimal(0), "bad": None})
            if r["PROCEDURECODE"].strip() in med_codes:
                k["pharmacy"] = True
            try:
                amt = _amount(r, "AMOUNT")
            except _Bad as exc:
                k["bad"] = (n, exc)
                continue
            k["charge"] += amt or Decimal(0)
        return kinds, rows

    def read_claims(self, kinds: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
        """claims.csv: medical claims give the encounter's diagnoses; medication claims are
        quarantined (pharmacy_claim needs an NDC; Synthea has RxNorm only)."""
        t = self.out.tally("claims.csv", "medical_claim")
        dx: dict[str, list[str]] = {}
        for n, r in self.files["claims.csv"].rows(t, "medical_claim"):
            cid = r["Id"].strip()
            kind = kinds.get(cid, {"pharmacy": False, "charge": Decimal(0), "bad": None})
            try:
                self.person(r, "PATIENTID")
            except _Bad as exc:
                self.bad(t, "pharmacy_claim" if kind["pharmacy"] else "medical_claim",
                         n, exc, r)
                continue
            if kind["pharmacy"]:
                amt = None if kind["bad"] else kind["charge"]
                t.add_money({"charge_amount": amt, "allowed_amount": amt})
                self.out.reject(
                    t, table="pharmacy_claim", row_number=n, rule="unmapped_code",
                    column="PROCEDURECODE", value="rxnorm",
                    reason="medication claim: Synthea gives RxNorm only and pharmacy_claim "
                    "needs an NDC", raw=r,
                    amounts={"charge_amount": amt, "allowed_amount": amt})
                continue
            codes = [r[f"DIAGNOSIS{i}"].strip() for i in range(1, 9)
                     if r[f"DIAGNOSIS{i}"].strip()]
            dx.setdefault(r["APPOINTMENTID"].strip(), []).extend(codes)
            t.mapped += 1  # its diagnoses go on the encounter's medical_claim line
        return dx

    def count_transactions(self, kinds: dict[str, dict[str, Any]],
                           rows: list[tuple[int, dict[str, Any]]]) -> None:
        """claims_transactions.csv lines restate the claims' money: lines of medical
        claims are mapped into the encounter-grain line; lines of medication claims
        follow their claim into the quarantine (their money is counted once, there)."""
        t = self.out.tally("claims_transactions.csv", "medical_claim")
        for n, r in rows:
            kind = kinds.get(r["CLAIMID"].strip())
            if kind is not None and kind["pharmacy"]:
                self.out.reject(t, table="pharmacy_claim", row_number=n,
                                rule="unmapped_code", column="CLAIMID", value=r["CLAIMID"],
                                reason="line of a medication claim (no NDC)", raw=r)
            else:
                t.mapped += 1

    # ---- encounters and their claim ----------------------------------------------
    def read_encounters(self, claim_dx: dict[str, list[str]]) -> None:
        t = self.out.tally("encounters.csv", "encounter")
        c = self.out.tally("encounters.csv (claim)", "medical_claim")
        for n, r in self.files["encounters.csv"].rows(t, "encounter"):
            c.records += 1
            eid = r["Id"].strip()
            amounts: dict[str, Decimal | None] = {}
            try:
                total = _amount(r, "TOTAL_CLAIM_COST")
                paid = _amount(r, "PAYER_COVERAGE")
                amounts = {"charge_amount": total, "allowed_amount": total,
                           "paid_amount": paid}
            except _Bad as exc:
                amt_exc: _Bad | None = exc
            else:
                amt_exc = None
            c.add_money(amounts)
            try:
                pid = self.person(r, "PATIENT")
                start = _date(r, "START")
                end = _date(r, "STOP", required=False)
                if not eid:
                    raise _Bad("missing_value", "Id", eid)
            except _Bad as exc:
                self.bad(t, "encounter", n, exc, r)
                self.bad(c, "medical_claim", n, exc, r, amounts)
                continue
            etype = vocab.encounter_type(r["ENCOUNTERCLASS"])
            reason = r["REASONCODE"].strip()
            self.encounters.add(eid)
            self.out.emit("encounter", {
                "encounter_id": eid, "person_id": pid, "encounter_type": etype,
                "encounter_start_date": start, "encounter_end_date": end,
                "attending_provider_id": r["PROVIDER"].strip() or None,
                "facility_id": r["ORGANIZATION"].strip() or None,
                "primary_diagnosis_code_type": "snomed-ct" if reason else None,
                "primary_diagnosis_code": reason or None, "source_code_type": "snomed-ct",
                "source_code": r["CODE"].strip(), "source_description": r["DESCRIPTION"],
                "claim_id": eid, "data_source": DATA_SOURCE, "file_name": "encounters.csv"})
            t.mapped += 1
            if amt_exc is not None:
                self.bad(c, "medical_claim", n, amt_exc, r)
                continue
            snomed = [*claim_dx.get(eid, []), *([reason] if reason else [])]
            icd: list[str] = []
            for code in snomed:
                m = icd10cm_for("snomed-ct", code)
                if m and m not in icd:
                    icd.append(m)
            if not icd:
                self.bad(c, "medical_claim", n, _Bad(
                    "unmapped_code", "DIAGNOSIS1", ";".join(snomed[:8]) or None,
                    "no diagnosis of the claim has a SNOMED CT → ICD-10-CM crosswalk row"),
                    r, amounts)
                continue
            payer = self.payers.get(r["PAYER"].strip(), "")
            if not payer:
                self.bad(c, "medical_claim", n, _Bad(
                    "missing_reference", "PAYER", r["PAYER"], "payer not in payers.csv"),
                    r, amounts)
                continue
            row: dict[str, Any] = {
                "claim_id": eid, "claim_line_number": 1,
                "claim_type": "institutional" if etype in _INSTITUTIONAL else "professional",
                "person_id": pid, "payer": payer, "payer_type": vocab.payer_type(payer),
                "plan": payer, "claim_start_date": start, "claim_end_date": end or start,
                "claim_line_start_date": start, "claim_line_end_date": end or start,
                "charge_amount": total, "allowed_amount": total, "paid_amount": paid,
                "total_cost_amount": total, "diagnosis_code_type": "icd-10-cm",
                "adjustment_type": "original", "data_source": DATA_SOURCE,
                "file_name": "encounters.csv"}
            if etype == "inpatient":
                row["admission_date"], row["discharge_date"] = start, end or start
            for i, code in enumerate(icd[:25], start=1):
                row[f"diagnosis_code_{i}"] = code
            self.out.emit("medical_claim", row)
            c.mapped += 1

    # ---- clinical tables -----------------------------------------------------------
    def _encounter(self, r: dict[str, Any]) -> str | None:
        enc = (r.get("ENCOUNTER") or "").strip()
        if enc and enc not in self.encounters:
            raise _Bad("missing_reference", "ENCOUNTER", enc, "encounter not in encounters.csv")
        return enc or None

    def read_conditions(self) -> None:
        t = self.out.tally("conditions.csv", "condition")
        for n, r in self.files["conditions.csv"].rows(t, "condition"):
            try:
                pid = self.person(r, "PATIENT")
                enc = self._encounter(r)
                start = _date(r, "START")
                stop = _date(r, "STOP", required=False)
                system = _system(r, "snomed-ct")
                code = r["CODE"].strip()
                if not code:
                    raise _Bad("missing_value", "CODE", code)
            except _Bad as exc:
                self.bad(t, "condition", n, exc, r)
                continue
            icd = icd10cm_for(system, code)
            self.out.emit("condition", {
                "condition_id": _id("cond", pid, enc or "", code, r["START"], str(n)),
                "person_id": pid, "encounter_id": enc, "recorded_date": start,
                "onset_date": start, "resolved_date": stop,
                "status": "resolved" if stop else "active", "source_code_type": system,
                "source_code": code, "source_description": r["DESCRIPTION"],
                "normalized_code_type": "icd-10-cm" if icd else None, "normalized_code": icd,
                "data_source": DATA_SOURCE, "file_name": "conditions.csv"})
            t.mapped += 1

    def read_procedures(self) -> None:
        t = self.out.tally("procedures.csv", "procedure")
        for n, r in self.files["procedures.csv"].rows(t, "procedure"):
            try:
                pid = self.person(r, "PATIENT")
                enc = self._encounter(r)
                start = _date(r, "START")
                system = _system(r, "snomed-ct")
                code = r["CODE"].strip()
                if not code:
                    raise _Bad("missing_value", "CODE", code)
            except _Bad as exc:
                self.bad(t, "procedure", n, exc, r)
                continue
            self.out.emit("procedure", {
                "procedure_id": _id("proc", pid, enc or "", code, r["START"], str(n)),
                "person_id": pid, "encounter_id": enc, "claim_id": enc,
                "procedure_date": start, "source_code_type": system, "source_code": code,
                "source_description": r["DESCRIPTION"], "data_source": DATA_SOURCE,
                "file_name": "procedures.csv"})
            t.mapped += 1

    def read_observations(self) -> None:
        t = self.out.tally("observations.csv", "observation")
        for n, r in self.files["observations.csv"].rows(t, "observation"):
            try:
                pid = self.person(r, "PATIENT")
                enc = self._encounter(r)
                day = _date(r, "DATE")
                code = r["CODE"].strip()
                if not _LOINC.match(code):
                    raise _Bad("unmapped_code", "CODE", code,
                               "not a LOINC code (Synthea QALY/DALY/QOLS model outputs)")
                category = r["CATEGORY"].strip()
                panel = None
                if category == "survey":
                    panel = PROM_SCORES.get(code)
                    otype = "prom_score" if panel else "screening"
                else:
                    otype = _OBS_TYPES.get(category, "")
                    if not otype:
                        raise _Bad("unmapped_code", "CATEGORY", category,
                                   "no canonical observation type for this category")
            except _Bad as exc:
                self.bad(t, "observation", n, exc, r)
                continue
            value = r["VALUE"]
            numeric: float | None = None
            if r["TYPE"].strip() == "numeric":
                try:
                    numeric = float(value)
                except ValueError:
                    self.bad(t, "observation", n,
                             _Bad("not_a_number", "VALUE", value, "numeric result"), r)
                    continue
            self.out.emit("observation", {
                "observation_id": _id("obs", pid, enc or "", code, r["DATE"], str(n)),
                "person_id": pid, "encounter_id": enc, "panel_id": panel,
                "observation_date": day, "observation_type": otype,
                "source_code_type": "loinc", "source_code": code,
                "source_description": r["DESCRIPTION"], "result": value,
                "result_numeric": None if numeric is None else repr(numeric),
                "source_units": r["UNITS"] or None, "data_source": DATA_SOURCE,
                "file_name": "observations.csv"})
            t.mapped += 1
