"""Outcome definitions as data: one YAML file per condition, each measure in Porter's hierarchy.

Porter's outcome measures hierarchy (Porter ME, "What is value in health care?", N Engl J
Med 2010;363:2477-81, Supplementary Appendix 2) has three tiers and six levels:

- Tier 1, health status achieved or retained: level 1 survival; level 2 degree of health
  or recovery.
- Tier 2, process of recovery: level 3 time to recovery and return to normal activities;
  level 4 disutility of the care process (complications, readmissions, adverse effects).
- Tier 3, sustainability of health: level 5 sustainability of health or recovery and
  nature of recurrences; level 6 long-term consequences of therapy (care-induced illness).

Porter recommends at least one outcome per tier; the packaged library has one per tier
for every shipped condition (a test checks it).  Each measure names its source (ICHOM
standard set, CMS measure specification, paper).  Packaged files live in
``valuecare/reference/outcomes``; analysts add theirs in ``$VALUECARE_OUTCOMES_DIR`` (same
format, see ``docs/outcomes.md``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuecare.conditions.library import Code, Setting, _check_codes, parse_definition
from valuecare.errors import ConditionDefinitionError

OUTCOMES_DIR_ENV = "VALUECARE_OUTCOMES_DIR"

#: Porter's levels per tier (NEJM 2010, appendix 2).
TIER_LEVELS: dict[int, tuple[int, ...]] = {1: (1, 2), 2: (3, 4), 3: (5, 6)}
LEVEL_NAMES: dict[int, str] = {
    1: "survival",
    2: "degree of health or recovery",
    3: "time to recovery and return to normal activities",
    4: "disutility of care or treatment process",
    5: "sustainability of health or recovery; recurrences",
    6: "long-term consequences of therapy",
}
#: Short level labels for narrow tables.
LEVEL_SHORT: dict[int, str] = {1: "survival", 2: "degree of health", 3: "time to recovery",
                               4: "disutility of care", 5: "sustainability",
                               6: "long-term consequences"}
TIER_NAMES: dict[int, str] = {1: "health status achieved or retained",
                              2: "process of recovery", 3: "sustainability of health"}

Reference = Literal["anchor_start", "anchor_end", "cycle_start", "cycle_end"]
Kind = Literal["death", "events", "readmission", "length_of_stay", "facility_days", "lab",
               "prom_change", "care_duration"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Window(_Model):
    """Days ``start``..``end`` (inclusive) counted from the reference date ``from``.

    ``within_cycle`` also clips the window to the cycle's own dates (a calendar-year cycle
    of a chronic condition).  A reference the cycle lacks (chronic cycles have no anchor)
    falls back to the cycle start.
    """

    start: int = Field(0, ge=-3650, le=3650)
    end: int = Field(ge=-3650, le=3650)
    from_: Reference = Field("anchor_end", alias="from")
    within_cycle: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before start {self.start}")
        return self


class Criteria(_Model):
    """Claim lines that are evidence of an event: any listed code (OR), restricted to
    ``settings`` when given, inside ``window``.

    ``index_stay`` says how lines of the index stay (the anchor: facility settings during
    the anchor dates) count: ``exclude`` (the default: the anchor is not its own
    complication), ``poa_n`` (only diagnoses not present on admission, POA N or U, as in
    CMS complication measures) or ``include`` (count like any other line).
    """

    name: str = Field(min_length=1)
    diagnoses: list[Code] = []
    diagnosis_position: Literal["principal", "any"] = "any"
    hcpcs: list[Code] = []
    icd10pcs: list[Code] = []
    drg: list[Code] = []
    settings: list[Setting] = []
    window: Window
    index_stay: Literal["exclude", "poa_n", "include"] = "exclude"

    _codes = field_validator("diagnoses", "hcpcs", "icd10pcs", "drg")(
        classmethod(lambda cls, v: _check_codes(v)))

    @model_validator(mode="after")
    def _some_code(self) -> Criteria:
        if not (self.diagnoses or self.hcpcs or self.icd10pcs or self.drg or self.settings):
            raise ValueError(f"criteria {self.name!r} lists no codes and no settings")
        if any("-" in c for c in self.icd10pcs) or (
                self.diagnosis_position == "any" and any("-" in c for c in self.diagnoses)):
            raise ValueError("ranges are only allowed for CPT/HCPCS, DRG and principal "
                             "diagnoses; list prefixes instead")
        return self


class Population(_Model):
    """Cycles the measure applies to: the anchor (trigger) lines carry one of these codes."""

    hcpcs: list[Code] = []
    icd10pcs: list[Code] = []
    drg: list[Code] = []

    _codes = field_validator("hcpcs", "icd10pcs", "drg")(
        classmethod(lambda cls, v: _check_codes(v)))


class Lab(_Model):
    """The last result in the window of any of ``codes`` compared with ``threshold``."""

    codes: list[str] = Field(min_length=1)
    comparator: Literal["<", "<=", ">", ">="]
    threshold: float
    window: Window


class Prom(_Model):
    """Change in a PROM scale between a baseline and a follow-up window."""

    instrument: str
    scale: str
    baseline: tuple[int, int] = (-90, 0)
    followup: tuple[int, int] = (300, 425)
    baseline_from: Reference = "anchor_start"
    followup_from: Reference = "anchor_end"


class Measure(_Model):
    """One outcome measure of one condition.

    ``days`` (death, readmission, facility days) counts day 0 as the reference date ``from``,
    so ``days: 90`` covers days 0-89 (death within 90 days of admission); ``within_cycle``
    clips that span to the cycle (a calendar-year cycle).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")
    name: str = Field(min_length=1)
    tier: Literal[1, 2, 3]
    level: Literal[1, 2, 3, 4, 5, 6]
    kind: Kind
    direction: Literal["lower_is_better", "higher_is_better"]
    unit: Literal["proportion", "days", "points", "count"]
    definition: str = Field(min_length=1)
    source: str = Field(min_length=1)
    url: str | None = None
    population: Population | None = None
    days: int | None = Field(None, ge=1, le=3650)
    from_: Reference = Field("anchor_start", alias="from")
    within_cycle: bool = False
    components: list[Criteria] = []
    result: Literal["any", "count"] = "any"
    lab: Lab | None = None
    prom: Prom | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        if self.level not in TIER_LEVELS[self.tier]:
            raise ValueError(f"level {self.level} is not in tier {self.tier} (levels "
                             f"{TIER_LEVELS[self.tier]}; Porter NEJM 2010 appendix 2)")
        need = {"death": self.days, "readmission": self.days, "facility_days": self.days,
                "events": self.components or None, "lab": self.lab, "prom_change": self.prom}
        if self.kind in need and not need[self.kind]:
            field = {"events": "components", "lab": "lab", "prom_change": "prom"}.get(
                self.kind, "days")
            raise ValueError(f"a {self.kind} measure needs `{field}`")
        return self

    @property
    def binary(self) -> bool:
        """Scored as a proportion (0/1 per member) rather than a mean."""
        return self.unit == "proportion"


class ConditionOutcomes(_Model):
    """The outcome measures of one condition (``condition`` is a condition-library id)."""

    condition: str
    measures: list[Measure] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ConditionOutcomes:
        ids = [m.id for m in self.measures]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"measure ids repeated: {', '.join(dup)}")
        return self


class OutcomeLibrary(_Model):
    sets: tuple[ConditionOutcomes, ...]
    files: dict[str, str]

    def measures(self, condition: str | None = None) -> list[tuple[str, Measure]]:
        return [(s.condition, m) for s in self.sets for m in s.measures
                if condition is None or s.condition == condition]

    def for_condition(self, condition: str) -> list[Measure]:
        return [m for c, m in self.measures(condition)]

    def measure_id(self, condition: str, measure: Measure) -> str:
        return f"{condition}.{measure.id}"


def _parse(text: str, where: str) -> ConditionOutcomes:
    return parse_definition(text, where, ConditionOutcomes,  # type: ignore[return-value]
                            "outcome definitions", "docs/outcomes.md")


def _texts(folder: str | None) -> list[tuple[str, str]]:
    pkg = resources.files("valuecare") / "reference" / "outcomes"
    out = sorted((f"valuecare/reference/outcomes/{p.name}", p.read_text(encoding="utf-8"))
                 for p in pkg.iterdir() if p.name.endswith((".yaml", ".yml")))
    if folder:
        path = Path(folder)
        if not path.is_dir():
            raise ConditionDefinitionError(
                f"outcome folder {path} does not exist; create it or unset {OUTCOMES_DIR_ENV}")
        out += sorted((str(p), p.read_text(encoding="utf-8"))
                      for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    return out


def load_outcomes(extra_dir: str | os.PathLike[str] | None = None,
                  conditions: list[str] | None = None) -> OutcomeLibrary:
    """Packaged outcome definitions plus those in ``extra_dir`` (``$VALUECARE_OUTCOMES_DIR``).

    ``conditions`` (condition-library ids) checks that every set names a known condition.
    """
    folder = extra_dir if extra_dir is not None else os.environ.get(OUTCOMES_DIR_ENV)
    seen: dict[str, str] = {}
    sets = []
    for where, text in _texts(str(folder) if folder else None):
        s = _parse(text, where)
        if s.condition in seen:
            raise ConditionDefinitionError(
                f"{where}: outcomes for {s.condition!r} are already defined in "
                f"{seen[s.condition]}; put all measures of a condition in one file")
        if conditions is not None and s.condition not in conditions:
            raise ConditionDefinitionError(
                f"{where}: there is no condition {s.condition!r} in the condition library "
                f"(conditions: {', '.join(conditions)})")
        seen[s.condition] = where
        sets.append(s)
    sets.sort(key=lambda s: s.condition)
    return OutcomeLibrary(sets=tuple(sets), files=seen)
