"""Value per provider: risk-adjusted cost and the value quadrant, from worked numbers."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from valuecare.compare.value import (
    expected_costs,
    provider_costs,
    quadrant,
    value_table,
)
from valuecare.errors import InvalidInput

# Four cycles: two low-risk (x = 0) costing $100 and $300, two high-risk (x = 1) costing
# $1,000 and $1,400.  A log-link GLM with an intercept and the binary x is saturated, so
# each cycle's expected cost is its group's mean: $200 and $1,200.  Provider A has the
# $100 and $1,000 cycles: observed $1,100, expected $1,400, O/E 11/14; provider B observed
# $1,700, expected $1,400, O/E 17/14.  Overall mean cost $700, so A's risk-adjusted cost
# per cycle is 11/14 x 700 = $550 and B's 17/14 x 700 = $850.  Raw means would be $550
# and $850 as well here, because both providers have the same case mix.  The set is
# repeated ten times: the cost model takes at most one covariate per ten cycles.
CYCLES = pd.DataFrame({"provider": ["A", "B", "A", "B"] * 10, "x": [0, 0, 1, 1] * 10,
                       "cost": [Decimal("100.00"), Decimal("300.00"), Decimal("1000.00"),
                                Decimal("1400.00")] * 10})


def test_expected_cost_reproduces_group_means() -> None:
    assert expected_costs(CYCLES[:4].assign(cost=[1.0, 3.0, 10.0, 14.0]), ["x"]) == (
        pytest.approx([7.0] * 4))  # four cycles support no covariate: the overall mean
    got = expected_costs(CYCLES.assign(cost=CYCLES.cost.astype(float)), ["x"])
    assert got[:4] == pytest.approx([200, 200, 1200, 1200], rel=1e-9)


def test_provider_costs_worked_example() -> None:
    out = provider_costs(CYCLES, ["x"]).set_index("provider")
    assert out.loc["A", "observed_cost_total"] == Decimal("11000.00")
    assert out.loc["B", "cycles_costed"] == 20
    assert out.loc["A", "cost_oe"] == pytest.approx(11 / 14)
    assert out.loc["A", "risk_adjusted_cost_per_cycle"] == pytest.approx(550)
    assert out.loc["B", "risk_adjusted_cost_per_cycle"] == pytest.approx(850)
    assert out.loc["A", "overall_cost_per_cycle"] == pytest.approx(700)


def test_case_mix_is_adjusted_away() -> None:
    """C treats only high-risk patients at the high-risk price, D only low-risk at the
    low-risk price: raw costs differ sixfold, risk-adjusted costs are equal."""
    df = pd.DataFrame({"provider": ["C", "C", "D", "D"] * 5, "x": [1, 1, 0, 0] * 5,
                       "cost": [1200, 1100, 200, 300] * 5})
    out = provider_costs(df, ["x"]).set_index("provider")
    assert out.loc["C", "observed_cost_per_cycle"] == pytest.approx(1150)
    assert out.loc["C", "risk_adjusted_cost_per_cycle"] == pytest.approx(
        out.loc["D", "risk_adjusted_cost_per_cycle"])


def test_exact_totals_and_bad_input() -> None:
    df = pd.DataFrame({"provider": ["A"] * 3, "cost": [Decimal("0.10"), Decimal("0.20"),
                                                       Decimal("0.30")]})
    assert provider_costs(df, []).loc[0, "observed_cost_total"] == Decimal("0.60")
    with pytest.raises(InvalidInput, match="negative"):
        expected_costs(pd.DataFrame({"cost": [-1.0, 2.0]}), [])
    with pytest.raises(InvalidInput, match="no complete cycles"):
        provider_costs(pd.DataFrame({"provider": [None], "cost": [1.0]}), [])


@pytest.mark.parametrize(("rsr", "cost", "lower", "want"), [
    (0.05, 500, True, "better outcome, lower cost"),
    (0.15, 500, True, "worse outcome, lower cost"),
    (0.05, 900, True, "better outcome, higher cost"),
    (0.15, 900, False, "better outcome, higher cost"),
    (0.10, 700, True, "better outcome, lower cost"),  # ties: on the good side
])
def test_quadrant(rsr: float, cost: float, lower: bool, want: str) -> None:
    assert quadrant(rsr, 0.10, cost, 700, lower) == want


def test_value_table_joins_outcome_and_cost() -> None:
    comp = pd.DataFrame({"provider": ["A", "B", "Z"], "n": [2, 2, 5], "rsr": [0.2, 0.05, 0.1],
                         "label": ["as expected", "better than expected", "as expected"]})
    comp.attrs["overall_rate"] = 0.1
    out = value_table(comp, provider_costs(CYCLES, ["x"]), condition="hip_knee",
                      measure="complication_90d", role="clinician", cost_source="paid",
                      lower_is_better=True).set_index("provider")
    assert list(out.index) == ["A", "B"]  # Z has no costed cycle
    assert out.loc["A", "quadrant"] == "worse outcome, lower cost"
    assert out.loc["B", "quadrant"] == "better outcome, higher cost"
    assert out.loc["B", "outcome_label"] == "better than expected"
    assert (out.cost_source == "paid").all()
