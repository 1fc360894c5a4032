"""``valuecare simulate SCENARIO.yaml``: run a payer-mix scenario and write its results.

:func:`run_scenario` loads the scenario, simulates every contract year by year
(:func:`valuecare.payment.simulate.simulate`), draws the Monte Carlo distribution of MSSP
shared savings by population size (:mod:`valuecare.payment.simulate_mc`), and writes into
the output folder:

- ``contract_years.csv`` -- one row per contract and year: baseline and redesign provider
  revenue, cost and margin, payer and patient spending, settlement, and the captures;
- ``totals.csv`` -- per year over all contracts, and who captures the savings per contract
  type and in total over the horizon (``captures.csv``);
- ``monte_carlo.csv`` -- the shared-savings distribution by assigned beneficiaries;
- ``captures.svg`` / ``captures.vl.json`` and ``monte_carlo.svg`` / ``monte_carlo.vl.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import altair as alt
import pandas as pd

from valuecare.compare.charts import save_chart
from valuecare.payment.mssp_csv import write_csv
from valuecare.payment.simulate import (
    PARTIES,
    Capture,
    ContractYear,
    captures,
    simulate,
)
from valuecare.payment.simulate_mc import McRow, shared_savings_distribution
from valuecare.payment.simulate_scenario import MsspSimContract, Scenario, load_scenario

ZERO = Decimal(0)


@dataclass(frozen=True)
class SimulationResult:
    scenario: Scenario
    rows: tuple[ContractYear, ...]
    by_kind: tuple[Capture, ...]
    by_contract: tuple[Capture, ...]
    monte_carlo: tuple[McRow, ...]


def monte_carlo(scenario: Scenario, *, draws: int | None = None, seed: int = 0
                ) -> tuple[McRow, ...]:
    """Shared savings by population size under the scenario's ``monte_carlo`` track and
    MSR option, on the benchmark of its first MSSP contract ($12,000 without one): with no
    true savings, and with the redesign's true per-capita savings rate."""
    mc = scenario.monte_carlo
    n = draws if draws is not None else mc.draws
    aco = next((c for c in scenario.contracts if isinstance(c, MsspSimContract)), None)
    benchmark = aco.benchmark_per_capita if aco is not None else Decimal("12000.00")
    option = None if mc.msr_mlr_option == "variable" else mc.msr_mlr_option
    r = scenario.redesign.population
    paid = Decimal("0.80") if aco is None else 1 - aco.patient_share
    true_rate = (-r.utilization_change_pmpy * paid / benchmark).quantize(Decimal("0.0001"))
    cases = [("no true savings", Decimal(0))]
    if true_rate > 0:
        cases.append(("redesign savings", true_rate))
    out: list[McRow] = []
    for i, (case, rate) in enumerate(cases):
        out += shared_savings_distribution(
            track=mc.track, benchmark_per_capita=benchmark, populations=mc.populations,
            cv=mc.cv, draws=n, seed=seed + i, true_savings_rate=rate,
            msr_mlr_option=option, case=case)
    return tuple(out)


def _m(v: Decimal) -> str:
    return f"{v:.2f}"


def _year_row(r: ContractYear) -> dict[str, str]:
    row = {"contract_id": r.contract_id, "kind": r.kind, "payer": r.payer, "year": str(r.year)}
    for state, f in (("baseline", r.baseline), ("redesign", r.redesign)):
        row.update({f"{state}_provider_revenue": _m(f.revenue),
                    f"{state}_provider_cost": _m(f.cost),
                    f"{state}_provider_margin": _m(f.margin),
                    f"{state}_payer_spending": _m(f.payer_spending),
                    f"{state}_patient_spending": _m(f.patient_spending),
                    f"{state}_settlement": _m(f.settlement)})
    row.update(provider_capture=_m(r.provider_capture), payer_capture=_m(r.payer_capture),
               patient_capture=_m(r.patient_capture), net_savings=_m(r.net_savings),
               note=r.redesign.note)
    return row


def _capture_row(c: Capture, level: str) -> dict[str, str]:
    return {"level": level, "group": c.group, "provider_capture": _m(c.provider),
            "payer_capture": _m(c.payer), "patient_capture": _m(c.patient),
            "net_savings": _m(c.net), "captured_by": c.captured_by}


def write_outputs(result: SimulationResult, out: Path) -> list[Path]:
    """Write the CSVs and charts of ``result`` into ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    years = [_year_row(r) for r in result.rows]
    written = [out / "contract_years.csv", out / "totals.csv", out / "captures.csv",
               out / "monte_carlo.csv"]
    write_csv(written[0], list(years[0]), years)
    totals: list[dict[str, str]] = []
    for year in sorted({r.year for r in result.rows}):
        rs = [r for r in result.rows if r.year == year]
        row = {"year": str(year)}
        for state in ("baseline", "redesign"):
            flows = [getattr(r, state) for r in rs]
            row[f"{state}_provider_revenue"] = _m(sum((f.revenue for f in flows), ZERO))
            row[f"{state}_provider_margin"] = _m(sum((f.margin for f in flows), ZERO))
            row[f"{state}_payer_spending"] = _m(sum((f.payer_spending for f in flows), ZERO))
        for party in PARTIES:
            row[f"{party}_capture"] = _m(sum((getattr(r, f"{party}_capture") for r in rs), ZERO))
        totals.append(row)
    write_csv(written[1], list(totals[0]), totals)
    caps = ([_capture_row(c, "kind") for c in result.by_kind]
            + [_capture_row(c, "contract") for c in result.by_contract if c.group != "total"])
    write_csv(written[2], list(caps[0]), caps)
    mc = [{"case": m.case, "assigned_beneficiaries": str(m.assigned_beneficiaries),
           "true_savings_rate": str(m.true_savings_rate), "draws": str(m.draws),
           "msr": f"{m.msr:.6f}", "p_below_benchmark": f"{m.p_below_benchmark:.4f}",
           "p_shared_savings": f"{m.p_shared_savings:.4f}",
           "p_shared_losses": f"{m.p_shared_losses:.4f}", "mean_net": _m(m.mean_net),
           "p5_net": _m(m.p5_net), "p50_net": _m(m.p50_net), "p95_net": _m(m.p95_net)}
          for m in result.monte_carlo]
    write_csv(written[3], list(mc[0]), mc)
    for chart, name in ((captures_chart(result.by_kind), "captures"),
                        (monte_carlo_chart(result.monte_carlo), "monte_carlo")):
        written.append(save_chart(chart, out / f"{name}.svg"))
        written.append(save_chart(chart, out / f"{name}.vl.json"))
    return written


def captures_chart(by_kind: Sequence[Capture]) -> alt.Chart:
    """Bars: who captures the savings, per contract type, over the horizon."""
    data = pd.DataFrame([{"contract type": c.group, "party": p,
                          "capture ($)": float(getattr(c, p))}
                         for c in by_kind if c.group != "total" for p in PARTIES])
    return alt.Chart(data, title="Who captures the savings (horizon total)").mark_bar().encode(
        x=alt.X("party:N", title=None), y=alt.Y("capture ($):Q"),
        color=alt.Color("party:N"), column=alt.Column("contract type:N"))


def monte_carlo_chart(rows: Sequence[McRow]) -> alt.Chart:
    """Lines: probability of earning shared savings by assigned beneficiaries."""
    data = pd.DataFrame([{"assigned beneficiaries": m.assigned_beneficiaries,
                          "case": m.case, "P(shared savings)": m.p_shared_savings,
                          "P(below benchmark)": m.p_below_benchmark} for m in rows])
    return alt.Chart(data, title="MSSP: probability of shared savings by ACO size"
                     ).mark_line(point=True).encode(
        x=alt.X("assigned beneficiaries:Q", scale=alt.Scale(type="log")),
        y=alt.Y("P(shared savings):Q", scale=alt.Scale(domain=[0, 1])),
        color="case:N")


def run_scenario(path: Path, *, out: Path | None = None, draws: int | None = None,
                 seed: int = 0) -> SimulationResult:
    """Load, simulate and (with ``out``) write a scenario."""
    scenario = load_scenario(path)
    rows = simulate(scenario)
    result = SimulationResult(scenario, rows, captures(rows, "kind"),
                              captures(rows, "contract_id"),
                              monte_carlo(scenario, draws=draws, seed=seed))
    if out is not None:
        write_outputs(result, out)
    return result


def print_result(result: SimulationResult, console: object) -> None:
    """Rich tables: who captures the savings per contract type, and the Monte Carlo."""
    from rich.table import Table

    s = result.scenario
    years = f"{s.start_year}-{s.start_year + s.horizon_years - 1}"
    table = Table(title=f"{s.redesign.name} at {s.provider.name}: who captures the savings, "
                  f"{years}")
    for col in ("contract type", "provider", "payer", "patient", "net savings",
                "captured by"):
        table.add_column(col, justify="left" if col in ("contract type", "captured by")
                         else "right")
    for c in result.by_kind:
        table.add_row(c.group, f"{c.provider:,.2f}", f"{c.payer:,.2f}", f"{c.patient:,.2f}",
                      f"{c.net:,.2f}", c.captured_by)
    table.caption = ("provider = change in margin; payer = fall in spending; patient = fall "
                     "in cost sharing (negative: a loss)")
    mc = Table(title="MSSP shared savings by ACO size (Monte Carlo)")
    for col in ("case", "beneficiaries", "MSR", "P(below benchmark)", "P(shared savings)",
                "P(shared losses)", "median net", "95th pct net"):
        mc.add_column(col, justify="left" if col == "case" else "right")
    for m in result.monte_carlo:
        mc.add_row(m.case, f"{m.assigned_beneficiaries:,}", f"{m.msr:.2%}",
                   f"{m.p_below_benchmark:.1%}", f"{m.p_shared_savings:.1%}",
                   f"{m.p_shared_losses:.1%}", f"{m.p50_net:,.2f}", f"{m.p95_net:,.2f}")
    console.print(table)  # type: ignore[attr-defined]
    console.print(mc)  # type: ignore[attr-defined]


def simulate_command(scenario: Path, *, out: Path | None, draws: int | None, seed: int,
                     console: object) -> SimulationResult:
    """What ``valuecare simulate`` does: run, print, and write when ``out`` is given."""
    result = run_scenario(scenario, out=out, draws=draws, seed=seed)
    print_result(result, console)
    if out is not None:
        console.print(f"Wrote contract_years.csv, totals.csv, captures.csv, "  # type: ignore[attr-defined]
                      f"monte_carlo.csv and charts to {out}", highlight=False)
    return result
