"""The ``cycle_costs`` stage: time-driven activity-based cost of every care cycle.

Reads ``care_cycles`` and ``care_cycle_services`` (the conditions stage), ``medical_claim``
and ``provider``, and the costing inputs (:mod:`valuecare.costing.inputs`: the reference
catalog and process maps, or an organization's own in ``$VALUECARE_COSTING_DIR`` or
``<workspace>/costing``).  Writes:

- ``cycle_costs`` - one row per cycle of a condition with a process map: TDABC cost (by
  phase and by kind of resource), the standard cost of the same activities, and the paid,
  allowed and billed amounts beside it;
- ``cycle_cost_detail`` - cost per cycle, phase, step, resource and site (minutes or items,
  rate, cost); its cents add up to the cycle totals exactly;
- ``resource_capacity`` - used against practical capacity and unused capacity cost per site,
  resource and year (:mod:`valuecare.costing.capacity`);
- ``cost_opportunities`` - cost-reduction opportunities ranked by size
  (:mod:`valuecare.costing.opportunities`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.conditions.library import load_library
from valuecare.conditions.stage import scratch
from valuecare.costing import opportunities as opp
from valuecare.costing.capacity import capacity_rows, used_minutes
from valuecare.costing.engine import cost_lines, cycle_totals, detail, quantities
from valuecare.costing.inputs import costing_dir, load_inputs
from valuecare.errors import CostingDefinitionError
from valuecare.model.workspace import Run, file_fingerprint
from valuecare.pipeline.registry import Stage


def costed_conditions(map_ids: list[str]) -> list[str]:
    """Conditions with a process map; a map for an unknown condition is an error."""
    known = {c.id for c in load_library().conditions}
    unknown = sorted(set(map_ids) - known)
    if unknown:
        raise CostingDefinitionError(
            f"process map(s) {', '.join(unknown)} name no condition of the library; "
            f"conditions are: {', '.join(sorted(known))}")
    return sorted(map_ids)


def _stage(run: Run) -> dict[str, Any]:
    folder = costing_dir(run.workspace.path)
    inputs = load_inputs(folder)
    run.inputs.extend(file_fingerprint(Path(f)) for f in inputs.files)
    conditions = costed_conditions(list(inputs.maps.maps))
    provider = run.table("provider") if run.has_table("provider") else None
    with scratch(run) as put:
        lines, drivers = cost_lines(run.table("care_cycle_services"), run.table("medical_claim"),
                                    provider, inputs, conditions)
        lines = put("cost_lines", lines)
        q = put("cost_quantities", quantities(lines, drivers, inputs, conditions))
        det = run.write("cycle_cost_detail", detail(q, inputs))
        cc = run.write("cycle_costs", cycle_totals(run.table("care_cycles"), lines, det,
                                                   conditions))
        years = sorted(int(y) for y in lines.select("year").distinct().to_pyarrow()
                       .column(0).to_pylist() if y is not None)
        cap = capacity_rows(inputs.catalog, used_minutes(q), years)
        run.write("resource_capacity", cap)
        rows = (opp.setting_opportunities(lines, q, inputs)
                + opp.skill_mix_opportunities(q, inputs)
                + opp.cycle_time_opportunities(lines, det, inputs)
                + opp.capacity_opportunities(cap)
                + opp.low_value_opportunities(lines, q, inputs))
        run.write("cost_opportunities", opp.opportunity_table(rows))
        notes = _notes(cc, lines)
    notes["costing_folder"] = str(folder) if folder else None
    return notes


def _notes(cc: Any, lines: Any) -> dict[str, Any]:
    by = cc.group_by("condition").aggregate(n=cc.count(), cost=cc.cost_total.sum(),
                                            paid=cc.paid_amount.sum()).to_pyarrow().to_pylist()
    un = lines.aggregate(n=lines.count(), unmapped=lines.step.isnull().cast("int64").sum()
                         ).to_pyarrow().to_pylist()[0]
    return {
        "cycles": {r["condition"]: int(r["n"]) for r in sorted(by, key=lambda r: r["condition"])},
        "cost": {r["condition"]: str(Decimal(r["cost"] or 0))
                 for r in sorted(by, key=lambda r: r["condition"])},
        "lines": int(un["n"] or 0), "lines_unmapped": int(un["unmapped"] or 0),
    }


STAGES: list[Stage] = [
    Stage(
        name="cycle_costs",
        needs=("care_cycles", "care_cycle_services", "medical_claim"),
        writes=("cycle_costs", "cycle_cost_detail", "resource_capacity", "cost_opportunities"),
        func=_stage,
        description="Time-driven activity-based cost of every care cycle (process maps x "
        "capacity cost rates), capacity use and ranked cost-reduction opportunities.",
    ),
]
