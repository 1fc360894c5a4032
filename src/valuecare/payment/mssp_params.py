"""MSSP "Pathways to Success" parameters: tracks and levels, the MSR table, MSR/MLR options.

The numbers live in ``valuecare/reference/payment/mssp_pathways.yaml`` (read with
:mod:`importlib.resources`, validated here with pydantic), each with its source and a
verification tag:

- ``V`` checked against the primary text (CFR section, CMS page) or an excerpt of it;
- ``T`` checked against a third-party transcription or implementation of it;
- ``M`` recalled from the published document and **not re-verified**: unverified.

Sources: 42 CFR Part 425 Subpart G, chiefly §425.600 (tracks and levels), §425.604(b) (the
one-sided MSR table), §425.605 (BASIC track), §425.610 (ENHANCED track), §425.110(b)
(fewer than 5,000 beneficiaries); the Pathways final rule, 83 FR 67816 (31 Dec 2018).
Which rules were checked against what is listed in ``docs/payment-models.md``.

Everything here is data passed into pure functions: a test may build a
:class:`MsspParams` by hand (or from three lines of YAML with :func:`parse_params`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from valuecare.conditions.library import parse_definition
from valuecare.errors import InvalidInput

PARAMS_FILE = "mssp_pathways.yaml"

Verification = Literal["V", "T", "M"]


class Track(StrEnum):
    """MSSP tracks and levels (42 CFR 425.600(a)): BASIC A-B one-sided, BASIC C-E and
    ENHANCED two-sided."""

    BASIC_A = "BASIC_A"
    BASIC_B = "BASIC_B"
    BASIC_C = "BASIC_C"
    BASIC_D = "BASIC_D"
    BASIC_E = "BASIC_E"
    ENHANCED = "ENHANCED"

    @property
    def is_basic(self) -> bool:
        return self is not Track.ENHANCED


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"{value!r} is a binary float; write decimals in quotes, "
                             "e.g. \"0.40\", so they stay exact")
        return value


def _rate(value: Decimal | None, name: str) -> None:
    if value is not None and not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{name} must be a fraction between 0 and 1, not {value}")


class LossRate(_Model):
    """The shared loss rate: ``flat`` (BASIC C-E), or quality-scaled (ENHANCED):
    ``1 - quality_factor x score/100`` bounded to ``[floor, ceiling]``, and
    ``quality_failed`` when neither quality standard is met."""

    flat: Decimal | None = None
    quality_factor: Decimal | None = None
    floor: Decimal | None = None
    ceiling: Decimal | None = None
    quality_failed: Decimal | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> LossRate:
        scaled = (self.quality_factor, self.floor, self.ceiling, self.quality_failed)
        if (self.flat is None) == all(v is None for v in scaled):
            raise ValueError("give either flat, or quality_factor, floor, ceiling and "
                             "quality_failed")
        if self.flat is None and any(v is None for v in scaled):
            raise ValueError("a quality-scaled loss rate needs quality_factor, floor, "
                             "ceiling and quality_failed")
        for name in ("flat", "quality_factor", "floor", "ceiling", "quality_failed"):
            _rate(getattr(self, name), name)
        if self.floor is not None and self.ceiling is not None and self.floor > self.ceiling:
            raise ValueError("floor is above ceiling")
        return self


class LossLimit(_Model):
    """The loss sharing limit: the lesser of a share of the ACO participants' total Parts
    A+B FFS revenue and a share of the updated benchmark (either may be absent)."""

    share_of_revenue: Decimal | None = None
    share_of_benchmark: Decimal | None = None

    @model_validator(mode="after")
    def _some(self) -> LossLimit:
        if self.share_of_revenue is None and self.share_of_benchmark is None:
            raise ValueError("give share_of_revenue, share_of_benchmark or both")
        _rate(self.share_of_revenue, "share_of_revenue")
        _rate(self.share_of_benchmark, "share_of_benchmark")
        return self


class TrackParams(_Model):
    """One track or level: sharing rate, performance payment limit (share of the updated
    benchmark) and, when two-sided, loss rate and loss sharing limit."""

    two_sided: bool
    max_sharing_rate: Decimal
    performance_payment_limit: Decimal
    shared_loss_rate: LossRate | None = None
    loss_limit: LossLimit | None = None
    source: str
    verification: Verification

    @model_validator(mode="after")
    def _sides(self) -> TrackParams:
        _rate(self.max_sharing_rate, "max_sharing_rate")
        _rate(self.performance_payment_limit, "performance_payment_limit")
        has_losses = self.shared_loss_rate is not None and self.loss_limit is not None
        partial = (self.shared_loss_rate is None) != (self.loss_limit is None)
        if partial or has_losses != self.two_sided:
            raise ValueError("a two-sided track needs shared_loss_rate and loss_limit; a "
                             "one-sided track has neither")
        return self


class MsrBand(_Model):
    """Assigned beneficiaries ``low``..``high``: MSR from ``msr_low`` to ``msr_high``."""

    low: int
    high: int | None
    msr_low: Decimal
    msr_high: Decimal
    verification: Verification


class BelowFirstBand(_Model):
    msr: Decimal
    verification: Verification


class MsrTable(_Model):
    source: str
    below_first_band: BelowFirstBand
    bands: tuple[MsrBand, ...]

    @model_validator(mode="after")
    def _contiguous(self) -> MsrTable:
        if not self.bands:
            raise ValueError("the MSR table has no bands")
        previous: MsrBand | None = None
        for band in self.bands:
            _rate(band.msr_low, "msr_low")
            _rate(band.msr_high, "msr_high")
            if band.high is not None and band.high <= band.low:
                raise ValueError(f"band {band.low}-{band.high}: high must exceed low")
            if band.msr_high > band.msr_low:
                raise ValueError(f"band {band.low}: the MSR must not rise with size")
            if previous is not None:
                if previous.high is None or band.low != previous.high + 1:
                    raise ValueError(f"band {band.low} does not follow band {previous.low}")
                if band.msr_low > previous.msr_high:
                    raise ValueError(f"band {band.low}: the MSR must not rise with size")
            previous = band
        if self.bands[-1].high is not None:
            raise ValueError("the last band must be open-ended (high: null)")
        if self.below_first_band.msr < self.bands[0].msr_low:
            raise ValueError("below_first_band.msr must not be below the first band's")
        return self


class FixedOptions(_Model):
    values: tuple[Decimal, ...]
    source: str
    verification: Verification


class SourcedCount(_Model):
    value: int
    source: str
    verification: Verification


class LowRevenue(_Model):
    min_beneficiaries: int
    sharing_rate_factor: Decimal
    source: str
    verification: Verification


class MsspParams(_Model):
    """Every MSSP settlement parameter, from ``mssp_pathways.yaml``."""

    version: str
    applies_to: str
    tracks: dict[Track, TrackParams]
    msr_table: MsrTable
    fixed_msr_mlr_options: FixedOptions
    variable_below_beneficiaries: SourcedCount
    low_revenue: LowRevenue

    @model_validator(mode="after")
    def _all_tracks(self) -> MsspParams:
        missing = [t.value for t in Track if t not in self.tracks]
        if missing:
            raise ValueError(f"tracks missing: {', '.join(missing)}")
        return self


def variable_msr(beneficiaries: int, table: MsrTable) -> Decimal:
    """The one-sided (variable) MSR for ``beneficiaries`` assigned beneficiaries.

    42 CFR 425.604(b): the MSR falls from the band's low-end value to its high-end value
    linearly over the band, ``msr_low - (msr_low - msr_high) x (n - low) / (high - low)``
    (band width ``high - low``, e.g. 999; the PY2024 public-use file's MSRs match this,
    see TV-6), and is 2.0% from 60,000 up. Exact: not rounded.
    """
    if beneficiaries < 0:
        raise InvalidInput(f"assigned beneficiaries cannot be negative ({beneficiaries})")
    if beneficiaries < table.bands[0].low:
        return table.below_first_band.msr
    for band in table.bands:
        if band.high is None or beneficiaries <= band.high:
            if band.high is None:
                return band.msr_low
            step = (band.msr_low - band.msr_high) * (beneficiaries - band.low)
            return band.msr_low - step / (band.high - band.low)
    raise AssertionError("unreachable: the last band is open-ended")  # pragma: no cover


def unverified(params: MsspParams) -> list[str]:
    """The parameters tagged M (recalled, not re-verified), for docs and reports."""
    out = [f"tracks.{t.value}" for t, p in params.tracks.items() if p.verification == "M"]
    for band in params.msr_table.bands:
        if band.verification == "M":
            high = "+" if band.high is None else f"-{band.high:,}"
            out.append(f"msr_table {band.low:,}{high}")
    if params.msr_table.below_first_band.verification == "M":
        out.append(f"msr_table below {params.msr_table.bands[0].low:,}")
    for name in ("fixed_msr_mlr_options", "variable_below_beneficiaries", "low_revenue"):
        if getattr(params, name).verification == "M":
            out.append(name)
    return out


def parse_params(text: str, where: str = PARAMS_FILE) -> MsspParams:
    """Parse MSSP parameters from YAML text; problems raise :class:`InvalidInput`."""
    return parse_definition(text, where, MsspParams, "MSSP parameter file",  # type: ignore[return-value]
                            "docs/payment-models.md", error=InvalidInput)


@lru_cache(maxsize=1)
def load_params() -> MsspParams:
    """The packaged parameters (never a file in the working directory)."""
    res = resources.files("valuecare") / "reference" / "payment" / PARAMS_FILE
    return parse_params(res.read_text(encoding="utf-8"),
                        f"valuecare/reference/payment/{PARAMS_FILE}")
