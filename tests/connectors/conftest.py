"""Connector tests run the whole pipeline after each load; one measurement year keeps the
quality-measure stage (whose cost is compiling one query per measure and year) short on
sources that span decades (Synthea, RIF). The stage's year rule has its own tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_quality_year(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALUECARE_QUALITY_YEARS", "1")
