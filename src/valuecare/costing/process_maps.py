"""Process maps: the steps of each condition's care cycle, who does them and for how long.

One YAML file per condition (``id`` = the condition id) lists steps in the order they are
matched; a claim line of a care cycle goes to the first step whose ``match`` it meets (each
``match`` block is a set of criteria that must all hold; several blocks are alternatives).
A step uses resources for minutes given by a **time equation**, ``base + sum(coefficient x
driver)`` (Kaplan & Anderson 2004: registration = 2 + 2 x [new patient]), per claim line or
per unit of service (days, visits, 15-minute units), and consumables at cost per item.
Drivers (a complication, a bilateral case, a catheterization during the stay) are 0/1 per
claim: 1 when the claim's codes meet one of the driver's criteria.  ``clinician`` as a
resource means the rendering clinician, priced by specialty (see the catalog).

A ``library`` file (``common.yaml``) holds steps shared by maps that ``extends`` it; they
are matched after the map's own steps.  ``routine`` steps, ``substitute`` resources,
``targets`` (units per cycle, e.g. inpatient days) and ``low_value`` rules feed the
cost-reduction opportunities; they never change a cost.  Packaged maps live in
``valuecare/reference/costing/process_maps``; an organization's ``process_maps/*.yaml``
replaces the map with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuecare.conditions.library import (
    ClaimType,
    Code,
    Phase,
    Setting,
    Source,
    _check_codes,
    parse_definition,
)
from valuecare.costing.catalog import DOC, Catalog
from valuecare.errors import CostingDefinitionError

CLINICIAN = "clinician"
BASE = "base"
_ID = r"^[a-z][a-z0-9_]{1,40}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Model):
    """Criteria a claim line must all meet: codes as prefixes or ``LOW-HIGH`` ranges;
    ``bill_types`` are type-of-bill prefixes (``11`` inpatient, ``13`` outpatient, ``21``
    SNF, ``32`` home health); ``diagnoses`` is the principal diagnosis."""

    claim_types: list[ClaimType] = []
    bill_types: list[str] = []
    pos: list[str] = []
    settings: list[Setting] = []
    phases: list[Phase] = []
    hcpcs: list[Code] = []
    revenue: list[Code] = []
    drg: list[Code] = []
    diagnoses: list[Code] = []
    modifiers: list[str] = []

    _codes = field_validator("hcpcs", "revenue", "drg", "diagnoses")(
        lambda cls, v: _check_codes(v))

    @field_validator("bill_types", "pos")
    @classmethod
    def _digits(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if not str(x).isdigit() or len(str(x)) > 4]
        if bad:
            raise ValueError(f"{bad} are not type-of-bill or place-of-service codes (digits)")
        return [str(x) for x in v]

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if not any(getattr(self, f) for f in type(self).model_fields):
            raise ValueError("a match needs at least one criterion")
        return self


class Criterion(_Model):
    """One way a driver is 1: at least ``at_least`` of the listed codes on the claim."""

    drg: list[Code] = []
    icd10pcs: list[Code] = []
    diagnoses: list[Code] = []
    hcpcs: list[Code] = []
    revenue: list[Code] = []
    modifiers: list[str] = []
    at_least: int = Field(1, ge=1)

    _codes = field_validator("drg", "icd10pcs", "diagnoses", "hcpcs", "revenue")(
        lambda cls, v: _check_codes(v))

    @model_validator(mode="after")
    def _one_list(self) -> Criterion:
        lists = [f for f in ("drg", "icd10pcs", "diagnoses", "hcpcs", "revenue", "modifiers")
                 if getattr(self, f)]
        if len(lists) != 1:
            raise ValueError("a driver criterion lists exactly one kind of code")
        if self.at_least > len(getattr(self, lists[0])):
            raise ValueError("at_least is more than the codes listed")
        return self

    @property
    def field(self) -> str:
        return next(f for f in ("drg", "icd10pcs", "diagnoses", "hcpcs", "revenue",
                                "modifiers") if getattr(self, f))


class Driver(_Model):
    """A 0/1 cost driver of a claim (any criterion met)."""

    description: str = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)


Terms = Decimal | dict[str, Decimal]


def _terms(v: Terms) -> dict[str, Decimal]:
    return {BASE: v} if isinstance(v, Decimal | int | float) else dict(v)


class ResourceUse(_Model):
    """Minutes of a resource per line or unit: a number (base) or ``{base, driver: n}``."""

    resource: str = Field(pattern=_ID)
    minutes: Terms
    substitute: str | None = Field(None, pattern=_ID)

    @property
    def terms(self) -> dict[str, Decimal]:
        return _terms(self.minutes)


class ItemUse(_Model):
    """Items of a consumable per line or unit (a number or ``{base, driver: n}``)."""

    item: str = Field(pattern=_ID)
    quantity: Terms = Decimal(1)

    @property
    def terms(self) -> dict[str, Decimal]:
        return _terms(self.quantity)


class Step(_Model):
    """One activity of the care delivery value chain."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    match: Match | list[Match]
    per: Literal["line", "unit"] = "line"
    resources: list[ResourceUse] = []
    consumables: list[ItemUse] = []
    routine: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _uses(self) -> Step:
        if not (self.resources or self.consumables):
            raise ValueError(f"step {self.id} uses no resource and no consumable")
        for t in [u.terms for u in self.resources] + [c.terms for c in self.consumables]:
            if any(v < 0 for v in t.values()):
                raise ValueError(f"step {self.id}: minutes and quantities are >= 0")
        return self

    @property
    def matches(self) -> list[Match]:
        return self.match if isinstance(self.match, list) else [self.match]


class LowValueRule(_Model):
    """Services of the cycle that add cost without value (flagged, costed as usual)."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    match: Match | list[Match]
    source: str = Field(min_length=1)

    @property
    def matches(self) -> list[Match]:
        return self.match if isinstance(self.match, list) else [self.match]


class ProcessMap(_Model):
    """A condition's process map (``kind: process_map``) or a shared ``library``."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    kind: Literal["process_map", "library"] = "process_map"
    extends: str | None = None
    description: str = ""
    drivers: dict[str, Driver] = {}
    targets: dict[str, Decimal] = {}
    low_value: list[LowValueRule] = []
    steps: list[Step] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ProcessMap:
        if self.kind == "library" and (self.extends or self.targets or self.low_value):
            raise ValueError("a library neither extends another file nor sets targets or "
                             "low-value rules")
        if BASE in self.drivers:
            raise ValueError("'base' is not a driver name")
        return self


@dataclass(frozen=True)
class MapSet:
    """The process maps and libraries in force, validated together."""

    maps: dict[str, ProcessMap]
    libraries: dict[str, ProcessMap]
    files: dict[str, str]

    def steps_for(self, condition: str) -> list[Step]:
        m = self.maps[condition]
        return list(m.steps) + (list(self.libraries[m.extends].steps) if m.extends else [])

    def check(self, catalog: Catalog) -> None:
        """Every resource, item and substitute exists in the catalog with the right kind."""
        defs = catalog.definitions
        for fid, pm in [*self.maps.items(), *self.libraries.items()]:
            where = self.files[fid]
            for s in pm.steps:
                for u in s.resources:
                    kinds = ("person",) if u.resource == CLINICIAN else (
                        "person", "equipment", "space")
                    got = "person" if u.resource == CLINICIAN else (
                        defs[u.resource].kind if u.resource in defs else None)
                    if got not in kinds:
                        raise CostingDefinitionError(
                            f"{where}: step {s.id} uses {u.resource!r}, which is not a "
                            "person, equipment or space resource of the catalog; add it to "
                            f"resources.csv or fix the name (see {DOC})")
                    if u.substitute and (u.substitute not in defs
                                         or defs[u.substitute].kind != "person"):
                        raise CostingDefinitionError(
                            f"{where}: step {s.id}: substitute {u.substitute!r} is not a "
                            "person resource of the catalog")
                for c in s.consumables:
                    if c.item not in defs or defs[c.item].kind != "consumable":
                        raise CostingDefinitionError(
                            f"{where}: step {s.id} uses item {c.item!r}, which is not a "
                            "consumable of the catalog")


def _parse(text: str, where: str) -> ProcessMap:
    return parse_definition(text, where, ProcessMap, "process map", DOC,  # type: ignore[return-value]
                            CostingDefinitionError)


def _texts(org_dir: Path | None) -> list[tuple[str, str, bool]]:
    pkg = resources.files("valuecare") / "reference" / "costing" / "process_maps"
    out = sorted((f"valuecare/reference/costing/process_maps/{p.name}",
                  p.read_text(encoding="utf-8"), False)
                 for p in pkg.iterdir() if p.name.endswith((".yaml", ".yml")))
    folder = org_dir / "process_maps" if org_dir is not None else None
    if folder is not None and folder.is_dir():
        out += sorted((str(p), p.read_text(encoding="utf-8"), True)
                      for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    return out


def load_maps(org_dir: Path | None = None) -> MapSet:
    """Packaged process maps, each replaced by an organization's map with the same id."""
    chosen: dict[str, tuple[ProcessMap, str]] = {}
    org_seen: dict[str, str] = {}
    for where, text, org in _texts(org_dir):
        pm = _parse(text, where)
        if org and pm.id in org_seen:
            raise CostingDefinitionError(f"{where}: process map {pm.id!r} is already defined "
                                         f"in {org_seen[pm.id]}; keep one")
        if org:
            org_seen[pm.id] = where
        chosen[pm.id] = (pm, where)
    maps = {k: v[0] for k, v in chosen.items() if v[0].kind == "process_map"}
    libs = {k: v[0] for k, v in chosen.items() if v[0].kind == "library"}
    files = {k: v[1] for k, v in chosen.items()}
    _validate(maps, libs, files)
    return MapSet(maps, libs, files)


def _validate(maps: dict[str, ProcessMap], libs: dict[str, ProcessMap],
              files: dict[str, str]) -> None:
    owner: dict[str, str] = {}
    for fid, pm in [*maps.items(), *libs.items()]:
        for s in pm.steps:
            if s.id in owner:
                raise CostingDefinitionError(
                    f"{files[fid]}: step id {s.id!r} is also used in {files[owner[s.id]]}; "
                    "step ids are unique across process maps")
            owner[s.id] = fid
    for mid, m in maps.items():
        where = files[mid]
        if m.extends is not None and m.extends not in libs:
            raise CostingDefinitionError(f"{where}: extends {m.extends!r}, which is not a "
                                         f"library; libraries: {', '.join(libs) or 'none'}")
        steps = list(m.steps) + (list(libs[m.extends].steps) if m.extends else [])
        ids = {s.id for s in steps}
        for s in steps:
            used = {t for u in s.resources for t in u.terms} | {
                t for c in s.consumables for t in c.terms}
            unknown = sorted(used - {BASE} - set(m.drivers))
            if unknown:
                raise CostingDefinitionError(
                    f"{where}: step {s.id} uses driver(s) {', '.join(unknown)} that the map "
                    f"does not define under drivers")
        bad = sorted(set(m.targets) - ids)
        if bad:
            raise CostingDefinitionError(f"{where}: targets name unknown step(s) "
                                         f"{', '.join(bad)}")
