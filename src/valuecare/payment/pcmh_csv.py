"""Practice-level CSV (and measure results) in, PCMH settlements out: the file side of
``valuecare settle pcmh``.

``PRACTICES.csv``, one row per practice: ``entity, member_months, ffs_revenue`` and, when
the contract's care-management fee is tiered, ``recognition_level``; other columns are
kept. ``--measures MEASURES.csv`` (the P4P measure-result columns, see
:mod:`valuecare.payment.p4p_csv`) is needed when the contract has a performance incentive.
The output is the input columns followed by :data:`RESULT_COLUMNS`; errors name the file,
row and column, and nothing is written unless every practice settles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valuecare.errors import InvalidInput
from valuecare.payment.contract_io import Where, money_text, read_table
from valuecare.payment.mssp_csv import rate_text, write_csv
from valuecare.payment.p4p_csv import read_results
from valuecare.payment.pcmh import (
    PcmhContract,
    PcmhInputError,
    PcmhSettlement,
    Practice,
    care_management_pmpm,
    settle_pcmh,
)

INPUT_COLUMNS: tuple[str, ...] = ("entity", "member_months", "ffs_revenue",
                                  "recognition_level")
RESULT_COLUMNS: tuple[str, ...] = (
    "care_management_pmpm", "care_management_fee", "quality_score", "bonus", "withheld",
    "withhold_returned", "performance_incentive", "total_payment")


@dataclass(frozen=True)
class SettledPcmh:
    columns: tuple[str, ...]
    rows: tuple[tuple[dict[str, str], PcmhSettlement], ...]

    def output_rows(self) -> list[dict[str, str]]:
        return [{**values, **result_fields(s)} for values, s in self.rows]


def _parse(values: dict[str, str], where: Where, contract: PcmhContract) -> Practice:
    try:
        practice = Practice(
            entity=where.text(values, "entity"),
            member_months=where.decimal(values, "member_months"),
            ffs_revenue=where.decimal(values, "ffs_revenue"),
            recognition_level=values.get("recognition_level") or None)
        care_management_pmpm(practice, contract.care_management)
    except PcmhInputError as exc:
        raise where.error(exc.column, str(exc)) from exc
    return practice


def settle_file(contract: PcmhContract, practices: Path, measures: Path | None = None
                ) -> SettledPcmh:
    """Read, validate and settle every practice (all or nothing)."""
    tiered = contract.care_management.tiered
    required = [c for c in INPUT_COLUMNS if c != "recognition_level" or tiered]
    table = read_table(practices, required=required, optional=("recognition_level",),
                       reserved=RESULT_COLUMNS, what="practice rows")
    table.unique("entity", "practice")
    parsed = [_parse(values, where, contract) for where, values in table.rows]
    scheme = contract.performance_incentive
    if scheme is not None and measures is None:
        raise InvalidInput(f"contract {contract.contract_id} pays a performance incentive "
                           "on quality measures: give --measures MEASURES.csv")
    if scheme is None and measures is not None:
        raise InvalidInput(f"contract {contract.contract_id} has no performance_incentive; "
                           "drop --measures or add one to the contract")
    results = read_results(measures, scheme) if scheme is not None and measures else []
    unknown = sorted({r.entity for r in results} - {p.entity for p in parsed})
    if unknown:
        raise InvalidInput(f"{measures}: results for practices not in {practices}: "
                           f"{', '.join(unknown[:5])}")
    settled, _ = settle_pcmh(parsed, contract, results)
    return SettledPcmh(table.columns, tuple(
        (values, s) for (_, values), s in zip(table.rows, settled, strict=True)))


def result_fields(s: PcmhSettlement) -> dict[str, str]:
    p = s.performance
    return {
        "care_management_pmpm": money_text(s.care_management_pmpm),
        "care_management_fee": money_text(s.care_management_fee),
        "quality_score": "" if p is None else rate_text(p.score),
        "bonus": money_text(p.bonus if p else None),
        "withheld": money_text(p.withheld if p else None),
        "withhold_returned": money_text(p.withhold_returned if p else None),
        "performance_incentive": money_text(s.performance_incentive),
        "total_payment": money_text(s.total_payment),
    }


def write_settlements(path: Path, settled: SettledPcmh) -> None:
    """The input columns, then :data:`RESULT_COLUMNS` (atomic)."""
    write_csv(path, (*settled.columns, *RESULT_COLUMNS), settled.output_rows())
