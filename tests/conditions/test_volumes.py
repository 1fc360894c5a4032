"""Volume by condition and site of care on the hand-built edge cases (DuckDB).

Worked numbers (see ``test_episodes.py`` for the cycles):

- hip_knee 2024, facilities: H1 has P1, P2 (first knee), P5, P7 = 4 cases; H2 has 1.
  Share of H1 = 4 / 5 = 0.8; 4 / 52.1775 weeks = 0.0767 a week; below the standard of 50.
- hip_knee clinicians: S1 2 cases (P1, P2's first knee), S2 1 (P2's second knee); P5 and
  P7 have no surgeon claim, so no clinician.  With ``--min-volume 2`` one is below.
- Site of care, hip_knee recover_rehabilitate: SNF claims 6,000 (P2) + 3,000 (P7) = 2
  services, 4,500.00 each; office PT 100.00 (P2): the SNF setting costs 45.00 times the
  cheapest setting for the same phase.
"""

from __future__ import annotations

from decimal import Decimal

from typer.testing import CliRunner

from tests.conditions.edge_data import H1, S1
from valuecare.cli import app


def test_volume_per_facility(ws_duckdb) -> None:
    ws, _ = ws_duckdb
    v = ws.table("condition_volumes").to_pandas()
    row = v[(v.condition == "hip_knee") & (v.role == "facility") & (v.npi == H1)].iloc[0]
    assert (row.cases, row.condition_cases, row.providers) == (4, 5, 2)
    assert (row.share_of_volume, row.cases_per_week) == (Decimal("0.8000"), Decimal("0.0767"))
    assert (row.min_volume, bool(row.below_min_volume)) == (50, True)
    clin = v[(v.condition == "hip_knee") & (v.role == "clinician")]
    assert dict(zip(clin.npi, clin.cases, strict=True))[S1] == 2
    assert clin.cases.sum() == 3


def test_site_of_care_shows_expensive_setting(ws_duckdb) -> None:
    ws, _ = ws_duckdb
    s = ws.table("site_of_care").to_pandas()
    s = s[(s.condition == "hip_knee") & (s.phase == "recover_rehabilitate")]
    snf = s[s.setting == "snf"].iloc[0]
    assert (snf.services, snf.setting_paid_per_service) == (2, Decimal("4500.00"))
    assert snf.lowest_setting_paid_per_service == Decimal("100.00")
    assert snf.ratio_to_lowest_setting == Decimal("45.00")


def test_cli_volumes(ws_duckdb) -> None:
    ws, _ = ws_duckdb
    runner = CliRunner()
    env = {"COLUMNS": "250"}
    res = runner.invoke(app, ["volumes", "-w", str(ws.path), "--condition", "hip_knee",
                              "--year", "2024", "--min-volume", "2"], env=env)
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "clinician" in ln)
    cells = [c.strip() for c in line.split("│") if c.strip()]
    # condition, year, role, providers, cases, mean, median, per week, standard, below, share
    assert cells[:5] == ["hip_knee", "2024", "clinician", "2", "3"]
    assert cells[8:10] == ["2", "1"]
    bad = runner.invoke(app, ["volumes", "-w", str(ws.path), "--condition", "nope"], env=env)
    assert bad.exit_code != 0
