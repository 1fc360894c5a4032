"""Helpers every CMS claim format shares (CCW RIF, DE-SynPUF, CCLF).

Public names (stable; the RIF, DE-SynPUF and CCLF connectors import them):

* :func:`parse_cms_date` ``(text) -> date | None``: ``30-May-2015`` (CCW RIF extracts),
  ``20150530`` (DE-SynPUF, CCW flat files), ``2015-05-30`` (CCLF); ``ValueError`` when the
  text is not a real day.
* :func:`iso` ``(date | None) -> str | None``.
* :func:`clean_icd` ``(code) -> str | None``: upper case, dots and blanks removed.
* :func:`icd_dx_type` / :func:`icd_px_type` ``(version_code, service_date)``: the code
  system of a diagnosis / procedure from the CCW version code (``0`` ICD-10, ``9`` ICD-9),
  else from the service date (ICD-10 from 1 October 2015).
* :func:`sex` ``(code)``, :func:`race_ethnicity` ``(code)``: ``BENE_SEX_IDENT_CD`` and
  ``BENE_RACE_CD`` to the canonical vocabularies.
* :func:`dual_status` ``(code)``: a monthly dual status code (``META_DUAL_ELGBL_STUS``,
  ``BENE_DUAL_STUS_CD``) as a canonical two-digit code, ``None`` when not a valid code.
* :func:`bill_type` ``(fac, cls, freq)``: type of bill from ``CLM_FAC_TYPE_CD`` +
  ``CLM_SRVC_CLSFCTN_TYPE_CD`` + ``CLM_FREQ_CD``.
* :func:`valid_npi` ``(text) -> str | None``: the NPI when it has 10 digits and a correct
  check digit (Luhn over ``80840`` + NPI, CMS NPI standard), else ``None``.
* :func:`hcpcs` ``(code) -> str | None``, :func:`pos` ``(code) -> str | None``,
  :func:`revenue_code` ``(code) -> str | None``, :func:`discharge_status` ``(code)``,
  :func:`drg` ``(code)``, :func:`ndc11` ``(code)``: codes in their canonical form, or
  ``None`` when the source value cannot be one.
* :func:`zip5` ``(text)``, :func:`ssa_state` ``(code)`` (SSA state code → USPS),
  :func:`census_region` ``(usps)``.
* :func:`read_records` ``(path, sep)``: rows of a delimited file, ``None`` for a line
  whose field count differs from the header; :func:`int_text` ``(text)``.
* :data:`SEX`, :data:`RACE`, :data:`SSA_STATE`, :data:`DUAL_CODES`, :data:`ICD10_START`.

Sources: CMS Chronic Conditions Data Warehouse (CCW) codebooks, "Medicare Fee-For-Service
Claims" and "Master Beneficiary Summary File (MBSF) Base" (variables BENE_SEX_IDENT_CD,
BENE_RACE_CD, STATE_CODE, DUAL_STUS_CD_01-12, CLM_FAC_TYPE_CD, CLM_SRVC_CLSFCTN_TYPE_CD,
CLM_FREQ_CD, ICD_DGNS_VRSN_CD); CMS "DE-SynPUF Data Users Document"; CMS NPI check digit
("Requirements for NPI check digit", ISO 7812 Luhn with prefix 80840); US Census Bureau
regions.  No function here logs or prints a source value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from valuecare.connectors.base import valid_npi  # noqa: F401  (re-exported: CMS helpers)

ICD10_START = date(2015, 10, 1)  # ICD-10 compliance date for services on or after it

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    start=1)}
_DMY = re.compile(r"^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$")
_YMD = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def parse_cms_date(text: str | None) -> date | None:
    """A CMS date (``30-May-2015``, ``20150530`` or ``2015-05-30``); blank is ``None``.

    Raises ``ValueError`` (message without the value) when the text is not a real day.
    """
    if text is None:
        return None
    t = text.strip()
    if t == "":
        return None
    m = _DMY.match(t)
    try:
        if m:
            mon = _MONTHS.get(m.group(2).upper())
            if mon is None:
                raise ValueError("unknown month name")
            return date(int(m.group(3)), mon, int(m.group(1)))
        m = _YMD.match(t) or _ISO.match(t)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError("not a calendar date") from exc
    raise ValueError("not a date in a CMS format (DD-Mon-YYYY, YYYYMMDD or YYYY-MM-DD)")


def iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def clean_icd(code: str | None) -> str | None:
    """An ICD code as published without the dot: ``e11.9`` → ``E119``; blank → ``None``."""
    if code is None:
        return None
    c = re.sub(r"[\s.]", "", code).upper()
    return c or None


def icd_dx_type(version_code: str | None, service_date: date | None) -> str:
    """``icd-9-cm`` or ``icd-10-cm`` from the CCW version code, else the service date."""
    v = (version_code or "").strip()
    if v == "9":
        return "icd-9-cm"
    if v == "0":
        return "icd-10-cm"
    if service_date is not None and service_date < ICD10_START:
        return "icd-9-cm"
    return "icd-10-cm"


def icd_px_type(version_code: str | None, service_date: date | None) -> str:
    """``icd-9-pcs`` or ``icd-10-pcs``, like :func:`icd_dx_type`."""
    return "icd-9-pcs" if icd_dx_type(version_code, service_date) == "icd-9-cm" else "icd-10-pcs"


#: BENE_SEX_IDENT_CD (CCW): 0 unknown, 1 male, 2 female.
SEX = {"0": "unknown", "1": "male", "2": "female"}

#: BENE_RACE_CD (CCW / DE-SynPUF): race and, for code 5, ethnicity.  The code mixes race
#: and Hispanic origin: 5 (Hispanic) gives ethnicity "hispanic or latino" and race
#: "unknown"; the others give ethnicity "unknown" (the code does not say).
RACE: dict[str, tuple[str, str]] = {
    "0": ("unknown", "unknown"),
    "1": ("white", "unknown"),
    "2": ("black or african american", "unknown"),
    "3": ("other race", "unknown"),
    "4": ("asian", "unknown"),
    "5": ("unknown", "hispanic or latino"),
    "6": ("american indian or alaska native", "unknown"),
}


def sex(code: str | None) -> str | None:
    """Canonical sex for ``BENE_SEX_IDENT_CD``; ``None`` for a code the codebook lacks."""
    return SEX.get((code or "").strip() or "0")


def race_ethnicity(code: str | None) -> tuple[str, str] | None:
    """(race, ethnicity) for ``BENE_RACE_CD``; ``None`` for a code the codebook lacks."""
    return RACE.get((code or "").strip() or "0")


#: Medicare-Medicaid dual status codes kept by the canonical model (CCW DUAL_STUS_CD):
#: 00 not dual, 01 QMB only, 02 QMB plus full Medicaid, 03 SLMB only, 04 SLMB plus full,
#: 05 QDWI, 06 QI, 08 other full dual, 09 other dual, 10 separate-state-program.
#: 99 (unknown), NA and ** are not statuses and give ``None``.
DUAL_CODES = ("00", "01", "02", "03", "04", "05", "06", "08", "09", "10")


def dual_status(code: str | None) -> str | None:
    c = (code or "").strip()
    if not c.isdigit():
        return None
    c = c.zfill(2)
    return c if c in DUAL_CODES else None


def bill_type(fac: str | None, cls: str | None, freq: str | None) -> str | None:
    """UB-04 type of bill: facility type + service classification + frequency (3 digits).

    ``None`` when a part is missing or not a digit (the canonical pattern is numeric).
    """
    parts = [(p or "").strip() for p in (fac, cls, freq)]
    if all(len(p) == 1 and p.isdigit() for p in parts):
        return "".join(parts)
    return None


_HCPCS_RE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$")


def hcpcs(code: str | None) -> str | None:
    c = (code or "").strip().upper()
    return c if _HCPCS_RE.match(c) else None


def pos(code: str | None) -> str | None:
    """Place of service as two digits (``1`` → ``01``); ``None`` if not a number."""
    c = (code or "").strip()
    return c.zfill(2) if c.isdigit() and len(c) <= 2 else None


def revenue_code(code: str | None) -> str | None:
    c = (code or "").strip()
    return c.zfill(4) if c.isdigit() and len(c) <= 4 else None


def discharge_status(code: str | None) -> str | None:
    """Patient discharge status as two digits (``1`` → ``01``)."""
    c = (code or "").strip()
    return c.zfill(2) if c.isdigit() and len(c) <= 2 and c.strip("0") else None


def drg(code: str | None) -> str | None:
    """MS-DRG as three digits (``94`` → ``094``); ``None`` for blank or 000."""
    c = (code or "").strip()
    return c.zfill(3) if c.isdigit() and len(c) <= 3 and c.strip("0") else None


def ndc11(code: str | None) -> str | None:
    """An 11-digit NDC (hyphens removed); ``None`` when it is not 11 digits."""
    c = (code or "").strip().replace("-", "")
    return c if len(c) == 11 and c.isdigit() else None


def zip5(text: str | None) -> str | None:
    """Five-digit ZIP from a 3-5 digit (leading zeros lost) or 9-digit ZIP."""
    t = (text or "").strip()
    if not t.isdigit():
        return None
    if len(t) == 9:
        return t[:5]
    if 3 <= len(t) <= 5:
        return t.zfill(5)
    return None


#: SSA state codes (CCW STATE_CODE, DE-SynPUF SP_STATE_CODE) → USPS codes.
SSA_STATE: dict[str, str] = {
    "01": "AL", "02": "AK", "03": "AZ", "04": "AR", "05": "CA", "06": "CO", "07": "CT",
    "08": "DE", "09": "DC", "10": "FL", "11": "GA", "12": "HI", "13": "ID", "14": "IL",
    "15": "IN", "16": "IA", "17": "KS", "18": "KY", "19": "LA", "20": "ME", "21": "MD",
    "22": "MA", "23": "MI", "24": "MN", "25": "MS", "26": "MO", "27": "MT", "28": "NE",
    "29": "NV", "30": "NH", "31": "NJ", "32": "NM", "33": "NY", "34": "NC", "35": "ND",
    "36": "OH", "37": "OK", "38": "OR", "39": "PA", "40": "PR", "41": "RI", "42": "SC",
    "43": "SD", "44": "TN", "45": "TX", "46": "UT", "47": "VT", "48": "VI", "49": "VA",
    "50": "WA", "51": "WV", "52": "WI", "53": "WY",
}


def ssa_state(code: str | None) -> str | None:
    c = (code or "").strip()
    return SSA_STATE.get(c.zfill(2)) if c.isdigit() else None


_REGIONS = {
    "northeast": "CT ME MA NH RI VT NJ NY PA",
    "midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "south": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "west": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
_REGION_OF = {s: r for r, states in _REGIONS.items() for s in states.split()}


def census_region(usps: str | None) -> str | None:
    """US Census region of a state (``None`` for territories)."""
    return _REGION_OF.get(usps or "")


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def read_records(path: Path, sep: str) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    """Rows of a delimited CMS file: ``(row_number, fields, raw_line)``.

    The header names the fields (a UTF-8 byte order mark is dropped; DE-SynPUF quotes are
    removed).  ``fields`` is ``None`` when the line has a different number of fields than
    the header (a truncated or shifted line: the caller quarantines it as
    ``malformed_line``).  Row numbers count data lines from 1; blank lines are skipped.
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, quoting=csv.QUOTE_NONE if sep == "|"
                            else csv.QUOTE_MINIMAL)
        header: list[str] | None = None
        n = 0
        for fields in reader:
            if header is None:
                header = [h.strip().strip('"') for h in fields]
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            n += 1
            raw = sep.join(fields)
            if len(fields) != len(header):
                yield n, None, raw
            else:
                yield n, dict(zip(header, fields, strict=True)), raw


def int_text(text: str | None) -> str | None:
    """A count as integer text (``"30.000"`` → ``"30"``); other text is returned as is."""
    t = (text or "").strip()
    if t == "":
        return None
    try:
        d = Decimal(t)
    except InvalidOperation:
        return t
    return str(int(d)) if d == d.to_integral_value() else t
