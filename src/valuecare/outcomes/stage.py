"""Pipeline stages of the outcomes layer.

- ``outcomes``: ``readmissions`` (every inpatient stay as a candidate index stay) and the
  long ``outcomes`` table (every care cycle x every outcome measure of its condition).
- ``measure_results``: ``measure_members`` (member-level quality-measure populations with
  reasons) and ``measure_results`` (numerator, denominator, exclusions and rate per
  measure and entity: overall, payer, clinician, facility).
- ``utilization``: ``attribution`` and ``utilization`` (admissions, ED visits, imaging per
  1,000 and PMPM by service category, per payer and per attributed provider).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from valuecare.conditions.library import load_library
from valuecare.conditions.stage import death_dates, scratch
from valuecare.conditions.triggers import prepare_lines, stays
from valuecare.errors import InvalidInput
from valuecare.model.workspace import Run
from valuecare.outcomes.cycles import Inputs, evaluate
from valuecare.outcomes.definitions import load_outcomes
from valuecare.outcomes.readmissions import coverage_islands, readmissions, stay_table
from valuecare.pipeline.registry import Stage


def data_as_of(lines: ibis.Table) -> date:
    """The last date of data: the latest service date of an active claim line."""
    v = lines.filter(lines.active).svc_date.max().to_pyarrow().as_py()
    return v or date(1900, 1, 1)


def _union(parts: list[ibis.Table]) -> ibis.Table:
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def _prom_scores(run: Run) -> ibis.Table | None:
    if not run.has_table("observation"):
        return None
    from valuecare.outcomes.proms import score_items

    return score_items(run.table("observation"))


def _outcomes_stage(run: Run) -> dict[str, Any]:
    library = load_library()
    outcomes = load_outcomes(conditions=[c.id for c in library.conditions])
    deaths = death_dates(run)
    islands = coverage_islands(run.table("eligibility")) if run.has_table("eligibility") \
        else None
    with scratch(run) as put:
        lines = put("oc_lines", prepare_lines(run.table("medical_claim"), with_poa=True))
        as_of = data_as_of(lines)
        st = put("oc_stays", stay_table(stays(lines)))
        if islands is not None:
            islands = put("oc_islands", islands)
        if deaths is not None:
            deaths = put("oc_deaths", deaths)
        births = (run.table("member").select("person_id", "birth_date")
                  if run.has_table("member") else None)
        run.write("readmissions", readmissions(st, deaths=deaths, islands=islands,
                                               birth_dates=births, as_of=as_of))
        scores = _prom_scores(run)
        if scores is not None:
            scores = put("oc_prom_scores", scores)
        inp = Inputs(cycles=run.table("care_cycles"), lines=lines, stays=st, deaths=deaths,
                     islands=islands, as_of=as_of,
                     observations=run.table("observation") if run.has_table("observation")
                     else None,
                     prom_scores=scores, services=run.table("care_cycle_services"))
        inp.cycles = put("oc_cycles", inp.cycles)
        # one query per condition: smaller plans compile and optimise much faster than one
        # union of every measure of every condition (on both engines)
        per_condition = [put(f"oc_out_{s.condition}",
                             _union(evaluate(inp, outcomes, [s.condition])))
                         for s in outcomes.sets]
        out = run.write("outcomes", _union(per_condition))
    by = out.group_by("status").aggregate(n=out.count()).to_pyarrow().to_pylist()
    r = run.table("readmissions")
    rr = r.aggregate(idx=r.index_eligible.sum(), re=r.readmitted_30d.sum()
                     ).to_pyarrow().to_pylist()[0]
    return {"as_of": as_of.isoformat(),
            "outcome_rows": {x["status"]: int(x["n"]) for x in sorted(
                by, key=lambda x: x["status"])},
            "index_stays": int(rr["idx"] or 0), "readmissions_30d": int(rr["re"] or 0)}


OUTCOMES_STAGE = Stage(
    name="outcomes",
    needs=("medical_claim", "care_cycles", "care_cycle_services"),
    writes=("readmissions", "outcomes"),
    func=_outcomes_stage,
    description="Outcomes per care cycle by Porter's tiers (survival, PROMs, complications, "
    "readmissions, recurrence) and 30-day readmissions per stay.",
)


#: measurement periods kept: the latest years with member months (an EHR extract such as
#: Synthea's spans whole lives; contracts pay on recent years)
QUALITY_YEARS = 5


def quality_years(run: Run) -> list[int]:
    """Measurement periods: the calendar years with member months, the latest
    ``$VALUECARE_QUALITY_YEARS`` of them (default 5; ``all`` for every year)."""
    import os

    mm = run.table("member_months")
    years = sorted(int(y) for y in mm.select("year").distinct().to_pyarrow().column(0)
                   .to_pylist() if y is not None)
    keep = os.environ.get("VALUECARE_QUALITY_YEARS", str(QUALITY_YEARS)).strip().lower()
    if keep == "all":
        return years
    try:
        n = int(keep)
    except ValueError as exc:
        raise InvalidInput(f"VALUECARE_QUALITY_YEARS={keep!r}: give a number of years or "
                           "'all'") from exc
    return years[-n:] if n > 0 else years


def _results_stage(run: Run) -> dict[str, Any]:
    from valuecare.outcomes.quality import quality_members
    from valuecare.outcomes.quality_defs import MEASURES
    from valuecare.outcomes.quality_rules import quality_lines
    from valuecare.outcomes.results import (
        empty_quality_rows,
        outcome_results,
        quality_results,
        readmission_results,
    )

    library = load_library()
    defs = load_outcomes(conditions=[c.id for c in library.conditions])
    tables = {n: run.table(n) for n in ("member", "eligibility", "medical_claim",
                                        "pharmacy_claim", "observation") if run.has_table(n)}
    members = None
    with scratch(run) as put:
        lines = put("q_lines", quality_lines(tables))
        parts = [put(f"q_{measure}_{year}", quality_members(
                     tables, measure, period_start=date(year, 1, 1),
                     period_end=date(year, 12, 31), lines=lines))
                 for year in quality_years(run) for measure in MEASURES]
        if parts:
            members = run.write("measure_members", _union(parts))
    binary = {f"{cond}.{mid}": unit == "proportion"
              for cond, m in defs.measures() for mid, unit in derived(m)}
    results = [outcome_results(run.table("outcomes"), binary),
               readmission_results(run.table("readmissions"))]
    years = quality_years(run)
    present: set[tuple[str, int]] = set()
    if members is not None:
        results.append(quality_results(members))
        got = members.select("measure", y=members.period_start.year()).distinct()
        present = {(r["measure"], int(r["y"])) for r in got.to_pyarrow().to_pylist()}
    empty = empty_quality_rows(present, list(MEASURES), years)
    if empty is not None:
        results.append(empty)
    out = run.write("measure_results", _union(results))
    n = out.count().to_pyarrow().as_py()
    return {"measure_results": int(n or 0)}


def derived(m: Any) -> list[tuple[str, str]]:
    from valuecare.outcomes.cycles import derived_measures

    return derived_measures(m)


RESULTS_STAGE = Stage(
    name="measure_results",
    needs=("member", "eligibility", "medical_claim", "member_months", "outcomes",
           "readmissions"),
    writes=("measure_members", "measure_results"),
    func=_results_stage,
    description="Quality measures (CMS122, CMS165, CMS125, CMS130, CMS2) per member with "
    "reasons, and numerator/denominator/rate per measure and entity.",
)


def _utilization_stage(run: Run) -> dict[str, Any]:
    from valuecare.outcomes.utilization import attribution, utilization_tables

    with scratch(run) as put:
        lines = put("ut_lines", prepare_lines(run.table("medical_claim")))
        st = put("ut_stays", stay_table(stays(lines)))
        providers = run.table("provider") if run.has_table("provider") else None
        att = run.write("attribution", attribution(lines, providers))
        util, pm = utilization_tables(lines, st, run.table("member_months"), att)
    run.write("utilization", util)
    run.write("utilization_pmpm", pm)
    return {"attributed_member_years": run.row_counts["attribution"]}


UTILIZATION_STAGE = Stage(
    name="utilization",
    needs=("medical_claim", "member_months"),
    writes=("attribution", "utilization", "utilization_pmpm"),
    func=_utilization_stage,
    description="Attribution to a primary-care clinician; admissions, ED visits and imaging "
    "per 1,000 and PMPM by service category, per payer and attributed provider.",
)

STAGES: list[Stage] = [OUTCOMES_STAGE, RESULTS_STAGE, UTILIZATION_STAGE]
