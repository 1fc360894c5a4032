"""Value per provider and condition: risk-adjusted outcome against risk-adjusted cost.

Porter's value is outcomes per dollar over the full cycle of care.  For each condition,
role (accountable clinician or facility) and proportion outcome, a provider's point is

- **outcome**: the risk-standardized rate of :func:`~valuecare.compare.providers.
  compare_providers` (O/E × overall rate, indirect standardization, reference sheet §8.1);
- **cost**: the risk-adjusted cost per complete cycle, (Σ observed cost / Σ expected cost)
  × overall mean cost, where each cycle's expected cost comes from a log-link GLM with a
  Poisson variance on the same patient covariates (the "GLM with log link" family
  recommended for skewed health-care costs: Manning & Mullahy, J Health Econ 2001;
  Blough, Madden & Hornbrook, J Health Econ 1999 for the quasi-Poisson variant).  The cost
  is the TDABC cost of the cycle when the ``cycle_costs`` table exists, else the paid
  amount (``cost_source`` says which).  A cycle counts only once its window has closed
  inside the data (``end_date`` on or before the last claim date), so partial cycles do not
  look cheap.

The quadrant is read against the overall rate and the overall mean cost: "better outcome,
lower cost" is where value is highest.  ``outcome_label`` carries the funnel label so that
a point is not over-read: most providers are "as expected" on outcome.

Money: observed totals are summed exactly (``Decimal``); the risk-adjusted figures are
estimates and stay floating point (they settle nothing).
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from valuecare.errors import InvalidInput

VALUE_COLUMNS = ("condition", "measure", "role", "provider", "cost_source", "cycles_costed",
                 "observed_cost_total", "observed_cost_per_cycle", "expected_cost_per_cycle",
                 "cost_oe", "risk_adjusted_cost_per_cycle", "overall_cost_per_cycle",
                 "outcome_cycles", "rsr", "overall_rate", "outcome_label", "direction",
                 "quadrant")


def expected_costs(df: pd.DataFrame, covariates: list[str], *, cost: str = "cost") -> np.ndarray:
    """Expected cost per row from a log-link Poisson-variance GLM on ``covariates``.

    Covariates that do not vary are dropped; at most one covariate per 10 rows.  With no
    usable covariate the expectation is the overall mean.  Raises :class:`InvalidInput`
    on negative costs.
    """
    y = df[cost].astype(float).to_numpy()
    if (y < 0).any():
        raise InvalidInput("cycle costs must not be negative")
    usable = [c for c in covariates if c in df.columns and df[c].nunique() > 1]
    usable = usable[: max(0, len(df) // 10)]
    if not usable or y.sum() == 0:
        return np.full(len(df), y.mean())
    x = sm.add_constant(df[usable].astype(float).to_numpy(), has_constant="add")
    scale = y.mean()  # fit on cost / mean: same coefficients, better conditioned
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-integer "counts" are intended (quasi-Poisson)
        fit = sm.GLM(y / scale, x, family=sm.families.Poisson()).fit()
    mu = np.asarray(fit.predict(x)) * scale
    # a log-link GLM with an intercept reproduces the total (score equations); renormalize
    # away rounding so that Σ expected = Σ observed exactly as indirect standardization needs
    return mu * (y.sum() / mu.sum())


def provider_costs(df: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Per provider: ``provider, cycles_costed, observed_cost_total`` (Decimal),
    ``observed_cost_per_cycle, expected_cost_per_cycle, cost_oe,
    risk_adjusted_cost_per_cycle, overall_cost_per_cycle``.

    ``df`` has one row per complete cycle: ``provider``, ``cost`` (Decimal or number, in
    dollars) and the covariates.
    """
    df = df[df["provider"].notna()].copy()
    if df.empty:
        raise InvalidInput("no complete cycles with a provider to cost")
    # exact totals in integer cents (costs are dollars with at most 2 decimals)
    df["_cents"] = [int((Decimal(str(v)) * 100).to_integral_value()) for v in df["cost"]]
    df["_exp"] = expected_costs(df.assign(cost=df["_cents"] / 100.0), covariates)
    overall = float(df["_cents"].sum()) / 100.0 / len(df)
    g = df.groupby("provider", sort=True)
    out = pd.DataFrame({
        "cycles_costed": g.size(),
        "_c": g["_cents"].sum(),
        "_exp": g["_exp"].sum(),
    }).reset_index()
    out["observed_cost_total"] = [Decimal(int(c)).scaleb(-2) for c in out["_c"]]
    out["_obs"] = out["_c"] / 100.0
    out["observed_cost_per_cycle"] = out["_obs"] / out["cycles_costed"]
    out["expected_cost_per_cycle"] = out["_exp"] / out["cycles_costed"]
    out["cost_oe"] = np.where(out["_exp"] > 0, out["_obs"] / out["_exp"].where(out["_exp"] > 0, 1),
                              np.nan)
    out["risk_adjusted_cost_per_cycle"] = out["cost_oe"] * overall
    out["overall_cost_per_cycle"] = overall
    return out.drop(columns=["_obs", "_exp"])


def quadrant(rsr: float, overall_rate: float, cost: float, overall_cost: float,
             lower_is_better: bool) -> str:
    """"better|worse outcome, lower|higher cost" against the overall rate and mean cost
    (ties count as better outcome / lower cost)."""
    better = rsr <= overall_rate if lower_is_better else rsr >= overall_rate
    return (("better" if better else "worse") + " outcome, "
            + ("lower" if cost <= overall_cost else "higher") + " cost")


def value_table(comparison: pd.DataFrame, costs: pd.DataFrame, *, condition: str,
                measure: str, role: str, cost_source: str,
                lower_is_better: bool) -> pd.DataFrame:
    """Join one comparison (:func:`compare_providers` output) with
    :func:`provider_costs`; one row per provider present in both (columns
    :data:`VALUE_COLUMNS`)."""
    rate = float(comparison.attrs.get("overall_rate", np.nan))
    c = comparison[["provider", "n", "rsr", "label"]].rename(
        columns={"n": "outcome_cycles", "label": "outcome_label"})
    j = costs.merge(c, on="provider", how="inner")
    if j.empty:
        return pd.DataFrame(columns=list(VALUE_COLUMNS))
    j["condition"], j["measure"], j["role"] = condition, measure, role
    j["cost_source"] = cost_source
    j["overall_rate"] = rate
    j["direction"] = "lower_is_better" if lower_is_better else "higher_is_better"
    j["quadrant"] = [quadrant(r, rate, x, o, lower_is_better) for r, x, o in
                     zip(j["rsr"], j["risk_adjusted_cost_per_cycle"],
                         j["overall_cost_per_cycle"], strict=True)]
    return j[list(VALUE_COLUMNS)]
