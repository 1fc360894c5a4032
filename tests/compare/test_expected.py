"""Indirect standardization (reference sheet §8.1): expected counts from a logistic
model, O/E with exact Poisson intervals, risk-standardized rates and shrinkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuecare.compare.expected import (
    EB_MAX_STRENGTH,
    ExpectedModel,
    estimate_gamma_strength,
    fit_expected,
    provider_oe,
    random_intercept_pe,
)
from valuecare.errors import InvalidInput

# A: 2 of 10, B: 3 of 30, C: 5 of 10 → overall rate 10/50 = 0.2.
HAND = pd.DataFrame(
    {
        "provider": ["A"] * 10 + ["B"] * 30 + ["C"] * 10,
        "died": [1] * 2 + [0] * 8 + [1] * 3 + [0] * 27 + [1] * 5 + [0] * 5,
    }
)


def test_covariate_free_model_by_hand() -> None:
    """Intercept-only model: every patient's expected probability is 0.2, so E = 0.2·n:
    A 2, B 6, C 2; O/E 1.0, 0.5, 2.5; RSR = O/E × 0.2 = 0.2, 0.1, 0.5.  The O/E interval
    for C is Garwood's [1.623486, 11.668332] for O = 5 divided by E = 2."""
    with_e = fit_expected(HAND, "died", [], "provider")
    np.testing.assert_allclose(with_e["expected"], 0.2)
    out = provider_oe(with_e, "died", "provider").set_index("provider")
    np.testing.assert_allclose(out["n"], [10, 30, 10])
    np.testing.assert_allclose(out["expected"], [2.0, 6.0, 2.0])
    np.testing.assert_allclose(out["oe"], [1.0, 0.5, 2.5])
    np.testing.assert_allclose(out["rsr"], [0.2, 0.1, 0.5])
    assert out.loc["C", "oe_lower"] == pytest.approx(1.623486 / 2, abs=2e-6)
    assert out.loc["C", "oe_upper"] == pytest.approx(11.668332 / 2, abs=2e-6)
    assert out.loc["C", "rsr_upper"] == pytest.approx(11.668332 / 2 * 0.2, abs=2e-6)
    assert "expected" not in HAND.columns


def test_srtr_shrinkage_by_hand() -> None:
    """(O + 2)/(E + 2): A (2+2)/(2+2) = 1, B 5/8 = 0.625, C 7/4 = 1.75 — each between its
    raw O/E and 1."""
    with_e = fit_expected(HAND, "died", [], "provider")
    out = provider_oe(with_e, "died", "provider", shrinkage="srtr").set_index("provider")
    np.testing.assert_allclose(out["oe_shrunk"], [1.0, 0.625, 1.75])
    np.testing.assert_allclose(out["rsr_shrunk"], [0.2, 0.125, 0.35])
    assert out.attrs["prior_strength"] == 2.0


def _simulated(seed: int = 7) -> pd.DataFrame:
    """20 providers; logit p = -2 + 0.8·age_z + 0.5·diabetic + log(2)·[provider P00]."""
    rng = np.random.default_rng(seed)
    sizes = [600] + [300] * 18 + [8]
    provider = np.repeat([f"P{i:02d}" for i in range(20)], sizes)
    n = provider.size
    age_z = rng.normal(size=n)
    diabetic = rng.random(n) < 0.3
    logit = -2.0 + 0.8 * age_z + 0.5 * diabetic + np.log(2.0) * (provider == "P00")
    died = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"provider": provider, "age_z": age_z, "diabetic": diabetic, "died": died}
    )


def test_simulated_odds_ratio_two_is_recovered() -> None:
    """Planted truth: P00's odds are doubled, so its O/E is above 1 with a CI excluding 1;
    the others sit a little below 1 (about 0.93), because P00's excess raises the fitted
    intercept of a model without provider terms, and their CIs include 1."""
    df = _simulated()
    out = provider_oe(
        fit_expected(df, "died", ["age_z", "diabetic"], "provider"), "died", "provider"
    ).set_index("provider")
    assert out.loc["P00", "oe"] > 1.4
    assert out.loc["P00", "oe_lower"] > 1.0
    others = out.drop(index=["P00", "P19"])
    assert others["oe"].median() == pytest.approx(0.93, abs=0.1)
    assert (others["oe_lower"] < 1.0).mean() >= 0.8


def test_model_recovers_covariate_effects() -> None:
    df = _simulated()
    model = ExpectedModel("died", ["age_z", "diabetic"]).fit(df)
    params = model.result_.params
    assert params["Q('age_z')"] == pytest.approx(0.8, abs=0.1)
    assert model.overall_rate_ == pytest.approx(df["died"].mean())


def test_empirical_bayes_pulls_tiny_provider_toward_one() -> None:
    """P19 has 8 patients: its shrunk O/E lies strictly between its raw O/E and 1, and
    moves further than a large provider's does."""
    df = _simulated()
    out = provider_oe(
        fit_expected(df, "died", ["age_z", "diabetic"], "provider"),
        "died",
        "provider",
        shrinkage="empirical_bayes",
    ).set_index("provider")
    a = out.attrs["prior_strength"]
    assert 0 < a < EB_MAX_STRENGTH
    tiny = out.loc["P19"]
    assert abs(tiny["oe_shrunk"] - 1) < abs(tiny["oe"] - 1)
    moved = (out["oe"] - out["oe_shrunk"]).abs() / (out["oe"] - 1).abs()
    assert moved["P19"] > moved["P00"]
    assert out.loc["P00", "oe_shrunk"] > 1.3


def test_empirical_bayes_without_variation_shrinks_to_one() -> None:
    """Every provider exactly as expected: the marginal likelihood rises with a, so a goes to
    its bound and the posterior is 1 for all."""
    a = estimate_gamma_strength([10, 20, 30], [10.0, 20.0, 30.0])
    assert a > 1e5


def test_perfect_separation_is_a_clear_error() -> None:
    df = pd.DataFrame({"x": np.arange(40.0), "provider": "P"})
    df["y"] = (df["x"] >= 20).astype(int)
    with pytest.raises(InvalidInput, match="perfect separation"):
        fit_expected(df, "y", ["x"], "provider")


def test_outcome_must_be_binary() -> None:
    df = HAND.assign(died=HAND["died"] * 2)
    with pytest.raises(InvalidInput, match="0/1"):
        fit_expected(df, "died", [], "provider")


def test_unfitted_model_raises() -> None:
    with pytest.raises(InvalidInput, match="not fitted"):
        ExpectedModel("died").predict(HAND)


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match="'age'"):
        fit_expected(HAND, "died", ["age"], "provider")


def test_random_intercept_predicted_over_expected() -> None:
    """CMS-style P/E (reference sheet §8.1): P00's planted odds ratio 2 shows as P/E > 1.3
    and the largest random intercept; the 8-patient P19 is pulled much closer to 1 than its
    raw O/E (2 observed vs about 1.4 expected)."""
    df = _simulated()
    out = random_intercept_pe(df, "died", ["age_z", "diabetic"], "provider").set_index(
        "provider"
    )
    assert out.loc["P00", "pe"] > 1.3
    assert out["random_intercept"].idxmax() == "P00"
    raw_oe = out.loc["P19", "observed"] / out.loc["P19", "expected"]
    assert abs(out.loc["P19", "pe"] - 1) < 0.25 * abs(raw_oe - 1)
    assert out["n"].sum() == len(df)
    assert out["observed"].sum() == df["died"].sum()
    assert 0 < out.attrs["re_sd"] < 1
