"""Pipeline stage ``comparison``: every provider compared on every proportion outcome.

- ``cycle_risk``: the patient covariates of each care cycle
  (:func:`~valuecare.compare.covariates.cycle_covariates`: age, sex, dual status, social
  needs, CMS-HCC score and comorbidity indices of the year before the cycle).
- ``provider_comparison``: for each condition, proportion outcome (0/1 per cycle, PROM
  MCID reached included) and role (accountable clinician, facility), one row per provider
  with observed, expected, O/E and its exact interval, risk-standardized and shrunken
  rates, funnel limits and label, alarm and the SRTR flag
  (:func:`~valuecare.compare.providers.compare_providers`).
- ``provider_value``: the same providers with their risk-adjusted cost per complete cycle
  and their value quadrant (:mod:`valuecare.compare.value`).  The cost is the TDABC cost
  for conditions the ``cycle_costs`` stage costs (those with a process map), else paid;
  ``cost_source`` and the run notes say which.

A comparison is skipped, with the reason in the run notes, when it has fewer than
``MIN_CYCLES`` measured cycles, fewer than ``MIN_EVENTS`` events (or non-events), fewer
than two providers, or when the risk model cannot be fitted.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from valuecare.compare.covariates import cycle_covariates
from valuecare.compare.providers import COVARIATES, ROLES, compare_providers
from valuecare.compare.value import VALUE_COLUMNS, provider_costs, value_table
from valuecare.errors import InvalidInput
from valuecare.model.workspace import Run
from valuecare.pipeline.registry import Stage

MIN_CYCLES = 30
MIN_EVENTS = 5

COMPARISON_SCHEMA = pa.schema([
    ("condition", pa.string()), ("measure", pa.string()), ("role", pa.string()),
    ("provider", pa.string()), ("direction", pa.string()), ("n", pa.int64()),
    ("observed", pa.float64()), ("expected", pa.float64()), ("oe", pa.float64()),
    ("oe_lower", pa.float64()), ("oe_upper", pa.float64()), ("rsr", pa.float64()),
    ("rsr_lower", pa.float64()), ("rsr_upper", pa.float64()), ("oe_shrunk", pa.float64()),
    ("rsr_shrunk", pa.float64()), ("lower_95", pa.float64()), ("upper_95", pa.float64()),
    ("lower_998", pa.float64()), ("upper_998", pa.float64()), ("label", pa.string()),
    ("alarm", pa.bool_()), ("srtr_flag", pa.bool_()), ("p_hr_gt_1_2", pa.float64()),
    ("p_hr_gt_2_5", pa.float64()), ("overall_rate", pa.float64()),
    ("covariates", pa.string()),
])
_MONEY = pa.decimal128(18, 2)
VALUE_SCHEMA = pa.schema([
    (c, pa.string()) if c in ("condition", "measure", "role", "provider", "cost_source",
                              "outcome_label", "direction", "quadrant")
    else (c, pa.int64()) if c in ("cycles_costed", "outcome_cycles")
    else (c, _MONEY) if c == "observed_cost_total"
    else (c, pa.float64())
    for c in VALUE_COLUMNS
])


def proportion_measures() -> dict[tuple[str, str], bool]:
    """(condition, measure) -> lower_is_better, for every 0/1 outcome of the library."""
    from valuecare.conditions.library import load_library
    from valuecare.outcomes.cycles import derived_measures
    from valuecare.outcomes.definitions import load_outcomes

    library = load_library()
    defs = load_outcomes(conditions=[c.id for c in library.conditions])
    out: dict[tuple[str, str], bool] = {}
    for cond, m in defs.measures():
        for mid, unit in derived_measures(m):
            if unit == "proportion":
                lower = m.direction == "lower_is_better" and not mid.endswith("_mcid")
                out[(cond, mid)] = lower
    return out


def _cycle_costs(run: Run, cycles: ibis.Table) -> ibis.Table:
    """``cycle_id, cost, source`` of complete cycles: the TDABC cost where the cycle was
    costed (``cycle_costs``, conditions with a process map), else the paid amount."""
    claims = run.table("medical_claim")
    done = cycles.filter(cycles.end_date <= claims.claim_end_date.max())
    paid = done.paid_amount.fill_null(0)
    if not run.has_table("cycle_costs"):
        return done.select("cycle_id", cost=paid, source=ibis.literal("paid"))
    tc = run.table("cycle_costs")
    tc = tc.select(_cid=tc.cycle_id, _tdabc=tc.cost_total)
    j = done.left_join(tc, done.cycle_id == tc._cid)
    costed = j._cid.notnull()
    return j.select("cycle_id", cost=costed.ifelse(j._tdabc, j.paid_amount.fill_null(0)),
                    source=costed.ifelse("tdabc", "paid"))


def _skip(d: pd.DataFrame) -> str | None:
    events = float(d["value"].sum())
    if len(d) < MIN_CYCLES:
        return f"{len(d)} measured cycles (< {MIN_CYCLES})"
    if min(events, len(d) - events) < MIN_EVENTS:
        return f"{events:g} events in {len(d)} cycles (< {MIN_EVENTS} events or non-events)"
    if d["provider"].nunique() < 2:
        return "fewer than two providers"
    return None


def _stage(run: Run) -> dict[str, Any]:
    cycles = run.table("care_cycles")
    cov = run.write("cycle_risk", cycle_covariates(cycles, run.table("member"),
                                                   run.table("medical_claim")))
    measures = proportion_measures()
    o = run.table("outcomes")
    o = o.filter((o.status == "measured") & o.measure.isin(sorted({m for _, m in measures})))
    o = o.select("condition", "measure", "cycle_id", "value", "accountable_npi",
                 "facility_npi")
    frame = o.join(cov.drop("person_id"), "cycle_id").to_pandas()
    frame["value"] = frame["value"].astype(float)
    costs = _cycle_costs(run, cycles).join(cov.drop("person_id"), "cycle_id").join(
        cycles.select("cycle_id", "condition", "accountable_npi", "facility_npi"),
        "cycle_id").to_pandas()
    covs = [c for c in COVARIATES if c in frame.columns]
    comp_rows: list[pd.DataFrame] = []
    value_rows: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    role_costs: dict[tuple[str, str], pd.DataFrame | None] = {}
    sources: dict[str, str] = {}
    for (cond, meas), d in frame.groupby(["condition", "measure"], sort=True):
        if (cond, meas) not in measures:
            continue
        lower = measures[(cond, meas)]
        for role, col in ROLES.items():
            key = f"{cond}.{meas}.{role}"
            dd = d.assign(provider=d[col])
            dd = dd[dd["provider"].notna()]
            reason = _skip(dd)
            if reason is None:
                try:
                    out = compare_providers(dd, lower_is_better=lower, covariates=tuple(covs))
                except InvalidInput as exc:
                    reason = f"risk model: {exc}"
            if reason is not None:
                skipped[key] = reason
                continue
            comp_rows.append(out.assign(
                condition=cond, measure=meas, role=role,
                direction="lower_is_better" if lower else "higher_is_better",
                overall_rate=out.attrs["overall_rate"],
                covariates=",".join(out.attrs["covariates"])))
            if (cond, role) not in role_costs:  # cost does not depend on the measure
                cc = costs[(costs["condition"] == cond) & costs[col].notna()]
                # a condition with a process map is costed by TDABC; never mix the two
                source = "tdabc" if (cc["source"] == "tdabc").any() else "paid"
                sources[cond] = source
                cc = cc[cc["source"] == source]
                role_costs[(cond, role)] = (provider_costs(cc.assign(provider=cc[col]), covs)
                                            if len(cc) else None)
            pc = role_costs[(cond, role)]
            if pc is not None:
                value_rows.append(value_table(out, pc, condition=cond, measure=meas,
                                              role=role, cost_source=sources[cond],
                                              lower_is_better=lower))
    run.write("provider_comparison", _arrow(comp_rows, COMPARISON_SCHEMA))
    run.write("provider_value", _arrow(value_rows, VALUE_SCHEMA))
    return {"compared": len(comp_rows), "skipped": skipped, "cost_source": sources}


def _arrow(parts: list[pd.DataFrame], schema: pa.Schema) -> pa.Table:
    if not parts:
        return schema.empty_table()
    parts = [p.copy() for p in parts]
    for p in parts:
        p.attrs = {}  # the funnel table in attrs would be compared by concat
    df = pd.concat(parts, ignore_index=True)
    df["provider"] = df["provider"].astype(str)
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)


STAGES: list[Stage] = [
    Stage(
        name="comparison",
        needs=("outcomes", "care_cycles", "member", "medical_claim"),
        writes=("cycle_risk", "provider_comparison", "provider_value"),
        func=_stage,
        description="Risk-adjusted provider comparison (O/E, funnel labels, SRTR flags) on "
        "every proportion outcome, and value per provider (outcome vs risk-adjusted cost).",
    ),
]
