"""Risk-adjusted comparison of providers on one outcome of one condition.

Reads the ``outcomes`` table (one row per care cycle and measure), keeps the *measured*
cycles of a proportion measure (missing, censored and excluded cycles are not outcomes),
adds patient covariates from ``member`` and ``care_cycles``, fits the expected-outcome
model on all measured cycles of the condition (indirect standardization, reference sheet
§8.1), and per accountable clinician or facility reports observed, expected, O/E with an
exact Poisson interval, the risk-standardized rate, shrunken O/E, the funnel-plot label
(Spiegelhalter 2005, ratio funnel with exact Poisson limits) and the SRTR Bayesian flag
(Salkowski et al. 2014).

Covariates (documented in ``docs/risk-and-comparison.md``) come from
:func:`valuecare.compare.covariates.cycle_covariates`: age and its square, female sex, dual
status, social needs, the CMS-HCC raw score of the year before the cycle and comorbidity
indices.  :func:`choose_covariates` keeps, in priority order, as many as the events allow
(at least ``MIN_EPV`` events per covariate, Peduzzi et al., J Clin Epidemiol 1996).

Labels follow CMS Hospital Compare's convention (a provider is "worse than expected" when
its 95% interval lies wholly on the bad side of the reference): the ratio funnel's exact 95%
limits; ``alarm`` marks a point outside the 99.8% limits (Spiegelhalter 2005's "alarm"
level).  Providers with fewer than ``MIN_LABEL_CASES`` (25) cycles keep their figures but
are labelled "too few cases", as Care Compare does for hospitals with fewer than 25 cases
("the number of cases is too small to reliably tell how well the hospital is performing",
CMS Care Compare footnote 1); their SRTR flag (a Bayesian posterior, made for small
programs) still stands.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from valuecare.compare.expected import fit_expected, provider_oe
from valuecare.compare.flags import srtr_flags
from valuecare.compare.funnel import funnel_table
from valuecare.errors import InvalidInput

COVARIATES = ("age", "female", "dual", "hcc_score", "hcc_missing", "social_needs",
              "age_sq", "elixhauser_vw", "charlson")
MIN_EPV = 10
MIN_LABEL_CASES = 25
TOO_FEW = "too few cases"
ROLES = {"clinician": "accountable_npi", "facility": "facility_npi"}


def comparison_frame(outcomes: ibis.Table, covariates: ibis.Table, condition: str,
                     measure: str, role: str = "clinician") -> pd.DataFrame:
    """Measured cycles of ``condition``/``measure``: ``cycle_id, provider, value`` and the
    covariates of :func:`~valuecare.compare.covariates.cycle_covariates`."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    o = outcomes.filter((outcomes.condition == condition) & (outcomes.measure == measure)
                        & (outcomes.status == "measured"))
    o = o.select("cycle_id", "value", provider=o[ROLES[role]])
    cv = covariates.drop("person_id") if "person_id" in covariates.columns else covariates
    df = o.join(cv, "cycle_id").to_pandas()
    if not df.empty:
        df["value"] = df["value"].astype(float)
    return df


def choose_covariates(df: pd.DataFrame, candidates: tuple[str, ...] = COVARIATES, *,
                      outcome: str = "value", min_epv: int = MIN_EPV) -> list[str]:
    """Covariates that vary, in priority order, at most one per ``min_epv`` events (of the
    rarer outcome value)."""
    y = df[outcome].astype(float)
    events = int(min(y.sum(), len(y) - y.sum()))
    room = events // min_epv
    chosen = [c for c in candidates if c in df.columns and df[c].nunique() > 1]
    return chosen[:room]


def compare_providers(df: pd.DataFrame, *, lower_is_better: bool = True,
                      covariates: tuple[str, ...] = COVARIATES,
                      shrinkage: str = "empirical_bayes",
                      min_cases: int = MIN_LABEL_CASES) -> pd.DataFrame:
    """Per provider: ``provider, n, observed, expected, oe, oe_lower, oe_upper, rsr,
    oe_shrunk, lower_95 ... upper_998`` (funnel limits), ``label, alarm, srtr_flag,
    p_hr_gt_1_2, p_hr_gt_2_5`` (see the module docstring).

    Covariates are picked by :func:`choose_covariates`: those with no variation are left
    out (they would make the design matrix singular), and no more than the events support.
    """
    if df.empty:
        raise InvalidInput("no measured cycles to compare for that selection")
    df = df[df["provider"].notna()].copy()
    usable = choose_covariates(df, covariates)
    scored = fit_expected(df, "value", usable, "provider")
    oe = provider_oe(scored, "value", "provider", shrinkage=shrinkage)  # type: ignore[arg-type]
    ft = funnel_table(oe.rename(columns={"provider": "unit"}), "ratio", unit="unit",
                      numerator="observed", denominator="expected", method="exact",
                      higher_is_better=not lower_is_better, label_level="95")
    fl = srtr_flags(oe, observed="observed", expected="expected")
    ft["alarm"] = ft["outside_998"]
    out = oe.merge(ft[["unit", "lower_95", "upper_95", "lower_998", "upper_998", "label",
                       "alarm"]].rename(columns={"unit": "provider"}), on="provider")
    small = out["n"] < min_cases
    out.loc[small, "label"] = TOO_FEW
    out.loc[small, "alarm"] = False
    out["srtr_flag"] = fl["flagged"].to_numpy()
    out["p_hr_gt_1_2"] = fl["p_hr_gt_1_2"].to_numpy()
    out["p_hr_gt_2_5"] = fl["p_hr_gt_2_5"].to_numpy()
    if not lower_is_better:  # SRTR flags are for excess events; not meaningful here
        out["srtr_flag"] = False
    out.attrs.update(covariates=usable, funnel=ft, n_cycles=int(len(df)),
                     overall_rate=float(df["value"].mean()))
    return out.sort_values(["label", "oe"], ascending=[True, False]).reset_index(drop=True)


def summary(out: pd.DataFrame) -> dict[str, Any]:
    """Counts of labels and flags for reports."""
    labels = out["label"].value_counts().to_dict()
    return {"providers": int(len(out)), "cycles": int(out.attrs.get("n_cycles", 0)),
            "overall_rate": float(out.attrs.get("overall_rate", np.nan)),
            "labels": {k: int(v) for k, v in labels.items()},
            "srtr_flagged": int(out["srtr_flag"].sum())}
