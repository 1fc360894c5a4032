"""Bundled-payment contracts as data: reconciliation terms, the packaged CMS CJR terms, and
the contract YAML read by ``valuecare settle bundle``.

- :class:`BundleTerms` -- discounts, stop-gain/stop-loss limits, quality categories and the
  high-cost episode cap of one contract year; pure data passed into
  :func:`valuecare.payment.bundle.settle_provider`.
- :func:`cjr_terms` -- the CMS Comprehensive Care for Joint Replacement terms of
  performance years 1-5 from ``valuecare/reference/payment/bundles_cjr.yaml`` (42 CFR
  510.300(c), 510.305(e)-(g), 510.315(f); verified against the CFR text, see
  docs/payment-models.md).
- :class:`BundleContract` and :func:`load_contract` -- a contract file: payer, episode
  definition, period, either ``program: cjr`` with a ``performance_year`` or explicit
  ``terms``, how the episode file's target prices are stated, the warranty, and each
  provider's composite quality score. Every problem is one
  :class:`~valuecare.errors.InvalidInput` naming the file and the field.

Money and rates are :class:`~decimal.Decimal`; a YAML float (``0.03`` unquoted) is
refused so no binary rounding can creep in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from valuecare.conditions.library import parse_definition
from valuecare.errors import InvalidInput, MissingFile
from valuecare.payment.mssp_params import Verification, _Model

CJR_FILE = "bundles_cjr.yaml"
DOC = "docs/payment-models.md"
ZERO, ONE = Decimal(0), Decimal(1)


def _fraction(value: Decimal | None, name: str) -> None:
    if value is not None and not ZERO <= value < ONE:
        raise ValueError(f"{name} must be a fraction in [0, 1) such as \"0.03\", not {value}")


class QualityCategory(_Model):
    """A quality category: scores from ``min_score`` (inclusive unless ``min_inclusive``
    is false; ``None`` for the lowest category) up to the next category's start."""

    name: str
    min_score: Decimal | None
    min_inclusive: bool = True
    eligible_for_payment: bool
    discount_reduction: Decimal

    def admits(self, score: Decimal) -> bool:
        if self.min_score is None:
            return True
        return score >= self.min_score if self.min_inclusive else score > self.min_score


class HighCostCap(_Model):
    """Actual episode spending capped per episode type: at ``standard_deviations`` above
    the mean of the episodes settled together (CJR: 2), or at fixed ``ceilings``."""

    standard_deviations: Decimal | None = None
    ceilings: dict[str, Decimal] | None = None

    @model_validator(mode="after")
    def _one(self) -> HighCostCap:
        if (self.standard_deviations is None) == (self.ceilings is None):
            raise ValueError("give either standard_deviations or ceilings")
        if self.standard_deviations is not None and self.standard_deviations <= 0:
            raise ValueError("standard_deviations must be positive")
        for kind, amount in (self.ceilings or {}).items():
            if amount <= 0:
                raise ValueError(f"the ceiling of {kind} must be positive, not {amount}")
        return self


class BundleTerms(_Model):
    """Reconciliation terms of one bundled-payment year.

    ``payment_discount`` and ``repayment_discount`` are the discount factors applied to
    target prices when the provider is paid or repays (CJR §510.300(c)); each quality
    category lowers them by its ``discount_reduction``. ``repayment_discount`` and
    ``stop_loss`` are ``None`` when the provider repays nothing (one-sided, CJR PY1).
    ``stop_gain``/``stop_loss`` are shares of the summed quality-adjusted target prices;
    ``reduced_stop_loss`` applies to providers flagged ``reduced_stop_loss`` (CJR: rural
    hospitals, SCHs, MDHs, RRCs).
    """

    payment_discount: Decimal
    repayment_discount: Decimal | None
    stop_gain: Decimal
    stop_loss: Decimal | None
    reduced_stop_loss: Decimal | None = None
    quality_categories: tuple[QualityCategory, ...]
    high_cost_cap: HighCostCap | None = None
    source: str = "contract"
    verification: Verification | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BundleTerms:
        for name in ("payment_discount", "repayment_discount", "stop_gain", "stop_loss",
                     "reduced_stop_loss"):
            _fraction(getattr(self, name), name)
        if (self.repayment_discount is None) != (self.stop_loss is None):
            raise ValueError("give repayment_discount and stop_loss together (two-sided), "
                             "or neither (one-sided: no repayment)")
        if self.reduced_stop_loss is not None and (
                self.stop_loss is None or self.reduced_stop_loss > self.stop_loss):
            raise ValueError("reduced_stop_loss needs a stop_loss at least as large")
        cats = self.quality_categories
        if not cats:
            raise ValueError("give at least one quality category")
        if cats[0].min_score is not None:
            raise ValueError("the first (lowest) quality category needs min_score: null")
        discounts = [self.payment_discount]
        if self.repayment_discount is not None:
            discounts.append(self.repayment_discount)
        for low, high in zip(cats, cats[1:], strict=False):
            if high.min_score is None or (low.min_score is not None
                                          and high.min_score < low.min_score):
                raise ValueError(f"quality category {high.name}: order categories from "
                                 "worst to best with rising min_score")
            if high.discount_reduction < low.discount_reduction:
                raise ValueError(f"quality category {high.name}: better quality must not "
                                 "reduce the discount less than worse quality")
            if low.eligible_for_payment and not high.eligible_for_payment:
                raise ValueError(f"quality category {high.name}: better quality must stay "
                                 "eligible for payment")
        for cat in cats:
            if not ZERO <= cat.discount_reduction <= min(discounts):
                raise ValueError(f"quality category {cat.name}: discount_reduction must lie "
                                 f"between 0 and the discount ({min(discounts)})")
        return self

    def category(self, score: Decimal) -> QualityCategory:
        """The best category whose lower bound ``score`` meets."""
        found = self.quality_categories[0]
        for cat in self.quality_categories:
            if cat.admits(score):
                found = cat
        return found

    def loss_limit_share(self, reduced: bool) -> Decimal | None:
        if reduced and self.reduced_stop_loss is not None:
            return self.reduced_stop_loss
        return self.stop_loss


# -- packaged CJR terms -----------------------------------------------------------------


class _Sourced(_Model):
    source: str
    verification: Verification


class _CjrCategories(_Sourced):
    categories: tuple[QualityCategory, ...]


class _CjrCap(_Sourced):
    standard_deviations: Decimal


class _CjrYear(_Model):
    payment_discount: Decimal
    repayment_discount: Decimal | None
    stop_gain: Decimal
    stop_loss: Decimal | None
    reduced_stop_loss: Decimal | None


class CjrParams(_Model):
    """The packaged CJR terms (``bundles_cjr.yaml``)."""

    version: str
    applies_to: str
    quality_categories: _CjrCategories
    high_cost_cap: _CjrCap
    performance_years: dict[int, _CjrYear]
    performance_years_source: str
    performance_years_verification: Verification


def parse_cjr(text: str, where: str = CJR_FILE) -> CjrParams:
    return parse_definition(text, where, CjrParams, "CJR parameter file", DOC,  # type: ignore[return-value]
                            error=InvalidInput)


@lru_cache(maxsize=1)
def load_cjr() -> CjrParams:
    """The packaged CJR parameters (never a file in the working directory)."""
    res = resources.files("valuecare") / "reference" / "payment" / CJR_FILE
    return parse_cjr(res.read_text(encoding="utf-8"), f"valuecare/reference/payment/{CJR_FILE}")


def cjr_terms(performance_year: int, params: CjrParams | None = None) -> BundleTerms:
    """The CJR reconciliation terms of ``performance_year`` (1-5)."""
    params = params or load_cjr()
    year = params.performance_years.get(performance_year)
    if year is None:
        years = ", ".join(str(y) for y in sorted(params.performance_years))
        raise InvalidInput(f"CJR performance year {performance_year} is not packaged; use one "
                           f"of {years} (the PY6-8 extension is not implemented)")
    tags = (params.quality_categories.verification, params.high_cost_cap.verification,
            params.performance_years_verification)
    return BundleTerms(
        **year.model_dump(), quality_categories=params.quality_categories.categories,
        high_cost_cap=HighCostCap(standard_deviations=params.high_cost_cap.standard_deviations),
        source=f"{params.performance_years_source}; {params.quality_categories.source}; "
               f"{params.high_cost_cap.source}",
        verification=max(tags, key="VTM".index))


# -- contract files ---------------------------------------------------------------------


class Period(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class ProviderTerms(_Model):
    """One provider's performance-year inputs: its composite quality score (CJR: 0-20)
    and whether the reduced stop-loss limit applies."""

    quality_score: Decimal
    reduced_stop_loss: bool = False

    @model_validator(mode="after")
    def _score(self) -> ProviderTerms:
        if self.quality_score < 0:
            raise ValueError(f"quality_score cannot be negative ({self.quality_score})")
        return self


class WarrantyTerms(_Model):
    """Warranty claims (care for complications and repeat surgery within the warranty
    horizon, paid outside the episode) charged back to the provider at ``provider_share``
    of their cost, after the stop-gain/stop-loss limits."""

    provider_share: Decimal = ONE
    horizon: str | None = None

    @model_validator(mode="after")
    def _share(self) -> WarrantyTerms:
        if not ZERO <= self.provider_share <= ONE:
            raise ValueError(f"provider_share must lie in [0, 1], not {self.provider_share}")
        return self


TargetBasis = Literal["benchmark", "discounted"]


class BundleContract(_Model):
    """A bundled-payment contract file (see docs/payment-models.md, "Bundled payments").

    ``target_price_basis``: ``benchmark`` -- the episode file's ``target_price`` is before
    any discount; ``discounted`` -- it already carries ``payment_discount`` (as CMS
    publishes CJR target prices), and quality moves it by ``(1 - effective) / (1 -
    payment_discount)``.
    """

    contract_id: str
    payer: str
    episode_definition: str
    period: Period
    program: Literal["cjr"] | None = None
    performance_year: int | None = None
    terms: BundleTerms | None = None
    target_price_basis: TargetBasis = "benchmark"
    warranty: WarrantyTerms = WarrantyTerms()
    providers: dict[str, ProviderTerms]

    @model_validator(mode="after")
    def _terms(self) -> BundleContract:
        if self.program is None and self.terms is None:
            raise ValueError("give terms, or program: cjr with a performance_year")
        if self.program is not None and self.terms is not None:
            raise ValueError("give terms or program, not both")
        if (self.program is None) != (self.performance_year is None):
            raise ValueError("program and performance_year go together")
        if not self.providers:
            raise ValueError("list the providers with their quality_score")
        return self

    def resolved_terms(self) -> BundleTerms:
        if self.terms is not None:
            return self.terms
        if self.performance_year is None:   # pragma: no cover - the validator checks it
            raise InvalidInput("program: cjr needs a performance_year")
        return cjr_terms(self.performance_year)


def parse_contract(text: str, where: str) -> BundleContract:
    """Parse a contract from YAML text; problems raise :class:`InvalidInput` naming
    ``where`` and the field."""
    contract: BundleContract = parse_definition(  # type: ignore[assignment]
        text, where, BundleContract, "bundled-payment contract", DOC, error=InvalidInput)
    try:
        contract.resolved_terms()
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: field performance_year: {exc}") from exc
    return contract


def load_contract(path: Path) -> BundleContract:
    if not path.is_file():
        raise MissingFile(f"{path}: no such file; give the bundled-payment contract (YAML)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc}); save the contract as UTF-8") from exc
    return parse_contract(text, str(path))
