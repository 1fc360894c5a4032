"""``valuecare export``: FHIR MeasureReports from measure_results (valid, and round-tripping
to the same numbers), Parquet and CSV exports (rows and money equal the workspace's, the
canonical tables load back unchanged) and atomic replacement (DuckDB)."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from valuecare import Workspace
from valuecare.cli import app
from valuecare.connectors import export as export_mod
from valuecare.connectors.export import export_workspace
from valuecare.connectors.fhir_export import (
    NPI_SYSTEM,
    POPULATION_SYSTEM,
    iter_measure_reports,
    read_measure_reports,
)
from valuecare.errors import InvalidInput, UnknownTable, WorkspaceError
from valuecare.model.schema import TABLES
from valuecare.synth import SynthConfig, generate

CODES = ["initial-population", "denominator", "denominator-exclusion",
         "denominator-exception", "numerator"]
COUNTS = ["initial_population", "denominator", "exclusions", "exceptions", "numerator"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("export")
    generate(SynthConfig(members=300, years=1, seed=7), out=tmp / "pop")
    w = Workspace(tmp / "ws")
    w.load(tmp / "pop")
    w.run(["member_months", "care_cycles", "outcomes", "measure_results"])
    yield w
    w.close()


@pytest.fixture(scope="module")
def fhir_out(ws: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fhir") / "fhir"
    export_workspace(ws, out, "fhir", bundle=True)
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- FHIR ------------------------------------------------------------------------------
def test_every_measure_report_validates(ws: Any, fhir_out: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.measurereport import MeasureReport

    assert sorted(p.name for p in fhir_out.iterdir()) == [
        "MeasureReport-bundle.json", "MeasureReport.ndjson", "manifest.json"]
    lines = (fhir_out / "MeasureReport.ndjson").read_text().splitlines()
    reports = [MeasureReport.model_validate_json(line) for line in lines]
    for r in reports:
        assert r.status == "complete" and r.type in ("summary", "individual")
        assert r.measure.startswith("https://ecqi.healthit.gov/ecqm/ec/")
        assert r.period.start.year == r.period.end.year
        pops = r.group[0].population
        assert [p.code.coding[0].code for p in pops] == CODES
        assert {p.code.coding[0].system for p in pops} == {POPULATION_SYSTEM}
        if r.reporter is not None:
            assert r.reporter.identifier.system == NPI_SYSTEM
            assert r.reporter.reference == f"{r.reporter.type}/{r.reporter.identifier.value}"
        if r.type == "individual":
            assert r.subject.reference.startswith("Patient/")
            assert {p.count for p in pops} <= {0, 1}
        notation = r.improvementNotation.coding[0].code
        assert notation == ("decrease" if "/cms0122v" in r.measure else "increase")
    assert len({r.id for r in reports}) == len(reports)
    bundle = Bundle.model_validate_json((fhir_out / "MeasureReport-bundle.json").read_bytes())
    assert bundle.type == "collection"
    assert [e.resource.id for e in bundle.entry] == [r.id for r in reports]
    assert all(e.fullUrl == f"urn:uuid:{e.resource.id}" for e in bundle.entry)

    # one summary per eCQM x period for the population and per attributed clinician, one
    # individual report per member x measure x period
    res = ws.to_pandas("measure_results")
    ecqm = res[(res.measure_kind == "ecqm") & res.entity_type.isin(["overall", "clinician"])]
    members = ws.to_pandas("measure_members")
    n_sum = sum(r.type == "summary" for r in reports)
    n_ind = sum(r.type == "individual" for r in reports)
    assert n_sum == len(ecqm) and n_ind == len(members) and n_ind > 100
    manifest = json.loads((fhir_out / "manifest.json").read_text())
    assert manifest["format"] == "fhir"
    for f in manifest["files"]:
        assert f["sha256"] == _sha(fhir_out / f["file"])
        assert (f["summary"], f["individual"]) == (n_sum, n_ind)
    print(f"\nMeasureReports written: {n_sum} summary + {n_ind} individual = "
          f"{n_sum + n_ind}, all valid R4(B)")


def test_round_trip_gives_the_same_numbers(ws: Any, fhir_out: Path) -> None:
    rows = read_measure_reports(fhir_out)
    assert rows == read_measure_reports(fhir_out / "MeasureReport-bundle.json")
    summaries = {(r["version"], r["period_start"], r["reporter_npi"] or "all"): r
                 for r in rows if r["type"] == "summary"}
    res = ws.table("measure_results").to_pyarrow().to_pylist()
    ecqm = [x for x in res if x["measure_kind"] == "ecqm"
            and x["entity_type"] in ("overall", "clinician")]
    scored = 0
    for x in ecqm:
        got = summaries.pop((x["version"], x["period_start"], x["entity_id"]))
        assert got["measure"] == x["measure"]
        number, version = int(x["measure"][3:]), x["version"].split("v")[-1]
        assert got["url"].endswith(f"/cms{number:04d}v{version}")
        assert [got[c] for c in COUNTS] == [x[c] for c in COUNTS]
        assert got["reporter_type"] == (None if x["entity_type"] == "overall"
                                        else "Practitioner")
        perf = x["denominator"] - x["exclusions"] - x["exceptions"]
        if perf > 0:  # the rate computed here from the counts, and the table's rate
            assert float(got["score"]) == x["numerator"] / perf == x["rate"]
            scored += 1
        else:
            assert got["score"] is None
    assert not summaries  # nothing else
    members = ws.table("measure_members").to_pyarrow().to_pylist()
    individual = {(r["version"], r["period_start"], r["person_id"]): r
                  for r in rows if r["type"] == "individual"}
    assert len(individual) == len(members)
    for m in members:
        got = individual[(m["version"], m["period_start"], m["person_id"])]
        assert [got[c] for c in COUNTS] == [int(m[c]) for c in (
            "initial_population", "denominator", "exclusion", "exception", "numerator")]
        assert got["reporter_npi"] == m["provider_npi"]
    # the individual reports add up to the summaries of their clinician and population
    parsed = {(r["version"], r["period_start"], r["reporter_npi"] or "all"): r
              for r in rows if r["type"] == "summary"}
    sums: dict[tuple[Any, ...], list[int]] = {}
    for r in individual.values():
        for who in ("all", r["reporter_npi"]):
            acc = sums.setdefault((r["version"], r["period_start"], who), [0] * 5)
            for i, c in enumerate(COUNTS):
                acc[i] += r[c]
    assert {k: [v[c] for c in COUNTS] for k, v in parsed.items()} == sums
    print(f"round trip: {len(ecqm)} summaries ({scored} with a score) and {len(members)} "
          "individual reports equal measure_results / measure_members")


def test_invalid_measure_reports_are_refused_without_values(fhir_out: Path,
                                                            tmp_path: Path) -> None:
    lines = (fhir_out / "MeasureReport.ndjson").read_text().splitlines()
    doc = next(json.loads(x) for x in lines if '"individual"' in x)
    person = doc["subject"]["identifier"]["value"]
    bad_code = json.loads(json.dumps(doc))
    bad_code["group"][0]["population"][0]["code"]["coding"][0]["code"] = "bogus"
    bad_count = json.loads(json.dumps(doc))
    bad_count["group"][0]["population"][4]["count"] = f"{person}-x"
    no_status = {k: v for k, v in doc.items() if k != "status"}
    for bad in (bad_code, bad_count, no_status):
        path = tmp_path / "bad.ndjson"
        path.write_text(lines[0] + "\n" + json.dumps(bad) + "\n")
        with pytest.raises(InvalidInput) as err:
            read_measure_reports(path)
        assert person not in str(err.value)
        assert "line 2" in str(err.value) or "MeasureReport/" in str(err.value)
    assert len(list(iter_measure_reports(fhir_out / "MeasureReport.ndjson"))) == len(lines)


# ---- Parquet and CSV -------------------------------------------------------------------
def _file_money(path: Path, col: str) -> Decimal:
    if path.suffix == ".parquet":
        values = pq.read_table(path, columns=[col]).column(0).to_pylist()
        return sum((v for v in values if v is not None), Decimal(0))
    total = Decimal(0)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = row[col]
            if text != "":
                assert text.lstrip("-").replace(".", "", 1).isdigit(), text
                assert len(text.split(".")[1]) == 2, text  # cents, never a float
                total += Decimal(text)
    return total


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_table_export_rows_money_and_reload(ws: Any, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    report = export_workspace(ws, out, fmt)
    manifest = report.manifest
    assert manifest["generator"] == "valuecare export" and manifest["format"] == fmt
    assert [t["table"] for t in manifest["tables"]] == ws.tables()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.{fmt}" for n in ws.tables()] + ["manifest.json"])
    money_cols = 0
    for entry in manifest["tables"]:
        name, path = entry["table"], out / entry["file"]
        t = ws.table(name)
        assert entry["rows"] == t.count().to_pyarrow().as_py()
        assert entry["sha256"] == _sha(path)
        assert [c["name"] for c in entry["columns"]] == list(t.columns)
        assert entry["kind"] == ("canonical" if name in TABLES else "result")
        if fmt == "parquet":
            assert pq.ParquetFile(path).metadata.num_rows == entry["rows"]
        for col, dtype in t.schema().items():
            if not dtype.is_decimal():
                continue
            money_cols += 1
            expected = t[col].sum().to_pyarrow().as_py() or Decimal(0)
            assert isinstance(expected, Decimal)
            assert _file_money(path, col) == expected == Decimal(entry["money_totals"][col])
            if fmt == "parquet":
                assert pq.read_schema(path).field(col).type == pa.decimal128(
                    dtype.precision, dtype.scale)
    assert money_cols >= 10

    # the canonical tables load back unchanged
    with Workspace(tmp_path / "reloaded") as again:
        load = again.load(out)
        assert load.reconciles
        canonical = [n for n in ws.tables() if n in TABLES]
        assert sorted(load.tables) == sorted(canonical)
        for name in canonical:
            assert load.tables[name].quarantined_rows == 0
            cols = [c for c in ws.table(name).columns if c != "file_name"]
            a = ws.table(name).select(cols).to_pandas()
            b = again.table(name).select(cols).to_pandas()
            key = cols[:4]
            a = a.sort_values(key, kind="stable").reset_index(drop=True)
            b = b.sort_values(key, kind="stable").reset_index(drop=True)
            assert a.equals(b), name
    print(f"{fmt}: {len(manifest['tables'])} tables, {money_cols} money columns exact, "
          f"{len(canonical)} canonical tables reloaded equal")


def test_failed_export_leaves_the_previous_output(ws: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    export_workspace(ws, out, "csv", tables=["member", "provider"])
    before = {p.name: _sha(p) for p in out.iterdir()}
    real = export_mod._write_table
    calls = []

    def failing(w: Any, name: str, path: Path, fmt: str) -> None:
        calls.append(name)
        real(w, name, path, fmt)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_mod, "_write_table", failing)
    with pytest.raises(WorkspaceError, match="previous output there is unchanged"):
        export_workspace(ws, out, "parquet", tables=["member", "eligibility", "provider"])
    assert {p.name: _sha(p) for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left

    # a folder that is not an export is never replaced; unknown tables are named
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    monkeypatch.setattr(export_mod, "_write_table", real)
    with pytest.raises(InvalidInput, match="not a valuecare export"):
        export_workspace(ws, other, "csv", tables=["member"])
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(UnknownTable, match="nope"):
        export_workspace(ws, tmp_path / "x", "csv", tables=["nope"])
    with pytest.raises(InvalidInput):
        export_workspace(ws, tmp_path / "x", "fhir", tables=["member"])


def test_cli_export(ws: Any, fhir_out: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(app, ["export", "-w", str(ws.path), "--format", "csv", "--out",
                              str(out), "--table", "member", "--table", "measure_results"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "measure_results.csv",
                                                     "member.csv"]
    res = runner.invoke(app, ["export", "-w", str(ws.path), "--format", "fhir", "--out",
                              str(out), "--summary-only"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = read_measure_reports(out)
    assert rows and {r["type"] for r in rows} == {"summary"}
    assert sorted(p.name for p in out.iterdir()) == ["MeasureReport.ndjson", "manifest.json"]
    # deterministic: the same summaries, byte for byte, as the full export's first lines
    full = (fhir_out / "MeasureReport.ndjson").read_text().splitlines(keepends=True)
    assert (out / "MeasureReport.ndjson").read_text() == "".join(full[:len(rows)])
    res = runner.invoke(app, ["export", "-w", str(ws.path), "--format", "xml", "--out",
                              str(tmp_path / "y")])
    assert res.exit_code == 2 and not (tmp_path / "y").exists()
