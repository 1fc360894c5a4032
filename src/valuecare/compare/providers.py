"""Risk-adjusted comparison of providers on one outcome of one condition.

Reads the ``outcomes`` table (one row per care cycle and measure), keeps the *measured*
cycles of a proportion measure (missing, censored and excluded cycles are not outcomes),
adds patient covariates from ``member`` and ``care_cycles``, fits the expected-outcome
model on all measured cycles of the condition (indirect standardization, reference sheet
§8.1), and per accountable clinician or facility reports observed, expected, O/E with an
exact Poisson interval, the risk-standardized rate, shrunken O/E, the funnel-plot label
(Spiegelhalter 2005, ratio funnel with exact Poisson limits) and the SRTR Bayesian flag
(Salkowski et al. 2014).

Covariates (documented in ``docs/risk-and-comparison.md``): age at the cycle start (years,
and its square over 100), female sex, dual Medicare-Medicaid status, and the number of
positive social-needs screens; CMS-HCC scores join here once the risk stage exists.
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

COVARIATES = ("age", "age_sq", "female", "dual", "social_needs")
ROLES = {"clinician": "accountable_npi", "facility": "facility_npi"}


def comparison_frame(outcomes: ibis.Table, cycles: ibis.Table, member: ibis.Table,
                     condition: str, measure: str, role: str = "clinician") -> pd.DataFrame:
    """Measured cycles of ``condition``/``measure`` with the outcome and covariates."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    o = outcomes.filter((outcomes.condition == condition) & (outcomes.measure == measure)
                        & (outcomes.status == "measured"))
    o = o.select("cycle_id", "person_id", "value", provider=o[ROLES[role]])
    c = cycles.select(_cid=cycles.cycle_id, start=cycles.start_date)
    m = member.select(
        _pid=member.person_id, birth=member.birth_date, sex=member.sex,
        dual=member.dual_status_code.fill_null("00") != "00",
        social=(member.food_insecurity.fill_null(False).cast("int32")
                + member.housing_instability.fill_null(False).cast("int32")
                + member.transportation_barrier.fill_null(False).cast("int32")))
    j = o.join(c, o.cycle_id == c._cid).join(m, o.person_id == m._pid)
    df = j.select("cycle_id", "provider", "value", "start", "birth", "sex", "dual",
                  "social").to_pandas()
    if df.empty:
        return df
    start = pd.to_datetime(df["start"])
    birth = pd.to_datetime(df["birth"])
    before = (start.dt.month * 100 + start.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    df["age"] = (start.dt.year - birth.dt.year - before.astype(int)).astype(float)
    df["age_sq"] = df["age"] ** 2 / 100.0
    df["female"] = (df["sex"] == "female").astype(float)
    df["dual"] = df["dual"].astype(float)
    df["social_needs"] = df["social"].astype(float)
    df["value"] = df["value"].astype(float)
    return df.drop(columns=["start", "birth", "sex", "social"])


def compare_providers(df: pd.DataFrame, *, lower_is_better: bool = True,
                      covariates: tuple[str, ...] = COVARIATES,
                      shrinkage: str = "empirical_bayes") -> pd.DataFrame:
    """Per provider: ``provider, n, observed, expected, oe, oe_lower, oe_upper, rsr,
    oe_shrunk, label, srtr_flag, p_hr_gt_1_2, p_hr_gt_2_5`` (see the module docstring).

    Covariates with no variation are left out of the model (they carry no information and
    would make the design matrix singular).
    """
    if df.empty:
        raise InvalidInput("no measured cycles to compare for that selection")
    df = df[df["provider"].notna()].copy()
    usable = [c for c in covariates if df[c].nunique() > 1]
    scored = fit_expected(df, "value", usable, "provider")
    oe = provider_oe(scored, "value", "provider", shrinkage=shrinkage)  # type: ignore[arg-type]
    ft = funnel_table(oe.rename(columns={"provider": "unit"}), "ratio", unit="unit",
                      numerator="observed", denominator="expected", method="exact",
                      higher_is_better=not lower_is_better)
    fl = srtr_flags(oe, observed="observed", expected="expected")
    out = oe.merge(ft[["unit", "lower_998", "upper_998", "label"]].rename(
        columns={"unit": "provider"}), on="provider")
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
