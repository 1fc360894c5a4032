"""Generated docs are current, and every command and table is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuecare.docs import CLI_COMMANDS, DOCS, PAGES
from valuecare.model.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_generated_page_is_current(page: str) -> None:
    assert (DOCS / page).read_text() == PAGES[page](), (
        f"docs/{page} is stale: run `python -m valuecare.docs` and commit it")


def test_every_table_and_command_is_documented() -> None:
    model = (DOCS / "data-model.md").read_text()
    for name in TABLES:
        assert f"## `{name}`" in model
    cli = (DOCS / "cli.md").read_text()
    for cmd in CLI_COMMANDS:
        assert f"## `valuecare {cmd}`" in cli
    readme = (ROOT / "README.md").read_text()
    for needle in ("make demo", "make test", "docs/data-model.md", "docs/cli.md",
                   "docs/synthetic-data.md", "docs/loading.md", "docs/outcomes.md"):
        assert needle in readme
    from valuecare.pipeline.registry import registered

    pipeline = (DOCS / "pipeline.md").read_text()
    for stage in registered():
        assert f"## `{stage.name}`" in pipeline, stage.name
        for table in stage.writes:
            assert f"`{table}`" in pipeline, table


def test_tuva_columns_are_tuva_names() -> None:
    """Columns marked origin=tuva exist in the Tuva input layer (shared reference sheet)."""
    sheet = ROOT.parent / "shared" / "reference" / "tuva-input-layer.md"
    if not sheet.exists():
        pytest.skip("shared/reference not beside the checkout")
    text = sheet.read_text()
    tuva_columns = set()
    for line in text.splitlines():
        if ":" in line and line.split(":")[0].strip().isidentifier():
            tuva_columns |= {c.strip() for c in line.split(":", 1)[1].split(",")}
    ours = {c.name for t in TABLES.values() for c in t.columns if c.origin == "tuva"}
    assert ours - tuva_columns == set()


def test_readme_python_quickstart_runs(tmp_path: Path, tiny_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python example runs as written (on the tiny data set)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "pop").symlink_to(tiny_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    pmpm = namespace["pmpm"]
    assert len(pmpm) == 4  # tests/pipeline/test_claims_summary.py: four payer-category rows
    assert namespace["report"].reconciles
