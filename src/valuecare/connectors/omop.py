"""The OMOP CDM connector: ``valuecare load PATH --format omop``.

Reads OMOP CDM v5.3 or v5.4 from a DuckDB or SQLite database file or a folder of table
files (:mod:`valuecare.connectors.omop_read`), resolves concept ids through the source's
own ``concept`` table (:mod:`valuecare.connectors.omop_vocab`) and writes the canonical
tables.  Every row of the thirteen clinical tables is counted once in the ledger of its
table and is either mapped or quarantined with a rule; ``docs/connectors.md`` has
the full mapping, every rule and every decision (payer of an observation period, ids
repeated in a table, ICD-10-CM normalisation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.connectors.base import Conversion, SourceTally, money
from valuecare.connectors.omop_read import COLUMNS, OmopSource, SourceTable, open_source
from valuecare.connectors.omop_vocab import (
    CONDITION_SYSTEMS,
    DEATH_SOURCE,
    DISCHARGE,
    DRUG_SYSTEMS,
    ETHNICITY,
    ETHNICITY_SOURCE,
    INSTITUTIONAL_VISITS,
    OBSERVATION_SYSTEMS,
    POS_CONCEPT,
    POS_PROVIDER_TYPE,
    PROCEDURE_SYSTEMS,
    RACE,
    RACE_SOURCE,
    SCREENING_LOINC,
    SEX,
    SEX_SOURCE,
    SNOMED_DOMAINS,
    SOPT,
    SOPT_MEDICARE_ADVANTAGE,
    VISIT,
    VITAL_LOINC,
    VOCABULARY,
    Concept,
    npi_is_valid,
    payer_type_from_text,
    provider_type_from_specialty,
)
from valuecare.model.schema import HCPCS, ICD10CM, ICD10PCS, MSDRG

DATA_SOURCE = "omop"
#: An observation period says when the source observes a person, not who pays: it gives
#: an eligibility span with payer ``unknown``, payer type ``unknown`` and plan
#: ``omop observation period`` (docs/connectors.md).
OBSERVATION_PERIOD_PAYER = "unknown"
OBSERVATION_PERIOD_PLAN = "omop observation period"
OBSERVATION_PERIOD_PAYER_TYPE = "unknown"

#: columns a table cannot be mapped without (a table lacking one quarantines every row)
REQUIRED: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth"),
    "observation_period": ("person_id", "observation_period_start_date",
                           "observation_period_end_date"),
    "visit_occurrence": ("visit_occurrence_id", "person_id", "visit_concept_id",
                         "visit_start_date"),
    "condition_occurrence": ("condition_occurrence_id", "person_id", "condition_concept_id",
                             "condition_start_date"),
    "procedure_occurrence": ("procedure_occurrence_id", "person_id", "procedure_concept_id",
                             "procedure_date"),
    "drug_exposure": ("drug_exposure_id", "person_id", "drug_concept_id",
                      "drug_exposure_start_date"),
    "measurement": ("measurement_id", "person_id", "measurement_concept_id",
                    "measurement_date"),
    "observation": ("observation_id", "person_id", "observation_concept_id",
                    "observation_date"),
    "death": ("person_id", "death_date"),
    "cost": ("cost_id", "cost_event_id", "cost_domain_id"),
    "payer_plan_period": ("payer_plan_period_id", "person_id",
                          "payer_plan_period_start_date", "payer_plan_period_end_date"),
    "provider": ("provider_id",),
    "care_site": ("care_site_id",),
}
TARGET = {
    "person": "member", "observation_period": "eligibility", "visit_occurrence": "encounter",
    "condition_occurrence": "condition", "procedure_occurrence": "procedure",
    "drug_exposure": "medication", "measurement": "observation", "observation": "observation",
    "death": "death", "cost": "medical_claim", "payer_plan_period": "eligibility",
    "provider": "provider", "care_site": "provider",
}

_NUM_ID = re.compile(r"^(-?\d+)\.0*$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ICD10 = re.compile(ICD10CM)
_HCPCS = re.compile(HCPCS)
_PCS = re.compile(ICD10PCS)
_DRG = re.compile(MSDRG)


class _Bad(Exception):
    """A source row that cannot be mapped: rule, column, value and a reason for a person."""

    def __init__(self, rule: str, column: str | None = None, value: Any = None,
                 reason: str = "", amounts: dict[str, Decimal | None] | None = None) -> None:
        super().__init__(rule)
        self.rule, self.column, self.value, self.reason = rule, column, value, reason
        self.amounts = amounts


@dataclass
class _Ctx:
    table: SourceTable
    tally: SourceTally
    target: str


# ---- value parsing -------------------------------------------------------------------
def _id(rec: dict[str, str | None], col: str, required: bool = True) -> str | None:
    v = rec.get(col)
    if v is None:
        if required:
            raise _Bad("missing_value", col, None, f"{col} is empty")
        return None
    m = _NUM_ID.match(v)
    return m.group(1) if m else v


def _int(rec: dict[str, str | None], col: str) -> int | None:
    v = rec.get(col)
    if v is None:
        return None
    m = _NUM_ID.match(v)
    try:
        return int(m.group(1) if m else v)
    except ValueError as exc:
        raise _Bad("wrong_type", col, v, f"{col} is not an integer") from exc


def _num(rec: dict[str, str | None], col: str) -> float | None:
    v = rec.get(col)
    if v is None:
        return None
    try:
        f = float(v)
    except ValueError as exc:
        raise _Bad("wrong_type", col, v, f"{col} is not a number") from exc
    if f != f or f in (float("inf"), float("-inf")):
        raise _Bad("wrong_type", col, v, f"{col} is not a finite number")
    return f


def _date(rec: dict[str, str | None], *cols: str, required: bool = False) -> date | None:
    """The first of ``cols`` that holds a value, as a date (a datetime keeps its date)."""
    for col in cols:
        v = rec.get(col)
        if v is None:
            continue
        m = _DATE.match(v) or _DATE_COMPACT.match(v)
        try:
            if m is None:
                raise ValueError(v)
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise _Bad("bad_date", col, v, f"{col} is not a date (YYYY-MM-DD)") from exc
        if not 1850 <= d.year <= 2100:
            raise _Bad("bad_date", col, v, f"{col} is outside 1850-2100")
        return d
    if required:
        raise _Bad("bad_date", cols[0], None, f"{cols[0]} is empty")
    return None


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _num_text(f: float | None) -> str | None:
    if f is None:
        return None
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


class Omop:
    """OMOP CDM v5.3/v5.4 → canonical tables (see the module docstring)."""

    name = "omop"
    description = ("OMOP CDM v5.3/v5.4: a DuckDB or SQLite database file, or a folder of "
                   "table files (person.csv, visit_occurrence.parquet ...)")

    def convert(self, source: Path, out: Conversion) -> None:
        src = open_source(source)
        try:
            _Converter(src, out).run()
        finally:
            src.close()


class _Converter:
    def __init__(self, src: OmopSource, out: Conversion) -> None:
        self.src, self.out = src, out
        self.con = src.con
        self.concepts: dict[int, Concept] = {}
        self.has_concepts = False
        self.icd_by_standard: dict[int, str] = {}
        self.locations: dict[str, tuple[str | None, str | None]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.birth: dict[str, date] = {}
        self.npis: set[str] = set()
        self.provider_npi: dict[str, str] = {}
        self.care_site_npi: dict[str, str] = {}
        self.payer_spans: dict[str, tuple[str, str | None, str]] = {}
        self.persons_with_payer: set[str] = set()
        # events a cost row may point at (filled only for the ids cost rows name)
        self.cost_refs: dict[str, set[str]] = {"visit": set(), "procedure": set(),
                                               "drug": set()}
        self.events: dict[str, dict[str, dict[str, Any]]] = {"visit": {}, "procedure": {},
                                                             "drug": {}}
        self.repeated: dict[str, set[str]] = {}
        self.needed_visits: set[str] = set()
        self.diagnoses: dict[str, list[tuple[date, int, str]]] = {}
        self.notes: dict[str, int] = {}
        self._seen_spans: set[tuple[str, str, str, date]] = set()
        self._seen_costs: set[str] = set()
        self._claim_lines: dict[str, int] = {}

    # ---- driver ----------------------------------------------------------------------
    def run(self) -> None:
        for p in self.src.inputs:
            self.out.read_input(p)
        self._load_concepts()
        self._load_locations()
        self._load_cost_refs()
        steps = (
            ("provider", self._provider), ("care_site", self._care_site),
            ("person", self._person), ("death", self._death),
            ("payer_plan_period", self._payer_plan_period),
            ("observation_period", self._observation_period),
            ("visit_occurrence", self._visit), ("procedure_occurrence", self._procedure),
            ("drug_exposure", self._drug), ("condition_occurrence", self._condition),
            ("measurement", self._measurement), ("observation", self._observation),
            ("cost", self._cost),
        )
        for name, handler in steps:
            if name == "death":
                self._emit_members_after_death(handler)
                continue
            t = self.src.tables.get(name)
            if t is not None:
                self._table(t, handler)
        if self.notes:
            self.out.notes["omop"] = dict(self.notes)

    def _emit_members_after_death(self, handler: Any) -> None:
        t = self.src.tables.get("death")
        if t is not None:
            self._table(t, handler)
        for row in self.members.values():
            self.out.emit("member", row)

    def _table(self, t: SourceTable, handler: Any) -> None:
        ctx = _Ctx(t, self.out.tally(t.label, TARGET[t.name]), TARGET[t.name])
        key = COLUMNS[t.name][0]
        self.repeated[t.name] = self._repeated_ids(t, key) if t.name not in (
            "person", "death", "provider", "care_site", "cost",
            "payer_plan_period") else set()
        seen: dict[str, int] = {}
        for row, rec in self._rows(ctx):
            try:
                handler(ctx, rec, self._unique_id(t, rec, key, seen), row)
            except _Bad as bad:
                self._reject(ctx, row, bad, rec)

    def _unique_id(self, t: SourceTable, rec: dict[str, str | None], key: str,
                   seen: dict[str, int]) -> str | None:
        """The row's identifier; an id the table repeats gets ``#n`` (n-th in row order)."""
        v = rec.get(key)
        if v is None or t.name == "death":
            return None
        m = _NUM_ID.match(v)
        v = m.group(1) if m else v
        if v in self.repeated.get(t.name, ()):
            seen[v] = seen.get(v, 0) + 1
            return f"{v}#{seen[v]}"
        return v

    def _repeated_ids(self, t: SourceTable, key: str) -> set[str]:
        if key not in t.columns:
            return set()
        rows = self.con.execute(
            f"SELECT regexp_replace(\"{key}\", '^(-?[0-9]+)\\.0*$', '\\1') AS k "
            f"FROM {t.view} WHERE \"{key}\" IS NOT NULL GROUP BY k HAVING count(*) > 1"
        ).fetchall()
        ids = {r[0] for r in rows}
        if ids:
            self.notes[f"{t.name}_repeated_ids"] = len(ids)
        return ids

    def _rows(self, ctx: _Ctx) -> Iterator[tuple[int, dict[str, str | None]]]:
        t = ctx.table
        for row, raw in t.malformed:
            ctx.tally.records += 1
            self.out.reject(ctx.tally, table=ctx.target, row_number=row, rule="malformed_row",
                            reason="the row does not have as many fields as the header "
                            "(a truncated file or a stray delimiter)", raw=raw)
        missing = [c for c in REQUIRED[t.name] if c not in t.columns]
        key = COLUMNS[t.name][0]
        cur = self.con.execute(f"SELECT * FROM {t.view} ORDER BY _row")
        names = [d[0] for d in cur.description]
        while True:
            batch = cur.fetchmany(50_000)
            if not batch:
                break
            for values in batch:
                rec: dict[str, str | None] = dict(zip(names, values, strict=True))
                row = int(rec.pop("_row"))  # type: ignore[arg-type]
                ctx.tally.records += 1
                if (rec.get(key) or "").lower() == key:
                    self._reject(ctx, row, _Bad(
                        "junk_row", key, rec.get(key),
                        "the table's header row was loaded as a data row"), rec)
                    continue
                if missing:
                    self._reject(ctx, row, _Bad(
                        "missing_column", missing[0], None,
                        f"the table has no column {', '.join(missing)}"), rec)
                    continue
                yield row, rec

    def _reject(self, ctx: _Ctx, row: int, bad: _Bad, rec: dict[str, str | None]) -> None:
        self.out.reject(ctx.tally, table=ctx.target, row_number=row, rule=bad.rule,
                        column=bad.column, value=bad.value, reason=bad.reason, raw=rec,
                        amounts=bad.amounts)

    def _emit(self, ctx: _Ctx, table: str, row: dict[str, Any]) -> None:
        row.setdefault("data_source", DATA_SOURCE)
        row.setdefault("file_name", ctx.table.label)
        self.out.emit(table, row)

    # ---- lookups ---------------------------------------------------------------------
    def _load_concepts(self) -> None:
        t = self.src.tables.get("concept")
        if t is None or not {"concept_id", "vocabulary_id", "concept_code"} <= set(t.columns):
            return
        self.has_concepts = True
        refs = []
        for name, st in self.src.tables.items():
            if name in ("concept", "concept_relationship", "location"):
                continue
            for c in st.columns:
                if c.endswith("_concept_id"):
                    refs.append(f'SELECT TRY_CAST(TRY_CAST("{c}" AS DOUBLE) AS BIGINT) AS id '
                                f"FROM {st.view}")
        if not refs:
            return
        self.con.execute("CREATE TEMP TABLE omop_needed AS SELECT DISTINCT id FROM ("
                         + " UNION ALL ".join(refs) + ") WHERE id IS NOT NULL")
        cols = set(t.columns)
        name = "concept_name" if "concept_name" in cols else "NULL"
        domain = "domain_id" if "domain_id" in cols else "NULL"
        std = "standard_concept" if "standard_concept" in cols else "NULL"
        rows = self.con.execute(
            f"SELECT TRY_CAST(c.concept_id AS BIGINT) AS id, trim(c.vocabulary_id), "
            f"trim(c.concept_code), {name}, {domain}, {std} FROM {t.view} c "
            "WHERE TRY_CAST(c.concept_id AS BIGINT) IN (SELECT id FROM omop_needed)"
        ).fetchall()
        for cid, vocab, code, cname, dom, standard in rows:
            if cid is None or vocab is None or code is None:
                continue
            self.concepts[int(cid)] = Concept(int(cid), vocab, code, cname,
                                              None if dom is None else str(dom).strip(),
                                              (standard or "").strip() == "S")
        rel = self.src.tables.get("concept_relationship")
        if rel is None or not {"concept_id_1", "concept_id_2",
                               "relationship_id"} <= set(rel.columns):
            return
        # ICD-10-CM codes documented in the data as mapping to a standard concept; used
        # for normalized_code only when exactly one ICD-10-CM concept maps to it.
        rows = self.con.execute(
            f"SELECT TRY_CAST(r.concept_id_2 AS BIGINT) AS std, "
            f"min(trim(c.concept_code)), count(DISTINCT c.concept_code) "
            f"FROM {rel.view} r JOIN {t.view} c "
            "ON TRY_CAST(c.concept_id AS BIGINT) = TRY_CAST(r.concept_id_1 AS BIGINT) "
            "WHERE trim(r.relationship_id) = 'Maps to' AND trim(c.vocabulary_id) = 'ICD10CM' "
            "AND coalesce(trim(r.invalid_reason), '') = '' "
            "AND TRY_CAST(r.concept_id_2 AS BIGINT) IN (SELECT id FROM omop_needed) "
            "GROUP BY std").fetchall()
        for std, code, n in rows:
            if std is not None and n == 1:
                icd = code.replace(".", "").upper()
                if _ICD10.match(icd):
                    self.icd_by_standard[int(std)] = icd

    def _load_locations(self) -> None:
        t = self.src.tables.get("location")
        if t is None or "location_id" not in t.columns:
            return
        state = "state" if "state" in t.columns else "NULL"
        zipc = "zip" if "zip" in t.columns else "NULL"
        for lid, st, z in self.con.execute(
                f"SELECT location_id, {state}, {zipc} FROM {t.view}").fetchall():
            if lid is None:
                continue
            st = (st or "").strip().upper()
            z = (z or "").strip()[:5]
            self.locations[_norm_id(lid)] = (st if re.fullmatch(r"[A-Z]{2}", st) else None,
                                             z if re.fullmatch(r"[0-9]{5}", z) else None)

    def _load_cost_refs(self) -> None:
        t = self.src.tables.get("cost")
        if t is None or not {"cost_event_id", "cost_domain_id"} <= set(t.columns):
            return
        for dom, ev in self.con.execute(
                f"SELECT DISTINCT lower(trim(cost_domain_id)), cost_event_id FROM {t.view} "
                "WHERE cost_event_id IS NOT NULL").fetchall():
            if dom in self.cost_refs:
                self.cost_refs[dom].add(_norm_id(ev))

    def _concept(self, cid: int | None) -> Concept | None:
        return None if not cid else self.concepts.get(cid)

    def _resolve(self, kind: str, systems: set[str], src_col: str, std_col: str,
                 rec: dict[str, str | None]) -> tuple[Concept | None, str, str]:
        """(concept, code system, code) of a clinical record: its source concept when the
        source concept is in a supported vocabulary, else its standard concept."""
        src_id = _int(rec, src_col)
        std_id = _int(rec, std_col)
        for cid in (src_id, std_id):
            c = self._concept(cid)
            if c is None:
                continue
            system = VOCABULARY.get(c.vocabulary_id)
            if system is None or system not in systems:
                continue
            if system == "snomed-ct" and kind in SNOMED_DOMAINS and (
                    c.domain_id not in SNOMED_DOMAINS[kind]):
                continue
            return c, system, c.concept_code
        if not self.has_concepts and std_id and "omop-concept" in systems:
            return None, "omop-concept", str(std_id)
        if not std_id:
            raise _Bad("unmapped_concept", std_col, rec.get(std_col),
                       f"no standard concept ({std_col} 0) and the source concept is not "
                       f"a supported {kind} vocabulary")
        c = self._concept(std_id)
        if c is None:
            raise _Bad("unmapped_concept", std_col, std_id,
                       "the concept is not in the concept table" if self.has_concepts
                       else "the source has no concept table to resolve the concept")
        raise _Bad("unmapped_concept", std_col, std_id,
                   f"vocabulary {c.vocabulary_id} / domain {c.domain_id} is not a "
                   f"supported {kind} code system")

    def _person_of(self, rec: dict[str, str | None]) -> str:
        pid = _id(rec, "person_id")
        assert pid is not None
        if pid not in self.members:
            raise _Bad("missing_reference", "person_id", pid,
                       "person_id is not a mapped row of the person table")
        return pid

    def _clinician(self, rec: dict[str, str | None]) -> str | None:
        pid = _id(rec, "provider_id", required=False)
        if pid is None or pid == "0":
            return None
        return self.provider_npi.get(pid, pid)

    # ---- providers -------------------------------------------------------------------
    def _provider(self, ctx: _Ctx, rec: dict[str, str | None], pid: str | None,
                  row: int) -> None:
        pid = _id(rec, "provider_id")
        npi = (rec.get("npi") or "").strip()
        if not npi_is_valid(npi):
            raise _Bad("no_npi", "npi", rec.get("npi"),
                       "the canonical provider table is keyed by a valid 10-digit NPI")
        if npi in self.npis:
            raise _Bad("duplicate_id", "npi", npi, "another provider row has this NPI")
        name = rec.get("provider_name")
        if name is None:
            raise _Bad("missing_value", "provider_name", None, "provider_name is empty")
        spec_c = self._concept(_int(rec, "specialty_concept_id"))
        specialty = (spec_c.concept_name if spec_c and spec_c.concept_name
                     else rec.get("specialty_source_value"))
        ptype = provider_type_from_specialty(specialty)
        if ptype is None:
            raise _Bad("unmapped_concept", "specialty_concept_id",
                       rec.get("specialty_concept_id"),
                       "no specialty to give the required provider_type")
        self.npis.add(npi)
        self.provider_npi[str(pid)] = npi
        self._emit(ctx, "provider", {
            "npi": npi, "provider_name": name, "entity_type": "individual",
            "provider_type": ptype, "specialty": specialty})
        ctx.tally.mapped += 1

    def _care_site(self, ctx: _Ctx, rec: dict[str, str | None], cid: str | None,
                   row: int) -> None:
        cs = _id(rec, "care_site_id")
        npi = (rec.get("care_site_source_value") or "").strip()
        if not npi_is_valid(npi):
            raise _Bad("no_npi", "care_site_source_value", rec.get("care_site_source_value"),
                       "a care site is kept as a provider only when its source value is a "
                       "valid NPI")
        if npi in self.npis:
            raise _Bad("duplicate_id", "care_site_source_value", npi,
                       "another provider or care site has this NPI")
        name = rec.get("care_site_name")
        if name is None:
            raise _Bad("missing_value", "care_site_name", None, "care_site_name is empty")
        pos_c = self._concept(_int(rec, "place_of_service_concept_id"))
        pos = None
        if pos_c is not None and pos_c.vocabulary_id == "CMS Place of Service":
            pos = pos_c.concept_code.zfill(2)
        if pos is None:
            pos = POS_CONCEPT.get(_int(rec, "place_of_service_concept_id") or 0)
        src_pos = (rec.get("place_of_service_source_value") or "").strip()
        if pos is None and re.fullmatch(r"[0-9]{1,2}", src_pos):
            pos = src_pos.zfill(2)
        ptype = POS_PROVIDER_TYPE.get(pos or "")
        if ptype is None:
            raise _Bad("unmapped_concept", "place_of_service_concept_id",
                       rec.get("place_of_service_concept_id"),
                       "the place of service gives no canonical provider_type")
        state, zipc = self.locations.get(_id(rec, "location_id", required=False) or "",
                                         (None, None))
        self.npis.add(npi)
        self.care_site_npi[str(cs)] = npi
        self._emit(ctx, "provider", {
            "npi": npi, "provider_name": name, "entity_type": "organization",
            "provider_type": ptype,
            "facility_type": pos_c.concept_name if pos_c else (src_pos or None),
            "state": state, "zip_code": zipc})
        ctx.tally.mapped += 1

    # ---- people ----------------------------------------------------------------------
    def _person(self, ctx: _Ctx, rec: dict[str, str | None], _uid: str | None,
                row: int) -> None:
        pid = _id(rec, "person_id")
        assert pid is not None
        if pid in self.members:
            raise _Bad("duplicate_id", "person_id", pid, "person_id repeats an earlier row")
        gender = _int(rec, "gender_concept_id")
        sex = SEX.get(gender or 0) or SEX_SOURCE.get((rec.get("gender_source_value") or "")
                                                     .lower(), "unknown")
        race = RACE.get(_int(rec, "race_concept_id") or 0)
        if race is None:
            race = RACE_SOURCE.get((rec.get("race_source_value") or "").lower(), "unknown")
        eth = ETHNICITY.get(_int(rec, "ethnicity_concept_id") or 0)
        if eth is None:
            eth = ETHNICITY_SOURCE.get((rec.get("ethnicity_source_value") or "").lower(),
                                       "unknown")
        birth = self._birth_date(rec)
        state, zipc = self.locations.get(_id(rec, "location_id", required=False) or "",
                                         (None, None))
        self.birth[pid] = birth
        self.members[pid] = {
            "person_id": pid, "sex": sex, "race": race, "ethnicity": eth,
            "birth_date": birth.isoformat(), "state": state, "zip_code": zipc,
            "zip3": zipc[:3] if zipc else None, "data_source": DATA_SOURCE,
            "file_name": ctx.table.label,
        }
        ctx.tally.mapped += 1

    @staticmethod
    def _birth_date(rec: dict[str, str | None]) -> date:
        """year/month/day when the year is given (month missing → 1 July, day missing →
        the 15th), else birth_datetime."""
        year = _int(rec, "year_of_birth")
        month = _int(rec, "month_of_birth")
        day = _int(rec, "day_of_birth")
        if year is None:
            d = _date(rec, "birth_datetime")
            if d is None:
                raise _Bad("bad_date", "year_of_birth", None, "no year of birth")
            return d
        if month is None:
            month, day = 7, 1
        elif day is None:
            day = 15
        try:
            d = date(year, month, day)
        except ValueError as exc:
            raise _Bad("bad_date", "year_of_birth", f"{year}-{month}-{day}",
                       "year/month/day of birth is not a date") from exc
        if not 1850 <= d.year <= 2100:
            raise _Bad("bad_date", "year_of_birth", str(year), "year of birth is implausible")
        return d

    def _death(self, ctx: _Ctx, rec: dict[str, str | None], _uid: str | None,
               row: int) -> None:
        pid = self._person_of(rec)
        when = _date(rec, "death_date", "death_datetime", required=True)
        assert when is not None
        if "death_date" in self.members[pid] and self.members[pid].get("death_date"):
            raise _Bad("duplicate_id", "person_id", pid, "a second death row for the person")
        if when < self.birth[pid]:
            raise _Bad("bad_date", "death_date", when.isoformat(), "death before birth")
        dtype = _int(rec, "death_type_concept_id") or 0
        source = DEATH_SOURCE.get(dtype)
        c = self._concept(dtype)
        if source is None and c is not None and c.concept_name:
            name = c.concept_name.lower()
            source = ("claims" if "claim" in name else
                      "enrollment" if ("payer" in name or "enrollment" in name) else
                      "registry" if ("certificate" in name or "registry" in name) else None)
        self.members[pid]["death_date"] = when.isoformat()
        self.members[pid]["death_flag"] = "1"
        self._emit(ctx, "death", {"person_id": pid, "death_date": when.isoformat(),
                                  "death_source": source})
        ctx.tally.mapped += 1

    # ---- enrollment ------------------------------------------------------------------
    def _payer_plan_period(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                           row: int) -> None:
        pid = self._person_of(rec)
        start = _date(rec, "payer_plan_period_start_date", required=True)
        end = _date(rec, "payer_plan_period_end_date", required=True)
        assert start is not None and end is not None
        if end < start:
            raise _Bad("bad_date", "payer_plan_period_end_date", end.isoformat(),
                       "the span ends before it starts")
        payer_c = (self._concept(_int(rec, "payer_concept_id"))
                   or self._concept(_int(rec, "payer_source_concept_id")))
        plan_c = (self._concept(_int(rec, "plan_concept_id"))
                  or self._concept(_int(rec, "plan_source_concept_id")))
        payer = rec.get("payer_source_value") or (payer_c.concept_name if payer_c else None)
        plan = rec.get("plan_source_value") or (plan_c.concept_name if plan_c else None)
        ptype = None
        if payer_c is not None and payer_c.vocabulary_id == "SOPT":
            code = payer_c.concept_code.strip()
            ptype = ("medicare advantage" if code in SOPT_MEDICARE_ADVANTAGE
                     else SOPT.get(code[:1]))
        if ptype is None:
            ptype = payer_type_from_text(payer) or payer_type_from_text(plan)
        if ptype is None or payer is None:
            raise _Bad("unmapped_concept", "payer_concept_id", rec.get("payer_concept_id"),
                       "the payer's line of business (medicare, medicare advantage, "
                       "medicaid, commercial) cannot be told from its concept or name")
        plan = plan or payer
        key = (pid, payer, plan, start)
        if key in self._seen_spans:
            raise _Bad("duplicate_id", "payer_plan_period_start_date", start.isoformat(),
                       "another span of the person, payer and plan starts the same day")
        self._seen_spans.add(key)
        member = self.members[pid]
        if uid is not None:
            self.payer_spans[uid] = (payer, ptype, plan)
        self.persons_with_payer.add(pid)
        self._emit(ctx, "eligibility", {
            "person_id": pid, "gender": member["sex"], "birth_date": member["birth_date"],
            "enrollment_start_date": start.isoformat(), "enrollment_end_date": end.isoformat(),
            "payer": payer, "payer_type": ptype, "plan": plan,
            "dual_status_code": None})
        ctx.tally.mapped += 1

    def _observation_period(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                            row: int) -> None:
        pid = self._person_of(rec)
        start = _date(rec, "observation_period_start_date", required=True)
        end = _date(rec, "observation_period_end_date", required=True)
        assert start is not None and end is not None
        if end < start:
            raise _Bad("bad_date", "observation_period_end_date", end.isoformat(),
                       "the period ends before it starts")
        if pid in self.persons_with_payer:
            raise _Bad("covered_by_payer_plan_period", "person_id", pid,
                       "the person has payer_plan_period enrollment; observation periods "
                       "would count their months twice")
        key = (pid, OBSERVATION_PERIOD_PAYER, OBSERVATION_PERIOD_PLAN, start)
        if key in self._seen_spans:
            raise _Bad("duplicate_id", "observation_period_start_date", start.isoformat(),
                       "another observation period of the person starts the same day")
        self._seen_spans.add(key)
        member = self.members[pid]
        self._emit(ctx, "eligibility", {
            "person_id": pid, "gender": member["sex"], "birth_date": member["birth_date"],
            "enrollment_start_date": start.isoformat(), "enrollment_end_date": end.isoformat(),
            "payer": OBSERVATION_PERIOD_PAYER, "payer_type": OBSERVATION_PERIOD_PAYER_TYPE,
            "plan": OBSERVATION_PERIOD_PLAN})
        ctx.tally.mapped += 1

    # ---- clinical events ---------------------------------------------------------------
    def _visit(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
               row: int) -> None:
        pid = self._person_of(rec)
        start = _date(rec, "visit_start_date", "visit_start_datetime", required=True)
        end = _date(rec, "visit_end_date", "visit_end_datetime")
        assert start is not None
        if end is not None and end < start:
            raise _Bad("bad_date", "visit_end_date", end.isoformat(),
                       "the visit ends before it starts")
        vc = _int(rec, "visit_concept_id") or 0
        c = self._concept(vc)
        etype = VISIT.get(vc)
        if etype is None and c is not None and c.concept_name:
            etype = _visit_type_from_name(c.concept_name)
        disch = (_int(rec, "discharged_to_concept_id") if "discharged_to_concept_id" in rec
                 else _int(rec, "discharge_to_concept_id"))
        cs = _id(rec, "care_site_id", required=False)
        facility = None if cs in (None, "0") else self.care_site_npi.get(cs, cs)
        clinician = self._clinician(rec)
        self._emit(ctx, "encounter", {
            "encounter_id": uid, "person_id": pid, "encounter_type": etype or "other",
            "encounter_start_date": start.isoformat(), "encounter_end_date": _iso(end),
            "discharge_disposition_code": DISCHARGE.get(disch or 0),
            "attending_provider_id": clinician, "facility_id": facility,
            "source_code_type": "omop-concept" if vc else None,
            "source_code": str(vc) if vc else None,
            "source_description": c.concept_name if c else None})
        ctx.tally.mapped += 1
        if any(self.cost_refs.values()):
            self.events["visit"][str(uid)] = {
                "person_id": pid, "start": start, "end": end or start, "concept": vc,
                "rendering": clinician if clinician in self.npis else None,
                "facility": facility if facility in self.npis else None}

    def _condition(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                   row: int) -> None:
        pid = self._person_of(rec)
        c, system, code = self._resolve("condition", CONDITION_SYSTEMS | {"omop-concept"},
                                        "condition_source_concept_id", "condition_concept_id",
                                        rec)
        start = _date(rec, "condition_start_date", "condition_start_datetime", required=True)
        end = _date(rec, "condition_end_date", "condition_end_datetime")
        assert start is not None
        if end is not None and end < start:
            raise _Bad("bad_date", "condition_end_date", end.isoformat(),
                       "the condition ends before it starts")
        normalized = None
        if system in ("icd-10-cm", "icd-9-cm"):
            code = code.replace(".", "").upper()
        if system == "icd-10-cm":
            if not _ICD10.match(code):
                raise _Bad("unmapped_concept", "condition_source_concept_id", code,
                           "the ICD-10-CM concept code is not a valid ICD-10-CM code")
            normalized = code
        else:
            normalized = self.icd_by_standard.get(_int(rec, "condition_concept_id") or 0)
        visit = _id(rec, "visit_occurrence_id", required=False)
        visit = None if visit == "0" else visit
        self._emit(ctx, "condition", {
            "condition_id": uid, "person_id": pid, "encounter_id": visit,
            "recorded_date": start.isoformat(), "onset_date": start.isoformat(),
            "resolved_date": _iso(end), "source_code_type": system, "source_code": code,
            "source_description": c.concept_name if c else None,
            "normalized_code_type": "icd-10-cm" if normalized else None,
            "normalized_code": normalized})
        ctx.tally.mapped += 1
        if normalized and visit is not None and (
                visit in self.needed_visits or visit in self.cost_refs["visit"]):
            self.diagnoses.setdefault(visit, []).append((start, row, normalized))

    def _procedure(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                   row: int) -> None:
        pid = self._person_of(rec)
        c, system, code = self._resolve("procedure", PROCEDURE_SYSTEMS | {"omop-concept"},
                                        "procedure_source_concept_id", "procedure_concept_id",
                                        rec)
        when = _date(rec, "procedure_date", "procedure_datetime", required=True)
        assert when is not None
        if system == "icd-10-pcs":
            code = code.replace(".", "").upper()
        normalized = None
        if (system in ("cpt", "hcpcs") and _HCPCS.match(code)) or (
                system == "icd-10-pcs" and _PCS.match(code)):
            normalized = code
        visit = _id(rec, "visit_occurrence_id", required=False)
        visit = None if visit == "0" else visit
        clinician = self._clinician(rec)
        self._emit(ctx, "procedure", {
            "procedure_id": uid, "person_id": pid, "encounter_id": visit,
            "procedure_date": when.isoformat(), "source_code_type": system,
            "source_code": code, "source_description": c.concept_name if c else None,
            "normalized_code_type": system if normalized else None,
            "normalized_code": normalized, "practitioner_id": clinician})
        ctx.tally.mapped += 1
        if uid in self.cost_refs["procedure"]:
            self.events["procedure"][str(uid)] = {
                "person_id": pid, "date": when, "visit": visit,
                "hcpcs": normalized if system in ("cpt", "hcpcs") else None,
                "rendering": clinician if clinician in self.npis else None}
            if visit:
                self.needed_visits.add(visit)

    def _drug(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
              row: int) -> None:
        pid = self._person_of(rec)
        c, system, code = self._resolve("drug", DRUG_SYSTEMS | {"omop-concept"},
                                        "drug_source_concept_id", "drug_concept_id", rec)
        start = _date(rec, "drug_exposure_start_date", "drug_exposure_start_datetime",
                      required=True)
        end = _date(rec, "drug_exposure_end_date", "drug_exposure_end_datetime")
        assert start is not None
        if end is not None and end < start:
            raise _Bad("bad_date", "drug_exposure_end_date", end.isoformat(),
                       "the exposure ends before it starts")
        ndc = code if system == "ndc" and re.fullmatch(r"[0-9]{11}", code) else None
        rxnorm = code if system == "rxnorm" else None
        if rxnorm is None:
            std = self._concept(_int(rec, "drug_concept_id"))
            if std is not None and VOCABULARY.get(std.vocabulary_id) == "rxnorm":
                rxnorm = std.concept_code
        quantity = _num(rec, "quantity")
        days = _int(rec, "days_supply")
        refills = _int(rec, "refills")
        if quantity is not None and quantity <= 0:
            quantity = None  # CDM ETLs write 0 for "not recorded"
        if days is not None and not 0 < days <= 365:
            if days > 365:
                self.notes["days_supply_over_365_dropped"] = (
                    self.notes.get("days_supply_over_365_dropped", 0) + 1)
            days = None
        visit = _id(rec, "visit_occurrence_id", required=False)
        visit = None if visit == "0" else visit
        clinician = self._clinician(rec)
        self._emit(ctx, "medication", {
            "medication_id": uid, "person_id": pid, "encounter_id": visit,
            "prescribing_date": start.isoformat(), "end_date": _iso(end),
            "source_code_type": system, "source_code": code,
            "source_description": c.concept_name if c else None,
            "ndc_code": ndc, "rxnorm_code": rxnorm, "quantity": _num_text(quantity),
            "days_supply": days, "practitioner_id": clinician})
        ctx.tally.mapped += 1
        if uid in self.cost_refs["drug"]:
            self.events["drug"][str(uid)] = {
                "person_id": pid, "date": start, "visit": visit, "ndc": ndc,
                "quantity": quantity, "days": days, "refills": refills,
                "rendering": clinician if clinician in self.npis else None}
            if visit:
                self.needed_visits.add(visit)

    def _measurement(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                     row: int) -> None:
        pid = self._person_of(rec)
        c, system, code = self._resolve("measurement", OBSERVATION_SYSTEMS,
                                        "measurement_source_concept_id",
                                        "measurement_concept_id", rec)
        when = _date(rec, "measurement_date", "measurement_datetime", required=True)
        assert when is not None
        value = _num(rec, "value_as_number")
        otype = "vital" if system == "loinc" and code in VITAL_LOINC else "lab"
        self._emit(ctx, "observation", self._observation_row(
            f"measurement-{uid}", pid, rec, when, otype, system, code, c, value))
        ctx.tally.mapped += 1

    def _observation(self, ctx: _Ctx, rec: dict[str, str | None], uid: str | None,
                     row: int) -> None:
        pid = self._person_of(rec)
        c, system, code = self._resolve("observation", OBSERVATION_SYSTEMS,
                                        "observation_source_concept_id",
                                        "observation_concept_id", rec)
        when = _date(rec, "observation_date", "observation_datetime", required=True)
        assert when is not None
        value = _num(rec, "value_as_number")
        if system == "loinc" and code in VITAL_LOINC:
            otype = "vital"
        elif system == "loinc" and code in SCREENING_LOINC:
            otype = "screening"
        elif system == "loinc" and value is not None:
            otype = "lab"
        else:
            raise _Bad("unmapped_concept", "observation_concept_id",
                       rec.get("observation_concept_id"),
                       "an OMOP observation (history, allergy or other finding) the "
                       "canonical observation table has no type for; only LOINC vitals, "
                       "screenings and numeric results are kept")
        self._emit(ctx, "observation", self._observation_row(
            f"observation-{uid}", pid, rec, when, otype, system, code, c, value))
        ctx.tally.mapped += 1

    def _observation_row(self, oid: str, pid: str, rec: dict[str, str | None], when: date,
                         otype: str, system: str, code: str, c: Concept | None,
                         value: float | None) -> dict[str, Any]:
        result = _num_text(value)
        if result is None:
            vc = self._concept(_int(rec, "value_as_concept_id"))
            result = (rec.get("value_as_string") or (vc.concept_name if vc else None)
                      or rec.get("value_source_value"))
        unit = rec.get("unit_source_value")
        if unit is None:
            uc = self._concept(_int(rec, "unit_concept_id"))
            unit = uc.concept_code if uc is not None else None
        visit = _id(rec, "visit_occurrence_id", required=False)
        return {
            "observation_id": oid, "person_id": pid,
            "encounter_id": None if visit == "0" else visit,
            "observation_date": when.isoformat(), "observation_type": otype,
            "source_code_type": system, "source_code": code,
            "source_description": c.concept_name if c else None, "result": result,
            "result_numeric": None if value is None else repr(value), "source_units": unit}

    # ---- cost → claims -----------------------------------------------------------------

    def _cost(self, ctx: _Ctx, rec: dict[str, str | None], _uid: str | None,
              row: int) -> None:
        cost_id = _id(rec, "cost_id")
        assert cost_id is not None
        amounts: dict[str, Decimal | None] = {}
        for col in ("total_charge", "total_cost", "total_paid", "paid_by_payer",
                    "paid_by_patient", "paid_patient_copay", "paid_patient_coinsurance",
                    "paid_patient_deductible", "amount_allowed"):
            try:
                amounts[col] = money(rec.get(col))
            except ValueError as exc:
                raise _Bad("bad_amount", col, rec.get(col), str(exc)) from exc
        charge = amounts["total_charge"]
        allowed = amounts["amount_allowed"]
        if allowed is None:
            allowed = amounts["total_paid"]
        paid = amounts["paid_by_payer"]
        if paid is None and amounts["total_paid"] is not None and (
                amounts["paid_by_patient"] is not None):
            paid = amounts["total_paid"] - amounts["paid_by_patient"]
        canon = {"charge_amount": charge, "allowed_amount": allowed, "paid_amount": paid}
        ctx.tally.add_money(canon)

        def bad(rule: str, column: str | None, value: Any, reason: str) -> _Bad:
            return _Bad(rule, column, value, reason, amounts=canon)

        if cost_id in self._seen_costs:
            raise bad("duplicate_id", "cost_id", cost_id, "cost_id repeats an earlier row")
        self._seen_costs.add(cost_id)
        domain = (rec.get("cost_domain_id") or "").strip().lower()
        if domain not in ("visit", "procedure", "drug"):
            raise bad("unlinked_cost", "cost_domain_id", rec.get("cost_domain_id"),
                      "only costs of a visit, procedure or drug exposure become claims")
        event_id = _id(rec, "cost_event_id")
        table = {"visit": "visit_occurrence", "procedure": "procedure_occurrence",
                 "drug": "drug_exposure"}[domain]
        if event_id in self.repeated.get(table, ()):
            raise bad("ambiguous_reference", "cost_event_id", event_id,
                      f"several {table} rows have this id")
        event = self.events[domain].get(str(event_id))
        if event is None:
            raise bad("missing_reference", "cost_event_id", event_id,
                      f"no mapped {table} row has this id")
        missing = [k for k, v in canon.items() if v is None]
        payer, ptype, plan = "unknown", None, None
        ppp = _id(rec, "payer_plan_period_id", required=False)
        if ppp is not None and ppp in self.payer_spans:
            payer, ptype, plan = self.payer_spans[ppp]
        pid = event["person_id"]
        if domain == "drug" and event["ndc"]:
            if allowed is None or paid is None:
                raise bad("missing_amount", "amount_allowed" if allowed is None
                          else "paid_by_payer", None, "no allowed or paid amount")
            qty = event["quantity"]
            self._emit(ctx, "pharmacy_claim", {
                "claim_id": f"drug-{event_id}", "claim_line_number": 1, "person_id": pid,
                "payer": payer, "payer_type": ptype, "plan": plan,
                "prescribing_provider_npi": event["rendering"],
                "dispensing_date": event["date"].isoformat(), "ndc_code": event["ndc"],
                "quantity": int(qty) if qty is not None and float(qty).is_integer() else None,
                "days_supply": event["days"], "refills": event["refills"],
                "charge_amount": charge, "allowed_amount": allowed, "paid_amount": paid,
                "coinsurance_amount": amounts["paid_patient_coinsurance"],
                "copayment_amount": amounts["paid_patient_copay"],
                "deductible_amount": amounts["paid_patient_deductible"],
                "adjustment_type": "original", "file_name": ctx.table.label})
            ctx.tally.mapped += 1
            return
        visit_id = event_id if domain == "visit" else event["visit"]
        visit = self.events["visit"].get(str(visit_id)) if visit_id else None
        if visit is None:
            raise bad("no_diagnosis", "cost_event_id", event_id,
                      "no mapped visit to take the claim's diagnoses from")
        dx: list[str] = []
        for _d, _r, code in sorted(self.diagnoses.get(str(visit_id), [])):
            if code not in dx:
                dx.append(code)
        if not dx:
            raise bad("no_diagnosis", "cost_event_id", event_id,
                      "the visit has no ICD-10-CM diagnosis for the claim")
        if missing:
            raise bad("missing_amount", {"charge_amount": "total_charge",
                                         "allowed_amount": "amount_allowed",
                                         "paid_amount": "paid_by_payer"}[missing[0]],
                      None, "the claim line needs charge, allowed and paid amounts")
        claim_id = f"visit-{visit_id}"
        line = self._claim_lines.get(claim_id, 0) + 1
        self._claim_lines[claim_id] = line
        institutional = visit["concept"] in INSTITUTIONAL_VISITS
        rev = (rec.get("revenue_code_source_value") or rec.get("reveue_code_source_value")
               or "").strip()
        rev = rev.zfill(4) if re.fullmatch(r"[0-9]{3,4}", rev) else None
        drg = (rec.get("drg_source_value") or "").strip()
        drg = drg.zfill(3) if re.fullmatch(r"[0-9]{1,3}", drg) else None
        line_date = event["date"] if domain != "visit" else visit["start"]
        row_out: dict[str, Any] = {
            "claim_id": claim_id, "claim_line_number": line,
            "claim_type": "institutional" if institutional else "professional",
            "person_id": pid, "payer": payer, "payer_type": ptype, "plan": plan,
            "claim_start_date": visit["start"].isoformat(),
            "claim_end_date": visit["end"].isoformat(),
            "claim_line_start_date": line_date.isoformat(),
            "claim_line_end_date": line_date.isoformat(),
            "admission_date": visit["start"].isoformat() if institutional else None,
            "discharge_date": visit["end"].isoformat() if institutional else None,
            "revenue_center_code": rev,
            "drg_code_type": "ms-drg" if drg and _DRG.match(drg) else None,
            "drg_code": drg if drg and _DRG.match(drg) else None,
            "hcpcs_code": event.get("hcpcs") if domain == "procedure" else None,
            "rendering_npi": event.get("rendering") or visit.get("rendering"),
            "facility_npi": visit.get("facility"),
            "charge_amount": charge, "allowed_amount": allowed, "paid_amount": paid,
            "coinsurance_amount": amounts["paid_patient_coinsurance"],
            "copayment_amount": amounts["paid_patient_copay"],
            "deductible_amount": amounts["paid_patient_deductible"],
            "total_cost_amount": amounts["total_cost"],
            "diagnosis_code_type": "icd-10-cm", "adjustment_type": "original",
            "file_name": ctx.table.label,
        }
        for i, code in enumerate(dx[:25], start=1):
            row_out[f"diagnosis_code_{i}"] = code
        self._emit(ctx, "medical_claim", row_out)
        ctx.tally.mapped += 1


def _norm_id(v: Any) -> str:
    s = str(v).strip()
    m = _NUM_ID.match(s)
    return m.group(1) if m else s


def _visit_type_from_name(name: str) -> str | None:
    n = name.lower()
    for word, etype in (("emergency", "emergency"), ("inpatient", "inpatient"),
                        ("intensive", "inpatient"), ("telehealth", "telehealth"),
                        ("home", "home health"), ("hospice", "hospice"),
                        ("skilled nursing", "snf"), ("urgent", "urgent care"),
                        ("office", "ambulatory"), ("outpatient", "outpatient")):
        if word in n:
            return etype
    return None
