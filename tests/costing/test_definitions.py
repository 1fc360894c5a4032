"""Costing inputs are validated on load: every problem is one error naming the file, the
row or field, and how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.costing.cost_data import HIP_MAP, RESOURCES_CSV, write_costing
from valuecare.conditions.library import load_library
from valuecare.costing.catalog import load_catalog
from valuecare.costing.inputs import COSTING_DIR_ENV, costing_dir, load_inputs
from valuecare.costing.process_maps import load_maps
from valuecare.costing.stage import costed_conditions
from valuecare.errors import CostingDefinitionError

HEAD = ("site_npi,resource,kind,salary,benefits,space,equipment,overhead,theoretical_minutes,"
        "practical_share,unit_cost\n")


def test_packaged_catalog_and_maps_are_valid() -> None:
    """The reference catalog loads, every map's resources exist with the right kind, and
    every map names a condition of the library."""
    inputs = load_inputs(None)
    assert {"hip_knee", "cabg", "diabetes"} <= set(inputs.maps.maps)
    assert costed_conditions(list(inputs.maps.maps)) == sorted(inputs.maps.maps)
    library = {c.id for c in load_library().conditions}
    assert set(inputs.maps.maps) <= library
    assert inputs.catalog.clinician_resources()["orthopedic surgery"] == "orthopedic_surgeon"


@pytest.mark.parametrize(("csv", "message"), [
    ("site_npi,resource,colour\n*,x,red\n", "unknown column(s) colour"),
    ("resource\nregistered_nurse\n", "missing column(s) site_npi"),
    (HEAD + "*,registered_nurse,,abc,,,,,1000,,\n", "row 2: 'abc' is not a number"),
    (HEAD + "12345,registered_nurse,,1000,,,,,1000,,\n", "row 2: site_npi"),
    (HEAD + "*,robot,,1000,,,,,1000,,\n", "resource 'robot' is not in the catalog; give its "
     "kind"),
    (HEAD + "*,hip_implant,,,,,,,,,\n", "consumable hip_implant needs unit_cost"),
    (HEAD + "*,registered_nurse,,1000,,,,,,,\n", "needs its cost"),
    (HEAD + "*,registered_nurse,,1000,,,,,1000,1.5,\n", "practical_share"),
    (HEAD + "*,registered_nurse,equipment,1000,,,,,1000,,\n", "is a person, not equipment"),
    (HEAD + "*,registered_nurse,,1000,,,,,1000,,\n*,registered_nurse,,9,,,,,9,,\n",
     "lists resource registered_nurse twice"),
    (HEAD + "1234567893,robot,person,1000,,,,,1000,,\n", "add a row with site_npi *"),
])
def test_bad_resource_rows(tmp_path: Path, csv: str, message: str) -> None:
    (tmp_path / "resources.csv").write_text(csv)
    with pytest.raises(CostingDefinitionError, match=message.replace("(", r"\(")
                       .replace(")", r"\)")) as e:
        load_catalog(tmp_path)
    assert str(tmp_path / "resources.csv") in str(e.value)


def _map(tmp_path: Path, text: str, name: str = "hip_knee.yaml") -> Path:
    folder = tmp_path / "costing"
    (folder / "process_maps").mkdir(parents=True, exist_ok=True)
    (folder / "process_maps" / name).write_text(text)
    return folder


@pytest.mark.parametrize(("old", "new", "message"), [
    ("{base: 300, complication: 60}", "{base: 300, fever: 60}",
     "uses driver\\(s\\) fever that the map does not define"),
    ("resource: nurse_x, minutes: 240", "resource: cook, minutes: 240",
     "uses 'cook', which is not a person, equipment or space resource"),
    ("item: implant_x", "item: nurse_x", "item 'nurse_x', which is not a consumable"),
    ("substitute: nurse_x", "substitute: bed_x", "substitute 'bed_x' is not a person"),
    ("targets: {ward_day: 2}", "targets: {ward_night: 2}", "targets name unknown step"),
    ("id: xray", "id: consult", "step id 'consult' is also used"),
    ("match: {claim_types: [professional], hcpcs: [\"97110\"]}", "match: {}",
     "a match needs at least one criterion"),
    ("criteria: [{modifiers: [\"50\"]}]", "criteria: [{modifiers: [\"50\"], drg: [\"470\"]}]",
     "exactly one kind of code"),
    ("revenue: [\"0120\"]}\n    per: unit\n    resources: [{resource: nurse_x",
     "revenue: [\"0120\"]}\n    per: unit\n    resources: [{resource: nurse_x",
     None),
])
def test_bad_process_maps(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    assert old in HIP_MAP
    folder = write_costing(tmp_path / "costing")
    _map(tmp_path, HIP_MAP.replace(old, new, 1))
    if message is None:
        load_inputs(folder)
        return
    with pytest.raises(CostingDefinitionError, match=message) as e:
        load_inputs(folder)
    assert "hip_knee.yaml" in str(e.value)


def test_map_errors_name_the_file_and_field(tmp_path: Path) -> None:
    folder = _map(tmp_path, HIP_MAP.replace("per: unit", "per: fortnight", 1))
    with pytest.raises(CostingDefinitionError, match=r"hip_knee.yaml: invalid process map: "
                       r"field steps.2.per"):
        load_maps(folder)
    folder = _map(tmp_path / "b", "id: x\nname: X\nextends: nothing\nsteps: []\n", "x.yaml")
    with pytest.raises(CostingDefinitionError, match=r"x.yaml: invalid process map: field id: "
                       r"String should match.*field steps: List should have at least 1 item"):
        load_maps(folder)


def test_extends_a_library_that_does_not_exist(tmp_path: Path) -> None:
    text = HIP_MAP.replace("id: hip_knee\n", "id: hip_knee\nextends: shared\n")
    folder = write_costing(tmp_path / "costing")
    _map(tmp_path, text)
    with pytest.raises(CostingDefinitionError, match="extends 'shared', which is not a library"):
        load_inputs(folder)


@pytest.mark.parametrize(("row", "message"), [
    ("1000000001,ward_day,cook,base,3\n", "no process map step 'ward_day' uses 'cook'"),
    ("1000000001,ward_day,nurse_x,fever,3\n", "has no term 'fever'; its terms are base, "
     "complication"),
    ("H1,ward_day,nurse_x,base,3\n", "site_npi 'H1' is not an NPI"),
    ("1000000001,ward_day,nurse_x,base,-3\n", "minutes must be >= 0"),
    ("1000000001,ward_day,nurse_x,base,three\n", "is not a number"),
])
def test_bad_step_times(tmp_path: Path, row: str, message: str) -> None:
    folder = write_costing(tmp_path / "costing")
    (folder / "step_times.csv").write_text("site_npi,step,resource,term,minutes\n" + row)
    with pytest.raises(CostingDefinitionError, match=message) as e:
        load_inputs(folder)
    assert "step_times.csv, row 2" in str(e.value)


def test_the_costing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``$VALUECARE_COSTING_DIR`` wins; else ``<workspace>/costing``; else none."""
    monkeypatch.delenv(COSTING_DIR_ENV, raising=False)
    assert costing_dir(tmp_path) is None
    (tmp_path / "costing").mkdir()
    assert costing_dir(tmp_path) == tmp_path / "costing"
    monkeypatch.setenv(COSTING_DIR_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(CostingDefinitionError, match="does not exist; create it or unset"):
        costing_dir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    assert costing_dir(tmp_path) == (tmp_path / "elsewhere").resolve()


def test_a_map_for_an_unknown_condition_is_refused() -> None:
    with pytest.raises(CostingDefinitionError, match="process map\\(s\\) knee_only name no "
                       "condition"):
        costed_conditions(["hip_knee", "knee_only"])


def test_organization_rows_layer_over_the_reference(tmp_path: Path) -> None:
    """A site's own row, else the organization's ``*`` row, else the reference."""
    (tmp_path / "resources.csv").write_text(RESOURCES_CSV)
    cat = load_catalog(tmp_path)
    assert cat.supply("1000000001", "nurse_x")[1] == "site"
    assert cat.supply("1999999999", "nurse_x")[1] == "organization"
    assert cat.supply("1000000001", "registered_nurse")[1] == "reference"
    assert cat.standard("nurse_x").rate == 1
