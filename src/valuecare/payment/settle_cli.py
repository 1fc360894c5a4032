"""``valuecare settle ...``: settle value-based contracts from ACO- or contract-level files.

A thin layer over :mod:`valuecare.payment`: it parses options, calls the library and
prints. Expected bad input raises :class:`~valuecare.errors.InvalidInput`, which the
``valuecare`` entry point turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

settle_app = typer.Typer(
    help="Settle value-based contracts: bundled payments, MSSP shared savings and losses, "
    "capitation and global budgets, PCMH, pay for performance.",
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


OutDir = Annotated[Path | None, typer.Option(
    "--out-dir", help="Write the settlement table (<model>_settlement.csv) and its chart "
    "(.svg and Vega-Lite .vl.json) into this folder, all or nothing.", show_default=False)]


def _write_folder(out_dir: Path | None, model: str, write: Callable[[Path], None]) -> None:
    if out_dir is None:
        return
    from valuecare.payment.settle_outputs import write_outputs

    files = write_outputs(out_dir, model, write)
    Console().print("Wrote " + ", ".join(str(f) for f in files), highlight=False)


def _pct(rate: Decimal | None, places: int = 2) -> str:
    return "" if rate is None else f"{rate * 100:.{places}f}%"


@settle_app.command("bundle")
def bundle(
    contract: Annotated[Path, typer.Argument(
        help="Contract YAML: payer, episode_definition, period, either program: cjr with a "
        "performance_year or explicit terms, target_price_basis (benchmark or discounted), "
        "warranty, and providers with their quality_score.", show_default=False)],
    episodes: Annotated[Path, typer.Argument(
        help="CSV with one row per episode: episode_id, provider, target_price, "
        "actual_spend; optionally episode_type (groups the high-cost cap) and "
        "warranty_claims.", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write one row per provider (episodes, target, actual after the "
        "cap, quality category, effective discount, NPRA before and after the limits, "
        "warranty charge, reconciliation amount) to this CSV (default: print a table).",
        show_default=False)] = None,
    out_dir: OutDir = None,
) -> None:
    """Reconcile bundled-payment episodes per provider in the CMS CJR style: high-cost cap,
    quality-adjusted discount, NPRA with stop-gain/stop-loss limits, warranty charge."""
    from valuecare.payment.bundle_csv import settle_files, write_bundle_settlements

    settled = settle_files(contract, episodes)
    _write_folder(out_dir, "bundle", lambda p: write_bundle_settlements(p, settled))
    console = Console()
    if out is not None:
        write_bundle_settlements(out, settled)
        console.print(f"Settled {len(settled.providers):,} providers, "
                      f"{len(settled.episodes):,} episodes: net reconciliation "
                      f"{settled.total:,.2f}; wrote {out}", highlight=False)
        return
    table = Table(title=f"Bundle reconciliation: {settled.contract.contract_id} "
                  f"({episodes.name})")
    for col in ("provider", "episodes", "quality", "discount", "target", "actual (capped)",
                "NPRA", "NPRA limited", "warranty", "reconciliation"):
        table.add_column(col, justify="left" if col in ("provider", "quality") else "right")
    notes = []
    for p in settled.providers:
        table.add_row(p.provider, f"{p.episodes:,}", p.quality_category,
                      _pct(p.effective_discount, 1), f"{p.target_total:,.2f}",
                      f"{p.actual_after_cap_total:,.2f}", f"{p.npra_before_limits:,.2f}",
                      f"{p.npra_after_limits:,.2f}", f"{p.warranty_charge:,.2f}",
                      f"{p.reconciliation_amount:,.2f}")
        if p.note:
            notes.append(f"{p.provider}: {p.note}")
    table.caption = ("Money in dollars; reconciliation > 0 is paid to the provider, < 0 "
                     "repaid. Terms and sources: docs/payment-models.md.")
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)


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
    out_dir: OutDir = None,
) -> None:
    """Settle Medicare Shared Savings Program ACOs: shared savings and losses per 42 CFR
    425.605 (BASIC) and 425.610 (ENHANCED), from ACO-level inputs."""
    from valuecare.payment.mssp_csv import settle_file, write_settlements

    seq = _sequestration(sequestration)
    settled = settle_file(acos, sequestration=seq)
    _write_folder(out_dir, "mssp", lambda p: write_settlements(p, settled))
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


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


@settle_app.command("capitation")
def capitation(
    contract: Annotated[Path, typer.Argument(
        help="Capitation contract YAML (kind: capitation; scope global with pmpm, or "
        "condition with annual_price_per_patient; risk_adjustment; optional corridors).",
        show_default=False)],
    entities: Annotated[Path, typer.Argument(
        help="CSV with one row per entity: entity, member_months (patient-months with the "
        "condition for condition capitation), avg_risk_score (when risk-adjusted), "
        "actual_cost.", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the input columns plus risk_factor, adjusted_rate, "
        "capitation_payment, gain, corridor_adjustment, payer_spending, provider_margin to "
        "this CSV (default: print a table).", show_default=False)] = None,
    out_dir: OutDir = None,
) -> None:
    """Settle a capitation contract or global budget: risk-adjusted PMPM (or yearly price
    per patient with a condition) x member months against actual cost, with optional risk
    corridors."""
    from valuecare.payment.capitation import CapitationContract
    from valuecare.payment.capitation_csv import settle_file, write_settlements
    from valuecare.payment.contract_io import cents, load_contract

    terms = load_contract(contract, CapitationContract, "capitation contract")
    settled = settle_file(terms, entities)
    _write_folder(out_dir, "capitation", lambda p: write_settlements(p, settled))
    rows = [s for _, s in settled.rows]
    if out is not None:
        write_settlements(out, settled)
        Console().print(
            f"Settled {len(rows):,} entities: capitation "
            f"{_money(sum((s.capitation_payment for s in rows), Decimal(0)))}, payer spending "
            f"{_money(sum((s.payer_spending for s in rows), Decimal(0)))}, provider margin "
            f"{_money(sum((s.provider_margin for s in rows), Decimal(0)))}; wrote {out}",
            highlight=False)
        return
    what = ("PMPM" if terms.scope == "global"
            else f"annual price per {terms.condition} patient")
    table = Table(title=f"Capitation {terms.contract_id} ({terms.payer}, {what} "
                  f"{_money(terms.base_rate)})")
    for col in ("entity", "member months", "risk factor", "adj. rate", "capitation",
                "actual cost", "corridor", "payer spending", "provider margin"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for values, s in settled.rows:
        table.add_row(s.entity, values["member_months"], f"{s.risk_factor:.4f}",
                      _money(cents(s.adjusted_rate)),
                      _money(s.capitation_payment), _money(s.actual_cost),
                      _money(s.corridor_adjustment), _money(s.payer_spending),
                      _money(s.provider_margin))
    table.caption = ("Money in dollars; corridor = paid by the payer at reconciliation "
                     "(negative: recouped). docs/payment-models.md.")
    Console().print(table)


@settle_app.command("pcmh")
def pcmh(
    contract: Annotated[Path, typer.Argument(
        help="PCMH contract YAML (kind: pcmh; care_management pmpm or "
        "by_recognition_level; optional performance_incentive).", show_default=False)],
    practices: Annotated[Path, typer.Argument(
        help="CSV with one row per practice: entity, member_months, ffs_revenue, and "
        "recognition_level when the fee is tiered.", show_default=False)],
    measures: Annotated[Path | None, typer.Option(
        "--measures", "-m", help="Quality-measure results (entity, measure, rate or "
        "numerator and denominator); needed when the contract has a performance incentive.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the input columns plus care_management_pmpm, "
        "care_management_fee, quality_score, bonus, withheld, withhold_returned, "
        "performance_incentive, total_payment to this CSV (default: print a table).",
        show_default=False)] = None,
    out_dir: OutDir = None,
) -> None:
    """Settle a patient-centered medical home contract: FFS plus a care-management PMPM
    (flat or by recognition level) plus a performance incentive."""
    from valuecare.payment.contract_io import load_contract
    from valuecare.payment.pcmh import PcmhContract
    from valuecare.payment.pcmh_csv import settle_file, write_settlements

    terms = load_contract(contract, PcmhContract, "PCMH contract")
    settled = settle_file(terms, practices, measures)
    _write_folder(out_dir, "pcmh", lambda p: write_settlements(p, settled))
    rows = [s for _, s in settled.rows]
    if out is not None:
        write_settlements(out, settled)
        Console().print(
            f"Settled {len(rows):,} practices: care management "
            f"{_money(sum((s.care_management_fee for s in rows), Decimal(0)))}, performance "
            f"{_money(sum((s.performance_incentive for s in rows), Decimal(0)))}, total "
            f"{_money(sum((s.total_payment for s in rows), Decimal(0)))}; wrote {out}",
            highlight=False)
        return
    table = Table(title=f"PCMH {terms.contract_id} ({terms.payer})")
    for col in ("practice", "level", "FFS", "care mgmt PMPM", "care mgmt fee", "score",
                "incentive", "total"):
        table.add_column(col, justify="left" if col in ("practice", "level") else "right")
    for values, s in settled.rows:
        score = "" if s.performance is None else f"{s.performance.score:.4f}"
        table.add_row(s.entity, values.get("recognition_level", ""), _money(s.ffs_revenue),
                      _money(s.care_management_pmpm), _money(s.care_management_fee), score,
                      _money(s.performance_incentive), _money(s.total_payment))
    table.caption = "Money in dollars; score 0-1. docs/payment-models.md."
    Console().print(table)


@settle_app.command("p4p")
def p4p(
    contract: Annotated[Path, typer.Argument(
        help="Pay-for-performance contract YAML (kind: p4p; measures with weights and "
        "linear or tiered scales; a bonus or a withhold).", show_default=False)],
    measures: Annotated[Path, typer.Argument(
        help="CSV of measure results, one row per entity and measure: entity, measure, "
        "rate (a fraction) or numerator and denominator.", show_default=False)],
    entities: Annotated[Path | None, typer.Option(
        "--entities", "-e", help="CSV with one row per entity: entity, member_months, "
        "ffs_revenue; needed for per-member-month, revenue-share, withhold and "
        "member-month pool incentives.", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write one row per entity (the entity columns plus "
        "measures_scored, score, max_incentive, bonus, withheld, withhold_returned, "
        "net_incentive) to this CSV (default: print a table).", show_default=False)] = None,
    detail: Annotated[Path | None, typer.Option(
        "--detail", help="Also write one row per entity and measure (weight, rate, "
        "denominator, scored, credit, points, reason) to this CSV.",
        show_default=False)] = None,
    out_dir: OutDir = None,
) -> None:
    """Settle a pay-for-performance contract: a bonus or withhold return per entity from
    quality-measure results scored against thresholds and benchmarks."""
    from valuecare.payment.contract_io import load_contract
    from valuecare.payment.p4p import P4pContract
    from valuecare.payment.p4p_csv import settle_file, write_settlements

    if detail is not None and out is None:
        raise typer.BadParameter("give --out RESULT.csv too", param_hint="--detail")
    terms = load_contract(contract, P4pContract, "P4P contract")
    settled = settle_file(terms, measures, entities)
    _write_folder(out_dir, "p4p", lambda p: write_settlements(
        p, settled, p.with_name("p4p_detail.csv")))
    rows = [s for _, s in settled.rows]
    o = settled.outcome
    pool = ("" if o.pool is None else f"; pool {_money(o.pool)}: paid {_money(o.pool_paid)}, "
            f"retained {_money(o.pool_retained)}")
    if out is not None:
        write_settlements(out, settled, detail)
        Console().print(
            f"Settled {len(rows):,} entities: bonus "
            f"{_money(sum((s.bonus for s in rows), Decimal(0)))}, withheld "
            f"{_money(sum((s.withheld for s in rows), Decimal(0)))}, returned "
            f"{_money(sum((s.withhold_returned for s in rows), Decimal(0)))}{pool}; wrote "
            f"{', '.join(str(p) for p in (out, detail) if p is not None)}", highlight=False)
        return
    table = Table(title=f"P4P {terms.contract_id} ({terms.payer})")
    for col in ("entity", "measures", "score", "max", "bonus", "withheld", "returned",
                "net"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for s in rows:
        table.add_row(s.entity, str(s.measures_scored), f"{s.score:.4f}",
                      _money(s.max_incentive), _money(s.bonus), _money(s.withheld),
                      _money(s.withhold_returned), _money(s.net_incentive))
    table.caption = f"Money in dollars; score 0-1{pool}. docs/payment-models.md."
    Console().print(table)
    for s in rows:
        if s.note:
            Console().print(f"{s.entity}: {s.note}", highlight=False)
