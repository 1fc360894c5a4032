"""ACO-level CSV in, settlements out: the file side of ``valuecare settle mssp``.

The input has one row per ACO with the columns of :data:`INPUT_COLUMNS` (others are kept
and passed through); the output is the input columns followed by :data:`RESULT_COLUMNS`.
Money is written in dollars with cents, rates as fractions (0.03), booleans as
``true``/``false``. Every input problem is an :class:`~valuecare.errors.InvalidInput`
naming the file, the row and the column; nothing is written unless every row settles, and
the output appears at once (written to a temporary file beside it, then renamed).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from valuecare.payment.contract_io import Where, read_table
from valuecare.payment.mssp import AcoInputError, AcoPerformance, MsspSettlement, settle_mssp
from valuecare.payment.mssp_params import MsspParams, Track

INPUT_COLUMNS: tuple[str, ...] = (
    "aco_id", "track", "assigned_beneficiaries", "person_years", "benchmark_per_capita",
    "expenditure_per_capita", "msr_mlr_option", "quality_score", "qps_met", "alt_qps_met",
    "participant_revenue", "low_revenue")
RESULT_COLUMNS: tuple[str, ...] = (
    "savings_rate", "msr", "mlr", "qualified", "final_sharing_rate", "shared_savings",
    "shared_losses")
#: Rates are written to six decimal places (4 in percent, as TV-6), trailing zeros dropped.
RATE_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class SettledRow:
    """One input row (``row`` counts data rows from 1; ``line`` is the file line) and its
    settlement."""

    row: int
    line: int
    values: dict[str, str]
    settlement: MsspSettlement


@dataclass(frozen=True)
class SettledFile:
    columns: tuple[str, ...]
    rows: tuple[SettledRow, ...]

    def output_rows(self) -> list[dict[str, str]]:
        return [{**r.values, **result_fields(r.settlement)} for r in self.rows]


def _decimal(text: str, column: str, where: Where, *, what: str = "a number") -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise where.error(column, f"{text!r} is not {what}; write a plain number such as "
                          "12000.50 (no $, no thousands separators)")
    return value


def _bool(text: str, column: str, where: Where) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise where.error(column, f"{text!r} is not a boolean; write true or false")
    return lowered == "true"


def _parse(values: dict[str, str], where: Where) -> AcoPerformance:
    for col in INPUT_COLUMNS:
        if col != "participant_revenue" and not values[col]:
            raise where.error(col, "empty; every column but participant_revenue needs a "
                              "value")
    track_text = values["track"]
    if track_text not in Track.__members__:
        hint = (f"write {track_text.upper()}" if track_text.upper() in Track.__members__
                else f"use one of {', '.join(t.value for t in Track)}")
        raise where.error("track", f"{track_text!r} is not an MSSP track; {hint}")
    try:
        beneficiaries = int(values["assigned_beneficiaries"])
    except ValueError as exc:
        raise where.error("assigned_beneficiaries", f"{values['assigned_beneficiaries']!r} "
                          "is not a whole number of beneficiaries") from exc
    option_text = values["msr_mlr_option"]
    option = None if option_text.lower() == "variable" else _decimal(
        option_text, "msr_mlr_option", where,
        what="'variable' or a fraction such as 0.02")
    revenue = values["participant_revenue"]
    try:
        return AcoPerformance(
            aco_id=values["aco_id"], track=Track(track_text),
            assigned_beneficiaries=beneficiaries,
            person_years=_decimal(values["person_years"], "person_years", where),
            benchmark_per_capita=_decimal(values["benchmark_per_capita"],
                                          "benchmark_per_capita", where),
            expenditure_per_capita=_decimal(values["expenditure_per_capita"],
                                            "expenditure_per_capita", where),
            msr_mlr_option=option,
            quality_score=_decimal(values["quality_score"], "quality_score", where),
            qps_met=_bool(values["qps_met"], "qps_met", where),
            alt_qps_met=_bool(values["alt_qps_met"], "alt_qps_met", where),
            participant_revenue=_decimal(revenue, "participant_revenue", where)
            if revenue else None,
            low_revenue=_bool(values["low_revenue"], "low_revenue", where))
    except AcoInputError as exc:
        raise where.error(exc.column, str(exc)) from exc


def read_rows(path: Path) -> tuple[tuple[str, ...], list[tuple[Where, dict[str, str]]]]:
    """The header and the raw rows of an ACO CSV, with the required columns checked
    (:func:`valuecare.payment.contract_io.read_table`, shared by every settlement)."""
    table = read_table(path, required=INPUT_COLUMNS, reserved=RESULT_COLUMNS,
                       what="ACO rows")
    return table.columns, list(table.rows)


def settle_file(path: Path, *, sequestration: Decimal = Decimal(0),
                params: MsspParams | None = None) -> SettledFile:
    """Read, validate and settle every ACO of ``path`` (all or nothing)."""
    columns, raw = read_rows(path)
    seen: dict[str, int] = {}
    settled: list[SettledRow] = []
    for where, values in raw:
        aco = _parse(values, where)
        if aco.aco_id in seen:
            raise where.error("aco_id", f"ACO {aco.aco_id} is also in row {seen[aco.aco_id]}; "
                              "give each ACO one row")
        seen[aco.aco_id] = where.row
        try:
            result = settle_mssp(aco, sequestration=sequestration, params=params)
        except AcoInputError as exc:
            raise where.error(exc.column, str(exc)) from exc
        settled.append(SettledRow(where.row, where.line, values, result))
    return SettledFile(columns, tuple(settled))


def rate_text(rate: Decimal | None) -> str:
    """A rate as a fraction with at most six decimals (``0.03``); empty for ``None``."""
    if rate is None:
        return ""
    text = format(rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def result_fields(s: MsspSettlement) -> dict[str, str]:
    """The result columns of one settlement, as written to CSV."""
    return {
        "savings_rate": rate_text(s.savings_rate), "msr": rate_text(s.msr),
        "mlr": rate_text(s.mlr), "qualified": "true" if s.qualified else "false",
        "final_sharing_rate": rate_text(s.final_sharing_rate),
        "shared_savings": f"{s.shared_savings:.2f}", "shared_losses": f"{s.shared_losses:.2f}",
    }


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    """Write ``rows`` to ``path`` atomically: a temporary file beside it, then a rename, so
    a failed run leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_settlements(path: Path, settled: SettledFile) -> None:
    """The settled file as CSV: the input columns, then :data:`RESULT_COLUMNS`."""
    write_csv(path, (*settled.columns, *RESULT_COLUMNS), settled.output_rows())
