"""The pipeline behind ``valuecare run``: stages that read canonical tables and write results.

Each stage is registered with the tables it needs and the tables it writes; ``run_pipeline``
runs them in order inside one recorded run, so a run publishes all its results together
or none (see :mod:`valuecare.model.workspace`).  Later capabilities add stages here.
"""

from __future__ import annotations

from valuecare.pipeline.registry import STAGES, RunReport, Stage, run_pipeline

__all__ = ["STAGES", "RunReport", "Stage", "run_pipeline"]
