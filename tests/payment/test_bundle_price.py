"""Bundle price design with a warranty load, worked by hand: Geisinger ProvenCare's
"historical cost + 50% of the expected 90-day complication cost" (reference sheet §2.4)
and a Stockholm OrthoChoice-style 2-year warranty, 5 years for prosthetic infection
(§2.3, unverified terms used as an example)."""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.bundle_price import (
    PricingTerms,
    WarrantyEvent,
    base_cost,
    expected_warranty_cost,
    percentile,
    price_bundle,
)

CABG = [D("28000"), D("30000"), D("32000"), D("30000")]


def test_geisinger_cost_plus_half_expected_complications() -> None:
    """Mean cost $30,000; complications within 90 days $10,000 + $6,000 = $16,000 over 4
    cycles = $4,000 expected (the day-120 event is outside 90 days); price = 30,000 +
    0.5 x 4,000 = $32,000."""
    events = [WarrantyEvent(D("10000"), 12), WarrantyEvent(D("6000"), 90),
              WarrantyEvent(D("9000"), 120)]
    terms = PricingTerms(warranty_load=D("0.5"), horizon_days=90)
    b = price_bundle(CABG, terms, events=events)
    assert (b.cycles, b.base_cost, b.expected_warranty_cost) == (4, D(30000), D(4000))
    assert b.price_before_discount == D(32000) and b.price == D("32000.00")


def test_stockholm_two_years_five_for_infection_with_trend_and_discount() -> None:
    """Cycles $7,000, $8,000, $9,000, $8,000 (mean $8,000). Events: complication at day 100
    ($2,000, in), revision at day 900 ($12,000, out: > 730), infection at day 1,200
    ($20,000, in: <= 1,826), infection at day 2,000 ($15,000, out): $22,000 / 4 = $5,500.
    Full load, trend 1.03, discount 5%: (8,000 + 5,500) x 1.03 = 13,905; x 0.95 =
    $13,209.75."""
    frame = pd.DataFrame({"cost": ["2000", "12000", "20000", "15000"],
                          "days_after": [100, 900, 1200, 2000],
                          "kind": ["complication", "revision", "infection", "infection"]})
    terms = PricingTerms(warranty_load=D(1), horizon_days=730,
                         horizon_days_by_kind={"infection": 1826}, trend_factor=D("1.03"),
                         discount=D("0.05"))
    b = price_bundle([D(7000), D(8000), D(9000), D(8000)], terms, events=frame)
    assert b.expected_warranty_cost == D(5500)
    assert b.trended_cost == D("8240.00")
    assert b.price_before_discount == D("13905.00")
    assert b.price == D("13209.75")


def test_frame_with_warranty_cost_column_and_percentile() -> None:
    """75th percentile of 10, 20, 30, 40 (linear: rank 2.25 -> 30 + 0.25 x 10 = 32.5);
    warranty $4 + $0 + $2 + $0 = $6 / 4 = $1.50 at 50%: 32.5 + 0.75 = $33.25."""
    frame = pd.DataFrame({"cycle_cost": ["10", "20", "30", "40"],
                          "warranty_cost": ["4", "0", "2", "0"]})
    b = price_bundle(frame, PricingTerms(statistic=D(75), warranty_load=D("0.5")))
    assert (b.statistic, b.base_cost, b.price) == ("p75", D("32.5"), D("33.25"))


@pytest.mark.parametrize(("p", "expected"), [("0", "10"), ("50", "25"), ("100", "40")])
def test_percentile(p: str, expected: str) -> None:
    assert percentile([D(40), D(10), D(30), D(20)], D(p)) == D(expected)


def test_bad_pricing_input() -> None:
    with pytest.raises(InvalidInput, match="binary float"):
        price_bundle([30000.0], PricingTerms())  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="no historical"):
        base_cost([])
    with pytest.raises(InvalidInput, match="negative"):
        base_cost([D(-1)])
    with pytest.raises(InvalidInput, match="discount"):
        PricingTerms(discount=D(1))
    with pytest.raises(InvalidInput, match="percentile"):
        PricingTerms(statistic=D(101))
    with pytest.raises(InvalidInput, match="at least one"):
        expected_warranty_cost([], 0, PricingTerms())
    with pytest.raises(InvalidInput, match="not both"):
        price_bundle(pd.DataFrame({"cycle_cost": ["1"], "warranty_cost": ["0"]}),
                     PricingTerms(), events=[])
