"""The resource catalog: what each resource costs to supply and how many minutes it can work.

Time-driven activity-based costing (Kaplan & Anderson, "Time-Driven Activity-Based
Costing", HBR Nov 2004; Kaplan & Porter, "How to Solve the Cost Crisis in Health Care",
HBR Sep 2011) prices every minute of a resource at its **capacity cost rate**:

    capacity cost rate = cost of capacity supplied / practical capacity
    practical capacity = theoretical capacity x practical share

The cost of capacity supplied is salary + benefits + space + equipment + overhead share (a
year, in dollars); theoretical capacity is the minutes the resource is there (one FTE, one
room, one bed: days x hours x 60); practical capacity defaults to 80% of theoretical for
people and 85% for equipment and space (Kaplan & Anderson 2004), overridable per resource.
Consumables (implants, drugs, supplies) are priced at cost per item.

Rounding rule: every rate is the exact decimal quotient rounded half-up to 1e-6 dollars per
minute; the cost of a quantity is quantity x rate rounded half-up to the cent.  Money is
:class:`~decimal.Decimal`, never float.

Three layers price a resource at a site: the site's own row (an organization's
``resources.csv`` with the site's NPI), else the organization's ``*`` row, else the shipped
reference catalog ``valuecare/reference/costing/resources.yaml``.  The *standard* rate of a
resource is the organization's ``*`` row, else the reference (see ``docs/costing.md``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from valuecare.conditions.library import Source, parse_definition
from valuecare.errors import CostingDefinitionError

Kind = Literal["person", "equipment", "space", "consumable"]
RATE_PLACES = Decimal("0.000001")
CENT = Decimal("0.01")
ANY_SITE = "*"
DOC = "docs/costing.md"
_MONEY = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapacityCost(_Model):
    """Cost of capacity supplied for a year, in dollars."""

    salary: Decimal = _MONEY
    benefits: Decimal = _MONEY
    space: Decimal = _MONEY
    equipment: Decimal = _MONEY
    overhead: Decimal = _MONEY

    @property
    def total(self) -> Decimal:
        return self.salary + self.benefits + self.space + self.equipment + self.overhead


class PracticalDefaults(_Model):
    """Practical capacity as a share of theoretical, by kind (Kaplan & Anderson 2004)."""

    person: Decimal = Field(Decimal("0.80"), gt=0, le=1)
    equipment: Decimal = Field(Decimal("0.85"), gt=0, le=1)
    space: Decimal = Field(Decimal("0.85"), gt=0, le=1)


class ResourceDef(_Model):
    """A resource: a kind of staff, room, piece of equipment or consumable item.

    People list the provider ``specialties`` they stand for, so a process step done by
    ``clinician`` is priced at the rendering clinician's resource.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str = Field(min_length=1)
    kind: Kind
    specialties: list[str] = []
    cost: CapacityCost | None = None
    theoretical_minutes: Decimal | None = Field(None, gt=0)
    practical_share: Decimal | None = Field(None, gt=0, le=1)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ResourceDef:
        if self.kind == "consumable":
            if self.unit_cost is None or self.cost is not None:
                raise ValueError(f"consumable {self.id} needs unit_cost and no cost")
        elif self.cost is None or self.theoretical_minutes is None:
            raise ValueError(f"resource {self.id} needs cost and theoretical_minutes")
        if self.specialties and self.kind != "person":
            raise ValueError(f"only people have specialties ({self.id})")
        return self


class CatalogFile(_Model):
    """The shipped reference catalog (``reference/costing/resources.yaml``)."""

    version: str = Field(min_length=1)
    description: str = ""
    currency: Literal["USD"] = "USD"
    practical_capacity: PracticalDefaults = PracticalDefaults()
    default_clinician: str
    resources: list[ResourceDef] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)


# ---- the TDABC arithmetic (pure, exact) ----------------------------------------------------
def practical_minutes(theoretical: Decimal, share: Decimal) -> Decimal:
    """Practical capacity in minutes: theoretical x share (exact)."""
    return Decimal(theoretical) * Decimal(share)


def capacity_cost_rate(cost: Decimal, practical: Decimal) -> Decimal:
    """Dollars per minute: cost of capacity supplied / practical minutes, half-up to 1e-6."""
    if practical <= 0:
        raise CostingDefinitionError("practical capacity must be more than 0 minutes")
    return (Decimal(cost) / Decimal(practical)).quantize(RATE_PLACES, ROUND_HALF_UP)


def cost_of(quantity: Decimal, rate: Decimal) -> Decimal:
    """Cost of ``quantity`` minutes (or items) at ``rate``, half-up to the cent."""
    return (Decimal(quantity) * Decimal(rate)).quantize(CENT, ROUND_HALF_UP)


def unused_capacity_cost(practical: Decimal, used: Decimal, rate: Decimal) -> Decimal:
    """(practical - used) x rate, to the cent; negative when more was used than supplied."""
    return cost_of(Decimal(practical) - Decimal(used), rate)


@dataclass(frozen=True)
class Supply:
    """One resource as supplied at one site (``*``: every site without its own row)."""

    site: str
    resource: str
    kind: str
    cost: Decimal | None = None
    theoretical_minutes: Decimal | None = None
    practical_share: Decimal | None = None
    unit_cost: Decimal | None = None

    @property
    def practical_minutes(self) -> Decimal | None:
        if self.theoretical_minutes is None or self.practical_share is None:
            return None
        return practical_minutes(self.theoretical_minutes, self.practical_share)

    @property
    def rate(self) -> Decimal:
        """Capacity cost rate (dollars a minute) or, for consumables, cost per item."""
        if self.kind == "consumable":
            return Decimal(self.unit_cost or 0)
        return capacity_cost_rate(self.cost or Decimal(0), self.practical_minutes or Decimal(0))


@dataclass(frozen=True)
class Catalog:
    """Resource definitions plus the reference, organization and site layers."""

    definitions: dict[str, ResourceDef]
    defaults: PracticalDefaults
    default_clinician: str
    reference: dict[str, Supply]
    organization: dict[str, Supply]
    sites: dict[tuple[str, str], Supply]
    files: tuple[str, ...] = ()

    def supply(self, site: str, resource: str) -> tuple[Supply, str]:
        """The supply pricing ``resource`` at ``site`` and where it came from."""
        if (site, resource) in self.sites:
            return self.sites[(site, resource)], "site"
        if resource in self.organization:
            return self.organization[resource], "organization"
        return self.reference[resource], "reference"

    def standard(self, resource: str) -> Supply:
        """The organization's standard supply of a resource (its ``*`` row, else reference)."""
        return self.organization.get(resource) or self.reference[resource]

    def site_ids(self) -> list[str]:
        return sorted({s for s, _ in self.sites})

    def clinician_resources(self) -> dict[str, str]:
        """Lower-case provider specialty -> person resource."""
        return {sp.strip().lower(): d.id for d in self.definitions.values()
                for sp in d.specialties}


def _supply(d: ResourceDef, site: str, defaults: PracticalDefaults) -> Supply:
    if d.kind == "consumable":
        return Supply(site, d.id, d.kind, unit_cost=d.unit_cost)
    share = d.practical_share if d.practical_share is not None else getattr(defaults, d.kind)
    return Supply(site, d.id, d.kind, d.cost.total if d.cost else None, d.theoretical_minutes,
                  share)


def load_reference() -> CatalogFile:
    text = (resources.files("valuecare") / "reference" / "costing" / "resources.yaml"
            ).read_text(encoding="utf-8")
    return parse_definition(text, "valuecare/reference/costing/resources.yaml",  # type: ignore[return-value]
                            CatalogFile, "resource catalog", DOC, CostingDefinitionError)


_CSV_COLUMNS = ("site_npi", "resource", "kind", "salary", "benefits", "space", "equipment",
                "overhead", "theoretical_minutes", "practical_share", "unit_cost")


class _SiteRow(_Model):
    site_npi: str = Field(pattern=r"^(\*|[0-9]{10})$")
    resource: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    kind: Kind | None = None
    cost: CapacityCost = CapacityCost()
    theoretical_minutes: Decimal | None = Field(None, gt=0)
    practical_share: Decimal | None = Field(None, gt=0, le=1)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)


def _dec(value: str | None) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def read_site_rows(path: Path, definitions: dict[str, ResourceDef],
                   defaults: PracticalDefaults) -> list[Supply]:
    """An organization's ``resources.csv``: one row per site (NPI or ``*``) and resource."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("site_npi", "resource") if c not in (reader.fieldnames or [])]
        unknown = [c for c in reader.fieldnames or [] if c not in _CSV_COLUMNS]
        if missing or unknown:
            raise CostingDefinitionError(
                f"{path}: {'missing column(s) ' + ', '.join(missing) if missing else ''}"
                f"{'; ' if missing and unknown else ''}"
                f"{'unknown column(s) ' + ', '.join(unknown) if unknown else ''}; columns are "
                f"{', '.join(_CSV_COLUMNS)} (see {DOC})")
        out: list[Supply] = []
        seen: set[tuple[str, str]] = set()
        kinds = {d.id: d.kind for d in definitions.values()}
        for n, raw in enumerate(reader, start=2):
            try:
                money = {k: _dec(raw.get(k)) for k in ("salary", "benefits", "space",
                                                       "equipment", "overhead")}
                row = _SiteRow(
                    site_npi=(raw.get("site_npi") or "").strip(),
                    resource=(raw.get("resource") or "").strip(),
                    kind=(raw.get("kind") or "").strip() or None,
                    cost=CapacityCost(**{k: v for k, v in money.items() if v is not None}),
                    theoretical_minutes=_dec(raw.get("theoretical_minutes")),
                    practical_share=_dec(raw.get("practical_share")),
                    unit_cost=_dec(raw.get("unit_cost")))
            except (ValidationError, ValueError) as exc:
                raise CostingDefinitionError(f"{path}, row {n}: {_why(exc)}; fix the row "
                                             f"(columns are described in {DOC})") from exc
            out.append(_check_row(row, kinds, defaults, path, n, seen))
            kinds.setdefault(row.resource, out[-1].kind)
    return out


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return str(exc)


def _check_row(row: _SiteRow, kinds: dict[str, str], defaults: PracticalDefaults,
               path: Path, n: int, seen: set[tuple[str, str]]) -> Supply:
    where = f"{path}, row {n}"
    key = (row.site_npi, row.resource)
    if key in seen:
        raise CostingDefinitionError(f"{where}: site {row.site_npi} lists resource "
                                     f"{row.resource} twice; keep one row")
    seen.add(key)
    known = kinds.get(row.resource)
    kind = row.kind or known
    if kind is None:
        raise CostingDefinitionError(
            f"{where}: resource {row.resource!r} is not in the catalog; give its kind "
            "(person, equipment, space, consumable) to add it")
    if known is not None and kind != known:
        raise CostingDefinitionError(f"{where}: {row.resource} is a {known}, not {kind}")
    if kind == "consumable":
        if row.unit_cost is None:
            raise CostingDefinitionError(f"{where}: consumable {row.resource} needs unit_cost")
        return Supply(row.site_npi, row.resource, kind, unit_cost=row.unit_cost)
    if row.theoretical_minutes is None or row.cost.total <= 0:
        raise CostingDefinitionError(
            f"{where}: {row.resource} needs its cost (salary, benefits, space, equipment, "
            "overhead; at least one above 0) and theoretical_minutes")
    share = row.practical_share if row.practical_share is not None else getattr(defaults, kind)
    return Supply(row.site_npi, row.resource, kind, row.cost.total, row.theoretical_minutes,
                  share)


def load_catalog(org_dir: Path | None = None) -> Catalog:
    """The reference catalog plus an organization's ``resources.csv`` in ``org_dir``."""
    ref = load_reference()
    defs = {d.id: d for d in ref.resources}
    if len(defs) != len(ref.resources):
        raise CostingDefinitionError("valuecare/reference/costing/resources.yaml: "
                                     "a resource id is listed twice")
    if ref.default_clinician not in defs or defs[ref.default_clinician].kind != "person":
        raise CostingDefinitionError("default_clinician must name a person resource")
    reference = {d.id: _supply(d, ANY_SITE, ref.practical_capacity) for d in ref.resources}
    organization: dict[str, Supply] = {}
    sites: dict[tuple[str, str], Supply] = {}
    files: list[str] = []
    path = org_dir / "resources.csv" if org_dir is not None else None
    if path is not None and path.is_file():
        files.append(str(path))
        for s in read_site_rows(path, defs, ref.practical_capacity):
            if s.resource not in defs:
                defs[s.resource] = ResourceDef(
                    id=s.resource, name=s.resource, kind=s.kind,  # type: ignore[arg-type]
                    cost=CapacityCost(overhead=s.cost) if s.cost is not None else None,
                    theoretical_minutes=s.theoretical_minutes, unit_cost=s.unit_cost,
                    source=str(path))
            if s.site == ANY_SITE:
                organization[s.resource] = s
            else:
                sites[(s.site, s.resource)] = s
        new = sorted({r for _, r in sites} - set(reference) - set(organization))
        if new:
            raise CostingDefinitionError(
                f"{path}: resource(s) {', '.join(new)} are not in the reference catalog; add "
                "a row with site_npi * for each (it prices the resource at every other site)")
        for s in organization.values():
            reference.setdefault(s.resource, s)
    return Catalog(defs, ref.practical_capacity, ref.default_clinician, reference,
                   organization, sites, tuple(files))
