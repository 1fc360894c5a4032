"""Contract files and contract-level CSVs, shared by the capitation, PCMH and P4P settlements.

- A contract is YAML validated with pydantic: :class:`ContractModel` is the base of every
  contract section (unknown fields are errors; money and rates are :class:`~decimal.Decimal`
  and a binary float such as ``850.10`` written without quotes is refused, so amounts stay
  exact); :func:`load_contract` reads a file and turns every problem into one
  :class:`~valuecare.errors.InvalidInput` naming the file and the field.
- :func:`read_table` reads an entity-level CSV (required and optional columns checked,
  result columns refused in the input) into rows that each know their file, row and line,
  so :class:`Where` errors name all three and the column.
- Output goes through :func:`valuecare.payment.mssp_csv.write_csv` (atomic: a temporary
  file beside the target, then a rename).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from valuecare.conditions.library import parse_definition
from valuecare.errors import InvalidInput, MissingFile
from valuecare.payment.mssp import CENT, cents

__all__ = ["CENT", "ContractHeader", "ContractModel", "CsvTable", "Period", "Where",
           "cents", "cents_down", "load_contract", "money_text", "read_table"]

DOC = "docs/payment-models.md"

M = TypeVar("M", bound=BaseModel)


def _float_free(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise ValueError(f"{path}: {value!r} is a binary float; write money and rates in "
                         "quotes, e.g. \"850.10\" or \"0.03\", so they stay exact")
    if isinstance(value, dict):
        for key, item in value.items():
            _float_free(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _float_free(item, f"{path}.{i}")


class ContractModel(BaseModel):
    """Base of every contract section: closed (``extra="forbid"``), frozen, float-free."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, data: Any) -> Any:
        _float_free(data, "")
        return data


def fraction(value: Decimal | None, name: str) -> None:
    """Raise unless ``value`` is ``None`` or a fraction in [0, 1]."""
    if value is not None and not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{name} is a fraction between 0 and 1 (0.03 for 3%), not {value}")


def non_negative(value: Decimal | None, name: str) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{name} cannot be negative ({value})")


class Period(ContractModel):
    """The contract (performance) period, both days included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        return self


class ContractHeader(ContractModel):
    """What every contract names: an id, the payer and the period."""

    contract_id: str
    payer: str
    period: Period
    description: str = ""

    @field_validator("contract_id", "payer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


def load_contract(path: Path, model: type[M], what: str) -> M:
    """Read and validate the contract YAML at ``path`` as ``model``; every problem raises
    :class:`InvalidInput` naming the file and the field."""
    if not path.is_file():
        raise MissingFile(f"{path}: no such file; give the {what} YAML (see {DOC})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc}); save the contract as UTF-8"
                           ) from exc
    return parse_definition(text, str(path), model, what, DOC,  # type: ignore[return-value]
                            error=InvalidInput)


def cents_down(amount: Decimal) -> Decimal:
    """Round money down to the cent (allocations from a fixed pool never exceed it)."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def money_text(amount: Decimal | None) -> str:
    """Money as written to CSV: dollars with cents, empty for ``None``."""
    return "" if amount is None else f"{cents(amount):.2f}"


@dataclass(frozen=True)
class Where:
    """A data row of a CSV: ``row`` counts data rows from 1, ``line`` is the file line."""

    path: Path
    row: int
    line: int

    def error(self, column: str, message: str) -> InvalidInput:
        return InvalidInput(f"{self.path}: row {self.row} (line {self.line}), column "
                            f"{column}: {message}")

    def text(self, values: dict[str, str], column: str) -> str:
        """A required cell, not empty."""
        cell = values.get(column, "")
        if not cell:
            raise self.error(column, "empty; give a value")
        return cell

    def maybe_decimal(self, values: dict[str, str], column: str, *,
                      minimum: Decimal | None = Decimal(0), positive: bool = False,
                      what: str = "a number") -> Decimal | None:
        """A number cell, ``None`` when empty; money is written ``12000.50`` (no $, no
        thousands separators)."""
        cell = values.get(column, "")
        if not cell:
            return None
        try:
            value = Decimal(cell)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise self.error(column, f"{cell!r} is not {what}; write a plain number such as "
                             "12000.50 (no $, no % and no thousands separators)")
        if positive and value <= 0:
            raise self.error(column, f"must be positive, not {cell}")
        if minimum is not None and value < minimum:
            raise self.error(column, f"cannot be below {minimum} ({cell})")
        return value

    def decimal(self, values: dict[str, str], column: str, *,
                minimum: Decimal | None = Decimal(0), positive: bool = False,
                what: str = "a number") -> Decimal:
        """A required number cell (see :meth:`maybe_decimal`)."""
        value = self.maybe_decimal(values, column, minimum=minimum, positive=positive,
                                   what=what)
        if value is None:
            raise self.error(column, f"empty; give {what}")
        return value

    def maybe_count(self, values: dict[str, str], column: str) -> int | None:
        """A whole, non-negative number cell, ``None`` when empty."""
        cell = values.get(column, "")
        if not cell:
            return None
        try:
            value = int(cell)
        except ValueError as exc:
            raise self.error(column, f"{cell!r} is not a whole number") from exc
        if value < 0:
            raise self.error(column, f"cannot be negative ({cell})")
        return value


@dataclass(frozen=True)
class CsvTable:
    """A CSV's header and its data rows (blank lines skipped), each with its place."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[Where, dict[str, str]], ...]

    def unique(self, column: str, what: str) -> None:
        """Raise when a value of ``column`` repeats (e.g. an entity given twice)."""
        seen: dict[str, int] = {}
        for where, values in self.rows:
            key = values[column]
            if key in seen:
                raise where.error(column, f"{what} {key} is also in row {seen[key]}; give "
                                  f"each {what} one row")
            seen[key] = where.row


def read_table(path: Path, *, required: Sequence[str], optional: Iterable[str] = (),
               reserved: Iterable[str] = (), what: str) -> CsvTable:
    """Read the CSV at ``path`` (UTF-8, a BOM allowed): the header must hold ``required``;
    ``reserved`` (result) columns are refused; other columns are kept and passed through.
    ``what`` names a row in messages ("entity rows")."""
    if not path.is_file():
        raise MissingFile(f"{path}: no such file; give the CSV of {what}")
    need = ", ".join(required)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(f"{path}: the file is empty; it needs a header row with "
                                   f"{need}")
            columns = tuple(c.strip() for c in header)
            duplicates = sorted({c for c in columns if columns.count(c) > 1})
            if duplicates:
                raise InvalidInput(f"{path}: column(s) repeated in the header: "
                                   f"{', '.join(duplicates)}")
            missing = [c for c in required if c not in columns]
            if missing:
                known = ", ".join((*required, *optional))
                raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}; the "
                                   f"header needs {need} (columns read: {known})")
            clash = [c for c in reserved if c in columns]
            if clash:
                raise InvalidInput(f"{path}: column(s) {', '.join(clash)} are results of the "
                                   "settlement; remove them from the input")
            rows: list[tuple[Where, dict[str, str]]] = []
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                where = Where(path, len(rows) + 1, reader.line_num)
                if len(record) > len(columns):
                    raise where.error(columns[-1], f"{len(record)} fields but the header "
                                      f"has {len(columns)}; quote values that contain commas")
                cells = [c.strip() for c in record] + [""] * (len(columns) - len(record))
                rows.append((where, dict(zip(columns, cells, strict=True))))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc}); save the CSV as UTF-8") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV ({exc})") from exc
    if not rows:
        raise InvalidInput(f"{path}: no {what} under the header")
    return CsvTable(path, columns, tuple(rows))
