"""Quality-measure definitions as data: one YAML file per eCQM plus the shared exclusions.

The packaged files live in ``valuecare/reference/measures`` (``cms122.yaml``, ``cms165.yaml``,
``cms125.yaml``, ``cms130.yaml``, ``cms2.yaml`` and ``exclusions.yaml``) and are read with
:mod:`importlib.resources`, so a stray file in the current directory never shadows them.
Each file is validated with pydantic on load; a bad file raises
:class:`MeasureDefinitionError` naming the file, the field and the fix.

A *value set* here is the claims- and observation-facing part of a VSAC value set: ICD-10-CM
prefixes (any diagnosis position), CPT/HCPCS codes or equal-length ranges, ICD-10-PCS
prefixes, type-of-bill / place-of-service / revenue-code prefixes, LOINC codes, and drug
classes for pharmacy claims.  ``oids`` names the VSAC value sets it stands for;
``abbreviated: true`` says the list is a subset of the VSAC expansion (SNOMED CT, RxNorm and
codes that never appear on claims are left out), so an analyst knows where to add codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valuecare.conditions.library import Code, _check_codes
from valuecare.errors import InvalidInput

#: The measures shipped with valuecare, in the order reports list them.
MEASURES: tuple[str, ...] = ("CMS122", "CMS165", "CMS125", "CMS130", "CMS2")

#: Verification tags of the shared reference sheet: [V] primary source, [T] transcription,
#: [M] recalled and not re-verified.
Tag = Literal["V", "T", "M"]
Kind = Literal["hba1c_poor_control", "controlling_bp", "breast_cancer_screening",
               "colorectal_cancer_screening", "depression_screening"]
#: Exclusions defined once in ``exclusions.yaml`` and switched on per measure.
SharedKind = Literal["hospice", "palliative_care", "frailty_advanced_illness",
                     "frailty_age_81", "long_term_institutional"]
SHARED_KINDS: tuple[str, ...] = ("hospice", "palliative_care", "frailty_advanced_illness",
                                 "frailty_age_81", "long_term_institutional")
#: When a measure-specific exclusion's evidence counts: any time up to the end of the
#: measurement period (history of), a claim overlapping the period, a date inside it, or on
#: or before the member's last qualifying encounter.
Timing = Literal["on_or_before_end", "overlaps_period", "during_period",
                 "on_or_before_last_visit"]

_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")
_PREFIX = re.compile(r"^[0-9A-Z]+$")


class MeasureDefinitionError(InvalidInput):
    """A quality-measure definition (YAML under ``reference/measures``) is missing or invalid."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _prefixes(values: list[str], what: str) -> list[str]:
    out = []
    for v in values:
        v = str(v).strip().upper()
        if not _PREFIX.match(v):
            raise ValueError(f"{what} {v!r} must be letters and digits only (a code or prefix)")
        out.append(v)
    return out


class ValueSet(_Model):
    """Codes standing for one or more VSAC value sets (see the module docstring).

    A claim line matches when any criterion holds; ``modifiers`` narrows the CPT/HCPCS
    criterion to lines carrying one of the modifiers (``50`` bilateral, ``RT``/``LT``).
    ``lookback_years`` and ``lookback_start`` give the window of numerator evidence: from
    ``lookback_years`` before the start of the measurement period (or from 1 October two
    years before it) to its end.  ``since_version`` switches the value set on from that
    measure version.
    """

    name: str = Field(min_length=1)
    oids: list[str] = []
    abbreviated: bool = False
    note: str = ""
    diagnoses: list[Code] = []
    hcpcs: list[Code] = []
    modifiers: list[str] = []
    icd10pcs: list[Code] = []
    bill_types: list[str] = []
    pos: list[str] = []
    revenue: list[str] = []
    discharge_dispositions: list[str] = []
    loinc: list[str] = []
    drug_classes: list[str] = []
    ndc: list[str] = []
    since_version: int | None = Field(None, ge=1)
    lookback_years: int = Field(0, ge=0, le=20)
    lookback_start: Literal["period_start", "october_1_two_years_prior"] = "period_start"

    _codes = field_validator("diagnoses", "hcpcs", "icd10pcs")(lambda cls, v: _check_codes(v))

    @field_validator("bill_types", "pos", "revenue", "discharge_dispositions", "modifiers", "ndc")
    @classmethod
    def _plain(cls, v: list[str]) -> list[str]:
        return _prefixes(v, "code")

    @field_validator("loinc")
    @classmethod
    def _loinc(cls, v: list[str]) -> list[str]:
        for code in v:
            if not _LOINC.match(code):
                raise ValueError(f"LOINC code {code!r} must look like 4548-4 (digits, dash, "
                                 "check digit)")
        return v

    @field_validator("drug_classes")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        return [c.strip().lower() for c in v]

    @model_validator(mode="after")
    def _consistent(self) -> ValueSet:
        if any("-" in c for c in self.diagnoses + self.icd10pcs):
            raise ValueError("diagnoses and icd10pcs take prefixes, not ranges (ranges are "
                             "for single-column CPT/HCPCS codes)")
        if self.modifiers and not self.hcpcs:
            raise ValueError("modifiers narrow the hcpcs criterion: give hcpcs codes too")
        if not (self.diagnoses or self.hcpcs or self.icd10pcs or self.bill_types or self.pos
                or self.revenue or self.discharge_dispositions or self.loinc
                or self.drug_classes or self.ndc):
            raise ValueError("a value set needs at least one code")
        return self

    @property
    def claims(self) -> bool:
        return bool(self.diagnoses or self.hcpcs or self.icd10pcs or self.bill_types
                    or self.pos or self.revenue or self.discharge_dispositions)


class CodedResult(_Model):
    """A CPT Category II code that reports a result band instead of a value (MIPS claims).

    ``value`` is a representative value on the band's edge, used only for comparisons with
    the measure thresholds (e.g. 3046F, HbA1c > 9.0%, is 9.1); ``label`` is reported.
    """

    code: Code
    value: float
    label: str = Field(min_length=1)


class ScreeningTool(_Model):
    """A standardized depression screening instrument (LOINC) or result code (HCPCS).

    A score is positive when ``>= positive_at_least``; text results are matched against
    ``positive_results`` / ``negative_results`` (case-insensitive).  A HCPCS code has a
    fixed ``result``; ``includes_follow_up`` marks codes that also document the plan
    (G8431).  ``result: unknown`` marks codes saying a screen was done without its result.
    """

    name: str = Field(min_length=1)
    loinc: str | None = None
    hcpcs: str | None = None
    positive_at_least: float | None = None
    positive_results: list[str] = []
    negative_results: list[str] = []
    result: Literal["positive", "negative", "unknown"] | None = None
    includes_follow_up: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ScreeningTool:
        if (self.loinc is None) == (self.hcpcs is None):
            raise ValueError(f"screening tool {self.name!r}: give exactly one of loinc, hcpcs")
        if self.hcpcs is not None and self.result is None:
            raise ValueError(f"screening code {self.hcpcs}: give its result")
        if self.loinc is not None and self.positive_at_least is None \
                and not (self.positive_results and self.negative_results):
            raise ValueError(f"screening tool {self.name!r}: give positive_at_least or "
                             "positive_results and negative_results")
        return self


class Version(_Model):
    """One eCQM version: its performance year and the rules that change between versions.

    Ages are whole years (CQL ``AgeInYearsAt``) at the start or the end of the measurement
    period.  ``advanced_illness_rule``: ``diagnosis`` (an advanced illness diagnosis in the
    period or the year before, eCQM 2024+) or ``encounters`` (two outpatient encounters on
    different dates or one acute inpatient encounter with it, earlier versions).
    """

    version: int = Field(ge=1)
    year: int = Field(ge=2015, le=2100)
    age_min: int = Field(ge=0)
    age_max: int | None = None
    age_at: Literal["start", "end"] = "end"
    advanced_illness_rule: Literal["diagnosis", "encounters"] = "diagnosis"
    tag: Tag
    source: str = Field(min_length=1)
    note: str = ""


class Exclusion(_Model):
    """A measure-specific denominator exclusion: any of ``value_sets`` (and, when given, any
    of ``and_value_sets`` too: a right *and* a left mastectomy) at ``timing``."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    value_sets: list[str] = Field(min_length=1)
    and_value_sets: list[str] = []
    timing: Timing


class Source(_Model):
    """Where a choice comes from, with the reference sheet's verification tag."""

    choice: str = Field(min_length=1)
    source: str = Field(min_length=1)
    url: str | None = None
    tag: Tag = "T"


#: Value sets each kind of measure needs (checked on load).
REQUIRED: dict[str, tuple[str, ...]] = {
    "hba1c_poor_control": ("qualifying_visit", "diabetes", "hba1c"),
    "controlling_bp": ("qualifying_visit", "essential_hypertension", "systolic", "diastolic"),
    "breast_cancer_screening": ("qualifying_visit",),
    "colorectal_cancer_screening": ("qualifying_visit",),
    "depression_screening": ("qualifying_visit", "follow_up"),
}


class Measure(_Model):
    """One eCQM: identifiers, versions, value sets, exclusions and numerator parameters."""

    id: str = Field(pattern=r"^CMS[0-9]{1,4}$")
    title: str = Field(min_length=1)
    kind: Kind
    steward: str = Field(min_length=1)
    cmit: str | None = None
    nqf: str | None = None
    mips: str = Field(pattern=r"^[0-9]{3}$")
    inverse: bool = False
    sex: Literal["female", "male"] | None = None
    description: str = ""
    versions: list[Version] = Field(min_length=1)
    value_sets: dict[str, ValueSet]
    exclusions: list[SharedKind | Exclusion] = []
    numerator_value_sets: list[str] = []
    exception_value_sets: list[str] = []
    thresholds: dict[str, float] = {}
    windows: dict[str, int] = {}
    coded_results: dict[str, list[CodedResult]] = {}
    screening_tools: list[ScreeningTool] = []
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        missing = [k for k in REQUIRED[self.kind] if k not in self.value_sets]
        if missing:
            raise ValueError(f"a {self.kind} measure needs value_sets {', '.join(missing)}")
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError("versions must be unique")
        for ex in self.exclusions:
            if isinstance(ex, Exclusion):
                for key in ex.value_sets + ex.and_value_sets:
                    if key not in self.value_sets:
                        raise ValueError(f"exclusion {ex.kind!r} names value set {key!r}, "
                                         "which is not under value_sets")
        for key in self.numerator_value_sets + self.exception_value_sets:
            if key not in self.value_sets:
                raise ValueError(f"value set {key!r} is not under value_sets")
        if self.kind in ("breast_cancer_screening", "colorectal_cancer_screening") \
                and not self.numerator_value_sets:
            raise ValueError("a screening measure needs numerator_value_sets")
        if self.kind == "depression_screening" and not self.screening_tools:
            raise ValueError("a depression screening measure needs screening_tools")
        return self

    def version_for(self, period_end_year: int, version: str | None = None) -> Version:
        """The version asked for (``"13"``, ``"v13"``, ``"CMS122v13"``), else the one for the
        performance year of ``period_end_year`` (the latest not after it, else the first)."""
        by_number = {v.version: v for v in self.versions}
        if version is not None:
            text = str(version).strip().upper().removeprefix(self.id).removeprefix("V")
            if not text.isdigit() or int(text) not in by_number:
                raise MeasureDefinitionError(
                    f"{self.id} has no version {version!r}; versions are "
                    f"{', '.join(f'v{n}' for n in sorted(by_number))}")
            return by_number[int(text)]
        ordered = sorted(self.versions, key=lambda v: v.year)
        earlier = [v for v in ordered if v.year <= period_end_year]
        return earlier[-1] if earlier else ordered[0]

    def sets_for(self, version: Version) -> dict[str, ValueSet]:
        """The value sets in force for ``version`` (``since_version`` applied)."""
        return {k: v for k, v in self.value_sets.items()
                if v.since_version is None or version.version >= v.since_version}


class SharedExclusions(_Model):
    """The eCQM shared exclusion libraries (Hospice, PalliativeCare, AdvancedIllnessandFrailty)
    as claims and observation value sets, with their ages and windows."""

    value_sets: dict[str, ValueSet]
    frailty_min_age: int = 66
    frailty_only_min_age: int = 81
    advanced_illness_lookback_years: int = 1
    long_term_min_days: int = 90
    long_term_gap_days: int = 31
    nursing_home_results: list[str] = ["160734000", "nursing home"]
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _required(self) -> SharedExclusions:
        need = ("hospice", "palliative_care", "frailty_device", "frailty_diagnosis",
                "frailty_encounter", "advanced_illness", "dementia_medications",
                "long_term_care", "nursing_home_housing")
        missing = [k for k in need if k not in self.value_sets]
        if missing:
            raise ValueError(f"exclusions.yaml needs value_sets {', '.join(missing)}")
        return self


@dataclass(frozen=True)
class MeasureLibrary:
    """The packaged measures by id, and the shared exclusions."""

    measures: dict[str, Measure]
    shared: SharedExclusions

    def get(self, measure_id: str) -> Measure:
        key = str(measure_id).strip().upper()
        if key not in self.measures:
            raise MeasureDefinitionError(
                f"there is no quality measure {measure_id!r}; measures are: "
                f"{', '.join(self.measures)}")
        return self.measures[key]


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"field {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
        for e in exc.errors())


def _read(name: str) -> tuple[str, dict]:
    where = f"valuecare/reference/measures/{name}"
    path = resources.files("valuecare") / "reference" / "measures" / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MeasureDefinitionError(f"{where} is missing; reinstall valuecare") from exc
    return where, parse_yaml(text, where)


def parse_yaml(text: str, where: str) -> dict:
    """The top-level mapping of a YAML definition, or a clear error naming ``where``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasureDefinitionError(f"{where}: not valid YAML ({exc}); fix the file") from exc
    if not isinstance(data, dict):
        raise MeasureDefinitionError(f"{where}: expected a mapping of fields at the top level")
    return data


def parse_measure(data: dict, where: str) -> Measure:
    """Validate one measure definition (a parsed YAML mapping)."""
    try:
        return Measure.model_validate(data)
    except ValidationError as exc:
        raise MeasureDefinitionError(
            f"{where}: invalid measure definition: {_problems(exc)}. Fix the YAML (fields "
            "are described in valuecare.outcomes.quality_defs)") from exc


def parse_shared(data: dict, where: str) -> SharedExclusions:
    """Validate the shared exclusions definition (a parsed YAML mapping)."""
    try:
        return SharedExclusions.model_validate(data)
    except ValidationError as exc:
        raise MeasureDefinitionError(
            f"{where}: invalid shared exclusions: {_problems(exc)}. Fix the YAML") from exc


@lru_cache(maxsize=1)
def load_measures() -> MeasureLibrary:
    """The packaged quality measures (``MEASURES``) and the shared exclusions, validated."""
    measures: dict[str, Measure] = {}
    for measure_id in MEASURES:
        where, data = _read(f"{measure_id.lower()}.yaml")
        m = parse_measure(data, where)
        if m.id != measure_id:
            raise MeasureDefinitionError(f"{where}: id is {m.id!r}, expected {measure_id!r}")
        measures[m.id] = m
    where, data = _read("exclusions.yaml")
    return MeasureLibrary(measures=measures, shared=parse_shared(data, where))
