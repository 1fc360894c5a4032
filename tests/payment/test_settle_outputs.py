"""``valuecare settle ... --out-dir DIR``: the settlement table and its chart in one folder.

For each model the shipped example is settled twice, with ``--out`` and with ``--out-dir``:
the folder's CSV is the same table byte for byte, and the chart's data are the CSV's
amounts (losses, withholds and warranty charges drawn negative).  A failure while
writing leaves the previous folder as it was.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.payment.settle_outputs import CHARTS, write_outputs

runner = CliRunner()
EX = Path(str(resources.files("valuecare") / "reference" / "payment" / "examples"))

CASES = {
    "mssp": [str(EX / "acos.csv")],
    "bundle": [str(EX / "cjr_contract.yaml"), str(EX / "cjr_episodes.csv")],
    "capitation": [str(EX / "capitation_global.yaml"), str(EX / "capitation_global.csv")],
    "pcmh": [str(EX / "pcmh_tiered.yaml"), str(EX / "pcmh_practices.csv"),
             "--measures", str(EX / "pcmh_measures.csv")],
    "p4p": [str(EX / "p4p_withhold.yaml"), str(EX / "p4p_measures.csv"),
            "--entities", str(EX / "p4p_entities.csv")],
}


def _invoke(*args: str):
    res = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res


@pytest.mark.parametrize("model", list(CASES))
def test_folder_holds_the_table_and_its_chart(model: str, tmp_path: Path) -> None:
    _invoke("settle", model, *CASES[model], "--out", str(tmp_path / "plain.csv"))
    folder = tmp_path / "out"
    _invoke("settle", model, *CASES[model], "--out-dir", str(folder))
    table = folder / f"{model}_settlement.csv"
    assert table.read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert (folder / f"{model}_settlement.svg").read_text().lstrip().startswith("<svg")
    spec = json.loads((folder / f"{model}_settlement.vl.json").read_text())
    drawn = {(v["entity"], v["amount_type"]): Decimal(str(v["amount"]))
             for v in next(iter(spec["datasets"].values()))}
    with table.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    chart = CHARTS[model]
    expected = {}
    for r in rows:
        for col in chart.amounts:
            name = col.lstrip("-")
            if r[name]:
                amount = Decimal(r[name])
                expected[(r[chart.entity], name)] = -amount if col.startswith("-") else amount
    assert expected and drawn.keys() == expected.keys()
    for key, amount in expected.items():
        assert drawn[key] == pytest.approx(amount, abs=Decimal("0.005")), key


def test_p4p_folder_has_the_measure_detail(tmp_path: Path) -> None:
    _invoke("settle", "p4p", *CASES["p4p"], "--out-dir", str(tmp_path))
    with (tmp_path / "p4p_detail.csv").open(newline="") as fh:
        detail = list(csv.DictReader(fh))
    # one row per entity and contract measure (CMS122, CMS165, CMS130, CMS125; the
    # example's CMS2 row is not in the contract)
    assert len(detail) == 3 * 4
    assert {d["measure"] for d in detail} == {"CMS122", "CMS165", "CMS130", "CMS125"}


def test_failed_write_leaves_previous_output(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    _invoke("settle", "mssp", *CASES["mssp"], "--out-dir", str(folder))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(path: Path) -> None:
        path.write_text("aco_id,shared_savings\nX,1.00\n")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_outputs(folder, "mssp", broken)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
