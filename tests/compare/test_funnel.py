"""Funnel limits against TV-10 (reference sheet §8.2) and hand-computed exact and
overdispersed cases (Spiegelhalter, Stat Med 2005;24:1185 and QSHC 2005;14:347)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuecare.compare.funnel import (
    dersimonian_laird_tau2,
    exact_binomial_limits,
    exact_poisson_limits,
    funnel_table,
    proportion_limits,
    ratio_limits,
    winsorized_phi,
    z_for_level,
)
from valuecare.errors import InvalidInput

P0 = 0.15


def test_z_for_levels() -> None:
    """Two-sided quantiles: 1.960 (95%) and 3.090 (99.8%), reference sheet §8.2."""
    assert z_for_level(0.95) == pytest.approx(1.95996, abs=1e-5)
    assert z_for_level(0.998) == pytest.approx(3.09023, abs=1e-5)


@pytest.mark.parametrize(
    ("n", "level", "lower", "upper"),
    [
        (100, 0.95, 0.0800, 0.2200),
        (100, 0.998, 0.0397, 0.2603),
        (400, 0.95, 0.1150, 0.1850),
        (400, 0.998, 0.0948, 0.2052),
    ],
)
def test_tv10_normal_proportion_limits(n: int, level: float, lower: float, upper: float) -> None:
    """TV-10 rows n = 100 and n = 400, p0 = 0.15 (reference sheet §8.2)."""
    lo, hi = proportion_limits(P0, [n], level=level)
    assert lo[0] == pytest.approx(lower, abs=5e-5)
    assert hi[0] == pytest.approx(upper, abs=5e-5)


def test_tv10_n50_lower_95() -> None:
    """TV-10: n = 50, 95% lower limit 0.051."""
    lo, _ = proportion_limits(P0, [50], level=0.95)
    assert lo[0] == pytest.approx(0.051, abs=5e-4)


def test_tv10_n50_lower_998_truncated_at_zero() -> None:
    """TV-10: n = 50, 99.8% lower limit is -0.006 before truncation, so 0 after."""
    lo, _ = proportion_limits(P0, [50], level=0.998)
    raw = P0 - z_for_level(0.998) * np.sqrt(P0 * (1 - P0) / 50)
    assert raw == pytest.approx(-0.006, abs=5e-4)
    assert lo[0] == 0.0


def test_tv10_n50_lower_998_exact_binomial() -> None:
    """TV-10 n = 50, 99.8%, the exact alternative (Spiegelhalter 2005 appendix A.1.1).

    By hand with scipy.stats.binom(50, 0.15): F(0) = 0.00029576, F(1) = 0.00290545, so
    r_p = 1 for p = 0.001; α = (0.00290545 - 0.001)/(0.00290545 - 0.00029576) = 0.73014;
    limit = (1 - 0.73014)/50 = 0.005397.
    """
    lo, _ = exact_binomial_limits(P0, [50], level=0.998)
    assert lo[0] == pytest.approx(0.005397, abs=2e-6)


def test_exact_binomial_upper_n20() -> None:
    """Exact binomial, n = 20, p0 = 0.15, 95% upper.

    By hand with scipy.stats.binom(20, 0.15): F(5) = 0.932692, F(6) = 0.978065, so r_p = 6
    for p = 0.975; α = (0.978065 - 0.975)/(0.978065 - 0.932692) = 0.067550;
    limit = (6 - 0.067550)/20 = 0.296623.  The lower limit: F(0) = 0.038760 >= 0.025, so
    r_p = 0, α = 0.355, limit -0.0177, truncated to 0.
    """
    lo, hi = exact_binomial_limits(P0, [20], level=0.95)
    assert hi[0] == pytest.approx(0.296623, abs=2e-6)
    assert lo[0] == 0.0


def test_tv10_smr_e25() -> None:
    """TV-10: SMR with E = 25, 95% limits [0.608, 1.392]."""
    lo, hi = ratio_limits([25.0], level=0.95)
    assert lo[0] == pytest.approx(0.608, abs=5e-4)
    assert hi[0] == pytest.approx(1.392, abs=5e-4)


def test_exact_poisson_e10() -> None:
    """Exact Poisson funnel limits for O/E with E = 10, 95%.

    By hand with scipy.stats.poisson(10): F(3) = 0.010336, F(4) = 0.029253 so the lower
    r_p = 4, α = (0.029253 - 0.025)/(0.029253 - 0.010336) = 0.22482, limit 0.377519;
    F(16) = 0.972958, F(17) = 0.985722 so the upper r_p = 17,
    α = (0.985722 - 0.975)/(0.985722 - 0.972958) = 0.84005, limit 1.615995.
    """
    lo, hi = exact_poisson_limits([10.0], level=0.95)
    assert lo[0] == pytest.approx(0.377519, abs=2e-6)
    assert hi[0] == pytest.approx(1.615995, abs=2e-6)


def test_tv10_overdispersed_phi_1_8() -> None:
    """TV-10: φ = 1.8, n = 100, 99.8% limits [0.0020, 0.2980]."""
    lo, hi = proportion_limits(P0, [100], level=0.998, phi=1.8)
    assert lo[0] == pytest.approx(0.0020, abs=5e-5)
    assert hi[0] == pytest.approx(0.2980, abs=5e-5)


# Ten units, n = 100 each, target 0.2: s = sqrt(0.2·0.8/100) = 0.04, and events 20 + 4z
# give the z-scores below exactly.
Z = [-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0]
OVERDISPERSED = pd.DataFrame(
    {"unit": [f"U{i}" for i in range(10)], "events": [20 + 4 * z for z in Z], "n": [100] * 10}
)


def test_winsorized_phi_by_hand() -> None:
    """φ by hand: 10% of 10 units is 1 per tail, so -3 → -2 and 4 → 3; the squares sum to
    4+4+1+0.25+0+0.25+1+4+9+9 = 32.5 and φ = 3.25 (Spiegelhalter, QSHC 2005;14:347)."""
    assert winsorized_phi(Z) == pytest.approx(3.25)


def test_dersimonian_laird_tau2_by_hand() -> None:
    """τ² by hand: w = 1/0.04² = 625 each, Σw = 6250, Σw²/Σw = 625, so
    τ² = (10·3.25 - 9)/(6250 - 625) = 23.5/5625 = 0.00417778 (reference sheet §8.2)."""
    assert dersimonian_laird_tau2(3.25, [0.04] * 10) == pytest.approx(23.5 / 5625)


def test_dersimonian_laird_tau2_is_zero_without_overdispersion() -> None:
    """I·φ ≤ I - 1 gives a negative moment estimate, truncated to 0."""
    assert dersimonian_laird_tau2(0.5, [0.04, 0.05, 0.03]) == 0.0


def test_funnel_table_multiplicative() -> None:
    """Multiplicative φ = 3.25: 95% limits 0.2 ± 1.95996·sqrt(3.25)·0.04 = [0.058665,
    0.341335]; the unit at 0.36 is outside 95% but inside 99.8% (0.2 + 3.09023·1.802776·0.04
    = 0.422840), so it is labelled as expected; its z is 4/sqrt(3.25) = 2.218801."""
    t = funnel_table(OVERDISPERSED, target=0.2, overdispersion="multiplicative")
    assert t.attrs["phi"] == pytest.approx(3.25)
    row = t.set_index("unit").loc["U9"]
    assert row["lower_95"] == pytest.approx(0.058665, abs=2e-6)
    assert row["upper_95"] == pytest.approx(0.341335, abs=2e-6)
    assert row["upper_998"] == pytest.approx(0.422840, abs=2e-6)
    assert row["lower_998"] == 0.0
    assert row["z"] == pytest.approx(2.218801, abs=2e-6)
    assert bool(row["outside_95"]) and not bool(row["outside_998"])
    assert set(t["label"]) == {"as expected"}


def test_funnel_table_additive() -> None:
    """Additive τ² = 0.00417778: 99.8% upper = 0.2 + 3.09023·sqrt(0.0016 + 0.00417778)
    = 0.434894; z of U9 = 0.16/sqrt(0.00577778) = 2.104940."""
    t = funnel_table(OVERDISPERSED, target=0.2, overdispersion="additive")
    assert t.attrs["tau2"] == pytest.approx(23.5 / 5625)
    row = t.set_index("unit").loc["U9"]
    assert row["upper_998"] == pytest.approx(0.434894, abs=2e-6)
    assert row["z"] == pytest.approx(2.104940, abs=2e-6)


def test_funnel_table_labels_without_overdispersion() -> None:
    """Without φ: z = 4 is above 3.09 (worse for a lower-is-better rate); z = -3 is inside
    the 99.8% limits but below the 95% ones."""
    t = funnel_table(OVERDISPERSED, target=0.2).set_index("unit")
    assert t.loc["U9", "label"] == "worse than expected"
    assert t.loc["U0", "label"] == "as expected"
    assert (t["label"] == "as expected").sum() == 9


def test_funnel_table_label_level_95() -> None:
    t = funnel_table(OVERDISPERSED, target=0.2, label_level="95").set_index("unit")
    assert t.loc["U0", "label"] == "better than expected"
    assert t.loc["U9", "label"] == "worse than expected"
    assert t.loc["U8", "label"] == "worse than expected"  # z = 3 > 1.96


def test_funnel_table_higher_is_better_flips_labels() -> None:
    t = funnel_table(OVERDISPERSED, target=0.2, higher_is_better=True).set_index("unit")
    assert t.loc["U9", "label"] == "better than expected"


def test_funnel_table_default_target_is_pooled_rate() -> None:
    """Σevents/Σn = (10·20 + 4·ΣZ)/1000 = 216/1000."""
    t = funnel_table(OVERDISPERSED)
    assert t.attrs["target"] == pytest.approx(0.216)
    np.testing.assert_allclose(t["target"], 0.216)


def test_funnel_table_ratio_tv10() -> None:
    """SMR funnel: E = 25 gives TV-10's [0.608, 1.392]; O = 40 is O/E 1.6, z = 0.6/0.2 = 3,
    above 95% but inside 99.8% (1 + 3.09023·0.2 = 1.618046)."""
    df = pd.DataFrame({"hospital": ["H1", "H2"], "observed": [40, 25], "expected": [25.0, 25.0]})
    t = funnel_table(df, "ratio", unit="hospital").set_index("hospital")
    assert t.loc["H1", "lower_95"] == pytest.approx(0.608, abs=5e-4)
    assert t.loc["H1", "upper_95"] == pytest.approx(1.392, abs=5e-4)
    assert t.loc["H1", "upper_998"] == pytest.approx(1.618046, abs=2e-6)
    assert t.loc["H1", "z"] == pytest.approx(3.0)
    assert t.loc["H1", "label"] == "as expected"
    assert bool(t.loc["H1", "outside_95"])


def test_funnel_table_ratio_exact() -> None:
    """Exact Poisson limits in the table match exact_poisson_limits (E = 10 case above)."""
    df = pd.DataFrame({"unit": ["A"], "observed": [3], "expected": [10.0]})
    t = funnel_table(df, "ratio", method="exact", label_level="95")
    assert t.loc[0, "lower_95"] == pytest.approx(0.377519, abs=2e-6)
    assert t.loc[0, "label"] == "better than expected"


def test_exact_with_overdispersion_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="method='normal'"):
        funnel_table(OVERDISPERSED, method="exact", overdispersion="additive")


def test_missing_column_names_the_fix() -> None:
    with pytest.raises(InvalidInput, match="numerator="):
        funnel_table(OVERDISPERSED.rename(columns={"events": "deaths"}))


def test_input_is_not_mutated() -> None:
    before = OVERDISPERSED.copy()
    funnel_table(OVERDISPERSED, overdispersion="additive")
    pd.testing.assert_frame_equal(OVERDISPERSED, before)


# --- charts ----------------------------------------------------------------------------


@pytest.fixture
def chart_table() -> pd.DataFrame:
    return funnel_table(OVERDISPERSED, target=0.2, overdispersion="multiplicative")


@pytest.mark.parametrize("suffix", [".json", ".svg", ".png"])
def test_save_chart_writes_each_format(chart_table: pd.DataFrame, tmp_path, suffix: str) -> None:
    from valuecare.compare.charts import funnel_chart, save_chart

    path = save_chart(funnel_chart(chart_table, title="Test"), tmp_path / f"funnel{suffix}")
    data = path.read_bytes()
    assert len(data) > 1000
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif suffix == ".svg":
        assert b"<svg" in data[:500]


def test_chart_json_is_a_vega_lite_spec(chart_table: pd.DataFrame, tmp_path) -> None:
    """The spec names the Vega-Lite schema, has layers, and embeds every unit and limit."""
    import json

    from valuecare.compare.charts import funnel_chart, save_chart

    spec = json.loads(save_chart(funnel_chart(chart_table), tmp_path / "f.json").read_text())
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["line", "rule", "circle", "text"]
    units = {row["unit"] for row in layers[2]["data"]["values"]}
    assert units == set(OVERDISPERSED["unit"])
    curves = layers[0]["data"]["values"]
    assert {row["level"] for row in curves} == {"95%", "99.8%"}
    # the drawn limits carry φ: at n = 100 the 99.8% upper curve is 0.422840
    at_100 = [r for r in curves if r["level"] == "99.8%" and r["side"] == "upper"]
    xs = np.array([r["precision"] for r in at_100])
    ys = np.array([r["limit"] for r in at_100])
    assert np.interp(100.0, xs, ys) == pytest.approx(0.422840, abs=1e-3)


def test_save_chart_rejects_unknown_suffix(chart_table: pd.DataFrame, tmp_path) -> None:
    from valuecare.compare.charts import funnel_chart, save_chart

    with pytest.raises(InvalidInput, match=r"\.json, \.svg or \.png"):
        save_chart(funnel_chart(chart_table), tmp_path / "f.pdf")


def test_funnel_chart_needs_a_funnel_table() -> None:
    from valuecare.compare.charts import funnel_chart

    with pytest.raises(InvalidInput, match="funnel_table"):
        funnel_chart(OVERDISPERSED)
