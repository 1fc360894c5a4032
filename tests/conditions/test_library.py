"""The condition library: packaged definitions, analysts' folders, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuecare.cli import app
from valuecare.conditions.library import CONDITIONS_DIR_ENV, load_library
from valuecare.errors import ConditionDefinitionError

SHIPPED = {"hip_knee", "cabg", "breast_cancer", "diabetes", "heart_failure", "low_back_pain",
           "pc_healthy_adults", "pc_chronic_adults", "pc_frail_elderly"}

EXTRA = """
id: knee_arthroscopy
name: Knee arthroscopy
kind: acute_episode
entry: {hcpcs: ["29870-29889"]}
window: {days_after: 90}
accountable: {rule: trigger_clinician}
sources: [{choice: all, source: test}]
"""


def test_shipped_conditions_load_in_claim_order() -> None:
    lib = load_library()
    assert {c.id for c in lib.conditions} >= SHIPPED
    kinds = [c.kind for c in lib.conditions]
    assert kinds == sorted(kinds, key=["acute_episode", "chronic_year", "diagnosis_episode",
                                       "primary_care_segment"].index)
    hip = lib.get("hip_knee")
    assert (hip.entry.drg, hip.window.days_after, hip.window.warranty_days) == (
        ["469", "470"], 90, 730)
    assert all(c.sources for c in lib.conditions)


def test_stray_file_in_cwd_does_not_shadow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.delenv(CONDITIONS_DIR_ENV, raising=False)
    stray = tmp_path / "valuecare" / "reference" / "conditions"
    stray.mkdir(parents=True)
    (stray / "hip_knee.yaml").write_text("id: broken\n")
    monkeypatch.chdir(tmp_path)
    assert load_library().get("hip_knee").window.days_after == 90


def test_extra_folder_adds_a_condition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    (tmp_path / "arthroscopy.yaml").write_text(EXTRA)
    monkeypatch.setenv(CONDITIONS_DIR_ENV, str(tmp_path))
    lib = load_library()
    assert lib.get("knee_arthroscopy").entry.hcpcs == ["29870-29889"]


@pytest.mark.parametrize(("text", "needle"), [
    (EXTRA.replace("days_after: 90", "days_after: 9000"), "field window.days_after"),
    (EXTRA.replace("acute_episode", "acute"), "field kind"),
    (EXTRA.replace('["29870-29889"]', '["29870-2988"]'), "field entry.hcpcs"),
    (EXTRA.replace("sources: [{choice: all, source: test}]", ""), "field sources"),
    (EXTRA + "colour: red\n", "field colour"),
    ("id: [unclosed", "not valid YAML"),
])
def test_invalid_definition_names_file_and_field(tmp_path: Path, text: str, needle: str
                                                 ) -> None:
    (tmp_path / "mine.yaml").write_text(text)
    with pytest.raises(ConditionDefinitionError) as exc:
        load_library(tmp_path)
    assert "mine.yaml" in str(exc.value) and needle in str(exc.value)


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text(EXTRA.replace("knee_arthroscopy", "cabg"))
    with pytest.raises(ConditionDefinitionError, match="already defined"):
        load_library(tmp_path)


def test_cli_conditions_list(tmp_path: Path) -> None:
    (tmp_path / "arthroscopy.yaml").write_text(EXTRA)
    result = CliRunner().invoke(app, ["conditions", "list", "--conditions-dir",
                                      str(tmp_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for cid in SHIPPED | {"knee_arthroscopy"}:
        assert cid in result.output
