"""The TDABC arithmetic against worked numbers: capacity cost rates, practical capacity,
costs of activities, unused capacity, and the rounding rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from valuecare.costing.capacity import capacity_rows
from valuecare.costing.catalog import (
    capacity_cost_rate,
    cost_of,
    load_catalog,
    practical_minutes,
    unused_capacity_cost,
)

D = Decimal


def test_tv9_capacity_cost_rate_and_unused_capacity() -> None:
    """TV-9 (payment-and-measures.md §6; Kaplan & Anderson, HBR 2004, customer service):
    $560,000 a quarter over 700,000 practical minutes is $0.80 a minute; 8, 44 and 50
    minutes cost $6.40, $35.20 and $40.00; 49,000 orders, 1,400 inquiries and 2,500 credit
    checks use 578,600 minutes (82.7%), assigned $462,880, unused capacity $97,120."""
    rate = capacity_cost_rate(D(560_000), D(700_000))
    assert rate == D("0.80")
    assert [cost_of(D(m), rate) for m in (8, 44, 50)] == [D("6.40"), D("35.20"), D("40.00")]
    used = 49_000 * 8 + 1_400 * 44 + 2_500 * 50
    assert used == 578_600
    assert round(used / 700_000, 3) == 0.827
    assert cost_of(D(used), rate) == D("462880.00")
    assert unused_capacity_cost(D(700_000), D(used), rate) == D("97120.00")


def test_tv9_through_the_capacity_table(tmp_path: Path) -> None:
    """The same numbers through a site's catalog row and ``resource_capacity``: theoretical
    875,000 minutes at the default 80% practical share for people is 700,000."""
    (tmp_path / "resources.csv").write_text(
        "site_npi,resource,kind,salary,benefits,space,equipment,overhead,"
        "theoretical_minutes,practical_share,unit_cost\n"
        "*,customer_service,person,400000,100000,,,60000,875000,,\n"
        "1234567893,customer_service,,400000,100000,,,60000,875000,,\n")
    catalog = load_catalog(tmp_path)
    t = capacity_rows(catalog, {("1234567893", "customer_service", 2024): D(578_600)}, [2024])
    (row,) = t.to_pylist()
    assert row["practical_minutes"] == D("700000.00")
    assert row["rate"] == D("0.800000")
    assert row["utilization"] == D("0.8266")
    assert row["used_cost"] == D("462880.00")
    assert row["unused_capacity_cost"] == D("97120.00")
    assert row["capacity_cost"] == D("560000.00")


def test_illustrative_nurse_from_the_reference_sheet() -> None:
    """payment-and-measures.md §6 (constructed illustration): a nurse costing $120,000 a
    year, 220 days x 7.5 h x 60 = 99,000 theoretical minutes, 80% practical = 79,200:
    $1.515 a minute; a 25-minute pre-operative teaching session costs $37.88."""
    practical = practical_minutes(D(220 * 7.5 * 60), D("0.80"))
    assert practical == D(79_200)
    rate = capacity_cost_rate(D(120_000), practical)
    assert rate == D("1.515152")
    assert cost_of(D(25), rate) == D("37.88")


def test_physician_rate_of_a_danish_hospital() -> None:
    """Malmmose M, Lydersen JP, "From centralized DRG costing to decentralized TDABC",
    BMC Health Serv Res 2021 (doi:10.1186/s12913-021-06807-4), table 4: a physician costing
    DKK 1,000,000 a year, 7.5 h x 5 days x 46 weeks = 1,725 hours, 80% practical = 1,380
    hours: DKK 724.64 an hour, DKK 12.08 a minute."""
    practical = practical_minutes(D(1725 * 60), D("0.80"))
    assert practical == D(82_800)
    rate = capacity_cost_rate(D(1_000_000), practical)
    assert cost_of(D(60), rate) == D("724.64")
    assert cost_of(D(1), rate) == D("12.08")


def test_practical_capacity_defaults_and_override(tmp_path: Path) -> None:
    """80% for people and 85% for equipment and space unless a row overrides the share."""
    cat = load_catalog()
    assert cat.reference["registered_nurse"].practical_share == D("0.80")
    assert cat.reference["operating_room"].practical_share == D("0.85")
    assert cat.reference["inpatient_bed"].practical_share == D("0.85")
    (tmp_path / "resources.csv").write_text(
        "site_npi,resource,salary,theoretical_minutes,practical_share\n"
        "1234567893,registered_nurse,60000,100000,0.75\n")
    s, source = load_catalog(tmp_path).supply("1234567893", "registered_nurse")
    assert (source, s.practical_minutes, s.rate) == ("site", D("75000.00"), D("0.800000"))


@pytest.mark.parametrize(("quantity", "rate", "cost"), [
    ("0.5", "0.01", "0.01"),          # 0.005 rounds half up
    ("3", "0.333333", "1.00"),        # 0.999999
    ("-0.5", "0.01", "-0.01"),        # half away from zero, like the engines
    ("1440", "0.503626", "725.22"),   # a reference inpatient bed-day
])
def test_rounding_rule(quantity: str, rate: str, cost: str) -> None:
    """Rates to 1e-6 dollars a minute, costs half-up to the cent (docs/costing.md)."""
    assert cost_of(D(quantity), D(rate)) == D(cost)


def test_reference_rates_are_quotients_rounded_to_a_millionth() -> None:
    """Orthopedic surgeon: (573,000 + 171,900 + 12,000 + 3,000 + 85,950) / (124,200 x 80%)."""
    s = load_catalog().reference["orthopedic_surgeon"]
    assert s.cost == D("845850.00")
    assert s.rate == (D("845850") / D("99360")).quantize(D("0.000001"))
    assert s.rate == D("8.512983")
