"""Designing a bundle price with a warranty from historical care-cycle costs.

A bundle price for one medical condition is built in four steps (pure functions on
:class:`~decimal.Decimal`; :func:`price_bundle` runs them on per-cycle history):

1. **Base cost** -- the mean, or a percentile, of historical cycle costs
   (:func:`base_cost`; percentiles interpolate linearly between order statistics, the
   "linear" method of numpy's ``percentile``).
2. **Trend** -- times a trend factor to the contract year (e.g. 1.03 for one year at 3%).
3. **Warranty load** -- the expected cost per cycle of complications and repeat surgery
   within the warranty horizon (:func:`expected_warranty_cost`), trended, times the share
   the price carries. Geisinger ProvenCare priced CABG at the historical cost plus 50% of
   the expected 90-day complication cost (``warranty_load = 0.5``, horizon 90 days) [V:
   reference sheet §2.4]. Stockholm's OrthoChoice hip/knee bundle warranted complications
   and re-operation on the same joint for 2 years, 5 years for prosthetic infection
   (horizon 730 days, ``horizon_days_by_kind={"infection": 1826}``) [M: unverified, HBR/HBS
   case only]; the share priced in is a contract choice.
4. **Discount** -- the payer's discount off the loaded price.

``price = (base x trend + warranty_load x expected warranty x trend) x (1 - discount)``,
rounded once to the cent (half up); every step before that is exact (Decimal division at
28 significant digits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from valuecare.errors import InvalidInput
from valuecare.payment.bundle import cents

if TYPE_CHECKING:
    import pandas as pd

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)


@dataclass(frozen=True)
class WarrantyEvent:
    """A complication or repeat surgery after an index cycle: its cost, days after the index
    procedure (or discharge) and kind (``complication``, ``infection``, ``revision``...)."""

    cost: Decimal
    days_after: int
    kind: str = "complication"


@dataclass(frozen=True)
class PricingTerms:
    """How to price: ``statistic`` is ``"mean"`` or a percentile in [0, 100];
    ``horizon_days`` is the warranty horizon (``None``: every event counts) and
    ``horizon_days_by_kind`` longer or shorter horizons by event kind."""

    statistic: Literal["mean"] | Decimal = "mean"
    trend_factor: Decimal = ONE
    discount: Decimal = ZERO
    warranty_load: Decimal = ZERO
    horizon_days: int | None = None
    horizon_days_by_kind: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.statistic != "mean" and not (isinstance(self.statistic, Decimal)
                                             and ZERO <= self.statistic <= HUNDRED):
            raise InvalidInput(f"statistic is 'mean' or a percentile in [0, 100], not "
                               f"{self.statistic!r}")
        if self.trend_factor <= 0:
            raise InvalidInput(f"trend_factor must be positive, not {self.trend_factor}")
        if not ZERO <= self.discount < ONE:
            raise InvalidInput(f"discount is a fraction in [0, 1), not {self.discount}")
        if self.warranty_load < 0:
            raise InvalidInput(f"warranty_load cannot be negative ({self.warranty_load})")
        horizons = [self.horizon_days, *self.horizon_days_by_kind.values()]
        if any(h is not None and h < 0 for h in horizons):
            raise InvalidInput("warranty horizons cannot be negative")


@dataclass(frozen=True)
class PriceBuildUp:
    """The price and how it was built; amounts per cycle, exact except ``price``."""

    cycles: int
    statistic: str
    base_cost: Decimal
    trended_cost: Decimal
    expected_warranty_cost: Decimal
    warranty_load: Decimal
    price_before_discount: Decimal
    discount: Decimal
    price: Decimal


def percentile(values: Sequence[Decimal], p: Decimal) -> Decimal:
    """The ``p``-th percentile (0-100), linear between order statistics."""
    if not values:
        raise InvalidInput("no historical costs to take a percentile of")
    ordered = sorted(values)
    rank = p / HUNDRED * (len(ordered) - 1)
    low = int(rank)
    if low >= len(ordered) - 1:
        return ordered[-1]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (rank - low)


def base_cost(costs: Sequence[Decimal], statistic: Literal["mean"] | Decimal = "mean"
              ) -> Decimal:
    """The mean or a percentile of historical cycle costs."""
    if not costs:
        raise InvalidInput("no historical cycle costs to price from")
    if any(c < 0 for c in costs):
        raise InvalidInput("historical cycle costs cannot be negative")
    if statistic == "mean":
        return sum(costs, ZERO) / len(costs)
    return percentile(costs, statistic)


def within_horizon(event: WarrantyEvent, terms: PricingTerms) -> bool:
    horizon = terms.horizon_days_by_kind.get(event.kind, terms.horizon_days)
    return horizon is None or event.days_after <= horizon


def expected_warranty_cost(events: Iterable[WarrantyEvent], cycles: int,
                           terms: PricingTerms) -> Decimal:
    """Expected warranty cost per cycle: the cost of the events within their horizon,
    over the number of historical cycles."""
    if cycles <= 0:
        raise InvalidInput("expected warranty cost needs at least one historical cycle")
    total = ZERO
    for ev in events:
        if ev.cost < 0 or ev.days_after < 0:
            raise InvalidInput(f"warranty event {ev}: cost and days_after cannot be negative")
        if within_horizon(ev, terms):
            total += ev.cost
    return total / cycles


def bundle_price(base: Decimal, expected_warranty: Decimal, terms: PricingTerms,
                 *, cycles: int = 0, statistic: str = "mean") -> PriceBuildUp:
    """The price build-up from a base cost and an expected warranty cost per cycle."""
    trended = base * terms.trend_factor
    before = trended + terms.warranty_load * expected_warranty * terms.trend_factor
    return PriceBuildUp(cycles=cycles, statistic=statistic, base_cost=base,
                        trended_cost=trended, expected_warranty_cost=expected_warranty,
                        warranty_load=terms.warranty_load, price_before_discount=before,
                        discount=terms.discount, price=cents(before * (ONE - terms.discount)))


def _as_decimals(values: Iterable[object], what: str) -> list[Decimal]:
    out = []
    for v in values:
        if isinstance(v, float):
            raise InvalidInput(f"{what}: {v!r} is a binary float; give Decimals or strings")
        try:
            out.append(Decimal(str(v)) if not isinstance(v, Decimal) else v)
        except ArithmeticError as exc:
            raise InvalidInput(f"{what}: {v!r} is not a number") from exc
    return out


def price_bundle(cycles: Sequence[Decimal] | pd.DataFrame, terms: PricingTerms, *,
                 events: Sequence[WarrantyEvent] | pd.DataFrame | None = None
                 ) -> PriceBuildUp:
    """Price a bundle from per-cycle history.

    ``cycles``: a list of cycle costs, or a DataFrame with ``cycle_cost`` and optionally
    ``warranty_cost`` (each cycle's warranty-event cost already within the horizon).
    ``events``: warranty events to filter by horizon, as :class:`WarrantyEvent` or a
    DataFrame with ``cost``, ``days_after`` and optionally ``kind``. Give warranty costs
    one way or the other, not both. Amounts in a DataFrame must be Decimals, strings or
    integers (not binary floats).
    """
    warranty: Decimal | None = None
    if isinstance(cycles, Sequence):
        costs = _as_decimals(cycles, "cycle costs")
    else:
        if "cycle_cost" not in cycles.columns:
            raise InvalidInput("the cycles frame needs a cycle_cost column")
        costs = _as_decimals(cycles["cycle_cost"], "cycle_cost")
        if "warranty_cost" in cycles.columns:
            per_cycle = _as_decimals(cycles["warranty_cost"], "warranty_cost")
            warranty = sum(per_cycle, ZERO) / len(costs) if costs else ZERO
    if warranty is not None and events is not None:
        raise InvalidInput("give warranty costs either as a warranty_cost column or as "
                           "events, not both")
    statistic = "mean" if terms.statistic == "mean" else f"p{terms.statistic}"
    base = base_cost(costs, terms.statistic)
    if events is not None:
        evs = events if isinstance(events, Sequence) else [
            WarrantyEvent(cost, int(days), str(kind)) for cost, days, kind in zip(
                _as_decimals(events["cost"], "cost"), events["days_after"],
                events["kind"] if "kind" in events.columns else ["complication"] * len(events),
                strict=True)]
        warranty = expected_warranty_cost(evs, len(costs), terms)
    return bundle_price(base, warranty or ZERO, terms, cycles=len(costs), statistic=statistic)
