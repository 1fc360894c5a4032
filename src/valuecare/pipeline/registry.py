"""Stage registry and the runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from valuecare.errors import WorkspaceError
from valuecare.model.workspace import Run, Workspace


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: reads ``needs`` (canonical or earlier results), writes ``writes``."""

    name: str
    needs: tuple[str, ...]
    writes: tuple[str, ...]
    func: Callable[[Run], dict[str, Any] | None]
    description: str


@dataclass
class RunReport:
    run_id: str
    stages: list[str]
    row_counts: dict[str, int]
    timings: dict[str, float]
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _stages() -> list[Stage]:
    from valuecare.compare import stage as compare
    from valuecare.conditions import stage as conditions
    from valuecare.costing import stage as costing
    from valuecare.outcomes import stage as outcomes
    from valuecare.pipeline import claims_summary, member_months
    from valuecare.risk import stage as risk

    return [member_months.STAGE, claims_summary.HEADER_STAGE, claims_summary.PMPM_STAGE,
            *conditions.STAGES, *costing.STAGES, *outcomes.STAGES, *risk.STAGES, *compare.STAGES]


STAGES: list[Stage] = []


def registered() -> list[Stage]:
    if not STAGES:
        STAGES.extend(_stages())
    return STAGES


def run_pipeline(ws: Workspace, stages: list[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> RunReport:
    """Run the named stages (default: all) as one recorded run; publish on success."""
    available = registered()
    names = [s.name for s in available]
    if stages:
        unknown = [s for s in stages if s not in names]
        if unknown:
            raise WorkspaceError(
                f"unknown stage(s) {', '.join(unknown)}; stages are: {', '.join(names)}"
            )
    chosen = [s for s in available if not stages or s.name in stages]
    skipped: dict[str, str] = {}
    if not stages:
        # Everything that can run: a format that gives no claims (an EHR extract, say)
        # still gets the stages its tables feed; the others are listed with the reason.
        runnable: list[Stage] = []
        made: set[str] = set()
        for s in chosen:
            lacking = [n for n in s.needs if not ws.has_table(n) and n not in made]
            if lacking:
                skipped[s.name] = "needs " + ", ".join(lacking)
                continue
            runnable.append(s)
            made.update(s.writes)
        if not runnable:
            raise WorkspaceError(
                f"workspace {ws.path} has none of the tables the stages need; load data "
                "first (`valuecare load DIR`)")
        chosen = runnable
    missing = sorted({n for s in chosen for n in s.needs
                      if not ws.has_table(n) and not any(n in c.writes for c in chosen)})
    if missing:
        raise WorkspaceError(
            f"workspace {ws.path} has no {', '.join(missing)} table yet; load data first "
            "(`valuecare load DIR`)"
        )
    started = time.perf_counter()
    with ws.start_run("run", parameters={"stages": [s.name for s in chosen]}) as run:
        if skipped:
            run.notes["skipped"] = skipped
        for stage in chosen:
            if progress:
                progress(stage.name)
            with run.timed(stage.name):
                notes = stage.func(run)
            if notes:
                run.notes[stage.name] = notes
    return RunReport(run.run_id, [s.name for s in chosen], dict(run.row_counts),
                     dict(run.timings), dict(run.notes), time.perf_counter() - started)
