"""The costing inputs an organization supplies, and the parameter tables the engine joins.

An organization puts its costing data in one folder (``docs/costing.md``):

- ``resources.csv`` - cost of capacity supplied and theoretical minutes per site (NPI) and
  resource; ``*`` rows are the organization's standard for sites without their own row;
- ``step_times.csv`` - measured minutes per site (NPI or ``*``), step, resource (or
  consumable item) and term of the time equation (``base`` or a driver), replacing the
  process map's template minutes;
- ``process_maps/*.yaml`` - its own process maps, each replacing the packaged map with the
  same id.

The folder is ``$VALUECARE_COSTING_DIR`` when set, else ``costing/`` inside the workspace,
else none (the packaged reference catalog and maps alone).  Every file read is recorded
with the run's inputs (path and SHA-256).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from valuecare.costing.catalog import ANY_SITE, DOC, Catalog, load_catalog
from valuecare.costing.process_maps import MapSet, load_maps
from valuecare.errors import CostingDefinitionError

COSTING_DIR_ENV = "VALUECARE_COSTING_DIR"
WORKSPACE_FOLDER = "costing"
QTY = pa.decimal128(18, 4)
RATE = pa.decimal128(18, 6)
_Q = Decimal("0.0001")
_TIME_COLUMNS = ("site_npi", "step", "resource", "term", "minutes")

TimeKey = tuple[str, str, str, str]  # site, step, resource or item, term


def costing_dir(workspace_path: Path) -> Path | None:
    """``$VALUECARE_COSTING_DIR``, else ``<workspace>/costing`` if it exists, else None."""
    env = os.environ.get(COSTING_DIR_ENV)
    if env:
        folder = Path(env).expanduser().resolve()
        if not folder.is_dir():
            raise CostingDefinitionError(
                f"costing folder {folder} ({COSTING_DIR_ENV}) does not exist; create it or "
                f"unset {COSTING_DIR_ENV}")
        return folder
    folder = workspace_path / WORKSPACE_FOLDER
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class CostingInputs:
    """Catalog, process maps and measured step times in force for a run."""

    folder: Path | None
    catalog: Catalog
    maps: MapSet
    step_times: dict[TimeKey, Decimal]
    files: tuple[str, ...]

    def time_sites(self) -> list[str]:
        return sorted({k[0] for k in self.step_times if k[0] != ANY_SITE})


def _terms_of(maps: MapSet) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for pm in [*maps.maps.values(), *maps.libraries.values()]:
        for s in pm.steps:
            for u in s.resources:
                out.setdefault((s.id, u.resource), set()).update(u.terms)
            for c in s.consumables:
                out.setdefault((s.id, c.item), set()).update(c.terms)
    return out


def read_step_times(path: Path, maps: MapSet) -> dict[TimeKey, Decimal]:
    """Measured minutes (or item quantities) replacing a process map's template values."""
    known = _terms_of(maps)
    out: dict[TimeKey, Decimal] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != _TIME_COLUMNS:
            raise CostingDefinitionError(
                f"{path}: the columns must be {', '.join(_TIME_COLUMNS)} (see {DOC})")
        for n, r in enumerate(reader, start=2):
            site, step, res, term = (r[c].strip() for c in _TIME_COLUMNS[:4])
            where = f"{path}, row {n}"
            if site != ANY_SITE and not (site.isdigit() and len(site) == 10):
                raise CostingDefinitionError(f"{where}: site_npi {site!r} is not an NPI or *")
            if (step, res) not in known:
                raise CostingDefinitionError(
                    f"{where}: no process map step {step!r} uses {res!r}; times replace the "
                    "minutes of an existing step and resource (edit the map to add one)")
            if term not in known[(step, res)]:
                raise CostingDefinitionError(
                    f"{where}: the time equation of {step}/{res} has no term {term!r}; its "
                    f"terms are {', '.join(sorted(known[(step, res)]))}")
            try:
                minutes = Decimal(r["minutes"].strip())
            except InvalidOperation as exc:
                raise CostingDefinitionError(f"{where}: minutes {r['minutes']!r} is not a "
                                             "number") from exc
            if minutes < 0 or (site, step, res, term) in out:
                raise CostingDefinitionError(f"{where}: minutes must be >= 0 and each site, "
                                             "step, resource and term listed once")
            out[(site, step, res, term)] = minutes
    return out


def load_inputs(folder: Path | None) -> CostingInputs:
    """Everything the ``cycle_costs`` stage needs, validated together."""
    catalog = load_catalog(folder)
    maps = load_maps(folder)
    maps.check(catalog)
    files = list(catalog.files)
    times: dict[TimeKey, Decimal] = {}
    if folder is not None:
        files += [maps.files[k] for k in sorted(maps.files)
                  if not maps.files[k].startswith("valuecare/")]
        path = folder / "step_times.csv"
        if path.is_file():
            times = read_step_times(path, maps)
            files.append(str(path))
    return CostingInputs(folder, catalog, maps, times, tuple(files))


def _q(v: Decimal) -> Decimal:
    return Decimal(v).quantize(_Q, ROUND_HALF_UP)


def time_table(inputs: CostingInputs, conditions: list[str]) -> pa.Table:
    """Parameters of every time equation: one row per site key (``*`` and each site with
    measured times), condition, step, resource or item and term.

    ``quantity`` is the minutes (items) in force at the site: its own measured value, else
    the organization's ``*`` value, else the map's; ``standard_quantity`` the organization's
    standard (``*``, else the map).
    """
    st = inputs.step_times
    rows: dict[str, list] = {k: [] for k in (
        "site_key", "condition", "step", "item", "is_item", "term", "per_unit", "quantity",
        "standard_quantity")}
    for site in [ANY_SITE, *inputs.time_sites()]:
        for cond in conditions:
            for s in inputs.maps.steps_for(cond):
                uses = [(u.resource, False, u.terms) for u in s.resources] + [
                    (c.item, True, c.terms) for c in s.consumables]
                for item, is_item, terms in uses:
                    for term, value in sorted(terms.items()):
                        std = st.get((ANY_SITE, s.id, item, term), value)
                        qty = st.get((site, s.id, item, term), std)
                        for k, v in (("site_key", site), ("condition", cond), ("step", s.id),
                                     ("item", item), ("is_item", is_item), ("term", term),
                                     ("per_unit", s.per == "unit"), ("quantity", _q(qty)),
                                     ("standard_quantity", _q(std))):
                            rows[k].append(v)
    return pa.table(rows, schema=pa.schema([
        ("site_key", pa.string()), ("condition", pa.string()), ("step", pa.string()),
        ("item", pa.string()), ("is_item", pa.bool_()), ("term", pa.string()),
        ("per_unit", pa.bool_()), ("quantity", QTY), ("standard_quantity", QTY)]))


def rate_table(catalog: Catalog) -> pa.Table:
    """Rate of every resource at every site key: capacity cost rate (dollars a minute) or
    cost per item, where it came from, and the organization's standard rate."""
    rows: dict[str, list] = {k: [] for k in ("site_key", "resource", "resource_kind", "rate",
                                              "standard_rate", "rate_source")}
    for site in [ANY_SITE, *catalog.site_ids()]:
        for rid in sorted(catalog.reference):
            supply, source = catalog.supply(site, rid)
            for k, v in (("site_key", site), ("resource", rid), ("resource_kind", supply.kind),
                         ("rate", supply.rate), ("standard_rate", catalog.standard(rid).rate),
                         ("rate_source", source)):
                rows[k].append(v)
    return pa.table(rows, schema=pa.schema([
        ("site_key", pa.string()), ("resource", pa.string()), ("resource_kind", pa.string()),
        ("rate", RATE), ("standard_rate", RATE), ("rate_source", pa.string())]))


def clinician_table(catalog: Catalog) -> pa.Table:
    """Provider specialty (lower case) -> the person resource that prices a clinician."""
    m = catalog.clinician_resources()
    return pa.table({"specialty": sorted(m), "resource": [m[k] for k in sorted(m)]})
