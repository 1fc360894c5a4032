"""Monte Carlo of MSSP shared savings by ACO size, and the ``valuecare simulate`` command.

With no true savings an ACO's spending falls below its benchmark about half the time
whatever its size (pure noise); at a fixed 2% MSR the chance that noise is paid as shared
savings falls with size, because the noise shrinks as cv / sqrt(n): with cv 2 the
standard deviation of the savings rate is 2.8% at 5,000 beneficiaries (P(rate >= 2%)
about 24%) and 0.7% at 80,000 (about 0.2%).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.payment.mssp_params import Track
from valuecare.payment.simulate_mc import shared_savings_distribution

EXAMPLES = Path(__file__).parents[2] / "src/valuecare/reference/payment/examples"


def _rows(seed: int = 7) -> list:
    return list(shared_savings_distribution(
        track=Track.ENHANCED, benchmark_per_capita=Decimal("12000.00"),
        populations=(5000, 20000, 80000), cv=Decimal(2), draws=400, seed=seed,
        msr_mlr_option=Decimal("0.02")))


def test_spurious_savings_fall_with_population_size() -> None:
    rows = _rows()
    p = [r.p_shared_savings for r in rows]
    assert p[0] > p[1] > p[2]
    assert 0.15 < p[0] < 0.33 and p[2] < 0.02
    assert all(0.35 < r.p_below_benchmark < 0.65 for r in rows)  # noise: about half


def test_seeded_draws_repeat() -> None:
    assert _rows(3) == _rows(3)
    assert _rows(3) != _rows(4)


def test_variable_msr_keeps_noise_rarely_paid() -> None:
    """BASIC_A, variable MSR (8.7% at 1,000 beneficiaries, 3.9% at 5,000): about 1 in 10
    or fewer pure-noise ACOs earn savings, against half with no MSR."""
    rows = shared_savings_distribution(
        track=Track.BASIC_A, benchmark_per_capita=Decimal("12000.00"),
        populations=(1000, 5000), cv=Decimal(2), draws=400, seed=1)
    assert [r.msr for r in rows] == [Decimal("0.087"), Decimal("0.039")]
    assert all(r.p_shared_savings < 0.15 and r.p_shared_losses == 0 for r in rows)


def test_cli_writes_tables_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "scenario_intraop_pathology.yaml"),
                                      "--out", str(out), "--draws", "20", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "who captures the savings" in result.output
    for name in ("contract_years.csv", "totals.csv", "captures.csv", "monte_carlo.csv",
                 "captures.svg", "captures.vl.json", "monte_carlo.svg"):
        assert (out / name).stat().st_size > 0
    lines = (out / "contract_years.csv").read_text().splitlines()
    assert len(lines) == 1 + 4 * 3  # four contracts, three years


def test_cli_bad_scenario_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario_id: X\n")
    result = CliRunner().invoke(app, ["simulate", str(bad)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)
    assert "bad.yaml" in str(result.exception) and "provider" in str(result.exception)
