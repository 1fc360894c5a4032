"""Entity-level CSV in, capitation settlements out: the file side of
``valuecare settle capitation``.

Input, one row per entity (others columns are kept and passed through):

- ``entity``: the capitated provider, group or budget holder; each once;
- ``member_months``: member months (for condition capitation: patient-months with the
  condition);
- ``avg_risk_score``: the average risk score, needed when the contract is risk-adjusted;
- ``actual_cost``: the cost of the covered services in the period, dollars.

The output is the input columns followed by :data:`RESULT_COLUMNS`. Every input problem
is an :class:`~valuecare.errors.InvalidInput` naming the file, the row and the column;
nothing is written unless every row settles (atomic write).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valuecare.errors import InvalidInput
from valuecare.payment.capitation import (
    CapitatedEntity,
    CapitationContract,
    CapitationInputError,
    CapitationSettlement,
    settle_capitation_all,
)
from valuecare.payment.contract_io import Where, cents, money_text, read_table
from valuecare.payment.mssp_csv import rate_text, write_csv

INPUT_COLUMNS: tuple[str, ...] = ("entity", "member_months", "avg_risk_score", "actual_cost")
RESULT_COLUMNS: tuple[str, ...] = (
    "risk_factor", "adjusted_rate", "capitation_payment", "gain", "corridor_adjustment",
    "payer_spending", "provider_margin")


@dataclass(frozen=True)
class SettledCapitation:
    columns: tuple[str, ...]
    rows: tuple[tuple[dict[str, str], CapitationSettlement], ...]

    def output_rows(self) -> list[dict[str, str]]:
        return [{**values, **result_fields(s)} for values, s in self.rows]


def _parse(values: dict[str, str], where: Where, risk_adjusted: bool) -> CapitatedEntity:
    months = where.decimal(values, "member_months", positive=True)
    score = (where.decimal(values, "avg_risk_score", positive=True) if risk_adjusted
             else where.maybe_decimal(values, "avg_risk_score", positive=True))
    cost = where.decimal(values, "actual_cost")
    try:
        return CapitatedEntity(entity=where.text(values, "entity"), member_months=months,
                               avg_risk_score=score, actual_cost=cost)
    except CapitationInputError as exc:
        raise where.error(exc.column, str(exc)) from exc


def settle_file(contract: CapitationContract, path: Path) -> SettledCapitation:
    """Read, validate and settle every entity of ``path`` under ``contract`` (all or
    nothing)."""
    risk_adjusted = contract.risk_adjustment.method != "none"
    required = [c for c in INPUT_COLUMNS if c != "avg_risk_score" or risk_adjusted]
    table = read_table(path, required=required, optional=("avg_risk_score",),
                       reserved=RESULT_COLUMNS, what="entity rows")
    table.unique("entity", "entity")
    entities = [_parse(values, where, risk_adjusted) for where, values in table.rows]
    try:
        settled = settle_capitation_all(entities, contract)
    except CapitationInputError as exc:  # pragma: no cover - inputs are checked above
        raise InvalidInput(f"{path}: column {exc.column}: {exc}") from exc
    return SettledCapitation(table.columns, tuple(
        (values, s) for (_, values), s in zip(table.rows, settled, strict=True)))


def result_fields(s: CapitationSettlement) -> dict[str, str]:
    """The result columns of one settlement, as written to CSV (``adjusted_rate`` to the
    cent for reading; the payment uses the exact rate)."""
    return {
        "risk_factor": rate_text(s.risk_factor), "adjusted_rate": money_text(cents(
            s.adjusted_rate)),
        "capitation_payment": money_text(s.capitation_payment), "gain": money_text(s.gain),
        "corridor_adjustment": money_text(s.corridor_adjustment),
        "payer_spending": money_text(s.payer_spending),
        "provider_margin": money_text(s.provider_margin),
    }


def write_settlements(path: Path, settled: SettledCapitation) -> None:
    """The input columns, then :data:`RESULT_COLUMNS` (atomic)."""
    write_csv(path, (*settled.columns, *RESULT_COLUMNS), settled.output_rows())
