"""``valuecare settle ...``: settle value-based contracts from ACO- or contract-level files.

A thin layer over :mod:`valuecare.payment`: it parses options, calls the library and
prints. Expected bad input raises :class:`~valuecare.errors.InvalidInput`, which the
``valuecare`` entry point turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

settle_app = typer.Typer(
    help="Settle value-based contracts: MSSP shared savings and losses (more to come).",
    no_args_is_help=True,
)


def _sequestration(text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value < Decimal(1):
        raise typer.BadParameter(f"{text!r}: give a fraction in [0, 1), e.g. 0.02 for 2%",
                                 param_hint="--sequestration")
    return value


def _pct(rate: Decimal | None, places: int = 2) -> str:
    return "" if rate is None else f"{rate * 100:.{places}f}%"


@settle_app.command("mssp")
def mssp(
    acos: Annotated[Path, typer.Argument(
        help="CSV with one row per ACO: aco_id, track (BASIC_A..BASIC_E, ENHANCED), "
        "assigned_beneficiaries, person_years, benchmark_per_capita, "
        "expenditure_per_capita, msr_mlr_option (variable or a fraction such as 0.02), "
        "quality_score (0-100), qps_met, alt_qps_met, participant_revenue (may be empty "
        "when only savings are settled), low_revenue (true/false).", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the input columns plus savings_rate, msr, mlr, "
        "qualified, final_sharing_rate, shared_savings, shared_losses to this CSV "
        "(default: print a table).", show_default=False)] = None,
    sequestration: Annotated[str | None, typer.Option(
        help="Across-the-board reduction of earned shared savings in force, as a fraction "
        "(e.g. 0.02); not applied to shared losses (default: none).",
        show_default=False)] = None,
) -> None:
    """Settle Medicare Shared Savings Program ACOs: shared savings and losses per 42 CFR
    425.605 (BASIC) and 425.610 (ENHANCED), from ACO-level inputs."""
    from valuecare.payment.mssp_csv import settle_file, write_settlements

    seq = _sequestration(sequestration)
    settled = settle_file(acos, sequestration=seq)
    console = Console()
    if out is not None:
        write_settlements(out, settled)
        total = sum((r.settlement.shared_savings for r in settled.rows), Decimal(0))
        owed = sum((r.settlement.shared_losses for r in settled.rows), Decimal(0))
        console.print(f"Settled {len(settled.rows):,} ACOs: shared savings {total:,.2f}, "
                      f"shared losses {owed:,.2f}; wrote {out}", highlight=False)
        return
    table = Table(title=f"MSSP settlement: {acos.name}"
                  + (f" (sequestration {_pct(seq)})" if seq else ""))
    for col in ("ACO", "track", "benef.", "savings", "MSR", "MLR", "qualified", "rate",
                "shared savings", "shared losses"):
        table.add_column(col, justify="left" if col in ("ACO", "track") else "right")
    notes = []
    for r in settled.rows:
        s = r.settlement
        table.add_row(s.aco_id, s.track.value, f"{int(r.values['assigned_beneficiaries']):,}",
                      _pct(s.savings_rate), _pct(s.msr, 3), _pct(s.mlr, 3),
                      "yes" if s.qualified else "no", _pct(s.final_sharing_rate),
                      f"{s.shared_savings:,.2f}", f"{s.shared_losses:,.2f}")
        if s.note:
            notes.append(f"{s.aco_id}: {s.note}")
    table.caption = ("Money in dollars; savings = (benchmark - expenditure) / benchmark per "
                     "capita; rate = final sharing rate. Parameters and sources: "
                     "docs/payment-models.md.")
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
