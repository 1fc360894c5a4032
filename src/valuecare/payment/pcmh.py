"""Patient-centered medical home (PCMH): fee-for-service, plus a care-management PMPM, plus a
performance incentive.

A practice's payment for the period is

``total payment = FFS revenue + care-management fee + performance incentive``

- the **FFS revenue** (allowed or paid on its claims) is an input, passed through;
- the **care-management fee** = ``PMPM x member months``, the PMPM flat or tiered by the
  practice's recognition level (e.g. a higher PMPM for a higher level of PCMH
  recognition), as the contract lists it;
- the **performance incentive** (optional) is a pay-for-performance scheme settled by
  :func:`valuecare.payment.p4p.settle_p4p` on the practice's quality-measure results: a
  bonus (added) or a withhold of FFS revenue (withheld, then returned by score).

Sources: the three-part PCMH payment (FFS + a per-member-per-month care-management fee +
a performance incentive) is the blend used by PCMH programs and described in the PCMH
payment literature (e.g. CMS Comprehensive Primary Care: care-management fees on top of
FFS with shared savings or performance payments); the amounts are the contract's, in its
YAML, and no program's fee schedule is hard-coded. Money is :class:`~decimal.Decimal`;
the care-management fee and the incentive are each rounded once to the cent, half up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import model_validator

from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import ContractHeader, ContractModel, cents, non_negative
from valuecare.payment.p4p import (
    EntityBasis,
    MeasureResult,
    P4pOutcome,
    P4pScheme,
    P4pSettlement,
    settle_p4p,
)

ZERO = Decimal(0)


class PcmhInputError(InvalidInput):
    """One practice's input cannot be settled; ``column`` names the offending field."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


class CareManagementFee(ContractModel):
    """A flat ``pmpm``, or a PMPM ``by_recognition_level`` (level name -> PMPM)."""

    pmpm: Decimal | None = None
    by_recognition_level: dict[str, Decimal] | None = None

    @model_validator(mode="after")
    def _one(self) -> CareManagementFee:
        if (self.pmpm is None) == (self.by_recognition_level is None):
            raise ValueError("give either pmpm (flat) or by_recognition_level")
        non_negative(self.pmpm, "pmpm")
        levels = self.by_recognition_level or {}
        if self.by_recognition_level is not None and not levels:
            raise ValueError("by_recognition_level lists no level")
        for level, fee in levels.items():
            if not level.strip():
                raise ValueError("a recognition level name is empty")
            non_negative(fee, f"by_recognition_level.{level}")
        return self

    @property
    def tiered(self) -> bool:
        return self.by_recognition_level is not None


class PcmhContract(ContractHeader):
    """A PCMH contract (YAML ``kind: pcmh``)."""

    kind: Literal["pcmh"]
    care_management: CareManagementFee
    performance_incentive: P4pScheme | None = None


@dataclass(frozen=True)
class Practice:
    """One practice's period: member months, FFS revenue and (for a tiered fee) its
    recognition level."""

    entity: str
    member_months: Decimal
    ffs_revenue: Decimal
    recognition_level: str | None = None

    def __post_init__(self) -> None:
        if not self.entity.strip():
            raise PcmhInputError("the practice id is empty", "entity")
        if self.member_months < 0:
            raise PcmhInputError(f"member months cannot be negative ({self.member_months})",
                                 "member_months")
        if self.ffs_revenue < 0:
            raise PcmhInputError(f"FFS revenue cannot be negative ({self.ffs_revenue})",
                                 "ffs_revenue")


@dataclass(frozen=True)
class PcmhSettlement:
    """One practice. ``performance`` is its P4P settlement (``None`` without a performance
    incentive); ``total_payment`` = FFS revenue + care-management fee + performance
    incentive (bonus + withhold returned - withheld)."""

    entity: str
    ffs_revenue: Decimal
    care_management_pmpm: Decimal
    care_management_fee: Decimal
    performance: P4pSettlement | None

    @property
    def performance_incentive(self) -> Decimal:
        return ZERO if self.performance is None else self.performance.net_incentive

    @property
    def total_payment(self) -> Decimal:
        return self.ffs_revenue + self.care_management_fee + self.performance_incentive


def care_management_pmpm(practice: Practice, fee: CareManagementFee) -> Decimal:
    """The practice's care-management PMPM: flat, or its recognition level's."""
    if fee.pmpm is not None:
        return fee.pmpm
    levels = fee.by_recognition_level or {}
    level = practice.recognition_level
    if not level:
        raise PcmhInputError(f"practice {practice.entity}: the care-management fee is tiered "
                             f"by recognition level; give one of {', '.join(levels)}",
                             "recognition_level")
    if level not in levels:
        raise PcmhInputError(f"practice {practice.entity}: recognition level {level!r} is not "
                             f"in the contract; use one of {', '.join(levels)}",
                             "recognition_level")
    return levels[level]


def settle_pcmh(practices: Sequence[Practice], contract: PcmhContract,
                results: Sequence[MeasureResult] = ()) -> tuple[tuple[PcmhSettlement, ...],
                                                                  P4pOutcome | None]:
    """Settle every practice; ``results`` are the quality-measure results the performance
    incentive is settled on (entity = practice)."""
    scheme = contract.performance_incentive
    outcome = None
    if scheme is not None:
        outcome = settle_p4p(results, scheme, [
            EntityBasis(p.entity, p.member_months, p.ffs_revenue) for p in practices])
    elif results:
        raise InvalidInput(f"contract {contract.contract_id} has no performance_incentive, "
                           "so measure results are not used; remove them or add one")
    settled = []
    for i, p in enumerate(practices):
        pmpm = care_management_pmpm(p, contract.care_management)
        settled.append(PcmhSettlement(
            entity=p.entity, ffs_revenue=p.ffs_revenue, care_management_pmpm=pmpm,
            care_management_fee=cents(pmpm * p.member_months),
            performance=None if outcome is None else outcome.settlements[i]))
    return tuple(settled), outcome
