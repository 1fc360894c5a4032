"""Capitation and global budgets: a risk-adjusted rate times member months against actual cost.

Two scopes, one rule:

- **global** capitation (or a global budget): the payer pays ``pmpm x risk factor`` per
  member month and the provider bears the cost of all covered services;
- **condition** capitation: a yearly price per patient with a chronic condition (e.g.
  diabetes), paid per patient-month with the condition at ``annual price / 12 x risk
  factor``, beside global capitation or instead of it.

Risk adjustment (optional): the factor is the entity's average (CMS-HCC or other) risk
score, divided by a ``normalization_factor`` when the contract gives one, or by the
member-month-weighted mean score of all entities settled together
(``normalize_to_population``: the total paid then equals the unadjusted total, a budget-
neutral split). Without risk adjustment the factor is 1.

Risk corridors (optional) share the result ``gain = capitation payment - actual cost``
between provider and payer in bands of the result as a share of the capitation payment:
in each band the provider keeps (or bears) ``provider_share`` of the part of the gain (or
loss) inside the band; the payer recoups the rest of a gain and pays the rest of a loss.
Without corridors the provider keeps every gain and bears every loss (full risk).

- ``corridor_adjustment`` = what the payer pays the provider at reconciliation (negative
  when it recoups part of a gain);
- ``payer_spending`` = capitation payment + corridor adjustment;
- ``provider_margin`` = payer spending - actual cost (what the provider keeps of the gain,
  or bears of the loss).

Sources: the arithmetic of capitation and of banded risk corridors. With bands at 3% and 8%
and provider shares 1 / 0.5 / 0.2 the corridors reproduce the ACA risk corridors, §1342(b)
of Pub. L. 111-148 (42 U.S.C. 18062(b)), verified against the statute text; no program's
bands are packaged: every number of a capitation contract is the contract's, in its YAML.

Money is :class:`~decimal.Decimal`; the capitation payment and the corridor adjustment are
each rounded once to the cent, half up, so ``gain = provider margin + (capitation payment
- payer spending)`` holds to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import model_validator

from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import (
    ContractHeader,
    ContractModel,
    cents,
    fraction,
    non_negative,
)

ZERO = Decimal(0)
ONE = Decimal(1)
MONTHS_PER_YEAR = Decimal(12)


class CapitationInputError(InvalidInput):
    """One entity's input cannot be settled; ``column`` names the offending field."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


class RiskAdjustment(ContractModel):
    """``method: none`` (factor 1) or ``risk_score`` (factor = average risk score, divided
    by ``normalization_factor`` or by the population mean with ``normalize_to_population``)."""

    method: Literal["none", "risk_score"]
    normalization_factor: Decimal | None = None
    normalize_to_population: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> RiskAdjustment:
        normalized = self.normalization_factor is not None or self.normalize_to_population
        if self.method == "none" and normalized:
            raise ValueError("method none takes no normalization; use method risk_score")
        if self.normalization_factor is not None and self.normalize_to_population:
            raise ValueError("give normalization_factor or normalize_to_population, not both")
        if self.normalization_factor is not None and self.normalization_factor <= 0:
            raise ValueError(f"normalization_factor must be positive, not "
                             f"{self.normalization_factor}")
        return self


class CorridorBand(ContractModel):
    """Up to ``up_to`` (a share of the capitation payment; ``null`` = no limit) the provider
    keeps or bears ``provider_share`` of the gain or loss inside the band."""

    up_to: Decimal | None
    provider_share: Decimal

    @model_validator(mode="after")
    def _fractions(self) -> CorridorBand:
        fraction(self.provider_share, "provider_share")
        if self.up_to is not None and self.up_to <= 0:
            raise ValueError(f"up_to must be positive, not {self.up_to}")
        return self


FULL_RISK = (CorridorBand(up_to=None, provider_share=ONE),)


def _check_bands(bands: tuple[CorridorBand, ...], name: str) -> None:
    if not bands:
        raise ValueError(f"{name}: give at least one band")
    for before, after in zip(bands, bands[1:], strict=False):
        if before.up_to is None or (after.up_to is not None and after.up_to <= before.up_to):
            raise ValueError(f"{name}: up_to must rise from band to band")
    if bands[-1].up_to is not None:
        raise ValueError(f"{name}: the last band must be open-ended (up_to: null)")


class Corridors(ContractModel):
    """Bands for gains (capitation above cost) and losses; an omitted side is full risk."""

    gains: tuple[CorridorBand, ...] = FULL_RISK
    losses: tuple[CorridorBand, ...] = FULL_RISK

    @model_validator(mode="after")
    def _bands(self) -> Corridors:
        _check_bands(self.gains, "gains")
        _check_bands(self.losses, "losses")
        return self


class CapitationContract(ContractHeader):
    """A capitation contract (YAML ``kind: capitation``), global or for one condition."""

    kind: Literal["capitation"]
    scope: Literal["global", "condition"]
    condition: str | None = None
    pmpm: Decimal | None = None
    annual_price_per_patient: Decimal | None = None
    risk_adjustment: RiskAdjustment
    corridors: Corridors | None = None

    @model_validator(mode="after")
    def _scope(self) -> CapitationContract:
        if self.scope == "global":
            if self.pmpm is None or self.annual_price_per_patient is not None:
                raise ValueError("scope global is priced per member month: give pmpm (and "
                                 "no annual_price_per_patient)")
            if self.condition is not None:
                raise ValueError("scope global covers every condition: remove condition or "
                                 "use scope condition")
        else:
            if self.annual_price_per_patient is None or self.pmpm is not None:
                raise ValueError("scope condition is priced per patient and year: give "
                                 "annual_price_per_patient (and no pmpm)")
            if not (self.condition or "").strip():
                raise ValueError("scope condition needs condition (e.g. diabetes)")
        non_negative(self.pmpm, "pmpm")
        non_negative(self.annual_price_per_patient, "annual_price_per_patient")
        return self

    @property
    def base_rate(self) -> Decimal:
        """The unadjusted price: PMPM (global) or the annual price per patient."""
        rate = self.pmpm if self.scope == "global" else self.annual_price_per_patient
        if rate is None:  # pragma: no cover - excluded by the validator
            raise InvalidInput(f"contract {self.contract_id} has no price")
        return rate

    @property
    def months_per_rate(self) -> Decimal:
        """Member months one ``base_rate`` pays for: 1 (PMPM) or 12 (a patient-year)."""
        return ONE if self.scope == "global" else MONTHS_PER_YEAR


@dataclass(frozen=True)
class CapitatedEntity:
    """One entity's period: member months (for condition capitation: patient-months with
    the condition), its average risk score (``None`` without risk adjustment) and the
    actual cost of the covered services."""

    entity: str
    member_months: Decimal
    avg_risk_score: Decimal | None
    actual_cost: Decimal

    def __post_init__(self) -> None:
        if not self.entity.strip():
            raise CapitationInputError("the entity is empty", "entity")
        if self.member_months <= 0:
            raise CapitationInputError(f"member months must be positive "
                                       f"({self.member_months})", "member_months")
        if self.avg_risk_score is not None and self.avg_risk_score <= 0:
            raise CapitationInputError(f"the average risk score must be positive "
                                       f"({self.avg_risk_score})", "avg_risk_score")
        if self.actual_cost < 0:
            raise CapitationInputError(f"actual cost cannot be negative ({self.actual_cost})",
                                       "actual_cost")


@dataclass(frozen=True)
class CapitationSettlement:
    """One entity's settlement. ``risk_factor`` and ``adjusted_rate`` (risk-adjusted PMPM,
    or annual price per patient) are exact; money is rounded to the cent. ``gain`` is
    negative for a loss; ``corridor_adjustment`` is paid by the payer to the provider
    (negative when the payer recoups)."""

    entity: str
    risk_factor: Decimal
    adjusted_rate: Decimal
    capitation_payment: Decimal
    actual_cost: Decimal
    gain: Decimal
    corridor_adjustment: Decimal
    payer_spending: Decimal
    provider_margin: Decimal
    note: str


def provider_part(amount: Decimal, base: Decimal, bands: Sequence[CorridorBand]) -> Decimal:
    """The part of ``amount`` (a gain or loss, >= 0) the provider keeps or bears, exact:
    ``sum(provider_share x the part of amount between the band's edges)`` with edges
    ``up_to x base``."""
    kept = ZERO
    lower = ZERO
    for band in bands:
        upper = None if band.up_to is None else band.up_to * base
        top = amount if upper is None else min(amount, upper)
        if top > lower:
            kept += band.provider_share * (top - lower)
        if upper is None or amount <= upper:
            break
        lower = upper
    return kept


def population_risk(entities: Sequence[CapitatedEntity]) -> Decimal:
    """Member-month-weighted mean risk score of ``entities`` (for
    ``normalize_to_population``)."""
    months = sum((e.member_months for e in entities), ZERO)
    scores = [e.avg_risk_score for e in entities]
    if not entities or months <= 0 or any(s is None for s in scores):
        raise InvalidInput("normalize_to_population needs every entity's avg_risk_score "
                           "and member months")
    return sum((e.member_months * s for e, s in zip(entities, scores, strict=True)
                if s is not None), ZERO) / months


def risk_factor(entity: CapitatedEntity, adjustment: RiskAdjustment,
                population: Decimal | None = None) -> Decimal:
    """The entity's risk factor: 1, its score, or its score over the normalization."""
    if adjustment.method == "none":
        return ONE
    if entity.avg_risk_score is None:
        raise CapitationInputError(
            f"entity {entity.entity}: the contract is risk-adjusted; give avg_risk_score",
            "avg_risk_score")
    if adjustment.normalization_factor is not None:
        return entity.avg_risk_score / adjustment.normalization_factor
    if adjustment.normalize_to_population:
        if population is None:
            raise InvalidInput("normalize_to_population: settle the entities together "
                               "(settle_capitation_all) or pass the population mean")
        return entity.avg_risk_score / population
    return entity.avg_risk_score


def settle_capitation(entity: CapitatedEntity, contract: CapitationContract, *,
                      population: Decimal | None = None) -> CapitationSettlement:
    """Settle one entity (see the module docstring). ``population`` is the mean risk score
    used with ``normalize_to_population``."""
    factor = risk_factor(entity, contract.risk_adjustment, population)
    rate = contract.base_rate * factor
    payment = cents(rate * entity.member_months / contract.months_per_rate)
    gain = payment - entity.actual_cost
    corridors = contract.corridors
    adjustment = ZERO
    notes: list[str] = []
    if corridors is not None and gain != 0:
        bands = corridors.gains if gain > 0 else corridors.losses
        kept = provider_part(abs(gain), payment, bands)
        shared = cents(abs(gain) - kept)
        adjustment = -shared if gain > 0 else shared
        if shared:
            notes.append(f"corridor: payer {'recoups' if gain > 0 else 'pays'} "
                         f"{shared:,.2f} of the {'gain' if gain > 0 else 'loss'}")
    spending = payment + adjustment
    return CapitationSettlement(
        entity=entity.entity, risk_factor=factor, adjusted_rate=rate,
        capitation_payment=payment, actual_cost=entity.actual_cost, gain=gain,
        corridor_adjustment=adjustment, payer_spending=spending,
        provider_margin=spending - entity.actual_cost, note="; ".join(notes))


def settle_capitation_all(entities: Sequence[CapitatedEntity], contract: CapitationContract
                          ) -> tuple[CapitationSettlement, ...]:
    """Settle ``entities`` under one contract (the population mean risk score, when the
    contract normalizes to it, is taken over these entities)."""
    population = (population_risk(entities)
                  if contract.risk_adjustment.normalize_to_population else None)
    return tuple(settle_capitation(e, contract, population=population) for e in entities)
