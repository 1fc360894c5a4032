"""Exact Poisson intervals (Garwood 1936) and SRTR Bayesian flags against TV-11
(reference sheet §8.3; Salkowski et al., Am J Transplant 2014;14:1310)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuecare.compare.flags import poisson_ci, ratio_ci, srtr_flag, srtr_flags
from valuecare.errors import InvalidInput


@pytest.mark.parametrize(
    ("observed", "expected", "hr", "p12", "p25", "flagged"),
    [
        (10, 6.0, 1.500, 0.7412, 0.0214, False),
        (11, 6.0, 1.625, 0.8279, None, True),
        (5, 1.5, 2.000, 0.8675, 0.2305, True),
        (20, 19.0, 1.048, 0.2351, None, False),
    ],
)
def test_tv11(
    observed: int, expected: float, hr: float, p12: float, p25: float | None, flagged: bool
) -> None:
    """TV-11: posterior Gamma(O + 2, E + 2); '—' cells of the sheet are not checked."""
    f = srtr_flag(observed, expected)
    assert f.hr_estimate == pytest.approx(hr, abs=5e-4)
    assert round(f.p_hr_gt_1_2, 4) == p12
    if p25 is not None:
        assert round(f.p_hr_gt_2_5, 4) == p25
    assert f.flagged is flagged


def test_srtr_flags_frame() -> None:
    df = pd.DataFrame({"program": ["a", "b"], "O": [10, 11], "E": [6.0, 6.0]})
    out = srtr_flags(df, observed="O", expected="E")
    assert out["flagged"].tolist() == [False, True]
    assert (out["hr_lower_95"] < out["hr_estimate"]).all()
    assert "flagged" not in df.columns


def test_poisson_ci_garwood() -> None:
    """Garwood 95%: O = 5 → [chi2(0.025;10)/2, chi2(0.975;12)/2] = [1.623486, 11.668332]
    (chi-square quantiles 3.246973 and 23.336664 from tables); O = 0 → [0, 3.688879]."""
    lo, hi = poisson_ci([0, 5])
    np.testing.assert_allclose(lo, [0.0, 1.623486], atol=2e-6)
    np.testing.assert_allclose(hi, [3.688879, 11.668332], atol=2e-6)


def test_ratio_ci_divides_by_expected() -> None:
    lo, hi = ratio_ci([5], [2.0])
    assert lo[0] == pytest.approx(0.811743, abs=2e-6)
    assert hi[0] == pytest.approx(5.834166, abs=2e-6)


def test_ratio_ci_rejects_zero_expected() -> None:
    with pytest.raises(InvalidInput, match="expected"):
        ratio_ci([1], [0.0])
