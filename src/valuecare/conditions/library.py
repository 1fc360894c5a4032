"""The condition library: one YAML file per medical condition, validated on load.

A condition says how a patient enters a care cycle (diagnoses, CPT/HCPCS, ICD-10-PCS and
MS-DRG triggers), what kind of cycle it is, its window, which services belong to it and
which do not, how services map to the phases of Porter's care delivery value chain, who
is accountable, and the source of each choice (Porter & Teisberg 2006; Porter & Lee, "The
Strategy That Will Fix Health Care", HBR 2013; CMS CJR and BPCI Advanced episode
definitions; ICHOM standard sets; HEDIS; CMS Chronic Conditions Warehouse).

Packaged definitions are read with :mod:`importlib.resources` from
``valuecare/reference/conditions``, so a stray file in the current directory never
shadows them.  Analysts add their own conditions in a folder named by
``VALUECARE_CONDITIONS_DIR`` (or the ``extra_dir`` argument); see ``docs/conditions.md``.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valuecare.errors import ConditionDefinitionError

#: Environment variable naming an extra folder of analysts' condition YAML files.
CONDITIONS_DIR_ENV = "VALUECARE_CONDITIONS_DIR"

Kind = Literal["acute_episode", "chronic_year", "diagnosis_episode", "primary_care_segment"]
#: The phases of the care delivery value chain (Porter & Teisberg 2006, ch. 5).
Phase = Literal["prevent_monitor", "diagnose", "prepare", "intervene",
                "recover_rehabilitate", "monitor_manage"]
PHASES: tuple[str, ...] = ("prevent_monitor", "diagnose", "prepare", "intervene",
                           "recover_rehabilitate", "monitor_manage")
#: Sites of care (see ``valuecare.conditions.triggers.site_of_care``).
Setting = Literal["inpatient", "outpatient hospital", "ambulatory surgery center",
                  "emergency department", "office", "home", "snf", "hospice", "dialysis",
                  "lab", "ambulance", "other"]
ClaimType = Literal["professional", "institutional"]
#: Order in which kinds claim a line when several cycles could take it.
KIND_RANK: dict[str, int] = {"acute_episode": 1, "chronic_year": 2, "diagnosis_episode": 3,
                             "primary_care_segment": 4}

_CODE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)?$")

Code = Annotated[str, Field(min_length=1, max_length=15)]


def _check_codes(values: list[str]) -> list[str]:
    out = []
    for v in values:
        v = str(v).strip().upper().replace(".", "")
        if not _CODE.match(v):
            raise ValueError(
                f"code {v!r} is not a code, a code prefix or a range LOW-HIGH of equal-length "
                "codes (letters and digits only, ICD-10 dots are dropped)")
        if "-" in v:
            lo, hi = v.split("-")
            if len(lo) != len(hi) or lo > hi:
                raise ValueError(f"range {v!r} needs two codes of equal length, low first")
        out.append(v)
    return out


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeSet(_Model):
    """Codes matched as prefixes (``M16`` matches ``M1611``) or ranges (``99202-99215``).

    ``diagnoses`` are ICD-10-CM, ``hcpcs`` CPT/HCPCS, ``icd10pcs`` ICD-10-PCS, ``drg``
    MS-DRG; ``settings`` are sites of care.  ``diagnosis_position`` says whether a
    diagnosis must be principal (``diagnosis_code_1``) or may be in any position.
    """

    diagnoses: list[Code] = []
    diagnosis_position: Literal["principal", "any"] = "principal"
    hcpcs: list[Code] = []
    icd10pcs: list[Code] = []
    drg: list[Code] = []
    settings: list[Setting] = []

    _codes = field_validator("diagnoses", "hcpcs", "icd10pcs", "drg")(
        lambda cls, v: _check_codes(v))

    @property
    def empty(self) -> bool:
        return not (self.diagnoses or self.hcpcs or self.icd10pcs or self.drg or self.settings)


class Entry(_Model):
    """How a patient enters the cycle.

    Acute episodes are triggered by an MS-DRG or ICD-10-PCS code on an inpatient claim
    (bill type 11x) or a CPT/HCPCS code on a line of ``hcpcs_claim_types``; every trigger
    must also carry one of ``require_diagnoses`` (any position) when that list is given.
    Chronic years need ``min_claims`` claims on different days with a ``diagnoses`` code in
    the year, or one inpatient claim (CMS Chronic Conditions Warehouse algorithm).
    Diagnosis episodes start at a ``diagnoses`` claim with no such claim in the
    ``lookback_days`` before (HEDIS negative diagnosis history).
    """

    diagnoses: list[Code] = []
    diagnosis_position: Literal["principal", "any"] = "any"
    hcpcs: list[Code] = []
    hcpcs_claim_types: list[ClaimType] = ["professional"]
    icd10pcs: list[Code] = []
    drg: list[Code] = []
    require_diagnoses: list[Code] = []
    min_claims: int = Field(2, ge=1)
    lookback_days: int = Field(180, ge=0)

    _codes = field_validator("diagnoses", "hcpcs", "icd10pcs", "drg", "require_diagnoses")(
        lambda cls, v: _check_codes(v))


class Window(_Model):
    """Days before the trigger and after discharge; what a trigger inside the window does.

    ``new_trigger_in_window``: ``open`` starts a new episode (a second joint replacement);
    ``join`` makes it part of the running episode (a breast re-excision, a redo CABG).
    ``warranty_days`` is a longer horizon after discharge in which ``warranty`` services
    (revisions) are counted against the cycle.
    """

    days_before: int = Field(0, ge=0, le=730)
    days_after: int = Field(0, ge=0, le=730)
    new_trigger_in_window: Literal["open", "join"] = "open"
    warranty_days: int | None = Field(None, ge=1, le=3650)


class Services(_Model):
    """Which services belong: ``include`` (any of its codes or settings) minus ``exclude``."""

    include: CodeSet = CodeSet()
    exclude: CodeSet = CodeSet()


class PhaseRule(_Model):
    """A service is in ``phase`` when every given criterion holds (first rule wins).

    ``timing`` is relative to the trigger stay: ``before``, ``anchor`` (during it) or
    ``after``; it applies only to acute episodes.
    """

    phase: Phase
    timing: Literal["before", "anchor", "after"] | None = None
    settings: list[Setting] = []
    hcpcs: list[Code] = []
    diagnoses: list[Code] = []

    _codes = field_validator("hcpcs", "diagnoses")(lambda cls, v: _check_codes(v))


class Accountable(_Model):
    """Who is accountable for the cycle.

    ``trigger_clinician``: the rendering clinician of the professional trigger claim (the
    operating surgeon), else the attending on the facility trigger claim; the facility is
    the hospital of the trigger stay (CMS BPCI Advanced, CJR).  ``plurality_of_visits``:
    the clinician with the most office visits for the cycle in the year (CMS MSSP
    plurality rule).  ``first_clinician``: the clinician of the first diagnosis claim.
    """

    rule: Literal["trigger_clinician", "plurality_of_visits", "first_clinician"]


class MinimumVolume(_Model):
    """Minimum cases per year and provider (volume standards, e.g. Leapfrog / Volume Pledge)."""

    clinician: int | None = Field(None, ge=1)
    facility: int | None = Field(None, ge=1)


class Warranty(_Model):
    """Services counted as warranty events (e.g. revision arthroplasty)."""

    hcpcs: list[Code] = []
    drg: list[Code] = []
    icd10pcs: list[Code] = []

    _codes = field_validator("hcpcs", "drg", "icd10pcs")(lambda cls, v: _check_codes(v))


class SegmentRule(_Model):
    """Who is in a primary-care segment: age as of 31 December (HEDIS) and diagnoses.

    A member-year is in the segment when ``min_age <= age <= max_age`` and, if
    ``any_diagnoses`` is given, a claim in the year carries one of them (any position) or
    the member is at least ``age_alone`` years old.
    """

    min_age: int = Field(0, ge=0)
    max_age: int = Field(130, ge=0)
    any_diagnoses: list[Code] = []
    age_alone: int | None = None

    _codes = field_validator("any_diagnoses")(lambda cls, v: _check_codes(v))


class Source(_Model):
    """Where a choice comes from."""

    choice: str = Field(min_length=1)
    source: str = Field(min_length=1)
    url: str | None = None


class Condition(_Model):
    """One medical condition (or primary-care segment) and its care cycle."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str = Field(min_length=1)
    kind: Kind
    priority: int = Field(100, ge=0)
    description: str = ""
    entry: Entry = Entry()
    window: Window = Window()
    services: Services = Services()
    phases: list[PhaseRule] = []
    default_phase: Phase = "monitor_manage"
    accountable: Accountable
    warranty: Warranty | None = None
    minimum_volume: MinimumVolume = MinimumVolume()
    segment: SegmentRule | None = None
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        e = self.entry
        if self.kind == "acute_episode":
            if not (e.drg or e.hcpcs or e.icd10pcs):
                raise ValueError("an acute_episode needs entry.drg, entry.hcpcs or "
                                 "entry.icd10pcs triggers")
            if self.accountable.rule != "trigger_clinician":
                raise ValueError("an acute_episode uses accountable.rule trigger_clinician")
        elif self.kind in ("chronic_year", "diagnosis_episode"):
            if not e.diagnoses:
                raise ValueError(f"a {self.kind} needs entry.diagnoses")
            if self.accountable.rule == "trigger_clinician":
                raise ValueError(f"a {self.kind} uses plurality_of_visits or first_clinician")
        elif self.segment is None:
            raise ValueError("a primary_care_segment needs a segment rule")
        if self.kind == "diagnosis_episode" and self.window.days_after < 1:
            raise ValueError("a diagnosis_episode needs window.days_after >= 1")
        if self.warranty is not None and self.window.warranty_days is None:
            raise ValueError("warranty services need window.warranty_days")
        return self

    @property
    def source_names(self) -> list[str]:
        return sorted({s.source for s in self.sources})


class Library(_Model):
    """The conditions in force, in the order they claim services."""

    conditions: tuple[Condition, ...]
    files: dict[str, str]

    def get(self, condition_id: str) -> Condition:
        for c in self.conditions:
            if c.id == condition_id:
                return c
        raise ConditionDefinitionError(
            f"there is no condition {condition_id!r}; conditions are: "
            f"{', '.join(c.id for c in self.conditions)} (`valuecare conditions list`)")

    def of_kind(self, kind: str) -> list[Condition]:
        return [c for c in self.conditions if c.kind == kind]


def parse_definition(text: str, where: str, model: type[BaseModel], what: str, doc: str,
                     error: type[Exception] = ConditionDefinitionError) -> BaseModel:
    """Parse one YAML definition file into ``model``; every problem becomes one ``error``
    naming the file, the field and where the fields are described (``doc``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML ({exc}); fix the file") from exc
    if not isinstance(data, dict):
        raise error(f"{where}: expected a mapping of fields at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors())
        raise error(f"{where}: invalid {what}: {problems}. Fix the YAML (fields are "
                    f"described in {doc})") from exc


def _parse(text: str, where: str) -> Condition:
    return parse_definition(text, where, Condition, "condition definition",  # type: ignore[return-value]
                            "docs/conditions.md")


def _packaged() -> list[tuple[str, str]]:
    folder = resources.files("valuecare") / "reference" / "conditions"
    return sorted((f"valuecare/reference/conditions/{p.name}", p.read_text(encoding="utf-8"))
                  for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def _extra(folder: Path) -> list[tuple[str, str]]:
    if not folder.is_dir():
        raise ConditionDefinitionError(
            f"condition folder {folder} does not exist; create it or unset "
            f"{CONDITIONS_DIR_ENV}")
    return sorted((str(p), p.read_text(encoding="utf-8"))
                  for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def load_library(extra_dir: str | os.PathLike[str] | None = None) -> Library:
    """The packaged conditions plus those in ``extra_dir`` (default ``$VALUECARE_CONDITIONS_DIR``).

    Conditions are ordered by kind (acute episodes first), then ``priority``, then id; that
    order decides which cycle takes a service several could take.
    """
    folder = extra_dir if extra_dir is not None else os.environ.get(CONDITIONS_DIR_ENV)
    return _load(str(Path(folder).expanduser().resolve()) if folder else None)


def _load(folder: str | None) -> Library:
    texts = _packaged() + (_extra(Path(folder)) if folder else [])
    seen: dict[str, str] = {}
    conditions = []
    for where, text in texts:
        cond = _parse(text, where)
        if cond.id in seen:
            raise ConditionDefinitionError(
                f"{where}: condition id {cond.id!r} is already defined in {seen[cond.id]}; "
                "give your condition another id")
        seen[cond.id] = where
        conditions.append(cond)
    conditions.sort(key=lambda c: (KIND_RANK[c.kind], c.priority, c.id))
    return Library(conditions=tuple(conditions), files=seen)
