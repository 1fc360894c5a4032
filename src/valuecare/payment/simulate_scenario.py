"""Payer-mix scenarios as data: a provider, its contracts and a care redesign (YAML).

A scenario file (see docs/payment-models.md, "Payer-mix simulation") names:

- ``provider``: who redesigns care, with ``cost_ratio`` -- its cost of delivering services
  worth $1 at the contracts' allowed amounts (variable cost; a contract may override it);
- ``horizon_years`` and ``trend`` (yearly growth of every amount, prices and costs alike);
- ``redesign``: the change in care, as changes in utilization, outcomes and cost, with a
  ``ramp`` (share of the effect reached in each year):

  - ``population``: per member per year -- ``added_cost_pmpy`` the provider spends on the
    new service (not billable), ``utilization_change_pmpy`` the change in allowed
    spending on the provider's own services (negative: fewer visits, admissions);
  - ``episode``: per episode -- ``added_cost_per_episode`` and ``outcomes`` (an event
    such as a 30-day reoperation, its rate before and after, and the allowed cost of one);

- ``contracts``: each ``kind`` ``ffs`` (population or episodes), ``bundle`` (CJR-style
  retrospective reconciliation), ``mssp`` (an ACO track) or ``capitation`` (global PMPM).
- ``monte_carlo`` (optional): population sizes and the coefficient of variation of
  per-beneficiary spending for the distribution of MSSP shared savings.

Money and rates are quoted decimals (``"22.00"``, ``"0.132"``), as in every contract file;
every problem is one :class:`~valuecare.errors.InvalidInput` naming the file and field.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from valuecare.payment.bundle_terms import BundleTerms, cjr_terms
from valuecare.payment.capitation import Corridors
from valuecare.payment.contract_io import ContractModel, fraction, load_contract, non_negative
from valuecare.payment.mssp_params import Track

ONE = Decimal(1)


class Outcome(ContractModel):
    """An adverse event the redesign makes rarer (or commoner): its rate per episode before
    and after, and the allowed cost of one event (within the episode)."""

    name: str
    baseline_rate: Decimal
    redesigned_rate: Decimal
    cost_per_event: Decimal

    @model_validator(mode="after")
    def _check(self) -> Outcome:
        fraction(self.baseline_rate, "baseline_rate")
        fraction(self.redesigned_rate, "redesigned_rate")
        non_negative(self.cost_per_event, "cost_per_event")
        return self


class PopulationEffect(ContractModel):
    added_cost_pmpy: Decimal = Decimal(0)
    utilization_change_pmpy: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _check(self) -> PopulationEffect:
        non_negative(self.added_cost_pmpy, "added_cost_pmpy")
        return self


class EpisodeEffect(ContractModel):
    added_cost_per_episode: Decimal = Decimal(0)
    utilization_change_per_episode: Decimal = Decimal(0)
    outcomes: tuple[Outcome, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> EpisodeEffect:
        non_negative(self.added_cost_per_episode, "added_cost_per_episode")
        return self

    @property
    def spending_change(self) -> Decimal:
        """Change in allowed spending per episode at full effect: the utilization change
        plus, for each outcome, (after - before) x cost of one event."""
        return self.utilization_change_per_episode + sum(
            ((o.redesigned_rate - o.baseline_rate) * o.cost_per_event for o in self.outcomes),
            Decimal(0))


class Redesign(ContractModel):
    name: str
    description: str = ""
    source: str = ""
    population: PopulationEffect = PopulationEffect()
    episode: EpisodeEffect = EpisodeEffect()
    ramp: tuple[Decimal, ...] = (ONE,)

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not value:
            raise ValueError("give at least one year's share of the effect, e.g. [\"1\"]")
        for share in value:
            fraction(share, "each ramp share")
        return value

    def share(self, year: int) -> Decimal:
        """Share of the full effect reached in ``year`` (1-based); the last one holds."""
        return self.ramp[min(year, len(self.ramp)) - 1]


class _Contract(ContractModel):
    id: str
    payer: str
    cost_ratio: Decimal | None = None

    @field_validator("id", "payer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class FfsContract(_Contract):
    """Fee for service for a population (``members``, ``baseline_pmpm`` allowed) or for
    episodes (``episodes`` a year at ``episode_price`` allowed, complications included).
    ``patient_share`` is the patient's cost sharing as a share of allowed."""

    kind: Literal["ffs"]
    members: int | None = None
    baseline_pmpm: Decimal | None = None
    episodes: int | None = None
    episode_price: Decimal | None = None
    patient_share: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _basis(self) -> FfsContract:
        population = (self.members, self.baseline_pmpm)
        episode = (self.episodes, self.episode_price)
        full_pop = all(v is not None for v in population)
        full_epi = all(v is not None for v in episode)
        any_pop = any(v is not None for v in population)
        any_epi = any(v is not None for v in episode)
        if not ((full_pop and not any_epi) or (full_epi and not any_pop)):
            raise ValueError("give members and baseline_pmpm (a population) or episodes and "
                             "episode_price (episodes), not both")
        fraction(self.patient_share, "patient_share")
        return self


class BundleSimContract(_Contract):
    """A CJR-style bundle: the provider is paid FFS for each episode (``episode_price``
    allowed), then reconciled against ``target_price`` (Medicare-paid terms, before the
    discount) with ``program: cjr`` + ``performance_year`` or explicit ``terms``."""

    kind: Literal["bundle"]
    episodes: int = Field(gt=0)
    episode_price: Decimal
    target_price: Decimal
    patient_share: Decimal = Decimal(0)
    quality_score: Decimal
    program: Literal["cjr"] | None = None
    performance_year: int | None = None
    terms: BundleTerms | None = None

    @model_validator(mode="after")
    def _terms(self) -> BundleSimContract:
        if (self.program is None) == (self.terms is None):
            raise ValueError("give program: cjr with a performance_year, or terms")
        if (self.program is None) != (self.performance_year is None):
            raise ValueError("program and performance_year go together")
        fraction(self.patient_share, "patient_share")
        self.resolved_terms()
        return self

    def resolved_terms(self) -> BundleTerms:
        if self.terms is not None:
            return self.terms
        return cjr_terms(self.performance_year or 0)


class MsspSimContract(_Contract):
    """An MSSP ACO: ``benchmark_per_capita`` and ``expenditure_per_capita`` (baseline, before
    the redesign) in Medicare-paid dollars per person year; the provider bills
    ``provider_share`` of the expenditure; beneficiaries pay ``patient_share`` of allowed.
    ``episodes``: the redesign's episodes a year among the beneficiaries (its episode
    effect applies to them)."""

    kind: Literal["mssp"]
    track: Track
    assigned_beneficiaries: int = Field(gt=0)
    benchmark_per_capita: Decimal
    expenditure_per_capita: Decimal
    msr_mlr_option: Decimal | Literal["variable"] = "variable"
    quality_score: Decimal = Decimal(100)
    qps_met: bool = True
    provider_share: Decimal = ONE
    patient_share: Decimal = Decimal("0.20")
    episodes: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> MsspSimContract:
        fraction(self.provider_share, "provider_share")
        fraction(self.patient_share, "patient_share")
        if self.patient_share == ONE:
            raise ValueError("patient_share must be below 1")
        return self


class CapitationSimContract(_Contract):
    """Global capitation: ``pmpm`` paid for each of ``members`` x 12 months; the provider
    bears the cost of care worth ``baseline_pmpm`` allowed, with optional ``corridors``;
    ``episodes`` as for MSSP."""

    kind: Literal["capitation"]
    members: int = Field(gt=0)
    pmpm: Decimal
    baseline_pmpm: Decimal
    episodes: int = Field(default=0, ge=0)
    corridors: Corridors | None = None


Contract = Annotated[FfsContract | BundleSimContract | MsspSimContract | CapitationSimContract,
                     Field(discriminator="kind")]


class Provider(ContractModel):
    name: str
    cost_ratio: Decimal

    @model_validator(mode="after")
    def _check(self) -> Provider:
        if self.cost_ratio <= 0:
            raise ValueError(f"cost_ratio must be positive, not {self.cost_ratio}")
        return self


class MonteCarlo(ContractModel):
    """Population sizes (assigned beneficiaries), the coefficient of variation of one
    beneficiary's yearly spending (Medicare: about 2), and the track and MSR option
    settled (default BASIC_A: the variable MSR of the 42 CFR 425.604(b) table)."""

    track: Track = Track.BASIC_A
    msr_mlr_option: Decimal | Literal["variable"] = "variable"
    populations: tuple[int, ...] = (1000, 2500, 5000, 10000, 20000, 50000)
    cv: Decimal = Decimal("2.0")
    draws: int = Field(default=1000, gt=0)

    @model_validator(mode="after")
    def _check(self) -> MonteCarlo:
        if not self.populations or any(n <= 0 for n in self.populations):
            raise ValueError("populations must be positive beneficiary counts")
        if self.cv <= 0:
            raise ValueError(f"cv must be positive, not {self.cv}")
        return self


class Scenario(ContractModel):
    scenario_id: str
    description: str = ""
    provider: Provider
    start_year: int = 2025
    horizon_years: int = Field(default=3, ge=1, le=20)
    trend: Decimal = Decimal(0)
    redesign: Redesign
    contracts: tuple[Contract, ...]
    monte_carlo: MonteCarlo = MonteCarlo()

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if not self.contracts:
            raise ValueError("list at least one contract")
        ids = [c.id for c in self.contracts]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"contract id(s) repeated: {', '.join(repeated)}")
        if not Decimal("-0.5") < self.trend < ONE:
            raise ValueError(f"trend is a yearly fraction such as \"0.03\", not {self.trend}")
        return self

    def cost_ratio(self, contract: _Contract) -> Decimal:
        return contract.cost_ratio if contract.cost_ratio is not None else \
            self.provider.cost_ratio


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario YAML; problems raise :class:`InvalidInput` naming the
    file and the field."""
    return load_contract(path, Scenario, "payer-mix scenario")
