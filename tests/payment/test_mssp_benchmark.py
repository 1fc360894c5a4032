"""The MSSP benchmark builder (42 CFR 425.601) on hand-worked numbers.

Worked example (ours; every figure checked by hand in the docstrings): aged/non-dual BY1
$10,000 (risk 1.00, trend to BY3 1.08), BY2 $10,500 (risk 1.05, trend 1.04), BY3 $11,000
(risk 1.05). Restated to BY3: 10,000 x 1.08 x 1.05/1.00 = 11,340; 10,500 x 1.04 x 1 =
10,920; 11,000. Weighted 10/30/60: 1,134 + 3,276 + 6,600 = $11,010.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.mssp_benchmark import (
    BenchmarkYear,
    EnrollmentInputs,
    capped_risk_ratio,
    historical_benchmark,
    truncate,
    truncated_per_capita,
    updated_benchmark,
)

YEARS = (BenchmarkYear(D(10_000), D("1.00"), D("1.08")),
         BenchmarkYear(D(10_500), D("1.05"), D("1.04")),
         BenchmarkYear(D(11_000), D("1.05")))


def test_historical_benchmark_weights_10_30_60() -> None:
    assert historical_benchmark(YEARS) == D(11_010)


def test_equal_weights_can_be_given() -> None:
    """(11,340 + 10,920 + 11,000) / 3 = 11,086.67 (the weights are a parameter)."""
    third = D(1) / 3
    w = (third, third, D(1) - 2 * third)
    assert historical_benchmark(YEARS, w).quantize(D("0.01")) == D("11086.67")


@pytest.mark.parametrize(("py_risk", "ratio", "updated"), [
    (D("1.113"), D("1.03"), D("11907.315")),   # +6% capped at +3%: 11,010 x 1.05 x 1.03
    (D("1.0815"), D("1.03"), D("11907.315")),  # exactly +3%
    (D("1.071"), D("1.02"), D("11791.71")),    # +2%: 11,560.50 x 1.02
    (D("1.008"), D("0.96"), D("11098.08")),    # a fall applies in full: 11,560.50 x 0.96
])
def test_update_with_capped_risk_growth(py_risk: D, ratio: D, updated: D) -> None:
    """Update factor 1.05 (BY3 -> PY): 11,010 x 1.05 = 11,560.50, then the risk ratio
    RS(PY)/RS(BY3) with positive growth capped at 3% (§425.610(a)(2))."""
    b = updated_benchmark({"aged_non_dual": EnrollmentInputs(YEARS, D("1.05"), py_risk,
                                                             D(9_000))})
    assert b.risk_ratio["aged_non_dual"] == ratio
    assert b.updated["aged_non_dual"] == updated
    assert b.per_capita == updated


def test_enrollment_mix_weights_the_benchmark() -> None:
    """Aged/non-dual $11,907.315 x 9,000 PY and ESRD (BY1-3 $80,000, risk flat, no trend,
    update 1.00) $80,000 x 1,000 PY: (107,165,835 + 80,000,000) / 10,000 = $18,716.5835."""
    esrd = tuple(BenchmarkYear(D(80_000), D("1.00")) for _ in range(3))
    b = updated_benchmark({
        "aged_non_dual": EnrollmentInputs(YEARS, D("1.05"), D("1.113"), D(9_000)),
        "esrd": EnrollmentInputs(esrd, D(1), D("1.00"), D(1_000)),  # type: ignore[arg-type]
    })
    assert b.historical["esrd"] == D(80_000)
    assert b.per_capita == D("18716.5835")


def test_aggregate_cap_with_demographic_growth() -> None:
    """From 2024 (unverified): the person-year-weighted mean ratio is capped at 1 + 3% +
    demographic growth (1%): two types at +6% and +2% with equal person years average
    +4%, which is the cap, so nothing is scaled; at +10%/+2% (mean +6%) every ratio is
    scaled by 1.04/1.06."""
    def inputs(growth: D) -> EnrollmentInputs:
        years = tuple(BenchmarkYear(D(10_000), D(1)) for _ in range(3))
        return EnrollmentInputs(years, D(1), D(1) + growth, D(500))  # type: ignore[arg-type]

    b = updated_benchmark({"aged_dual": inputs(D("0.06")), "disabled": inputs(D("0.02"))},
                          aggregate_cap=True, demographic_growth=D("0.01"))
    assert b.risk_ratio == {"aged_dual": D("1.06"), "disabled": D("1.02")}
    b = updated_benchmark({"aged_dual": inputs(D("0.10")), "disabled": inputs(D("0.02"))},
                          aggregate_cap=True, demographic_growth=D("0.01"))
    assert b.risk_ratio["aged_dual"] == D("1.10") * D("1.04") / D("1.06")
    assert b.per_capita == D(10_400)


def test_truncation() -> None:
    """Three beneficiaries ($5,000, $150,000, $40,000) truncated at $100,000 over 2.5
    person years: (5,000 + 100,000 + 40,000) / 2.5 = $58,000."""
    amounts = [D(5_000), D(150_000), D(40_000)]
    assert truncate(amounts, D(100_000)) == [D(5_000), D(100_000), D(40_000)]
    assert truncated_per_capita(amounts, D("2.5"), D(100_000)) == D(58_000)


def test_capped_risk_ratio() -> None:
    assert capped_risk_ratio(D("1.0"), D("1.10")) == D("1.03")
    assert capped_risk_ratio(D("1.0"), D("0.90")) == D("0.90")


@pytest.mark.parametrize("call", [
    lambda: historical_benchmark(YEARS[:2]),
    lambda: historical_benchmark(YEARS, (D("0.2"), D("0.3"), D("0.6"))),
    lambda: BenchmarkYear(D(1), D(0)),
    lambda: BenchmarkYear(D(-1), D(1)),
    lambda: truncate([D(1)], D(0)),
    lambda: capped_risk_ratio(D(0), D(1)),
    lambda: updated_benchmark({}),
    lambda: updated_benchmark({"martians": EnrollmentInputs(YEARS, D(1), D(1), D(1))}),
    lambda: updated_benchmark({"esrd": EnrollmentInputs(YEARS, D(1), D(1), D(0))}),
])
def test_bad_benchmark_inputs(call: object) -> None:
    with pytest.raises(InvalidInput):
        call()  # type: ignore[operator]
