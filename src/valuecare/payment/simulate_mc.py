"""Monte Carlo of MSSP shared savings by population size: why the MSR exists.

An ACO's per-capita expenditure is the mean of its beneficiaries' yearly spending, which
is very skewed (Medicare: a coefficient of variation ``cv`` of about 2 per beneficiary).
With ``n`` beneficiaries the mean has a standard deviation of ``cv x mean / sqrt(n)``: for
1,000 beneficiaries and cv 2 that is 6.3% of the benchmark, so an ACO that changed nothing
beats its benchmark half the time. The minimum savings rate (42 CFR 425.604(b): 3.9% at
5,000 beneficiaries falling to 2% at 60,000) is set so such noise is rarely paid: CMS
chose it for 90% confidence that savings are real, which with the one-sided normal
quantile 1.2816 implies a cv of about 2.15 at 5,000 beneficiaries.

:func:`shared_savings_distribution` draws the per-capita expenditure of ``draws`` ACOs of
each size -- the sum of ``n`` gamma-distributed beneficiaries (shape ``1/cv^2``), so the
mean is ``Gamma(n / cv^2, true x cv^2 / n)``, exact for gamma spending and skewed like
real spending -- converts each draw to cents and settles it with
:func:`valuecare.payment.mssp.settle_mssp`. The benchmark is taken as known (its own noise
from three base years is left out, which understates spurious savings a little).
A seeded :class:`numpy.random.Generator` makes the draws reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from valuecare.errors import InvalidInput
from valuecare.payment.mssp import AcoPerformance, cents, settle_mssp
from valuecare.payment.mssp_params import Track

PERCENTILES = (5, 50, 95)


@dataclass(frozen=True)
class McRow:
    """The distribution of one ACO size at one true savings rate. Money in dollars."""

    case: str
    assigned_beneficiaries: int
    true_savings_rate: Decimal
    draws: int
    msr: Decimal
    p_below_benchmark: float
    p_shared_savings: float
    p_shared_losses: float
    mean_net: Decimal
    p5_net: Decimal
    p50_net: Decimal
    p95_net: Decimal


def _money(value: float) -> Decimal:
    return cents(Decimal(repr(float(value))))


def shared_savings_distribution(
        *, track: Track, benchmark_per_capita: Decimal, populations: Sequence[int],
        cv: Decimal, draws: int, seed: int, true_savings_rate: Decimal = Decimal(0),
        msr_mlr_option: Decimal | None = None, case: str = "no true savings",
        quality_score: Decimal = Decimal(100)) -> tuple[McRow, ...]:
    """Shared savings (+) and losses (-) of ``draws`` simulated ACOs of each size in
    ``populations`` whose true per-capita spending is ``benchmark x (1 - true rate)``.

    Each row gives the MSR, the share of draws that fall below the benchmark (what would be
    paid with no MSR), the shares that earn savings or owe losses, and the mean and 5th,
    50th and 95th percentiles of the net settlement (savings - losses)."""
    if draws <= 0:
        raise InvalidInput(f"draws must be positive, not {draws}")
    if cv <= 0:
        raise InvalidInput(f"the coefficient of variation must be positive, not {cv}")
    rng = np.random.default_rng(seed)
    true = float(benchmark_per_capita * (1 - true_savings_rate))
    cv2 = float(cv) ** 2
    rows: list[McRow] = []
    for n in populations:
        if n <= 0:
            raise InvalidInput(f"population sizes must be positive, not {n}")
        spend = rng.gamma(shape=n / cv2, scale=true * cv2 / n, size=draws)
        nets: list[Decimal] = []
        gains = losses = below = 0
        msr = Decimal(0)
        for value in spend:
            expenditure = _money(value)
            s = settle_mssp(AcoPerformance(
                aco_id=f"MC-{n}", track=track, assigned_beneficiaries=n,
                person_years=Decimal(n), benchmark_per_capita=benchmark_per_capita,
                expenditure_per_capita=expenditure, msr_mlr_option=msr_mlr_option,
                quality_score=quality_score, qps_met=True, alt_qps_met=False,
                participant_revenue=benchmark_per_capita * n))
            msr = s.msr
            below += expenditure < benchmark_per_capita
            gains += s.shared_savings > 0
            losses += s.shared_losses > 0
            nets.append(s.shared_savings - s.shared_losses)
        net = np.array([float(v) for v in nets])
        p5, p50, p95 = np.percentile(net, PERCENTILES)
        rows.append(McRow(case, n, true_savings_rate, draws, msr, below / draws,
                          gains / draws, losses / draws, _money(net.mean()), _money(p5),
                          _money(p50), _money(p95)))
    return tuple(rows)
