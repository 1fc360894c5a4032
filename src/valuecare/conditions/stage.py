"""The ``care_cycles`` stage: every claim line organised around medical conditions.

Writes ``care_cycles`` (one row per cycle) and ``care_cycle_services`` (which claim lines
belong to which cycle and phase).  Steps: prepare lines and stays
(:mod:`~valuecare.conditions.triggers`), build cycles per condition kind
(:mod:`~valuecare.conditions.episodes`, :mod:`~valuecare.conditions.chronic`,
:mod:`~valuecare.conditions.segments`), give each line to one cycle and a phase
(:mod:`~valuecare.conditions.assign`).  Reversals and adjustments are assigned like their
originals, so sums over a cycle are net amounts.  Lines outside every cycle are counted
and their paid reported in the run notes (``lines_unassigned``, ``paid_unassigned``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ibis

from valuecare.conditions.assign import CYCLE_COLUMNS, choose, cycle_totals, services
from valuecare.conditions.chronic import chronic_cycles, diagnosis_cycles, period_candidates
from valuecare.conditions.episodes import acute_candidates, acute_cycles, warranty_events
from valuecare.conditions.library import Library, load_library
from valuecare.conditions.segments import segment_cycles
from valuecare.conditions.triggers import prepare_lines, stays, trigger_events
from valuecare.model.workspace import Run
from valuecare.pipeline.claims_summary import MONEY
from valuecare.pipeline.registry import Stage


@contextlib.contextmanager
def scratch(run: Run) -> Iterator[Any]:
    """Materialise intermediate tables for this run; they are dropped afterwards.

    Named like run tables (``cc_scratch_<name>__<run_id>``) so a killed run's leftovers are
    swept when the workspace next opens.
    """
    engine = run.workspace.engine
    made: list[str] = []

    def put(name: str, expr: ibis.Table) -> ibis.Table:
        physical = run.physical_name(f"cc_scratch_{name}")
        engine.write(physical, expr)
        made.append(physical)
        return engine.read(physical)

    try:
        yield put
    finally:
        for physical in made:
            with contextlib.suppress(Exception):
                engine.drop(physical)


def death_dates(run: Run) -> ibis.Table | None:
    """Earliest known date of death per person (``death`` table and ``member``)."""
    parts = []
    if run.has_table("death"):
        d = run.table("death")
        parts.append(d.select("person_id", "death_date"))
    if run.has_table("member"):
        m = run.table("member")
        parts.append(m.filter(m.death_date.notnull()).select("person_id", "death_date"))
    if not parts:
        return None
    u = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return u.group_by("person_id").aggregate(death_date=u.death_date.min())


def _union(parts: list[ibis.Table]) -> ibis.Table:
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def build_cycles(run: Run, library: Library) -> dict[str, Any]:
    """Write ``care_cycles`` and ``care_cycle_services``; return the run notes."""
    deaths = death_dates(run)
    with scratch(run) as put:
        lines = put("lines", prepare_lines(run.table("medical_claim")))
        stay_claims = put("stays", stays(lines))
        cycle_parts: list[ibis.Table] = []
        warranties: list[ibis.Table] = []
        per_cond: list[tuple[Any, ibis.Table]] = []
        for cond in library.conditions:
            if cond.kind == "acute_episode":
                c = acute_cycles(trigger_events(lines, stay_claims, cond), cond, deaths)
            elif cond.kind == "chronic_year":
                c = chronic_cycles(lines, cond, deaths)
            elif cond.kind == "diagnosis_episode":
                c = diagnosis_cycles(lines, cond, deaths)
            else:
                continue
            c = put(f"cycles_{cond.id}", c.select(*CYCLE_COLUMNS))
            per_cond.append((cond, c))
            cycle_parts.append(c)
            if cond.warranty is not None:
                warranties.append(warranty_events(lines, c, cond))
        segs = library.of_kind("primary_care_segment")
        if segs and run.has_table("member") and run.has_table("member_months"):
            s = segment_cycles(lines, run.table("member_months"), run.table("member"), segs,
                               deaths)
            if s is not None:
                s = put("cycles_segments", s.select(*CYCLE_COLUMNS))
                cycle_parts.append(s)
                per_cond += [(cond, s.filter(s.condition == cond.id)) for cond in segs]
        cycles = put("cycles", _union(cycle_parts))
        cands = []
        for cond, c in per_cond:
            cands.append(acute_candidates(lines, c, cond) if cond.kind == "acute_episode"
                         else period_candidates(lines, c, cond))
        chosen = put("chosen", choose(_union(cands)))
        svc = run.write("care_cycle_services", services(lines, chosen, cycles, library))
        run.write("care_cycles", cycle_totals(cycles, svc,
                                              _union(warranties) if warranties else None))
        notes = _notes(lines, svc)
    cc = run.table("care_cycles")
    by = cc.group_by("condition").aggregate(n=cc.count()).to_pyarrow().to_pylist()
    notes["cycles"] = {r["condition"]: int(r["n"])
                       for r in sorted(by, key=lambda r: r["condition"])}
    return notes


def _notes(lines: ibis.Table, svc: ibis.Table) -> dict[str, Any]:
    """Money conservation: total = assigned + unassigned lines and paid."""
    tot = lines.aggregate(n=lines.count(), paid=lines.paid_amount.sum().cast(MONEY)
                          ).to_pyarrow().to_pylist()[0]
    asg = svc.aggregate(n=svc.count(), paid=svc.paid_amount.sum().cast(MONEY)
                        ).to_pyarrow().to_pylist()[0]
    paid_total = Decimal(tot["paid"] or 0)
    paid_assigned = Decimal(asg["paid"] or 0)
    return {
        "lines_total": int(tot["n"]), "lines_assigned": int(asg["n"]),
        "lines_unassigned": int(tot["n"]) - int(asg["n"]),
        "paid_total": str(paid_total), "paid_assigned": str(paid_assigned),
        "paid_unassigned": str(paid_total - paid_assigned),
    }


def _stage(run: Run) -> dict[str, Any]:
    return build_cycles(run, load_library())


CYCLES_STAGE = Stage(
    name="care_cycles",
    needs=("medical_claim", "member", "member_months"),
    writes=("care_cycles", "care_cycle_services"),
    func=_stage,
    description="Care cycles per medical condition and the claim lines in each cycle.",
)


def _volumes_stage(run: Run) -> dict[str, Any]:
    from valuecare.conditions.volumes import volumes_table

    t = run.write("condition_volumes", volumes_table(run.table("care_cycles"), load_library()))
    below = t.filter(t.below_min_volume).count().to_pyarrow().as_py()
    return {"providers_below_min_volume": int(below or 0)}


def _site_stage(run: Run) -> dict[str, Any]:
    from valuecare.conditions.site_of_care import site_of_care_table

    run.write("site_of_care", site_of_care_table(run.table("care_cycle_services")))
    return {}


VOLUMES_STAGE = Stage(
    name="condition_volumes",
    needs=("care_cycles",),
    writes=("condition_volumes",),
    func=_volumes_stage,
    description="Cases per provider and year for each condition, against volume standards.",
)

SITE_STAGE = Stage(
    name="site_of_care",
    needs=("care_cycle_services",),
    writes=("site_of_care",),
    func=_site_stage,
    description="Settings and facilities delivering each phase of each condition, "
    "paid per service.",
)

STAGES: list[Stage] = [CYCLES_STAGE, VOLUMES_STAGE, SITE_STAGE]
