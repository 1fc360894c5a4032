"""End to end on the synthetic population: synth → load → run, checked independently.

Expected figures are recomputed here from the generated files with pandas (not with the
pipeline's code): member months from the enrollment spans, paid totals from the claim
files, and every planted fault from ``truth/faults.csv``.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import spark_available
from valuecare import Workspace
from valuecare.synth import SynthConfig, generate

# which quarantine rule each planted fault kind must trigger
FAULT_RULES = {
    "bad_date": {"bad_date"},
    "unknown_code": {"bad_code_format", "not_allowed"},
    "negative_amount": {"negative_amount"},
    "non_numeric_amount": {"not_a_number"},
    "duplicate_line": {"duplicate_key"},
    "orphan_claim": {"orphan"},
    "wrong_encoding": {"encoding"},
}


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pop")
    generate(SynthConfig(members=1500, years=2, seed=11, start_year=2023), out=out)
    return out


@pytest.fixture(scope="module")
def ws(pop: Path, tmp_path_factory: pytest.TempPathFactory):
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    report = ws.load(pop)
    assert report.reconciles
    # the stages these tests read (the whole pipeline runs in tests/cli and tests/model)
    ws.run(["member_months", "claim_header", "pmpm", "care_cycles", "outcomes",
            "measure_results", "utilization", "risk_scores"])
    yield ws
    ws.close()


def _read(pop: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(pop / table)


def test_member_months_match_spans(pop: Path, ws: Workspace) -> None:
    elig = _read(pop, "eligibility")
    expected: dict[tuple[str, str], set[str]] = {}
    for r in elig.itertuples():
        for month in pd.period_range(r.enrollment_start_date, r.enrollment_end_date, freq="M"):
            expected.setdefault((r.person_id, r.payer, r.plan), set()).add(
                month.strftime("%Y%m"))
    n_expected = sum(len(v) for v in expected.values())
    mm = ws.to_pandas("member_months")
    assert len(mm) == n_expected
    by_payer = mm.groupby("payer").size().to_dict()
    exp_payer: dict[str, int] = {}
    for (_, payer, _), months in expected.items():
        exp_payer[payer] = exp_payer.get(payer, 0) + len(months)
    assert by_payer == exp_payer


def test_pmpm_paid_totals_match_claim_files(pop: Path, ws: Workspace) -> None:
    med = _read(pop, "medical_claim")
    rx = _read(pop, "pharmacy_claim")
    both = pd.concat([
        pd.DataFrame({"year": [d.year for d in med.claim_start_date],
                      "payer": med.payer, "paid": med.paid_amount}),
        pd.DataFrame({"year": [d.year for d in rx.dispensing_date], "payer": rx.payer,
                      "paid": rx.paid_amount}),
    ])
    expected: dict[tuple[int, str], Decimal] = {}
    for r in both.itertuples():
        key = (int(r.year), r.payer)
        expected[key] = expected.get(key, Decimal(0)) + r.paid
    pmpm = ws.to_pandas("pmpm")
    got: dict[tuple[int, str], Decimal] = {}
    for r in pmpm.itertuples():
        key = (int(r.year), r.payer)
        got[key] = got.get(key, Decimal(0)) + r.paid_amount
    assert got == expected


def test_pmpm_is_plausible_by_payer_type(ws: Workspace) -> None:
    """Medicare FFS total-cost PMPM is far above commercial (CMS/KFF ~$1,000 vs ~$500)."""
    pmpm = ws.to_pandas("pmpm")
    totals = pmpm.groupby("payer_type").agg(paid=("paid_amount", "sum"))
    months = (pmpm.drop_duplicates(["year", "payer", "payer_type"]).groupby("payer_type")
              .member_months.sum())
    per = {k: float(totals.loc[k, "paid"]) / months[k] for k in totals.index}
    assert per["medicare"] > per["commercial"]
    assert 300 < per["medicare"] < 2500


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="pyspark or java not installed")
def test_duckdb_and_spark_give_identical_results(tmp_path: Path) -> None:
    pop = tmp_path / "pop"
    generate(SynthConfig(members=300, years=2, seed=5, start_year=2023), out=pop)
    results = {}
    for backend in ("duckdb", "pyspark"):
        with Workspace(tmp_path / backend, backend=backend) as w:  # type: ignore[arg-type]
            w.load(pop)
            # the foundation stages; care cycles, outcomes, PROMs and quality measures have
            # their own engine-parity tests on hand-made data (tests/conditions, outcomes)
            w.run(["member_months", "claim_header", "pmpm"])
            results[backend] = {
                "pmpm": w.table("pmpm").order_by(
                    ["year", "payer", "payer_type", "service_category_1",
                     "service_category_2"])
                .to_pyarrow().to_pylist(),
                "member_months": w.table("member_months").count().to_pyarrow().as_py(),
                "claim_header": w.table("claim_header").count().to_pyarrow().as_py(),
            }
    assert results["duckdb"] == results["pyspark"]
    assert len(results["duckdb"]["pmpm"]) > 10


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("dirty")
    generate(SynthConfig(members=800, years=2, seed=3, start_year=2023, dirty=True), out=out)
    ws = Workspace(tmp_path_factory.mktemp("dirty-ws"))
    report = ws.load(out)
    yield out, ws, report
    ws.close()


def _manifest_money(out: Path) -> dict[tuple[str, str], Decimal]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {(t, c): Decimal(v) for t, spec in manifest["tables"].items()
            for c, v in spec.get("money", {}).items()
            if c in ("charge_amount", "allowed_amount", "paid_amount")}


def test_dirty_load_accounts_for_every_row_and_cent(dirty) -> None:
    """The loader's input totals equal the generator's manifest (computed in cents)."""
    out, ws, report = dirty
    assert report.reconciles
    for (table, col), total in _manifest_money(out).items():
        assert report.tables[table].input_totals[col] == total, (table, col)
    for t in report.tables.values():
        assert t.loaded_rows + t.quarantined_rows == t.input_rows
    claims = report.tables["medical_claim"]
    assert claims.quarantined_rows > 0
    assert claims.unparseable_amounts > 0


@pytest.mark.parametrize("fault", sorted(FAULT_RULES))
def test_each_planted_fault_is_quarantined(dirty, fault: str) -> None:
    out, ws, _ = dirty
    faults = pd.read_csv(out / "truth" / "faults.csv", dtype=str)
    planted = faults[faults.fault == fault]
    assert len(planted) > 0, f"the generator planted no {fault}"
    q = ws.to_pandas("quarantine")
    q["row_number"] = q["row_number"].astype(str)
    index = {(r.table_name, r.file_name, r.row_number): r for r in q.itertuples()}
    for f in planted.itertuples():
        hit = index.get((f.table, f.file, f.row_number))
        assert hit is not None, f"{fault} at {f.file} row {f.row_number} was loaded"
        reasons = {reason.split(":")[1] for reason in hit.all_reasons.split(";")}
        assert reasons & FAULT_RULES[fault], (fault, hit.all_reasons)


def test_missing_optional_column_is_reported(dirty) -> None:
    out, _, report = dirty
    faults = pd.read_csv(out / "truth" / "faults.csv", dtype=str)
    missing = faults[faults.fault == "missing_column"]
    assert len(missing) > 0
    for f in missing.itertuples():
        t = report.tables[f.table]
        file = Path(f.file).name
        assert f.column in t.missing_optional_columns.get(file, [])


# --- contract inputs from the workspace (valuecare settle inputs) ----------------------------
def test_entity_inputs_recomputed_with_pandas(ws: Workspace) -> None:
    from valuecare.payment.workspace_inputs import entity_rows

    rows = {r["entity"]: r for r in entity_rows(ws, 2024)}
    att = ws.to_pandas("attribution")
    att = att[att.year == 2024][["person_id", "provider_npi"]]
    mm = ws.to_pandas("member_months")
    mm = mm[mm.year == 2024].groupby("person_id").year_month.nunique().rename("months")
    claims = ws.to_pandas("medical_claim")
    claims = claims[pd.to_datetime(claims.claim_start_date).dt.year == 2024]
    rx = ws.to_pandas("pharmacy_claim")
    rx = rx[pd.to_datetime(rx.dispensing_date).dt.year == 2024]
    paid: dict[str, Decimal] = {}
    for frame in (claims, rx):
        for pid, amount in zip(frame.person_id, frame.paid_amount, strict=True):
            paid[pid] = paid.get(pid, Decimal(0)) + Decimal(str(amount))
    members = att.merge(mm, left_on="person_id", right_index=True)
    expected_months = members.groupby("provider_npi").months.sum()
    assert set(rows) == set(expected_months.index)
    for npi, months in expected_months.items():
        assert int(rows[npi]["member_months"]) == months
        cost = sum((paid.get(p, Decimal(0)) for p in
                    members[members.provider_npi == npi].person_id), Decimal(0))
        assert Decimal(rows[npi]["actual_cost"]) == cost
    # member-month-weighted CMS-HCC score of the payment year (V28 where scored)
    h = ws.to_pandas("hcc_scores")
    years = sorted(set(h.payment_year))  # 2024 itself, else the nearest scored year
    nearest = min(years, key=lambda y: (abs(y - 2024), -y)) if years else None
    assert {r["risk_payment_year"] for r in rows.values()} == {str(nearest or "")}
    h = h[h.payment_year == nearest]
    if len(h):
        h = h[h.model == ("V28" if "V28" in set(h.model) else sorted(set(h.model))[0])]
    score = h.set_index("person_id").payment_score.fillna(h.set_index("person_id").raw_score)
    for npi, group in members.groupby("provider_npi"):
        s = group.person_id.map(score)
        months = group.months[s.notna()]
        if months.sum() == 0:
            assert rows[npi]["avg_risk_score"] == ""
            continue
        expected = (s[s.notna()] * months).sum() / months.sum()
        assert float(rows[npi]["avg_risk_score"]) == pytest.approx(expected, abs=1e-4)
        assert int(rows[npi]["unscored_member_months"]) == group.months.sum() - months.sum()


def test_measure_and_episode_inputs(ws: Workspace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from valuecare.cli import app
    from valuecare.payment.workspace_inputs import episode_rows, measure_rows

    mr = ws.to_pandas("measure_results")
    mr = mr[(mr.entity_type == "clinician") & (pd.to_datetime(mr.period_start).dt.year == 2024)
            & mr.measure_kind.isin(["ecqm", "claims_quality"])
            & mr.performance_denominator.notna()]
    rows = measure_rows(ws, 2024)
    assert len(rows) == len(mr)
    got = {(r["entity"], r["measure"]): (int(r["numerator"]), int(r["denominator"]))
           for r in rows}
    for r in mr.itertuples():
        assert got[(r.entity_id, r.measure)] == (int(r.numerator),
                                                 int(r.performance_denominator))
    cc = ws.to_pandas("care_cycles")
    cc = cc[(cc.cycle_kind == "acute_episode")]
    condition = cc.condition.value_counts().index[0]
    base = cc[(cc.condition == condition)
              & (pd.to_datetime(cc.anchor_start_date).dt.year == 2023)]
    perf = cc[(cc.condition == condition)
              & (pd.to_datetime(cc.anchor_start_date).dt.year == 2024)]
    mean = sum((Decimal(str(v)) for v in base.paid_amount), Decimal(0)) / len(base)
    episodes, build = episode_rows(ws, condition, 2024, [2023])
    assert build.price == mean.quantize(Decimal("0.01"), ROUND_HALF_UP)  # type: ignore[attr-defined]
    assert len(episodes) == len(perf)
    spend = dict(zip(perf.cycle_id, perf.paid_amount, strict=True))
    for e in episodes:
        assert Decimal(e["actual_spend"]) == Decimal(str(spend[e["episode_id"]]))
    # the CLI writes the CSV that the capitation settlement reads (CMS-HCC scores are
    # Medicare's: a risk-adjusted contract is settled on its Medicare members)
    out = tmp_path / "entities.csv"
    res = CliRunner().invoke(app, ["settle", "inputs", "entities", "--year", "2024", "--out",
                                   str(out), "--payer-type", "medicare", "-w", str(ws.path)])
    assert res.exit_code == 0, res.output
    example = (Path(__file__).parents[1] / "src/valuecare/reference/payment/examples"
               / "capitation_global.yaml")
    res = CliRunner().invoke(app, ["settle", "capitation", str(example), str(out)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
