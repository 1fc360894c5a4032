"""Payer-mix simulation: one care redesign seen through each of a provider's contracts.

For every contract and year of the horizon :func:`simulate` works out the money flows twice
-- without the redesign (baseline) and with it -- using the settlement rules of this
package, never a copy of them:

- **FFS**: revenue = allowed amount of the services billed; the payer pays ``1 -
  patient_share`` of it, the patient the rest. Cutting utilization cuts revenue.
- **Bundle** (CJR style): the same FFS payments, then the reconciliation of
  :func:`valuecare.payment.bundle.settle_bundle` on the year's episodes (actual spending in
  Medicare-paid terms against the quality-adjusted target price); the NPRA is paid to the
  provider (or repaid by it) on top of FFS.
- **MSSP**: the ACO's participants are paid FFS for their share of the beneficiaries'
  care, and :func:`valuecare.payment.mssp.settle_mssp` settles shared savings or losses on
  the per-capita expenditure against the benchmark.
- **Capitation**: :func:`valuecare.payment.capitation.settle_capitation` -- the PMPM (with
  any corridors) against the cost of the care the provider delivers.

Provider cost = ``cost_ratio`` x the allowed amount of the services it delivers (variable
cost) + the redesign's added cost. Who captures the savings is read from the differences:
provider = change in margin, payer = fall in spending, patient = fall in cost sharing.
The three add up to the net saving of resources (less utilization at cost, less the added
cost), to the cent. Money is :class:`~decimal.Decimal`; every flow is rounded to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from valuecare.payment.bundle import Episode, settle_bundle
from valuecare.payment.bundle_terms import ProviderTerms
from valuecare.payment.capitation import (
    CapitatedEntity,
    CapitationContract,
    RiskAdjustment,
    settle_capitation,
)
from valuecare.payment.contract_io import Period, cents
from valuecare.payment.mssp import AcoPerformance, settle_mssp
from valuecare.payment.simulate_scenario import (
    BundleSimContract,
    CapitationSimContract,
    Contract,
    FfsContract,
    MsspSimContract,
    Scenario,
)

ZERO, ONE, TWELVE = Decimal(0), Decimal(1), Decimal(12)
PARTIES = ("provider", "payer", "patient")


@dataclass(frozen=True)
class Flows:
    """One contract-year's money: provider revenue (FFS + settlement) and cost, payer
    spending, patient cost sharing, and the settlement part of revenue (shared savings
    less losses, NPRA, corridor adjustment; 0 under FFS)."""

    revenue: Decimal
    cost: Decimal
    payer_spending: Decimal
    patient_spending: Decimal
    settlement: Decimal
    note: str = ""

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost


@dataclass(frozen=True)
class ContractYear:
    """One contract in one year, without and with the redesign, and who captures what."""

    contract_id: str
    kind: str
    payer: str
    year: int
    baseline: Flows
    redesign: Flows

    @property
    def provider_capture(self) -> Decimal:
        return self.redesign.margin - self.baseline.margin

    @property
    def payer_capture(self) -> Decimal:
        return self.baseline.payer_spending - self.redesign.payer_spending

    @property
    def patient_capture(self) -> Decimal:
        return self.baseline.patient_spending - self.redesign.patient_spending

    @property
    def net_savings(self) -> Decimal:
        return self.provider_capture + self.payer_capture + self.patient_capture


@dataclass(frozen=True)
class Effect:
    """The redesign in one year, at its ramp share and the year's trend: per member-year
    (``added``, ``utilization``) and per episode (``episode_added``, ``episode_change``)."""

    added: Decimal = ZERO
    utilization: Decimal = ZERO
    episode_added: Decimal = ZERO
    episode_change: Decimal = ZERO


def _fee(allowed: Decimal, added: Decimal, cost_ratio: Decimal, patient_share: Decimal,
         settlement: Decimal = ZERO, note: str = "") -> Flows:
    payer = cents(allowed * (ONE - patient_share))
    allowed = cents(allowed)
    return Flows(revenue=allowed + settlement, cost=cents(cost_ratio * allowed + added),
                 payer_spending=payer + settlement, patient_spending=allowed - payer,
                 settlement=settlement, note=note)


def _population_effect(eff: Effect, members: Decimal, episodes: int
                       ) -> tuple[Decimal, Decimal]:
    """The change in allowed spending and the added cost of a population of ``members``
    with ``episodes`` of the redesign's episodes a year."""
    e = Decimal(episodes)
    return (members * eff.utilization + e * eff.episode_change,
            members * eff.added + e * eff.episode_added)


def ffs_flows(c: FfsContract, eff: Effect, growth: Decimal, cost_ratio: Decimal) -> Flows:
    if c.members is not None and c.baseline_pmpm is not None:
        n = Decimal(c.members)
        allowed = n * (TWELVE * c.baseline_pmpm * growth + eff.utilization)
        return _fee(allowed, n * eff.added, cost_ratio, c.patient_share)
    n = Decimal(c.episodes or 0)
    allowed = n * ((c.episode_price or ZERO) * growth + eff.episode_change)
    return _fee(allowed, n * eff.episode_added, cost_ratio, c.patient_share)


def bundle_flows(c: BundleSimContract, eff: Effect, growth: Decimal, cost_ratio: Decimal,
                 provider: str) -> Flows:
    per_episode = c.episode_price * growth + eff.episode_change
    actual = cents(per_episode * (ONE - c.patient_share))
    target = cents(c.target_price * growth)
    episodes = [Episode(f"{c.id}-{i}", provider, target, actual) for i in range(c.episodes)]
    (settled,) = settle_bundle(episodes, c.resolved_terms(),
                               {provider: ProviderTerms(quality_score=c.quality_score)})
    n = Decimal(c.episodes)
    return _fee(n * per_episode, n * eff.episode_added, cost_ratio, c.patient_share,
                settled.reconciliation_amount, settled.note)


def mssp_flows(c: MsspSimContract, eff: Effect, growth: Decimal, cost_ratio: Decimal,
               year: int) -> Flows:
    n = Decimal(c.assigned_beneficiaries)
    change, added = _population_effect(eff, n, c.episodes)
    paid_share = ONE - c.patient_share
    expenditure = cents(c.expenditure_per_capita * growth + paid_share * change / n)
    own_allowed = n * c.provider_share * c.expenditure_per_capita * growth / paid_share + change
    aco = AcoPerformance(
        aco_id=c.id, track=c.track, assigned_beneficiaries=c.assigned_beneficiaries,
        person_years=n, benchmark_per_capita=cents(c.benchmark_per_capita * growth),
        expenditure_per_capita=expenditure,
        msr_mlr_option=None if c.msr_mlr_option == "variable" else c.msr_mlr_option,
        quality_score=c.quality_score, qps_met=c.qps_met, alt_qps_met=False,
        participant_revenue=cents(own_allowed * paid_share))
    s = settle_mssp(aco)
    settlement = s.shared_savings - s.shared_losses
    total_paid = n * expenditure
    patient = cents(total_paid * c.patient_share / paid_share)
    own = cents(own_allowed)
    return Flows(revenue=own + settlement, cost=cents(cost_ratio * own + added),
                 payer_spending=total_paid + settlement, patient_spending=patient,
                 settlement=settlement, note=s.note or f"savings rate {s.savings_rate:.2%}")


def capitation_flows(c: CapitationSimContract, eff: Effect, growth: Decimal,
                     cost_ratio: Decimal, year: int) -> Flows:
    n = Decimal(c.members)
    change, added = _population_effect(eff, n, c.episodes)
    cost = cents(cost_ratio * (n * TWELVE * c.baseline_pmpm * growth + change) + added)
    contract = CapitationContract(
        kind="capitation", contract_id=c.id, payer=c.payer,
        period=Period(start=date(year, 1, 1), end=date(year, 12, 31)), scope="global",
        pmpm=c.pmpm * growth, risk_adjustment=RiskAdjustment(method="none"),
        corridors=c.corridors)
    s = settle_capitation(CapitatedEntity(c.id, n * TWELVE, None, cost), contract)
    return Flows(revenue=s.payer_spending, cost=cost, payer_spending=s.payer_spending,
                 patient_spending=cents(ZERO), settlement=s.corridor_adjustment, note=s.note)


def contract_flows(scenario: Scenario, c: Contract, eff: Effect, year_index: int) -> Flows:
    """The flows of contract ``c`` in year ``year_index`` (1-based) under effect ``eff``."""
    growth = (ONE + scenario.trend) ** (year_index - 1)
    ratio = scenario.cost_ratio(c)
    year = scenario.start_year + year_index - 1
    if isinstance(c, FfsContract):
        return ffs_flows(c, eff, growth, ratio)
    if isinstance(c, BundleSimContract):
        return bundle_flows(c, eff, growth, ratio, scenario.provider.name)
    if isinstance(c, MsspSimContract):
        return mssp_flows(c, eff, growth, ratio, year)
    return capitation_flows(c, eff, growth, ratio, year)


def effect(scenario: Scenario, year_index: int) -> Effect:
    """The redesign's effect in year ``year_index``: ramp share x trend x full effect."""
    r = scenario.redesign
    k = r.share(year_index) * (ONE + scenario.trend) ** (year_index - 1)
    return Effect(added=k * r.population.added_cost_pmpy,
                  utilization=k * r.population.utilization_change_pmpy,
                  episode_added=k * r.episode.added_cost_per_episode,
                  episode_change=k * r.episode.spending_change)


def simulate(scenario: Scenario) -> tuple[ContractYear, ...]:
    """Every contract in every year of the horizon, without and with the redesign."""
    out: list[ContractYear] = []
    for i in range(1, scenario.horizon_years + 1):
        eff = effect(scenario, i)
        for c in scenario.contracts:
            out.append(ContractYear(c.id, c.kind, c.payer, scenario.start_year + i - 1,
                                    contract_flows(scenario, c, Effect(), i),
                                    contract_flows(scenario, c, eff, i)))
    return tuple(out)


@dataclass(frozen=True)
class Capture:
    """Who captures the savings of a group of contract-years (a contract type, or all)."""

    group: str
    provider: Decimal
    payer: Decimal
    patient: Decimal

    @property
    def net(self) -> Decimal:
        return self.provider + self.payer + self.patient

    @property
    def captured_by(self) -> str:
        """The party that gains most (``none`` when nobody gains)."""
        amounts = dict(zip(PARTIES, (self.provider, self.payer, self.patient), strict=True))
        best = max(amounts, key=lambda k: amounts[k])
        return best if amounts[best] > 0 else "none"


def captures(rows: Sequence[ContractYear], by: str = "kind") -> tuple[Capture, ...]:
    """Captures summed over the horizon per ``kind`` (contract type) or ``contract_id``,
    in order of first appearance, then ``total``."""
    groups: dict[str, list[ContractYear]] = {}
    for r in rows:
        groups.setdefault(getattr(r, by), []).append(r)
    groups["total"] = list(rows)
    return tuple(Capture(g, sum((r.provider_capture for r in rs), ZERO),
                         sum((r.payer_capture for r in rs), ZERO),
                         sum((r.patient_capture for r in rs), ZERO))
                 for g, rs in groups.items())
