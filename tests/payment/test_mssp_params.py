"""MSSP parameters: the packaged file loads and holds the reference sheet's numbers; the
MSR table interpolates as TV-6; bad parameter files fail with the file and field named."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from valuecare.errors import InvalidInput
from valuecare.payment.mssp_params import Track, load_params, parse_params, unverified, variable_msr


@pytest.mark.parametrize(("beneficiaries", "msr_percent"), [
    (5_000, D("3.9000")),
    (5_500, D("3.7498")),
    (8_238, D("3.1762")),
    (13_151, D("2.8109")),
    (24_494, D("2.4551")),
    (60_000, D("2.0")),
    (250_000, D("2.0")),
])
def test_tv6_msr_interpolation(beneficiaries: int, msr_percent: D) -> None:
    """TV-6 (reference sheet §1.4): linear within a band over its width (high - low)."""
    msr = variable_msr(beneficiaries, load_params().msr_table)
    assert (msr * 100).quantize(D("0.0001")) == msr_percent


@pytest.mark.parametrize(("beneficiaries", "msr"), [
    (5_999, D("0.036")), (6_000, D("0.036")), (9_999, D("0.030")), (10_000, D("0.030")),
    (59_999, D("0.020")),
])
def test_msr_table_is_continuous_at_band_edges(beneficiaries: int, msr: D) -> None:
    assert variable_msr(beneficiaries, load_params().msr_table) == msr


def test_msr_never_rises_with_size() -> None:
    table = load_params().msr_table
    values = [variable_msr(n, table) for n in range(0, 70_001, 7)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_negative_beneficiaries() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        variable_msr(-1, load_params().msr_table)


@pytest.mark.parametrize(("track", "rate", "limit"), [
    (Track.BASIC_A, D("0.40"), D("0.10")), (Track.BASIC_B, D("0.40"), D("0.10")),
    (Track.BASIC_C, D("0.50"), D("0.10")), (Track.BASIC_D, D("0.50"), D("0.10")),
    (Track.BASIC_E, D("0.50"), D("0.10")), (Track.ENHANCED, D("0.75"), D("0.20")),
])
def test_track_parameters(track: Track, rate: D, limit: D) -> None:
    """Reference sheet §1.2 table."""
    p = load_params().tracks[track]
    assert (p.max_sharing_rate, p.performance_payment_limit) == (rate, limit)
    assert p.two_sided is (track not in (Track.BASIC_A, Track.BASIC_B))


def test_unverified_parameters_are_listed() -> None:
    """Rules tagged M in the parameter file are reported (and in docs/payment-models.md)."""
    names = unverified(load_params())
    assert "msr_table 5,000-5,999" in names
    assert "msr_table below 500" in names
    assert "msr_table 8,000-8,999" not in names   # reproduced by the PY2024 PUF


MINIMAL = """
version: test
applies_to: a test
tracks:
  BASIC_A: {two_sided: false, max_sharing_rate: "0.40", performance_payment_limit: "0.10",
            source: s, verification: T}
  BASIC_B: {two_sided: false, max_sharing_rate: "0.40", performance_payment_limit: "0.10",
            source: s, verification: T}
  BASIC_C: {two_sided: true, max_sharing_rate: "0.50", performance_payment_limit: "0.10",
            shared_loss_rate: {flat: "0.30"}, loss_limit: {share_of_benchmark: "0.01"},
            source: s, verification: T}
  BASIC_D: {two_sided: true, max_sharing_rate: "0.50", performance_payment_limit: "0.10",
            shared_loss_rate: {flat: "0.30"}, loss_limit: {share_of_benchmark: "0.02"},
            source: s, verification: T}
  BASIC_E: {two_sided: true, max_sharing_rate: "0.50", performance_payment_limit: "0.10",
            shared_loss_rate: {flat: "0.30"}, loss_limit: {share_of_benchmark: "0.04"},
            source: s, verification: T}
  ENHANCED: {two_sided: true, max_sharing_rate: "0.75", performance_payment_limit: "0.20",
             shared_loss_rate: {flat: "0.40"}, loss_limit: {share_of_benchmark: "0.15"},
             source: s, verification: M}
msr_table:
  source: s
  below_first_band: {msr: "0.05", verification: M}
  bands:
    - {low: 100, high: 199, msr_low: "0.05", msr_high: "0.03", verification: M}
    - {low: 200, high: null, msr_low: "0.03", msr_high: "0.03", verification: M}
fixed_msr_mlr_options: {values: ["0", "0.02"], source: s, verification: T}
variable_below_beneficiaries: {value: 100, source: s, verification: T}
low_revenue: {min_beneficiaries: 100, sharing_rate_factor: "0.5", source: s, verification: T}
"""


def test_a_parameter_file_written_by_hand() -> None:
    p = parse_params(MINIMAL, "minimal.yaml")
    assert variable_msr(150, p.msr_table) == D("0.05") - D("0.02") * 50 / 99
    assert "tracks.ENHANCED" in unverified(p)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('max_sharing_rate: "0.75"', "max_sharing_rate: 0.75", "binary float"),
    ('max_sharing_rate: "0.75"', 'max_sharing_rate: "1.75"', "between 0 and 1"),
    ("{low: 200, high: null", "{low: 300, high: null", "does not follow"),
    ("high: null, msr_low", "high: 500, msr_low", "open-ended"),
    ('{flat: "0.40"}', '{quality_factor: "0.75"}', "quality_failed"),
    ("  BASIC_E:", "  BASIC_X:", "BASIC_X"),
])
def test_bad_parameter_files(old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    with pytest.raises(InvalidInput, match=message) as info:
        parse_params(MINIMAL.replace(old, new, 1), "bad.yaml")
    assert "bad.yaml" in str(info.value)


def test_docs_cover_every_track_and_unverified_band() -> None:
    """docs/payment-models.md documents each track and lists what is unverified."""
    from valuecare.docs import DOCS

    text = (DOCS / "payment-models.md").read_text(encoding="utf-8")
    for track in Track:
        assert track.value.replace("_", " ") in text or track.value in text
    params = load_params()
    for band in params.msr_table.bands:
        high = "and more" if band.high is None else f"{band.high:,}"
        row = f"| {band.low:,}-{high} |" if band.high else f"| {band.low:,} {high} |"
        line = next(x for x in text.splitlines() if x.startswith(row))
        assert line.rstrip().endswith(f"| {band.verification} |"), line
