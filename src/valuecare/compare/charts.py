"""Funnel-plot charts (Vega-Lite through altair) and their export to JSON, SVG or PNG.

The chart follows Spiegelhalter, *Stat Med* 2005;24:1185, figure 1: each unit's value
against its precision, the target as a horizontal line, and the 95% and 99.8% control
limits as curves over the range of precision.  The limit curves are recomputed from the
parameters :func:`valuecare.compare.funnel.funnel_table` stores in ``table.attrs``, so they
carry the same method and overdispersion (φ, τ²) as the table's labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from valuecare.compare.funnel import LEVELS, proportion_limits, ratio_limits
from valuecare.errors import InvalidInput

__all__ = ["LABEL_COLOURS", "funnel_chart", "limit_curves", "save_chart", "value_chart"]

#: Colour of each label, the same in every report.
LABEL_COLOURS: dict[str, str] = {
    "better than expected": "#1a9850",
    "as expected": "#636363",
    "worse than expected": "#d73027",
    "too few cases": "#bdbdbd",
}
_LEVEL_NAMES = {"95": "95%", "998": "99.8%"}
_REQUIRED = ["numerator", "precision", "value", "target", "label"]


def limit_curves(table: pd.DataFrame, *, points: int = 200) -> pd.DataFrame:
    """Control-limit curves over the table's range of precision, in long form.

    Columns ``precision``, ``limit``, ``level`` (``95%`` / ``99.8%``) and ``side``
    (``lower`` / ``upper``).  Uses ``table.attrs`` written by ``funnel_table``.
    """
    attrs = _attrs(table)
    lo_p = float(table["precision"].min())
    hi_p = float(table["precision"].max())
    grid = np.geomspace(max(lo_p * 0.8, 1e-9), hi_p * 1.1, points)
    if attrs["kind"] == "proportion" and attrs["method"] == "exact":
        grid = np.unique(np.maximum(np.round(grid), 1.0))
    phi = attrs["phi"] if attrs["overdispersion"] == "multiplicative" else 1.0
    tau2 = attrs["tau2"]
    target = attrs["target"]
    frames = []
    for suffix, level in LEVELS.items():
        if attrs["kind"] == "proportion":
            lower, upper = proportion_limits(
                target, grid, level=level, method=attrs["method"], phi=phi, tau2=tau2
            )
        else:
            lower, upper = ratio_limits(
                grid, target=target, level=level, method=attrs["method"], phi=phi, tau2=tau2
            )
        for side, values in (("lower", lower), ("upper", upper)):
            frames.append(
                pd.DataFrame(
                    {
                        "precision": grid,
                        "limit": values,
                        "level": _LEVEL_NAMES[suffix],
                        "side": side,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def funnel_chart(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    value_title: str | None = None,
    precision_title: str | None = None,
    label_units: bool = True,
    width: int = 600,
    height: int = 400,
) -> alt.LayerChart:
    """Funnel plot of a ``funnel_table``: points coloured by label, limits, target, names.

    Data are embedded as inline ``values`` in each layer so the exported Vega-Lite JSON
    stands alone.  Source: Spiegelhalter, *Stat Med* 2005;24:1185.
    """
    attrs = _attrs(table)
    unit = attrs["unit"]
    kind = attrs["kind"]
    value_title = value_title or ("Proportion" if kind == "proportion" else "O/E ratio")
    precision_title = precision_title or (
        "Number of cases (n)" if kind == "proportion" else "Expected events (E)"
    )
    points = table[[unit, "numerator", "precision", "value", "label"]].copy()
    points[unit] = points[unit].astype(str)
    points = points.rename(columns={unit: "unit"})
    curves = limit_curves(table)
    x = alt.X("precision:Q", title=precision_title, scale=alt.Scale(zero=False))
    y = alt.Y("value:Q", title=value_title)

    limit_layer = (
        alt.Chart(alt.Data(values=_records(curves)))
        .mark_line(color="#3182bd")
        .encode(
            x=alt.X("precision:Q", title=precision_title),
            y=alt.Y("limit:Q", title=value_title),
            strokeDash=alt.StrokeDash(
                "level:N",
                title="Control limit",
                scale=alt.Scale(domain=["95%", "99.8%"], range=[[6, 3], [1, 0]]),
            ),
            detail="side:N",
        )
    )
    target_layer = (
        alt.Chart(alt.Data(values=[{"target": float(attrs["target"])}]))
        .mark_rule(color="black")
        .encode(y="target:Q")
    )
    point_layer = (
        alt.Chart(alt.Data(values=_records(points)))
        .mark_circle(size=60, opacity=0.9)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "label:N",
                title="Compared with target",
                scale=alt.Scale(
                    domain=list(LABEL_COLOURS), range=list(LABEL_COLOURS.values())
                ),
            ),
            tooltip=[
                alt.Tooltip("unit:N", title="Unit"),
                alt.Tooltip("numerator:Q", title="Events" if kind == "proportion" else "O"),
                alt.Tooltip("precision:Q", title="n" if kind == "proportion" else "E"),
                alt.Tooltip("value:Q", format=".3f"),
                alt.Tooltip("label:N"),
            ],
        )
    )
    layers: list[Any] = [limit_layer, target_layer, point_layer]
    if label_units:
        layers.append(
            alt.Chart(alt.Data(values=_records(points)))
            .mark_text(align="left", dx=6, dy=-4, fontSize=10)
            .encode(x=x, y=y, text="unit:N")
        )
    chart = alt.layer(*layers).properties(width=width, height=height)
    if title:
        chart = chart.properties(title=title)
    return chart


def value_chart(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    width: int = 600,
    height: int = 400,
) -> alt.LayerChart:
    """Value quadrant chart of a :func:`valuecare.compare.value.value_table`: risk-adjusted
    cost per cycle (x) against the risk-standardized outcome rate (y, axis turned so that
    up is always the better outcome), point size = cycles, colour = the outcome's funnel
    label, dashed reference lines at the overall mean cost and rate (the quadrants; each
    point's quadrant is in its tooltip).
    """
    need = {"provider", "risk_adjusted_cost_per_cycle", "rsr", "outcome_label",
            "outcome_cycles", "overall_rate", "overall_cost_per_cycle", "direction"}
    if table.empty or not need <= set(table.columns):
        raise InvalidInput("value_chart needs a non-empty table from value_table(...) "
                           f"(columns {sorted(need)})")
    lower = str(table["direction"].iloc[0]) == "lower_is_better"
    rate = float(table["overall_rate"].iloc[0])
    cost = float(table["overall_cost_per_cycle"].iloc[0])
    pts = table[["provider", "risk_adjusted_cost_per_cycle", "rsr", "outcome_label",
                 "outcome_cycles", "quadrant"]].copy()
    pts["provider"] = pts["provider"].astype(str)
    x = alt.X("risk_adjusted_cost_per_cycle:Q", title="Risk-adjusted cost per cycle ($)",
              scale=alt.Scale(zero=False))
    y = alt.Y("rsr:Q", title="Risk-standardized rate" + (" (lower is better, up)" if lower
                                                         else " (higher is better, up)"),
              scale=alt.Scale(zero=False, reverse=lower), axis=alt.Axis(format="%"))
    points = (
        alt.Chart(alt.Data(values=_records(pts)))
        .mark_circle(opacity=0.8)
        .encode(
            x=x, y=y,
            size=alt.Size("outcome_cycles:Q", title="Cycles"),
            color=alt.Color("outcome_label:N", title="Outcome vs expected",
                            scale=alt.Scale(domain=list(LABEL_COLOURS),
                                            range=list(LABEL_COLOURS.values()))),
            tooltip=[alt.Tooltip("provider:N"), alt.Tooltip("outcome_cycles:Q", title="cycles"),
                     alt.Tooltip("rsr:Q", format=".1%"),
                     alt.Tooltip("risk_adjusted_cost_per_cycle:Q", format="$,.0f"),
                     alt.Tooltip("quadrant:N")],
        )
    )
    vline = alt.Chart(alt.Data(values=[{"c": cost}])).mark_rule(
        color="black", strokeDash=[4, 3]).encode(x="c:Q")
    hline = alt.Chart(alt.Data(values=[{"r": rate}])).mark_rule(
        color="black", strokeDash=[4, 3]).encode(y="r:Q")
    chart = alt.layer(points, vline, hline).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def save_chart(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write a chart as Vega-Lite JSON (``.json``), SVG (``.svg``) or PNG (``.png``).

    SVG and PNG are rendered without a browser by vl-convert.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".json", ".svg", ".png"):
        raise InvalidInput(
            f"cannot save a chart as {out.name!r}; use a .json, .svg or .png file name"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(chart.to_json(indent=2), encoding="utf-8")
        return out
    import vl_convert as vlc

    spec = chart.to_dict()
    if suffix == ".svg":
        out.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    else:
        out.write_bytes(vlc.vegalite_to_png(spec, scale=scale))
    return out


def _attrs(table: pd.DataFrame) -> dict[str, Any]:
    missing = [c for c in _REQUIRED if c not in table.columns]
    needed = ("kind", "target", "method", "overdispersion", "phi", "tau2", "unit")
    if missing or any(k not in table.attrs for k in needed):
        raise InvalidInput(
            "funnel_chart needs a table from valuecare.compare.funnel_table "
            f"(missing columns {missing} or its attrs); build it with funnel_table(...) "
            "and do not drop its attrs"
        )
    return dict(table.attrs)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: numpy scalars to Python, no NaN."""
    clean = df.replace([np.inf, -np.inf], np.nan).dropna()
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict(orient="records")
    ]
