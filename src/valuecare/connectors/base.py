"""What every connector shares: emitting canonical rows and quarantining source records.

A connector reads one source format (Synthea CSV, FHIR R4, OMOP CDM, CMS claim files) and
turns it into rows of the canonical model (:mod:`valuecare.model.schema`).  It does not
write the workspace itself: it writes canonical part files into a staging folder through a
:class:`Conversion`, and the canonical loader then checks and publishes them exactly as it
does a canonical folder (:func:`valuecare.model.loader.load`).  So every connector has the
loader's guarantees for free: row rules, duplicate keys, orphans, one atomic run.

What a connector adds is the *source* ledger.  Each source record (a CSV row, an NDJSON
line, a Bundle entry, an OMOP row, a fixed-width line) is counted once in its
:class:`SourceTally` and ends up either

* **mapped**: it gave one or more canonical rows (``Conversion.emit``), or
* **quarantined at source**: it could not be mapped (unknown code system, missing
  reference, FHIR validation error, malformed line), recorded with
  ``Conversion.reject(...)``: file, row, column, rule, value and the raw record, in the
  same ``quarantine`` table as the loader's own rejects.

``records == mapped + quarantined`` for every source (checked by :meth:`Conversion.finish`),
and each connector's tests show that the money of each source (``money_in``) equals what
was emitted (:meth:`Conversion.emitted_money`) plus what was quarantined, to the cent.
The loader adds the source rejects to the input of the canonical table they were meant
for, so the load report still reconciles table by table.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from valuecare.errors import InvalidInput
from valuecare.model.schema import TABLES
from valuecare.model.validate import MONEY_TOTAL_COLUMNS, QUARANTINE_SCHEMA

CENT = Decimal("0.01")
FLUSH_ROWS = 100_000


def money(value: Any) -> Decimal | None:
    """An amount as exact cents (half-up is not applied: more than 2 decimals is an error).

    Source amounts often arrive as text with trailing zeros ("129.160000") or as floats
    printed with two decimals; ``Decimal(str(x))`` keeps them exact.  ``None``/"" is None.
    """
    if value is None:
        return None
    text = str(value).strip()
    if text == "":
        return None
    try:
        d = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text[:40]!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not an amount: {text[:40]!r}")
    q = d.quantize(CENT)
    if q != d:
        raise ValueError(f"more than two decimals: {text[:40]!r}")
    return q


def valid_npi(text: str | None) -> str | None:
    """The NPI if it is 10 digits with a correct Luhn check digit over the ``80840``
    prefix (CMS, *NPI check digit*), else None: no connector writes an invalid NPI."""
    t = (text or "").strip()
    if len(t) != 10 or not t.isdigit():
        return None
    total = 0
    for i, d in enumerate(int(c) for c in reversed("80840" + t)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return t if total % 10 == 0 else None


def cents_text(d: Decimal | None) -> str | None:
    return None if d is None else f"{d.quantize(CENT)}"


@dataclass
class SourceTally:
    """The ledger of one source (a file, or a table of a database)."""

    source: str
    target: str = ""  # the canonical table its records mainly feed ("" when several)
    records: int = 0
    mapped: int = 0
    quarantined: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    money_in: dict[str, Decimal] = field(default_factory=dict)
    money_quarantined: dict[str, Decimal] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.records == self.mapped + self.quarantined

    def add_money(self, amounts: Mapping[str, Decimal | None]) -> None:
        """Count a source record's amounts (keyed by canonical money column) as input."""
        for k, v in amounts.items():
            if v is not None:
                self.money_in[k] = self.money_in.get(k, Decimal(0)) + v

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "records": self.records,
            "mapped": self.mapped, "quarantined": self.quarantined, "by_rule": self.by_rule,
            "money_in": {k: str(v) for k, v in self.money_in.items()},
            "money_quarantined": {k: str(v) for k, v in self.money_quarantined.items()},
            "reconciles": self.reconciles,
        }


class Conversion:
    """Collects the canonical rows and source rejects of one connector run.

    Rows are buffered per canonical table and written as Parquet part files of text
    columns under ``folder/<table>/`` (the loader parses and checks them).  Every part
    carries every canonical column, so a missing required value is a row-level reject
    in the loader, never a header error.
    """

    def __init__(self, folder: Path, connector: str) -> None:
        self.folder = folder
        self.connector = connector
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tallies: dict[str, SourceTally] = {}
        self.inputs: list[Path] = []
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._parts: dict[str, int] = {}
        self._emitted: dict[str, int] = {}
        self._emitted_money: dict[str, dict[str, Decimal]] = {}
        self._rejects: list[dict[str, Any]] = []
        self._reject_parts: list[Path] = []
        self.notes: dict[str, Any] = {}

    # ---- the ledger ------------------------------------------------------------------
    def tally(self, source: str, target: str = "") -> SourceTally:
        t = self.tallies.get(source)
        if t is None:
            t = self.tallies[source] = SourceTally(source, target)
        return t

    def read_input(self, path: Path) -> None:
        """Record ``path`` as an input of the run (its fingerprint goes in the run log)."""
        if path not in self.inputs:
            self.inputs.append(path)

    # ---- output ----------------------------------------------------------------------
    def emit(self, table: str, row: Mapping[str, Any]) -> None:
        """Add one canonical row (column → value; values are written as text)."""
        if table not in TABLES:
            raise KeyError(f"connector {self.connector}: no canonical table {table!r}")
        buf = self._rows.setdefault(table, [])
        buf.append(dict(row))
        self._emitted[table] = self._emitted.get(table, 0) + 1
        for c in MONEY_TOTAL_COLUMNS:
            v = row.get(c)
            if v is not None and v != "":
                tot = self._emitted_money.setdefault(table, {})
                # a value that is not a number is quarantined by the loader (not_a_number)
                with contextlib.suppress(InvalidOperation):
                    tot[c] = tot.get(c, Decimal(0)) + Decimal(str(v))
        if len(buf) >= FLUSH_ROWS:
            self._flush(table)

    def emit_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        for r in rows:
            self.emit(table, r)

    def reject(
        self, tally: SourceTally, *, table: str, row_number: int, rule: str,
        column: str | None = None, value: Any = None, reason: str = "",
        raw: Any = None, amounts: Mapping[str, Decimal | None] | None = None,
    ) -> None:
        """Quarantine one source record: it is counted in ``tally`` as quarantined.

        ``table`` is the canonical table the record was meant for; ``rule`` a short
        machine name (``unmapped_code``, ``missing_reference``, ``fhir_validation`` ...);
        ``reason`` a sentence for a person (stored in ``all_reasons``); ``raw`` the source
        record (dict → JSON) so nothing is lost; ``amounts`` its money by canonical column.
        """
        tally.quarantined += 1
        tally.by_rule[rule] = tally.by_rule.get(rule, 0) + 1
        amt = {c: (amounts or {}).get(c) for c in MONEY_TOTAL_COLUMNS}
        for c, v in amt.items():
            if v is not None:
                tally.money_quarantined[c] = tally.money_quarantined.get(c, Decimal(0)) + v
        if isinstance(raw, Mapping):
            raw_text = json.dumps({str(k): (None if v is None else str(v))
                                   for k, v in raw.items()})
        else:
            raw_text = None if raw is None else str(raw)
        self._rejects.append({
            "run_id": "",
            "table_name": table,
            "file_name": tally.source,
            "row_number": int(row_number),
            "column_name": column,
            "rule": rule,
            "value": None if value is None else str(value)[:200],
            "all_reasons": f"{column or ''}:{rule}" + (f" - {reason}" if reason else ""),
            **amt,
            "raw_record": raw_text,
        })
        if len(self._rejects) >= FLUSH_ROWS:
            self._flush_rejects()

    def _flush(self, table: str) -> None:
        rows = self._rows.get(table)
        if not rows:
            return
        cols = [c.name for c in TABLES[table].columns]
        data = {c: pa.array([_text(r.get(c)) for r in rows], pa.string()) for c in cols}
        extra = sorted({k for r in rows for k in r} - set(cols))
        if extra:
            raise KeyError(f"connector {self.connector}: {table} has no column(s) {extra}")
        n = self._parts.get(table, 0)
        out = self.folder / "canonical" / table
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(data), out / f"part-{n:05d}.parquet")
        self._parts[table] = n + 1
        self._rows[table] = []

    def _flush_rejects(self) -> None:
        if not self._rejects:
            return
        p = self.folder / f"source-quarantine-{len(self._reject_parts):05d}.parquet"
        pq.write_table(pa.Table.from_pylist(self._rejects, schema=QUARANTINE_SCHEMA), p)
        self._reject_parts.append(p)
        self._rejects = []

    def finish(self) -> None:
        """Write what is buffered, then check every source ledger."""
        for table in list(self._rows):
            self._flush(table)
        self._flush_rejects()
        bad = [t.source for t in self.tallies.values() if not t.reconciles]
        if bad:
            raise InvalidInput(
                f"connector {self.connector}: records read ≠ mapped + quarantined for "
                + ", ".join(bad) + " (a bug: please report it)")

    @property
    def canonical_folder(self) -> Path:
        return self.folder / "canonical"

    @property
    def reject_files(self) -> list[Path]:
        return list(self._reject_parts)

    def rejects_by_table(self) -> dict[str, tuple[int, dict[str, Decimal], dict[str, int]]]:
        """Per canonical table: source rejects, their money and their rules."""
        out: dict[str, tuple[int, dict[str, Decimal], dict[str, int]]] = {}
        for p in self._reject_parts:
            for r in pq.read_table(p).to_pylist():
                n, m, rules = out.get(r["table_name"], (0, {}, {}))
                for c in MONEY_TOTAL_COLUMNS:
                    if r[c] is not None:
                        m[c] = m.get(c, Decimal(0)) + r[c]
                rules[r["rule"]] = rules.get(r["rule"], 0) + 1
                out[r["table_name"]] = (n + 1, m, rules)
        return out

    def emitted(self, table: str) -> int:
        return self._emitted.get(table, 0)

    def emitted_money(self, table: str) -> dict[str, Decimal]:
        return dict(self._emitted_money.get(table, {}))


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return f"{v}"
    return str(v)


class Connector(Protocol):
    """A source format: ``convert`` reads ``source`` and fills ``out``."""

    name: str
    description: str

    def convert(self, source: Path, out: Conversion) -> None: ...


_REGISTRY: dict[str, str] = {
    # format → "module:attribute"; imported lazily so one broken optional dependency
    # never stops the other formats.
    "synthea-csv": "valuecare.connectors.synthea:SyntheaCsv",
    "fhir": "valuecare.connectors.fhir:FhirR4",
    "omop": "valuecare.connectors.omop:Omop",
    "cclf": "valuecare.connectors.cclf:Cclf",
    "rif": "valuecare.connectors.rif:Rif",
    "desynpuf": "valuecare.connectors.desynpuf:DeSynPuf",
}


def formats() -> list[str]:
    """Every format ``valuecare load --format`` takes."""
    return ["canonical", *_REGISTRY]


def get_connector(fmt: str) -> Connector:
    import importlib

    target = _REGISTRY.get(fmt)
    if target is None:
        raise InvalidInput(
            f"unknown format {fmt!r}: use one of {', '.join(formats())} "
            "(see docs/connectors.md)")
    module, attr = target.split(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(f"format {fmt!r} is not available in this build ({exc})") from exc
    return cls()  # type: ignore[no-any-return]
