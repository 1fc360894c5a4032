"""``measure_results``: one row per measure, period and entity (overall, payer, clinician,
facility), in the eCQM population vocabulary.

Columns: ``measure, measure_kind, version, period_start, period_end, entity_type,
entity_id, initial_population, denominator, exclusions, exceptions, missing, numerator,
performance_denominator, rate, mean_value, completeness``.

- Quality measures (CMS122, CMS165, CMS125, CMS130, CMS2) follow eCQM population logic
  (QRDA Category III): performance rate = numerator / (denominator - exclusions -
  exceptions) = numerator / performance_denominator.
- Care-cycle outcomes (``hip_knee.complication_90d`` ...) per cycle year: every cycle is
  in the denominator; ``excluded`` and ``censored`` cycles are exclusions; ``missing``
  counts cycles whose data were not recorded (an unreturned PROM); proportions report
  ``rate``, continuous measures (days, PROM points) ``mean_value``.  ``completeness`` =
  performance_denominator / (denominator - exclusions - exceptions): for a PROM measure
  this is the paired response rate.
- ``READMIT_30D``: the claims-based all-cause readmission rate (HWR-style index rules, see
  :mod:`valuecare.outcomes.readmissions`) per discharge year, numerator = readmitted
  index stays, exclusions = stays failing an index rule.
"""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa

RESULT_COLUMNS = ["measure", "measure_kind", "version", "period_start", "period_end",
                  "entity_type", "entity_id", "initial_population", "denominator",
                  "exclusions", "exceptions", "missing", "numerator",
                  "performance_denominator", "rate", "mean_value", "completeness"]


def _finish(t: ibis.Table) -> ibis.Table:
    perf = t.performance_denominator
    eligible = t.denominator - t.exclusions - t.exceptions
    rate = ibis.cases((perf > 0, t.numerator.cast("float64") / perf.cast("float64")),
                      else_=ibis.null("float64"))
    comp = ibis.cases((eligible > 0, perf.cast("float64") / eligible.cast("float64")),
                      else_=ibis.null("float64"))
    return t.mutate(rate=ibis.cases((t.numerator.notnull(), rate), else_=ibis.null("float64")),
                    completeness=comp).select(*RESULT_COLUMNS)


def _entities(t: ibis.Table, entities: dict[str, ibis.Value | None]) -> list[ibis.Table]:
    """``t`` once per entity type, with ``entity_type`` and ``entity_id`` set."""
    out = []
    for etype, col in entities.items():
        x = t.mutate(entity_type=ibis.literal(etype),
                     entity_id=(col if col is not None else ibis.literal("all")).cast("string"))
        out.append(x.filter(x.entity_id.notnull()))
    return out


def outcome_results(outcomes: ibis.Table, binary: dict[str, bool]) -> ibis.Table:
    """Summarise the ``outcomes`` table; ``binary`` maps ``condition.measure`` to whether it
    is a proportion."""
    o = outcomes.mutate(_mid=outcomes.condition + "." + outcomes.measure)
    parts = []
    for t in _entities(o, {"overall": None, "payer": o.payer, "clinician": o.accountable_npi,
                           "facility": o.facility_npi}):
        g = t.group_by(["_mid", "year", "entity_type", "entity_id"]).aggregate(
            initial_population=t.count(),
            exclusions=t.status.isin(["excluded", "censored"]).sum(),
            missing=(t.status == "missing").sum(),
            performance_denominator=(t.status == "measured").sum(),
            _sum=ibis.cases((t.status == "measured", t.value), else_=ibis.null("float64"))
            .sum(),
            mean_value=ibis.cases((t.status == "measured", t.value),
                                  else_=ibis.null("float64")).mean(),
        )
        parts.append(g)
    g = parts[0] if len(parts) == 1 else ibis.union(*parts)
    props = [k for k, v in binary.items() if v]
    is_prop = g._mid.isin(props) if props else ibis.literal(False)
    g = g.mutate(
        measure=g._mid, measure_kind=ibis.literal("care_cycle_outcome"),
        version=ibis.literal("valuecare-1"),
        period_start=ibis.date(g.year, 1, 1), period_end=ibis.date(g.year, 12, 31),
        denominator=g.initial_population, exceptions=ibis.literal(0).cast("int64"),
        numerator=ibis.cases((is_prop, g._sum.round().cast("int64")),
                             else_=ibis.null("int64")),
        mean_value=ibis.cases((is_prop, ibis.null("float64")), else_=g.mean_value))
    return _finish(g.mutate(exclusions=g.exclusions.cast("int64"),
                            missing=g.missing.cast("int64"),
                            performance_denominator=g.performance_denominator.cast("int64"),
                            initial_population=g.initial_population.cast("int64"),
                            denominator=g.denominator.cast("int64")))


def readmission_results(readmissions: ibis.Table) -> ibis.Table:
    """``READMIT_30D`` per discharge year: overall, payer and facility."""
    r = readmissions.mutate(year=readmissions.discharge_date.year().cast("int32"))
    parts = []
    for t in _entities(r, {"overall": None, "payer": r.payer, "facility": r.facility_npi}):
        parts.append(t.group_by(["year", "entity_type", "entity_id"]).aggregate(
            initial_population=t.count(),
            exclusions=(~t.index_eligible).sum(),
            numerator=t.readmitted_30d.fill_null(False).sum(),
            performance_denominator=t.index_eligible.sum()))
    g = ibis.union(*parts)
    g = g.mutate(
        measure=ibis.literal("READMIT_30D"), measure_kind=ibis.literal("claims_quality"),
        version=ibis.literal("HWR-2021-outline"),
        period_start=ibis.date(g.year, 1, 1), period_end=ibis.date(g.year, 12, 31),
        initial_population=g.initial_population.cast("int64"),
        denominator=g.initial_population.cast("int64"),
        exclusions=g.exclusions.cast("int64"), exceptions=ibis.literal(0).cast("int64"),
        missing=ibis.literal(0).cast("int64"), numerator=g.numerator.cast("int64"),
        performance_denominator=g.performance_denominator.cast("int64"),
        mean_value=ibis.null("float64"))
    return _finish(g)


def quality_results(members: ibis.Table) -> ibis.Table:
    """eCQM summaries of ``measure_members`` per measure and period: overall, payer and
    clinician (the provider with most qualifying encounters)."""
    m = members
    parts = []
    for t in _entities(m, {"overall": None, "payer": m.payer, "clinician": m.provider_npi}):
        parts.append(t.group_by(["measure", "version", "period_start", "period_end",
                                 "entity_type", "entity_id"]).aggregate(
            initial_population=t.initial_population.sum(),
            denominator=t.denominator.sum(),
            exclusions=(t.denominator & t.exclusion).sum(),
            exceptions=(t.denominator & ~t.exclusion & t.exception).sum(),
            numerator=(t.denominator & ~t.exclusion & ~t.exception & t.numerator).sum()))
    g = ibis.union(*parts)
    g = g.mutate(
        measure_kind=ibis.literal("ecqm"),
        initial_population=g.initial_population.cast("int64"),
        denominator=g.denominator.cast("int64"), exclusions=g.exclusions.cast("int64"),
        exceptions=g.exceptions.cast("int64"), missing=ibis.literal(0).cast("int64"),
        numerator=g.numerator.cast("int64"),
        performance_denominator=(g.denominator - g.exclusions - g.exceptions).cast("int64"),
        mean_value=ibis.null("float64"))
    return _finish(g)


def empty_quality_rows(present: set[tuple[str, int]], measures: list[str],
                       years: list[int]) -> ibis.Table | None:
    """Overall zero rows for the measure-years with an empty initial population, so a
    report shows "0 eligible" instead of leaving the measure out.  ``present``: the
    (measure, year) pairs that already have results."""
    from valuecare.outcomes.quality_defs import load_measures

    lib = load_measures()
    rows = [(mid, f"{mid}v{lib.get(mid).version_for(y).version}", y)
            for mid in measures for y in years if (mid, y) not in present]
    if not rows:
        return None
    n = len(rows)
    zero = pa.array([0] * n, pa.int64())
    t = pa.table({
        "measure": [r[0] for r in rows], "measure_kind": ["ecqm"] * n,
        "version": [r[1] for r in rows],
        "period_start": pa.array([date(r[2], 1, 1) for r in rows], pa.date32()),
        "period_end": pa.array([date(r[2], 12, 31) for r in rows], pa.date32()),
        "entity_type": ["overall"] * n, "entity_id": ["all"] * n,
        "initial_population": zero, "denominator": zero, "exclusions": zero,
        "exceptions": zero, "missing": zero, "numerator": zero,
        "performance_denominator": zero, "rate": pa.nulls(n, pa.float64()),
        "mean_value": pa.nulls(n, pa.float64()), "completeness": pa.nulls(n, pa.float64()),
    })
    return ibis.memtable(t)
