"""Outcome definitions as data: Porter tiers per condition, sources, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuecare.conditions.library import load_library
from valuecare.errors import ConditionDefinitionError
from valuecare.outcomes.definitions import TIER_LEVELS, load_outcomes

CONDITIONS = [c.id for c in load_library(extra_dir="").conditions]


def test_every_shipped_condition_has_a_measure_in_every_tier() -> None:
    lib = load_outcomes(extra_dir="", conditions=CONDITIONS)
    assert sorted(s.condition for s in lib.sets) == sorted(CONDITIONS)
    for cond in CONDITIONS:
        tiers = {m.tier for m in lib.for_condition(cond)}
        assert tiers == {1, 2, 3}, (cond, tiers)


def test_every_measure_names_its_source_and_a_level_of_its_tier() -> None:
    lib = load_outcomes(extra_dir="", conditions=CONDITIONS)
    for _, m in lib.measures():
        assert m.source.strip() and m.definition.strip()
        assert m.level in TIER_LEVELS[m.tier]


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "x.yaml").write_text(text)
    return folder


GOOD = """
condition: hip_knee_extra
measures:
  - id: mortality_30d
    name: Death within 30 days
    tier: 1
    level: 1
    kind: death
    days: 30
    direction: lower_is_better
    unit: proportion
    definition: death within 30 days
    source: a paper
"""


def test_an_analyst_adds_measures_for_a_condition(tmp_path: Path) -> None:
    folder = _write(tmp_path / "o", GOOD)
    lib = load_outcomes(extra_dir=folder)
    assert [m.id for m in lib.for_condition("hip_knee_extra")] == ["mortality_30d"]
    with pytest.raises(ConditionDefinitionError, match="no condition 'hip_knee_extra'"):
        load_outcomes(extra_dir=folder, conditions=CONDITIONS)


@pytest.mark.parametrize(("change", "message"), [
    (("level: 1", "level: 4"), "level 4 is not in tier 1"),
    (("    days: 30\n", ""), "needs `days`"),
    (("    source: a paper\n", ""), "source"),
    (("kind: death", "kind: dying"), "kind"),
])
def test_bad_definitions_say_what_to_fix(tmp_path: Path, change: tuple[str, str],
                                         message: str) -> None:
    folder = _write(tmp_path / "o", GOOD.replace(*change))
    with pytest.raises(ConditionDefinitionError, match=message) as err:
        load_outcomes(extra_dir=folder)
    assert "x.yaml" in str(err.value)


def test_a_condition_defined_twice_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path / "o", GOOD.replace("hip_knee_extra", "hip_knee"))
    with pytest.raises(ConditionDefinitionError, match="already defined"):
        load_outcomes(extra_dir=folder)


def test_event_criteria_need_codes_or_settings(tmp_path: Path) -> None:
    text = GOOD.replace("kind: death\n    days: 30", "kind: events\n    components:\n"
                        "      - {name: nothing, window: {start: 0, end: 30}}")
    with pytest.raises(ConditionDefinitionError, match="lists no codes"):
        load_outcomes(extra_dir=_write(tmp_path / "o", text))
