"""The output folder of ``valuecare settle ... --out-dir DIR``: the settlement table and
its chart, written together or not at all.

Each model writes ``<model>_settlement.csv`` (the same table as ``--out``, money as exact
text with cents) and a grouped bar chart of its money per entity as SVG and Vega-Lite JSON
(``<model>_settlement.svg`` / ``.vl.json``), so an analyst can open the picture and a
dashboard can re-render it.  Files are written into a temporary folder beside ``DIR`` and
moved in only when all are written: a failed settlement leaves the previous output intact.

The chart is a picture of the settlement: it reads the exact CSV back and plots the
amounts; nothing is settled from it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import altair as alt
import pandas as pd

from valuecare.compare.charts import save_chart


@dataclass(frozen=True)
class ChartSpec:
    """Which CSV column names the entity and which money columns are drawn (a ``-``
    prefix draws the amount as negative: money that flows back to the payer)."""

    entity: str
    amounts: tuple[str, ...]
    title: str


CHARTS: dict[str, ChartSpec] = {
    "mssp": ChartSpec("aco_id", ("shared_savings", "-shared_losses"),
                      "MSSP: shared savings (+) and shared losses (-) per ACO"),
    "bundle": ChartSpec("provider", ("npra_after_limits", "-warranty_charge",
                                     "reconciliation_amount"),
                        "Bundle reconciliation per provider: NPRA after limits, warranty "
                        "charge, reconciliation amount"),
    "capitation": ChartSpec("entity", ("capitation_payment", "actual_cost", "provider_margin"),
                            "Capitation per entity: payment, actual cost, provider margin"),
    "pcmh": ChartSpec("entity", ("ffs_revenue", "care_management_fee",
                                 "performance_incentive"),
                      "PCMH payments per practice: FFS, care management, incentive"),
    "p4p": ChartSpec("entity", ("bonus", "withhold_returned", "-withheld", "net_incentive"),
                     "Pay for performance per entity: bonus, withhold, net incentive"),
}


def long_amounts(model: str, table: pd.DataFrame) -> pd.DataFrame:
    """The chart's data: one row per entity and amount (dollars as numbers for drawing)."""
    spec = CHARTS[model]
    rows = []
    for _, r in table.iterrows():
        for col in spec.amounts:
            sign, name = (-1, col[1:]) if col.startswith("-") else (1, col)
            text = str(r.get(name, "") or "").strip()
            if not text:
                continue
            rows.append({"entity": str(r[spec.entity]), "amount_type": name,
                         "amount": float(sign * Decimal(text))})
    return pd.DataFrame(rows, columns=["entity", "amount_type", "amount"])


def settlement_chart(model: str, table: pd.DataFrame) -> alt.Chart:
    spec = CHARTS[model]
    data = long_amounts(model, table)
    order = [c.lstrip("-") for c in spec.amounts]
    return (
        alt.Chart(data, title=spec.title)
        .mark_bar()
        .encode(
            x=alt.X("entity:N", title=spec.entity, sort=None),
            xOffset=alt.XOffset("amount_type:N", sort=order),
            y=alt.Y("amount:Q", title="dollars"),
            color=alt.Color("amount_type:N", sort=order, title=None),
            tooltip=["entity", "amount_type", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(width=max(240, 60 * max(1, data["entity"].nunique())), height=260)
    )


def write_outputs(folder: Path, model: str, write_csv: Callable[[Path], None]) -> list[Path]:
    """Write ``<model>_settlement.csv`` (via ``write_csv``) and its chart into ``folder``,
    all or nothing; return the files written."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        csv_path = tmp / f"{model}_settlement.csv"
        write_csv(csv_path)
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        chart = settlement_chart(model, table)
        save_chart(chart, tmp / f"{model}_settlement.svg")
        save_chart(chart, tmp / f"{model}_settlement.vl.json")
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, folder / f.name)
            written.append(folder / f.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
