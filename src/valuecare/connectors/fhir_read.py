"""Reading FHIR input: Bulk Data NDJSON and Bundle JSON, record by record.

A *record* is one source unit the ledger counts: an NDJSON line (blank lines are not
records) or a Bundle entry.  A file that is not JSON at all (a truncated Bundle) is one
record at row 0 ("the whole file").  Amounts stay exact: JSON numbers are parsed as
:class:`~decimal.Decimal`, never float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

_TYPE_RE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]+)"')


@dataclass
class Record:
    """One source record: a resource, or the reason it could not be read."""

    file: str  # path relative to the input root (the ledger's source name)
    row: int  # NDJSON line number / Bundle entry number (1-based); 0 = the whole file
    resource: dict[str, Any] | None
    full_url: str | None = None
    error: str | None = None  # why the record is not a JSON resource
    guessed_type: str | None = None  # resourceType found in the unreadable text, if any
    raw: str | None = None


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def input_files(source: Path) -> list[tuple[Path, str]]:
    """``(path, name)`` of every ``*.ndjson``/``*.json`` file under ``source``, sorted."""
    if source.is_file():
        return [(source, source.name)]
    files = sorted(p for p in source.rglob("*")
                   if p.is_file() and p.suffix.lower() in (".ndjson", ".json"))
    return [(p, p.relative_to(source).as_posix()) for p in files]


def _guess(text: str, name: str) -> str | None:
    found = [t for t in _TYPE_RE.findall(text[:100_000]) if t != "Bundle"]
    if found:
        return found[0]
    stem = Path(name).name.split(".")[0]
    return stem if stem[:1].isupper() and stem.isalpha() else None


def records(path: Path, name: str) -> Iterator[Record]:
    """The records of one file, in order."""
    if path.suffix.lower() == ".ndjson":
        with path.open(encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    res = _loads(line)
                except json.JSONDecodeError as exc:
                    yield Record(name, i, None, error=f"not JSON ({exc.msg} at column "
                                 f"{exc.colno})", guessed_type=_guess(line, name),
                                 raw=line.rstrip("\n")[:2000])
                    continue
                if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                    yield Record(name, i, None, error="not a FHIR resource (no resourceType)",
                                 guessed_type=_guess(line, name), raw=line[:2000])
                    continue
                yield Record(name, i, res)
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        doc = _loads(text)
    except json.JSONDecodeError as exc:
        yield Record(name, 0, None, error=f"not JSON ({exc.msg} at line {exc.lineno})",
                     guessed_type=_guess(text, name), raw=text[:2000])
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        yield Record(name, 0, None, error="not a FHIR resource (no resourceType)",
                     guessed_type=_guess(text, name), raw=text[:2000])
        return
    if doc["resourceType"] != "Bundle":
        yield Record(name, 1, doc)
        return
    for i, entry in enumerate(doc.get("entry") or [], start=1):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            yield Record(name, i, None, error="Bundle entry without a resource",
                         raw=json.dumps(entry, default=str)[:2000])
            continue
        yield Record(name, i, res, full_url=entry.get("fullUrl"))
