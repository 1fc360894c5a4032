"""Bundled-payment reconciliation in the CMS CJR style, per provider and performance year.

:func:`settle_bundle` follows 42 CFR 510.305(e)-(g) with the discount factors of
§510.300(c), the high-cost cap of §510.300(b)(5) and the quality incentive of §510.315(f)
(CJR performance years 1-5; the text was read, see docs/payment-models.md), generalised
to any contract's :class:`~valuecare.payment.bundle_terms.BundleTerms`:

1. **High-cost cap.** Each episode's actual spending is capped at the ceiling of its
   episode type: ``mean + k x SD`` of the actual spending of all episodes of that type
   settled together (CJR: k = 2 above the *regional* mean; here the episodes in the file
   stand for the region, and SD is the population standard deviation [M: how CMS computes
   the SD is unverified]), rounded to the cent; or fixed ceilings from the contract.
2. **Quality.** The provider's composite quality score picks its category; the category's
   ``discount_reduction`` lowers the payment and repayment discount factors (CJR: good
   -1.0, excellent -1.5 percentage points).
3. **Quality-adjusted target price** per episode, rounded to the cent (half up):
   ``target x (1 - effective discount)`` for benchmark prices, or ``target x (1 -
   effective) / (1 - payment discount)`` for prices already discounted.
4. **NPRA** = sum of quality-adjusted target prices - sum of capped actual spending, at
   the payment discount. If it is negative and the contract is two-sided, it is worked
   again at the repayment discount (CJR PY2-3: 2%) [M: this two-pass order is our reading
   of §510.300(c)(2)-(3), not CMS text]; a repayment is owed only if that is negative too.
5. **Limits.** The NPRA is limited to ``stop_gain`` x, and ``-stop_loss`` x, the summed
   quality-adjusted target prices of the side used (``reduced_stop_loss`` for flagged
   providers), each limit rounded to the cent.
6. **Quality gate.** A positive limited NPRA is paid only if the category is eligible
   (CJR: acceptable or better); a negative one is repaid whatever the quality.
7. **Warranty.** ``provider_share`` x the episodes' warranty claims (complications and
   repeat surgery within the warranty horizon, paid outside the episode) is charged to the
   provider after the limits, as CJR charges post-episode spending outside them
   (§510.305(e)(1)(v)(A)(5)), rounded to the cent. Final reconciliation amount =
   payment (positive) or repayment (negative) - warranty charge.

Money is :class:`~decimal.Decimal`; inputs are whole cents, every reported amount is in
cents, so per-episode amounts add up to the provider totals exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from valuecare.errors import InvalidInput
from valuecare.payment.bundle_terms import (
    BundleTerms,
    HighCostCap,
    ProviderTerms,
    QualityCategory,
    TargetBasis,
)

CENT = Decimal("0.01")
ZERO, ONE = Decimal(0), Decimal(1)
Side = Literal["payment", "repayment"]


def cents(amount: Decimal) -> Decimal:
    """Round money to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class EpisodeInputError(InvalidInput):
    """One episode cannot be settled; ``column`` names the offending field."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


def _money(value: Decimal, column: str, *, positive: bool = False) -> None:
    if not value.is_finite() or value < 0 or (positive and value == 0):
        need = "positive" if positive else "zero or more"
        raise EpisodeInputError(f"{value} is not a valid amount; it must be {need}", column)
    if value != value.quantize(CENT):
        raise EpisodeInputError(f"{value} has fractions of a cent; give dollars with at most "
                                "two decimals", column)


@dataclass(frozen=True)
class Episode:
    """One episode: its target price (benchmark or discounted, per the contract), actual
    spending within the episode, and warranty claims outside it. Dollars, whole cents."""

    episode_id: str
    provider: str
    target_price: Decimal
    actual_spend: Decimal
    warranty_claims: Decimal = ZERO
    episode_type: str = "all"

    def __post_init__(self) -> None:
        for name in ("episode_id", "provider", "episode_type"):
            if not getattr(self, name).strip():
                raise EpisodeInputError(f"the {name} is empty", name)
        _money(self.target_price, "target_price", positive=True)
        _money(self.actual_spend, "actual_spend")
        _money(self.warranty_claims, "warranty_claims")


@dataclass(frozen=True)
class EpisodeResult:
    """One episode as reconciled: its quality-adjusted target price for the side used,
    the ceiling of its type (``None`` without a cap) and its spending after the cap."""

    episode_id: str
    provider: str
    episode_type: str
    quality_adjusted_target: Decimal
    actual_spend: Decimal
    ceiling: Decimal | None
    actual_after_cap: Decimal
    warranty_claims: Decimal

    @property
    def capped(self) -> bool:
        return self.actual_after_cap < self.actual_spend


@dataclass(frozen=True)
class ProviderSettlement:
    """One provider's reconciliation. Money in dollars and cents; positive amounts are paid
    to the provider, negative ones owed by it. ``effective_discount`` is the discount of
    the side used (``payment_discount`` or ``repayment_discount``, both after quality)."""

    provider: str
    episodes: int
    quality_score: Decimal
    quality_category: str
    eligible_for_payment: bool
    side: Side
    payment_discount: Decimal
    repayment_discount: Decimal | None
    effective_discount: Decimal
    target_total: Decimal
    actual_total: Decimal
    actual_after_cap_total: Decimal
    capped_episodes: int
    npra_before_limits: Decimal
    stop_gain_limit: Decimal
    stop_loss_limit: Decimal | None
    npra_after_limits: Decimal
    payment_or_repayment: Decimal
    warranty_claims_total: Decimal
    warranty_charge: Decimal
    reconciliation_amount: Decimal
    note: str
    episode_results: tuple[EpisodeResult, ...]


def effective_discounts(terms: BundleTerms, score: Decimal
                        ) -> tuple[QualityCategory, Decimal, Decimal | None]:
    """The quality category of ``score`` and the payment and repayment discounts after its
    reduction (§510.315(f): good -1.0, excellent -1.5 percentage points)."""
    cat = terms.category(score)
    rep = terms.repayment_discount
    return (cat, terms.payment_discount - cat.discount_reduction,
            None if rep is None else rep - cat.discount_reduction)


def high_cost_ceilings(episodes: Iterable[Episode], cap: HighCostCap | None
                       ) -> dict[str, Decimal]:
    """The ceiling per episode type: fixed, or ``mean + k x SD`` (population SD) of the
    actual spending of that type's episodes, rounded to the cent. Empty without a cap."""
    if cap is None:
        return {}
    by_type: dict[str, list[Decimal]] = {}
    for ep in episodes:
        by_type.setdefault(ep.episode_type, []).append(ep.actual_spend)
    if cap.ceilings is not None:
        missing = sorted(set(by_type) - set(cap.ceilings))
        if missing:
            raise InvalidInput(f"no high-cost ceiling for episode type(s) {', '.join(missing)}; "
                               "add them under high_cost_cap.ceilings in the contract")
        return {kind: cap.ceilings[kind] for kind in by_type}
    k = cap.standard_deviations or ZERO
    out: dict[str, Decimal] = {}
    for kind, values in by_type.items():
        n = Decimal(len(values))
        mean = sum(values, ZERO) / n
        sd = (sum(((v - mean) ** 2 for v in values), ZERO) / n).sqrt()
        out[kind] = cents(mean + k * sd)
    return out


def quality_adjusted_target(target: Decimal, discount: Decimal, *, basis: TargetBasis,
                            payment_discount: Decimal) -> Decimal:
    """One episode's quality-adjusted target price, rounded to the cent."""
    if basis == "benchmark":
        return cents(target * (ONE - discount))
    return cents(target * (ONE - discount) / (ONE - payment_discount))


def limit_npra(npra: Decimal, target_total: Decimal, stop_gain: Decimal,
               stop_loss: Decimal | None) -> tuple[Decimal, Decimal, Decimal | None]:
    """The NPRA within ``[-stop_loss x target, stop_gain x target]``, with both limits
    (rounded to the cent; no loss limit -- and no loss -- when ``stop_loss`` is None)."""
    gain = cents(stop_gain * target_total)
    loss = None if stop_loss is None else cents(stop_loss * target_total)
    limited = min(npra, gain)
    limited = max(limited, ZERO if loss is None else -loss)
    return limited, gain, loss


def _targets(episodes: Sequence[Episode], discount: Decimal, basis: TargetBasis,
             terms: BundleTerms) -> list[Decimal]:
    return [quality_adjusted_target(ep.target_price, discount, basis=basis,
                                    payment_discount=terms.payment_discount)
            for ep in episodes]


def settle_provider(provider: str, episodes: Sequence[Episode], terms: BundleTerms,
                    performance: ProviderTerms, *, ceilings: Mapping[str, Decimal],
                    basis: TargetBasis = "benchmark",
                    warranty_share: Decimal = ONE) -> ProviderSettlement:
    """Reconcile one provider's episodes (see the module docstring for the steps).
    ``ceilings`` come from :func:`high_cost_ceilings` over all episodes settled together."""
    if not episodes:
        raise InvalidInput(f"provider {provider} has no episodes to settle")
    cat, pay_disc, rep_disc = effective_discounts(terms, performance.quality_score)
    capped = [min(ep.actual_spend, ceilings[ep.episode_type])
              if ep.episode_type in ceilings else ep.actual_spend for ep in episodes]
    actual_after_cap = sum(capped, ZERO)
    notes: list[str] = []

    side: Side = "payment"
    discount = pay_disc
    targets = _targets(episodes, pay_disc, basis, terms)
    npra = sum(targets, ZERO) - actual_after_cap
    stop_loss: Decimal | None = None
    if npra < 0 and rep_disc is not None:
        side, discount = "repayment", rep_disc
        targets = _targets(episodes, rep_disc, basis, terms)
        npra = min(sum(targets, ZERO) - actual_after_cap, ZERO)
        stop_loss = terms.loss_limit_share(performance.reduced_stop_loss)
        if npra == 0:
            notes.append("negative only at the payment discount: nothing owed")
    elif npra < 0:
        notes.append("one-sided: no repayment")
    target_total = sum(targets, ZERO)
    limited, gain_limit, loss_limit = limit_npra(npra, target_total, terms.stop_gain,
                                                 stop_loss)
    if limited != npra and (npra > 0 or stop_loss is not None):
        notes.append("stop-gain limit binds" if npra > 0 else "stop-loss limit binds")
    amount = limited
    if limited > 0 and not cat.eligible_for_payment:
        amount = ZERO
        notes.append(f"quality {cat.name}: not eligible for a reconciliation payment")
    claims = sum((ep.warranty_claims for ep in episodes), ZERO)
    charge = cents(warranty_share * claims)
    results = tuple(
        EpisodeResult(ep.episode_id, ep.provider, ep.episode_type, target, ep.actual_spend,
                      ceilings.get(ep.episode_type), spend, ep.warranty_claims)
        for ep, target, spend in zip(episodes, targets, capped, strict=True))
    n_capped = sum(r.capped for r in results)
    if n_capped:
        notes.append(f"{n_capped} high-cost episode(s) capped")
    return ProviderSettlement(
        provider=provider, episodes=len(episodes), quality_score=performance.quality_score,
        quality_category=cat.name, eligible_for_payment=cat.eligible_for_payment, side=side,
        payment_discount=pay_disc, repayment_discount=rep_disc, effective_discount=discount,
        target_total=target_total, actual_total=sum((ep.actual_spend for ep in episodes), ZERO),
        actual_after_cap_total=actual_after_cap, capped_episodes=n_capped,
        npra_before_limits=npra, stop_gain_limit=gain_limit, stop_loss_limit=loss_limit,
        npra_after_limits=limited, payment_or_repayment=amount,
        warranty_claims_total=claims, warranty_charge=charge,
        reconciliation_amount=amount - charge, note="; ".join(notes), episode_results=results)


def settle_bundle(episodes: Sequence[Episode], terms: BundleTerms,
                  providers: Mapping[str, ProviderTerms], *, basis: TargetBasis = "benchmark",
                  warranty_share: Decimal = ONE) -> tuple[ProviderSettlement, ...]:
    """Reconcile every provider's episodes, in order of first appearance. The high-cost
    ceilings are computed over all ``episodes`` together."""
    by_provider: dict[str, list[Episode]] = {}
    seen: set[str] = set()
    for ep in episodes:
        if ep.episode_id in seen:
            raise EpisodeInputError(f"episode {ep.episode_id} appears twice", "episode_id")
        seen.add(ep.episode_id)
        by_provider.setdefault(ep.provider, []).append(ep)
    missing = [p for p in by_provider if p not in providers]
    if missing:
        raise InvalidInput(f"provider(s) {', '.join(missing)} have episodes but no entry under "
                           "providers (with quality_score) in the contract")
    ceilings = high_cost_ceilings(episodes, terms.high_cost_cap)
    return tuple(settle_provider(p, eps, terms, providers[p], ceilings=ceilings, basis=basis,
                                 warranty_share=warranty_share)
                 for p, eps in by_provider.items())
