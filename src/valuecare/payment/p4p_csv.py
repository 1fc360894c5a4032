"""Measure results (and entity bases) in, P4P settlements out: the file side of
``valuecare settle p4p``.

``MEASURES.csv`` has one row per entity and measure, as ``measure_results`` does:

- ``entity``: clinician, practice or group (``measure_results.entity_id``);
- ``measure``: the measure id the contract lists (e.g. ``CMS122``); rows for measures the
  contract does not list are ignored, so a whole ``measure_results`` export can be given
  (one period and entity type at a time: an entity with two rows for a measure is an
  error);
- ``rate`` (a fraction, 0.72 for 72%), or ``numerator`` and ``denominator`` (the
  performance denominator, ``measure_results.performance_denominator``), or all three
  (they must agree). A row with denominator 0 and no rate has no result.

``ENTITIES.csv`` (``--entities``; needed when the incentive is per member month, a share
of revenue, a withhold, or a pool allocated by member months) has one row per entity:
``entity, member_months, ffs_revenue``; every entity listed is settled, one without
results scoring 0.

The output has one row per entity: the entity file's columns (or ``entity``), then
:data:`RESULT_COLUMNS`; the optional detail file one row per entity and measure
(:data:`DETAIL_COLUMNS`). Errors name the file, row and column; nothing is written unless
everything settles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import money_text, read_table
from valuecare.payment.mssp_csv import rate_text, write_csv
from valuecare.payment.p4p import (
    EntityBasis,
    MeasureResult,
    P4pOutcome,
    P4pScheme,
    P4pSettlement,
    settle_p4p,
)

MEASURE_COLUMNS: tuple[str, ...] = ("entity", "measure", "rate", "numerator", "denominator")
ENTITY_COLUMNS: tuple[str, ...] = ("entity", "member_months", "ffs_revenue")
RESULT_COLUMNS: tuple[str, ...] = (
    "measures_scored", "score", "max_incentive", "bonus", "withheld", "withhold_returned",
    "net_incentive")
DETAIL_COLUMNS: tuple[str, ...] = (
    "entity", "measure", "weight", "rate", "denominator", "scored", "credit", "points",
    "reason")
#: |rate - numerator/denominator| allowed when all three are given (float exports).
RATE_TOLERANCE = Decimal("0.000001")


def read_results(path: Path, scheme: P4pScheme) -> list[MeasureResult]:
    """The results in ``path`` for the scheme's measures (see the module docstring)."""
    table = read_table(path, required=("entity", "measure"),
                       optional=("rate", "numerator", "denominator"),
                       what="measure result rows")
    has = set(table.columns)
    if "rate" not in has and not {"numerator", "denominator"} <= has:
        raise InvalidInput(f"{path}: give a rate column, or numerator and denominator "
                           "columns (or all three)")
    wanted = {t.measure for t in scheme.measures}
    seen: dict[tuple[str, str], int] = {}
    out: list[MeasureResult] = []
    for where, values in table.rows:
        entity = where.text(values, "entity")
        measure = where.text(values, "measure")
        if measure not in wanted:
            continue
        if (entity, measure) in seen:
            raise where.error("measure", f"entity {entity} has a result for {measure} in row "
                              f"{seen[entity, measure]} too; give one period and one row "
                              "per entity and measure")
        seen[entity, measure] = where.row
        rate = where.maybe_decimal(values, "rate", what="a rate (a fraction such as 0.72)")
        num = where.maybe_decimal(values, "numerator")
        den = where.maybe_count(values, "denominator")
        if (num is None) != (den is None) and rate is None:
            raise where.error("denominator" if den is None else "numerator",
                              "give numerator and denominator together, or a rate")
        if num is not None and den is not None:
            if num > den:
                raise where.error("numerator", f"{num} is above the denominator {den}")
            if den == 0:
                if rate is None:
                    continue
            else:
                exact = num / den
                if rate is not None and abs(rate - exact) > RATE_TOLERANCE:
                    raise where.error("rate", f"{rate} does not match numerator/denominator "
                                      f"= {rate_text(exact)}; give one or fix the other")
                rate = exact if rate is None else rate
        if rate is None:
            raise where.error("rate", "empty; give a rate, or numerator and denominator")
        if not Decimal(0) <= rate <= Decimal(1):
            raise where.error("rate", f"{rate} is not a fraction between 0 and 1; write 0.72 "
                              "for 72%")
        out.append(MeasureResult(entity, measure, rate, den))
    return out


def read_entities(path: Path, scheme: P4pScheme | None
                  ) -> tuple[tuple[str, ...], list[tuple[dict[str, str], EntityBasis]]]:
    """The entity file: its columns, and each row with the basis it gives."""
    required = ["entity"]
    if scheme is not None and scheme.needs_member_months:
        required.append("member_months")
    if scheme is not None and scheme.needs_revenue:
        required.append("ffs_revenue")
    table = read_table(path, required=required, optional=ENTITY_COLUMNS,
                       reserved=RESULT_COLUMNS, what="entity rows")
    table.unique("entity", "entity")
    rows = []
    for where, values in table.rows:
        months = (where.decimal(values, "member_months") if "member_months" in required
                  else where.maybe_decimal(values, "member_months"))
        revenue = (where.decimal(values, "ffs_revenue") if "ffs_revenue" in required
                   else where.maybe_decimal(values, "ffs_revenue"))
        rows.append((values, EntityBasis(where.text(values, "entity"), months, revenue)))
    return table.columns, rows


@dataclass(frozen=True)
class SettledP4p:
    columns: tuple[str, ...]
    rows: tuple[tuple[dict[str, str], P4pSettlement], ...]
    outcome: P4pOutcome

    def output_rows(self) -> list[dict[str, str]]:
        return [{**values, **result_fields(s)} for values, s in self.rows]


def settle_file(scheme: P4pScheme, measures: Path, entities: Path | None = None
                ) -> SettledP4p:
    """Read, validate and settle (all or nothing)."""
    results = read_results(measures, scheme)
    if entities is None:
        if scheme.needs_member_months or scheme.needs_revenue:
            need = "member_months" if scheme.needs_member_months else "ffs_revenue"
            raise InvalidInput(f"the contract's incentive is computed on {need}: give "
                               f"--entities ENTITIES.csv with columns entity, {need}")
        names = list(dict.fromkeys(r.entity for r in results))
        columns: tuple[str, ...] = ("entity",)
        rows = [({"entity": n}, EntityBasis(n)) for n in names]
        if not rows:
            raise InvalidInput(f"{measures}: no results for the contract's measures "
                               f"({', '.join(t.measure for t in scheme.measures)})")
    else:
        columns, rows = read_entities(entities, scheme)
        listed = {b.entity for _, b in rows}
        unknown = sorted({r.entity for r in results} - listed)
        if unknown:
            raise InvalidInput(f"{measures}: results for entities not in {entities}: "
                               f"{', '.join(unknown[:5])}; add them there or remove them")
    outcome = settle_p4p(results, scheme, [b for _, b in rows])
    return SettledP4p(columns, tuple((v, s) for (v, _), s in
                                     zip(rows, outcome.settlements, strict=True)), outcome)


def result_fields(s: P4pSettlement) -> dict[str, str]:
    return {
        "measures_scored": str(s.measures_scored), "score": rate_text(s.score),
        "max_incentive": money_text(s.max_incentive), "bonus": money_text(s.bonus),
        "withheld": money_text(s.withheld), "withhold_returned": money_text(
            s.withhold_returned), "net_incentive": money_text(s.net_incentive),
    }


def detail_rows(settlements: Sequence[P4pSettlement]) -> list[dict[str, str]]:
    return [{
        "entity": s.entity, "measure": m.measure, "weight": str(m.weight),
        "rate": rate_text(m.rate), "denominator": "" if m.denominator is None
        else str(m.denominator), "scored": "true" if m.scored else "false",
        "credit": rate_text(m.credit) if m.scored else "",
        "points": "" if m.points is None else str(m.points), "reason": m.reason,
    } for s in settlements for m in s.measures]


def write_settlements(path: Path, settled: SettledP4p, detail: Path | None = None) -> None:
    """One row per entity (atomic); with ``detail``, one row per entity and measure."""
    if detail is not None:
        write_csv(detail, DETAIL_COLUMNS, detail_rows([s for _, s in settled.rows]))
    write_csv(path, (*settled.columns, *RESULT_COLUMNS), settled.output_rows())
