"""Payment: settling value-based contracts on results of the stages before it.

- :func:`settle_mssp` -- Medicare Shared Savings Program shared savings and losses for one
  ACO (42 CFR 425.605, 425.610), from :class:`AcoPerformance` to :class:`MsspSettlement`;
  :func:`settle_file` settles a CSV of ACOs (``valuecare settle mssp``).
- :func:`updated_benchmark` and :func:`historical_benchmark` -- the MSSP benchmark from
  per-capita expenditures (42 CFR 425.601).
- :func:`load_params` -- the packaged MSSP parameters, each with its source and whether it
  was verified.

- :func:`settle_bundle` -- bundled-payment reconciliation per provider in the CMS CJR style
  (42 CFR 510.300-510.315): high-cost cap, quality-adjusted discount, NPRA within
  stop-gain/stop-loss, warranty charge; :func:`cjr_terms` the packaged CJR terms;
  :func:`price_bundle` a bundle price with a warranty load from historical cycle costs.
- :func:`settle_capitation_all` -- capitation and global budgets (global PMPM or a yearly
  price per patient with a condition), risk-adjusted, with risk corridors
  (:class:`CapitationContract`); :func:`settle_pcmh` -- PCMH: FFS + care-management PMPM
  + performance incentive (:class:`PcmhContract`); :func:`settle_p4p` -- pay for
  performance: bonus or withhold return from measure results on linear or tiered scales
  (:class:`P4pContract`). Contract YAML is read with
  :func:`valuecare.payment.contract_io.load_contract`.
- :func:`valuecare.payment.ffs.ffs_revenue` -- the fee-for-service baseline from claims;
  :func:`simulate` -- the payer-mix simulation of a :class:`Scenario`
  (:func:`load_scenario`), :func:`captures` who captures the savings, and
  :func:`shared_savings_distribution` the Monte Carlo of MSSP shared savings by ACO size
  (``valuecare simulate``).

See docs/payment-models.md.
"""

from __future__ import annotations

from valuecare.payment.bundle import Episode, ProviderSettlement, settle_bundle
from valuecare.payment.bundle_price import PriceBuildUp, PricingTerms, WarrantyEvent, price_bundle
from valuecare.payment.bundle_terms import BundleContract, BundleTerms, cjr_terms, load_contract
from valuecare.payment.capitation import (
    CapitatedEntity,
    CapitationContract,
    CapitationSettlement,
    settle_capitation,
    settle_capitation_all,
)
from valuecare.payment.mssp import AcoPerformance, MsspSettlement, settle_mssp
from valuecare.payment.mssp_benchmark import (
    BenchmarkYear,
    EnrollmentInputs,
    UpdatedBenchmark,
    historical_benchmark,
    updated_benchmark,
)
from valuecare.payment.mssp_csv import settle_file, write_settlements
from valuecare.payment.mssp_params import MsspParams, Track, load_params, variable_msr
from valuecare.payment.p4p import (
    EntityBasis,
    MeasureResult,
    P4pContract,
    P4pOutcome,
    P4pScheme,
    P4pSettlement,
    settle_p4p,
)
from valuecare.payment.pcmh import PcmhContract, PcmhSettlement, Practice, settle_pcmh
from valuecare.payment.simulate import ContractYear, captures, simulate
from valuecare.payment.simulate_mc import shared_savings_distribution
from valuecare.payment.simulate_scenario import Scenario, load_scenario

__all__ = [
    "AcoPerformance",
    "BenchmarkYear",
    "BundleContract",
    "BundleTerms",
    "CapitatedEntity",
    "ContractYear",
    "CapitationContract",
    "CapitationSettlement",
    "EnrollmentInputs",
    "EntityBasis",
    "Episode",
    "MeasureResult",
    "MsspParams",
    "MsspSettlement",
    "P4pContract",
    "P4pOutcome",
    "P4pScheme",
    "P4pSettlement",
    "PcmhContract",
    "PcmhSettlement",
    "Practice",
    "PriceBuildUp",
    "Scenario",
    "PricingTerms",
    "ProviderSettlement",
    "Track",
    "UpdatedBenchmark",
    "WarrantyEvent",
    "captures",
    "cjr_terms",
    "historical_benchmark",
    "load_contract",
    "load_params",
    "load_scenario",
    "price_bundle",
    "settle_bundle",
    "settle_capitation",
    "settle_capitation_all",
    "settle_file",
    "settle_mssp",
    "settle_p4p",
    "settle_pcmh",
    "shared_savings_distribution",
    "simulate",
    "updated_benchmark",
    "variable_msr",
    "write_settlements",
]
