"""Documented code crosswalks: SNOMED CT → ICD-10-CM (and SNOMED CT → CPT/HCPCS).

The tables live as CSV under ``valuecare/reference/crosswalks/``, one row per SNOMED CT
concept, each row naming its source (the NLM SNOMED CT to ICD-10-CM Map default target,
the CMS ICD-10-CM index term) and a note.  A code without a row is *unmapped*: the
functions return ``None`` and the caller quarantines or leaves the normalised column
empty.  Nothing is guessed: no prefix matching, no "closest" code.

Public names (stable; the Synthea CSV and FHIR connectors import them):

* :func:`icd10cm_for` ``(system, code) -> str | None``
* :func:`hcpcs_for` ``(system, code) -> str | None``
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from valuecare.errors import InvalidInput
from valuecare.model.schema import HCPCS, ICD10CM

_ICD10CM = re.compile(ICD10CM)
_HCPCS = re.compile(HCPCS)
_SNOMED = re.compile(r"^[0-9]{6,18}$")

#: Spellings of the code systems the connectors meet (canonical name, CSV SYSTEM column,
#: FHIR system URI).
_SNOMED_SYSTEMS = {"snomed-ct", "snomed", "sct", "snomed ct", "http://snomed.info/sct"}
_ICD10CM_SYSTEMS = {"icd-10-cm", "icd10cm", "icd-10", "icd10",
                    "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"}
_HCPCS_SYSTEMS = {"hcpcs", "cpt", "http://www.ama-assn.org/go/cpt",
                  "https://www.cms.gov/medicare/coding/hcpcsreleasecodesets",
                  "urn:oid:2.16.840.1.113883.6.285"}


@dataclass(frozen=True)
class CrosswalkRow:
    snomed_code: str
    snomed_description: str
    target_code: str
    source: str
    note: str


def _norm_system(system: str) -> str:
    return (system or "").strip().lower().rstrip("/")


def clean_icd10cm(code: str) -> str | None:
    """An ICD-10-CM code without its dot, upper case; ``None`` if it is not one."""
    c = (code or "").strip().upper().replace(".", "")
    return c if _ICD10CM.match(c) else None


def clean_hcpcs(code: str) -> str | None:
    c = (code or "").strip().upper()
    return c if _HCPCS.match(c) else None


def _read(name: str, target_column: str, pattern: re.Pattern[str]) -> dict[str, CrosswalkRow]:
    ref = resources.files("valuecare") / "reference" / "crosswalks" / name
    if not ref.is_file():
        return {}
    rows: dict[str, CrosswalkRow] = {}
    with ref.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"snomed_code", "snomed_description", target_column, "source", "note"}
        if not need <= set(reader.fieldnames or ()):
            raise InvalidInput(f"crosswalk {name}: needs columns {', '.join(sorted(need))}")
        for i, r in enumerate(reader, start=2):
            code, target = r["snomed_code"].strip(), r[target_column].strip()
            if not _SNOMED.match(code) or not pattern.match(target) or not r["source"].strip():
                raise InvalidInput(
                    f"crosswalk {name} line {i}: {code!r} → {target!r} is not a valid row "
                    "(SNOMED id, target code in the canonical pattern, and a source)")
            if code in rows and rows[code].target_code != target:
                raise InvalidInput(f"crosswalk {name} line {i}: {code} is mapped twice")
            rows[code] = CrosswalkRow(code, r["snomed_description"].strip(), target,
                                      r["source"].strip(), r["note"].strip())
    return rows


@lru_cache(maxsize=1)
def snomed_icd10cm() -> dict[str, CrosswalkRow]:
    """The SNOMED CT → ICD-10-CM table (``snomed_icd10cm.csv``), keyed by SNOMED id."""
    return _read("snomed_icd10cm.csv", "icd10cm_code", _ICD10CM)


@lru_cache(maxsize=1)
def snomed_hcpcs() -> dict[str, CrosswalkRow]:
    """The SNOMED CT → CPT/HCPCS table (``snomed_hcpcs.csv``; empty when absent)."""
    return _read("snomed_hcpcs.csv", "hcpcs_code", _HCPCS)


def icd10cm_for(system: str, code: str) -> str | None:
    """The ICD-10-CM code (no dot) for ``code`` of ``system``, or ``None`` if unmapped.

    ``system`` is ``snomed-ct`` (or its FHIR URI): looked up in the documented crosswalk;
    or ``icd-10-cm``: returned cleaned (dot removed, upper case) when it is a well-formed
    code.  Any other system gives ``None``.
    """
    s = _norm_system(system)
    if s in _ICD10CM_SYSTEMS:
        return clean_icd10cm(code)
    if s in _SNOMED_SYSTEMS:
        row = snomed_icd10cm().get((code or "").strip())
        return None if row is None else row.target_code
    return None


def hcpcs_for(system: str, code: str) -> str | None:
    """The CPT/HCPCS code for ``code`` of ``system``, or ``None`` if unmapped.

    ``hcpcs``/``cpt`` codes are returned cleaned when well-formed; SNOMED CT codes are
    looked up in ``snomed_hcpcs.csv`` (only rows with a documented source).
    """
    s = _norm_system(system)
    if s in _HCPCS_SYSTEMS:
        return clean_hcpcs(code)
    if s in _SNOMED_SYSTEMS:
        row = snomed_hcpcs().get((code or "").strip())
        return None if row is None else row.target_code
    return None
