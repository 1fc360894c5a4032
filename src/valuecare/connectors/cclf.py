"""CMS Claim and Claim Line Feed (CCLF) files, as ACOs (MSSP, REACH) receive them.

``valuecare load FOLDER --format cclf`` reads the fixed-width files of one or more CCLF
deliveries.  A file is identified by the ``ZC1``...``ZC9``, ``ZCA``, ``ZCB`` token of its
CMS name (``P.A1234.ACO.ZC1Y23.D230115.T1234567``) or by a simple name (``CCLF1.txt``,
``cclf8``).  Layouts are data: ``valuecare/reference/cclf/layouts.yaml`` (CCLF IP v36, CCLF1
checked against v38).  The mapping, the adjustment rule and what is quarantined are in
``docs/connectors.md``; in short:

* CCLF9 builds the MBI crosswalk (previous → current MBI, chains followed), so a claim or
  beneficiary record under an old MBI lands on the current person.
* CCLF8 → ``member`` (+ ``death`` from BENE_DEATH_DT, dual status from BENE_DUAL_STUS_CD)
  and ``eligibility`` (one Medicare span per person over the period the delivery covers,
  clipped to entitlement and death).
* CCLF1 (+ CCLF2 revenue lines, CCLF3 ICD-10-PCS, CCLF4 diagnoses, CCLFA deductible and
  coinsurance) → institutional ``medical_claim`` lines; header money on the first line
  only.  CCLF5 / CCLF6 (+ CCLFB deductible) → professional lines.  CCLF7 → ``pharmacy_claim``.
* CLM_ADJSMT_TYPE_CD 0/1/2 → ``original``/``reversal``/``adjustment``.  Versions are grouped
  by the IP's natural keys (IP 5.1.2); a cancellation is matched to the oldest not yet
  cancelled version of its group with the same payment (IP 5.2.1) and becomes a reversal
  of it with negated amounts (IP 5.3.1); an adjustment names the version it replaces.

Every source line is counted once in its file's :class:`SourceTally`, mapped or
quarantined (``malformed_line``, ``bad_date``, ``bad_amount``, ``missing_reference``,
``unmapped_code``, ``duplicate_key``).  Reasons never include member-level values.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from valuecare.connectors import cms_common as cms
from valuecare.connectors.base import Conversion, SourceTally

DATA_SOURCE = "cclf"
PAYER = "medicare"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_CMS_NAME = re.compile(r"(?:^|\.)ZC([1-9AB])[A-Z0-9]?[0-9]{2}(?:\.|$)", re.IGNORECASE)
_SIMPLE_NAME = re.compile(r"^CCLF([1-9AB])(?:\.[A-Za-z0-9]+)?$", re.IGNORECASE)
_FILE_DATE = re.compile(r"\.D([0-9]{6})(?:\.|$)")
_AMOUNT = re.compile(r"^([+-]?)([0-9]+(?:\.[0-9]{1,2})?)([+-]?)$")
_QTY = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")
_NO_DATE = ("1000-01-01", "9999-12-31", "0001-01-01")
_BLANK = ("", "~")
#: direct identifiers never copied to the quarantine's raw record
_IDENTIFIERS = frozenset({
    "BENE_1ST_NAME", "BENE_MIDL_NAME", "BENE_LAST_NAME", "BENE_LINE_1_ADR",
    "BENE_LINE_2_ADR", "BENE_LINE_3_ADR", "BENE_LINE_4_ADR", "BENE_LINE_5_ADR",
    "BENE_LINE_6_ADR", "GEO_ZIP_PLC_NAME", "GEO_ZIP4_CD", "BENE_HIC_NUM",
    "BENE_EQTBL_BIC_HICN_NUM", "BENE_RRB_NUM"})
ADJUSTMENT = {"0": "original", "1": "reversal", "2": "adjustment"}
FILE_TARGET = {"1": "medical_claim", "2": "medical_claim", "3": "medical_claim",
               "4": "medical_claim", "5": "medical_claim", "6": "medical_claim",
               "7": "pharmacy_claim", "8": "member", "9": "member", "A": "medical_claim",
               "B": "medical_claim"}
MAX_CODES = 25


# ---- layouts -------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based, as the IP prints it
    length: int
    type: str


@dataclass(frozen=True)
class Layout:
    file_type: str
    fields: tuple[Field, ...]

    @property
    def record_length(self) -> int:
        return max(f.start + f.length - 1 for f in self.fields)


@cache
def layouts() -> dict[str, Layout]:
    """The CCLF layouts of ``reference/cclf/layouts.yaml``, checked to be contiguous."""
    text = resources.files("valuecare").joinpath("reference/cclf/layouts.yaml").read_text()
    data = yaml.safe_load(text)
    out: dict[str, Layout] = {}
    for ftype, spec in data["files"].items():
        fields = tuple(Field(str(n), int(s), int(ln), str(t)) for n, s, ln, t in spec["fields"])
        pos = 1
        for f in fields:
            if f.start != pos or f.type not in ("num", "text", "date", "amount", "qty"):
                raise ValueError(f"cclf layout {ftype}: field {f.name} is not contiguous "
                                 "or has an unknown type")
            pos = f.start + f.length
        out[str(ftype)] = Layout(str(ftype), fields)
    return out


class BadField(Exception):
    def __init__(self, rule: str, column: str, reason: str) -> None:
        super().__init__(reason)
        self.rule, self.column, self.reason = rule, column, reason


def parse_amount(text: str) -> Decimal | None:
    """A CCLF signed amount (``-000000123.45``, ``+12.00``, ``12.00-``); blank → None."""
    t = text.strip()
    if t in _BLANK:
        return None
    m = _AMOUNT.match(t)
    if not m or (m.group(1) and m.group(3)):
        raise ValueError("not a signed amount with at most two decimals")
    d = Decimal(m.group(2)).quantize(CENT)
    return -d if "-" in (m.group(1), m.group(3)) else d


def parse_date(text: str) -> date | None:
    t = text.strip()
    if t in _BLANK or t in _NO_DATE:
        return None
    if not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", t):
        raise ValueError("not a YYYY-MM-DD date")
    return cms.parse_cms_date(t)


def parse_line(layout: Layout, line: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(text by field, typed value by field); raises :class:`BadField`."""
    if len(line) < layout.record_length:
        raise BadField("malformed_line", "", f"line has {len(line)} characters, the CCLF"
                       f"{layout.file_type} layout needs {layout.record_length}")
    raw: dict[str, str] = {}
    typed: dict[str, Any] = {}
    for f in layout.fields:
        text = line[f.start - 1: f.start - 1 + f.length]
        raw[f.name] = text
        s = text.strip()
        if f.type == "date":
            try:
                typed[f.name] = parse_date(s)
            except ValueError as exc:
                raise BadField("bad_date", f.name, str(exc)) from None
        elif f.type == "amount":
            try:
                typed[f.name] = parse_amount(s)
            except (ValueError, InvalidOperation) as exc:
                raise BadField("bad_amount", f.name, str(exc)) from None
        elif f.type == "qty":
            if s in _BLANK:
                typed[f.name] = None
            elif not _QTY.match(s):
                raise BadField("bad_amount", f.name, "not a signed quantity")
            else:
                typed[f.name] = Decimal(s)
        elif f.type == "num":
            if s in _BLANK:
                typed[f.name] = None
            elif not s.isdigit():
                raise BadField("malformed_line", f.name, "not a number where the layout "
                               "has digits (shifted or wrong-layout line)")
            else:
                typed[f.name] = s
        else:
            typed[f.name] = None if s in _BLANK else s
    return raw, typed


# ---- records -------------------------------------------------------------------------
@dataclass
class Rec:
    """One parsed source line."""

    file_type: str
    file: str  # the file's name (quarantine file_name)
    file_no: int  # delivery order (by file date, then name)
    row: int  # 1-based line number
    raw: dict[str, str]
    v: dict[str, Any]
    tally: SourceTally

    def raw_safe(self) -> dict[str, str]:
        return {k: x for k, x in self.raw.items() if k not in _IDENTIFIERS}


@dataclass
class Version:
    """A claim version (Part A header, Part B line, Part D line) for adjustment matching."""

    claim_id: str
    key: tuple[Any, ...]
    code: str  # 0 original, 1 cancellation, 2 adjustment
    amount: Decimal
    effective: date | None
    order: tuple[int, int]
    original_claim_id: str | None = None
    cancelled_by: Version | None = None
    unmatched: bool = False

    def sort_key(self) -> tuple[Any, ...]:
        # oldest first: a missing effective date ranks first (as Tuva's connector does)
        return (self.effective is not None, self.effective or date.min, self.order,
                self.claim_id)


def resolve_versions(versions: list[Version]) -> None:
    """Pair cancellations with what they cancel and name what each adjustment replaces.

    Within a natural-key group (CCLF IP 5.1.2), each cancellation, oldest first, cancels
    the oldest original/adjustment with the same payment amount that no earlier
    cancellation took (a cancellation is generated identical to the claim it cancels, IP
    5.2.1).  A cancellation that finds none is ``unmatched`` (its claim predates the files).
    An adjustment replaces the version most recently cancelled at or before its own
    effective date; failing that the group's oldest original; failing that nothing.
    """
    groups: dict[tuple[Any, ...], list[Version]] = defaultdict(list)
    for v in versions:
        groups[v.key].append(v)
    for group in groups.values():
        group.sort(key=Version.sort_key)
        live = [v for v in group if v.code != "1"]
        for c in (v for v in group if v.code == "1"):
            target = next((n for n in live if n.cancelled_by is None
                           and abs(n.amount) == abs(c.amount)), None)
            if target is None:
                c.unmatched = True
                continue
            target.cancelled_by = c
            c.original_claim_id = target.claim_id
        for a in (v for v in group if v.code == "2"):
            cancelled = [n for n in live if n is not a and n.cancelled_by is not None
                         and (a.effective is None or n.cancelled_by.effective is None
                              or n.cancelled_by.effective <= a.effective)]
            if cancelled:
                best = max(cancelled, key=lambda n: n.cancelled_by.sort_key())  # type: ignore[union-attr]
                a.original_claim_id = best.claim_id
                continue
            originals = [n for n in live if n.code == "0" and n is not a]
            a.original_claim_id = originals[0].claim_id if originals else None


def signed(amount: Decimal | None, code: str) -> Decimal | None:
    """The canonical amount: a cancellation's amount is negated (IP 5.3.1)."""
    if amount is None:
        return None
    return -abs(amount) if code == "1" else amount


def _num_id(text: str | None) -> str | None:
    """CUR_CLM_UNIQ_ID / CLM_LINE_NUM without leading zeros (the number they are)."""
    if text is None:
        return None
    return str(int(text))


def _int_qty(q: Decimal | None) -> int | None:
    if q is None or q != q.to_integral_value() or q < 0:
        return None
    return int(q)


def _poa(flag: str | None) -> str | None:
    f = (flag or "").strip()[:1].upper()
    return f if f in ("Y", "N", "U", "W", "1") else None


# ---- the connector -------------------------------------------------------------------
class Cclf:
    name = "cclf"
    description = ("CMS Claim and Claim Line Feed fixed-width files (CCLF1-9, A, B) as ACOs "
                   "receive them")

    def convert(self, source: Path, out: Conversion) -> None:
        _Run(source, out).go()


class _Run:
    def __init__(self, source: Path, out: Conversion) -> None:
        self.source = source
        self.out = out
        self.xref: dict[str, str] = {}
        self.members: dict[str, Rec] = {}
        self.notes: dict[str, Any] = defaultdict(int)

    # -- files ----------------------------------------------------------------------
    def files(self) -> dict[str, list[tuple[Path, date | None]]]:
        paths = [self.source] if self.source.is_file() else sorted(
            p for p in self.source.iterdir() if p.is_file())
        found: dict[str, list[tuple[Path, date | None]]] = defaultdict(list)
        ignored = []
        for p in paths:
            m = _CMS_NAME.search(p.name) or _SIMPLE_NAME.match(p.name)
            if not m:
                ignored.append(p.name)
                continue
            d = _FILE_DATE.search(p.name)
            fdate = None
            if d:
                try:
                    fdate = date(2000 + int(d.group(1)[:2]), int(d.group(1)[2:4]),
                                 int(d.group(1)[4:6]))
                except ValueError:
                    fdate = None
            found[m.group(1).upper()].append((p, fdate))
        for lst in found.values():
            lst.sort(key=lambda x: (x[1] or date.min, x[0].name))
        if ignored:
            self.out.notes["cclf_files_ignored"] = ignored
        return found

    def read(self, ftype: str, files: list[tuple[Path, date | None]]) -> list[Rec]:
        """Parse every line of the files of one type; bad lines are quarantined here."""
        layout = layouts()[ftype]
        recs: list[Rec] = []
        for file_no, (path, _fdate) in enumerate(files):
            self.out.read_input(path)
            tally = self.out.tally(path.name, FILE_TARGET[ftype])
            with path.open("r", encoding="latin-1", newline="") as fh:
                for row, line in enumerate(fh, start=1):
                    line = line.rstrip("\r\n")
                    if line.strip() == "":
                        continue  # blank lines (e.g. a trailing one) are not records
                    tally.records += 1
                    try:
                        raw, typed = parse_line(layout, line)
                    except BadField as exc:
                        self.out.reject(
                            tally, table=FILE_TARGET[ftype], row_number=row, rule=exc.rule,
                            column=exc.column or None,
                            value=None if exc.rule == "malformed_line" else
                            line[_pos(layout, exc.column)] if exc.column else None,
                            reason=f"CCLF{ftype}: {exc.reason}",
                            raw=line if ftype not in ("8",) else None)
                        continue
                    recs.append(Rec(ftype, path.name, file_no, row, raw, typed, tally))
        return recs

    def reject(self, r: Rec, rule: str, column: str | None, reason: str,
               amounts: dict[str, Decimal | None] | None = None, value: Any = None) -> None:
        self.out.reject(r.tally, table=FILE_TARGET[r.file_type], row_number=r.row, rule=rule,
                        column=column, value=value, reason=f"CCLF{r.file_type}: {reason}",
                        raw=r.raw_safe(), amounts=amounts)

    def person(self, mbi: str | None) -> str | None:
        if mbi is None:
            return None
        cur = self.xref.get(mbi, mbi)
        return cur if cur in self.members else None

    # -- the run --------------------------------------------------------------------
    def go(self) -> None:
        found = self.files()
        self.do_xref(self.read("9", found.get("9", [])))
        self.register_members(self.read("8", found.get("8", [])))
        window: list[date] = []
        self.part_a(found, window)
        self.part_b(found, window)
        self.part_d(found, window)
        self.do_members(window, found.get("8", []))
        for ftype in ("A", "B"):
            if ftype not in found:
                self.notes[f"CCLF{ftype}_not_present"] = 1
        self.out.notes.update({f"cclf_{k}": v for k, v in self.notes.items()})

    # -- CCLF9 ---------------------------------------------------------------------
    def do_xref(self, recs: list[Rec]) -> None:
        pairs: dict[str, str] = {}
        for r in recs:
            cur, prev = r.v["CRNT_NUM"], r.v["PRVS_NUM"]
            if cur is None or prev is None:
                self.reject(r, "missing_reference", "CRNT_NUM" if cur is None else "PRVS_NUM",
                            "crosswalk record without a current or previous identifier")
                continue
            pairs[prev] = cur  # later deliveries override earlier ones
            r.tally.mapped += 1
        for prev in pairs:  # follow chains A -> B -> C to the newest identifier
            cur, seen = pairs[prev], {prev}
            while cur in pairs and cur not in seen:
                seen.add(cur)
                cur = pairs[cur]
            if cur != prev:
                self.xref[prev] = cur

    # -- CCLF8 ---------------------------------------------------------------------
    def do_members(self, window: list[date],
                   files: list[tuple[Path, date | None]]) -> None:
        """Members were registered before claims (see :meth:`register_members`)."""
        latest = self.members
        file_dates = [d for _, d in files if d is not None]
        ends = window + file_dates
        period = (date(min(window).year, min(window).month, 1) if window
                  else (date(min(file_dates).year, min(file_dates).month, 1)
                        if file_dates else None),
                  cms.month_end(max(ends).year, max(ends).month) if ends else None)
        self.notes["eligibility_period"] = [cms.iso(period[0]), cms.iso(period[1])]
        for pid, r in latest.items():
            v = r.v
            race = cms.race_ethnicity(v["BENE_RACE_CD"]) or ("unknown", "unknown")
            if cms.race_ethnicity(v["BENE_RACE_CD"]) is None:
                self.notes["race_code_not_in_codebook"] += 1
            dual = cms.dual_status(v["BENE_DUAL_STUS_CD"])
            if v["BENE_DUAL_STUS_CD"] and dual is None:
                self.notes["dual_code_not_a_status"] += 1
            death = v["BENE_DEATH_DT"]
            state = v["GEO_USPS_STATE_CD"]
            zip_ = cms.zip5(v["BENE_ZIP_CD"] or v["GEO_ZIP5_CD"])
            self.out.emit("member", {
                "person_id": pid, "sex": cms.sex(v["BENE_SEX_CD"]) or "unknown",
                "race": race[0], "ethnicity": race[1], "birth_date": cms.iso(v["BENE_DOB"]),
                "death_date": cms.iso(death), "death_flag": 1 if death else 0,
                "state": state, "zip_code": zip_, "zip3": zip_[:3] if zip_ else None,
                "region": cms.census_region(state), "dual_status_code": dual,
                "data_source": DATA_SOURCE, "file_name": r.file})
            if death:
                self.out.emit("death", {"person_id": pid, "death_date": cms.iso(death),
                                        "death_source": "enrollment",
                                        "data_source": DATA_SOURCE, "file_name": r.file})
            begins = [d for d in (v["BENE_PART_A_ENRLMT_BGN_DT"],
                                  v["BENE_PART_B_ENRLMT_BGN_DT"]) if d]
            start, end = period
            if start is None or end is None:
                self.notes["eligibility_not_written_no_period"] += 1
                continue
            if begins:
                start = max(start, min(begins))
            if death:
                end = min(end, death)
            if end < start:
                self.notes["eligibility_span_empty"] += 1
                continue
            orec = (v["BENE_ORGNL_ENTLMT_RSN_CD"] or "").strip()
            mstat = (v["BENE_MDCR_STUS_CD"] or "").strip()
            self.out.emit("eligibility", {
                "person_id": pid, "member_id": pid, "gender": cms.sex(v["BENE_SEX_CD"]),
                "birth_date": cms.iso(v["BENE_DOB"]), "enrollment_start_date": cms.iso(start),
                "enrollment_end_date": cms.iso(end), "payer": PAYER,
                "payer_type": "medicare", "plan": "medicare ffs (cclf)",
                "original_reason_entitlement_code": orec if orec in ("0", "1", "2", "3")
                else None,
                "dual_status_code": dual,
                "medicare_status_code": mstat if mstat in ("00", "10", "11", "20", "21",
                                                           "31", "40") else None,
                "data_source": DATA_SOURCE, "file_name": r.file})

    def register_members(self, recs: list[Rec]) -> None:
        for r in recs:
            mbi = r.v["BENE_MBI_ID"]
            if mbi is None:
                self.reject(r, "missing_reference", "BENE_MBI_ID", "beneficiary without MBI")
                continue
            if r.v["BENE_DOB"] is None:
                self.reject(r, "bad_date", "BENE_DOB", "beneficiary without a birth date")
                continue
            pid = self.xref.get(mbi, mbi)
            prev = self.members.get(pid)
            if prev is None or (r.file_no, r.row) >= (prev.file_no, prev.row):
                self.members[pid] = r  # the latest delivery describes the person
            r.tally.mapped += 1  # every record feeds the member (latest wins) or is the same

    # -- shared checks -------------------------------------------------------------
    def adj_code(self, r: Rec) -> str | None:
        c = (r.v["CLM_ADJSMT_TYPE_CD"] or "").strip()
        c = str(int(c)) if c.isdigit() else c
        return c if c in ADJUSTMENT else None

    def check_claim(self, r: Rec, amounts: dict[str, Decimal | None], seen: set[Any],
                    key: Any, dates: tuple[str, ...]) -> tuple[str, str] | None:
        """(adjustment code, person) of a claim record, or None when it was quarantined.

        The record's money is counted as input here, signed as it will be emitted.
        """
        code = self.adj_code(r)
        money = {k: signed(a, code or "0") for k, a in amounts.items()}
        r.tally.add_money(money)
        if code is None:
            self.reject(r, "unmapped_code", "CLM_ADJSMT_TYPE_CD", "adjustment type code is "
                        "not 0 (original), 1 (cancellation) or 2 (adjustment)", money,
                        value=r.v["CLM_ADJSMT_TYPE_CD"])
            return None
        ind = r.v.get("DGNS_PRCDR_ICD_IND")
        if ind is not None and ind not in ("0", "9"):
            self.reject(r, "unmapped_code", "DGNS_PRCDR_ICD_IND", "ICD version indicator is "
                        "not 0 (ICD-10) or 9 (ICD-9)", money, value=ind)
            return None
        if key in seen:
            self.reject(r, "duplicate_key", "CUR_CLM_UNIQ_ID", "this claim (line) was "
                        "already read from this or an earlier delivery", money)
            return None
        seen.add(key)
        for d in dates:
            if r.v[d] is None:
                self.reject(r, "bad_date", d, "required service date is missing", money)
                return None
        pid = self.person(r.v["BENE_MBI_ID"])
        if pid is None:
            self.reject(r, "missing_reference", "BENE_MBI_ID", "beneficiary is not in CCLF8 "
                        "(after the CCLF9 crosswalk)", money)
            return None
        return code, pid

    def unmatched(self, r: Rec, money: dict[str, Decimal | None]) -> None:
        self.reject(r, "missing_reference", "CLM_ADJSMT_TYPE_CD", "cancellation with no "
                    "claim version of the same natural key and amount in these files (the "
                    "claim it cancels predates them)", money)

    def children(self, recs: list[Rec], accepted: dict[str, Any],
                 key: Any = None) -> dict[Any, list[Rec]]:
        """CCLF2/3/4/A/B records by their claim (key); orphans are quarantined."""
        out: dict[Any, list[Rec]] = defaultdict(list)
        for r in recs:
            k = key(r) if key else _num_id(r.v["CUR_CLM_UNIQ_ID"])
            if k not in accepted:
                self.reject(r, "missing_reference", "CUR_CLM_UNIQ_ID", "its claim is not in "
                            "the claim file, or was quarantined")
                continue
            out[k].append(r)
        return out

    # -- Part A: CCLF1 + 2 + 3 + 4 + A ------------------------------------------------
    def part_a(self, found: dict[str, list[tuple[Path, date | None]]],
               window: list[date]) -> None:
        heads: dict[str, tuple[Rec, str, str, dict[str, Decimal | None]]] = {}
        versions: dict[str, Version] = {}
        seen: set[Any] = set()
        for r in self.read("1", found.get("1", [])):
            v = r.v
            cid = _num_id(v["CUR_CLM_UNIQ_ID"]) or ""
            code = self.adj_code(r) or "0"
            amounts = {"paid_amount": v["CLM_PMT_AMT"] or ZERO,
                       "allowed_amount": v["CLM_PMT_AMT"] or ZERO,
                       "charge_amount": v["CLM_MDCR_INSTNL_TOT_CHRG_AMT"] or ZERO}
            ok = self.check_claim(r, amounts, seen, cid, ("CLM_FROM_DT", "CLM_THRU_DT"))
            if ok is None:
                continue
            code, pid = ok
            money = {k: signed(a, code) for k, a in amounts.items()}
            heads[cid] = (r, code, pid, money)
            versions[cid] = Version(
                cid, ((v["CLM_BLG_PRVDR_OSCAR_NUM"] or v["PRVDR_OSCAR_NUM"]),
                      v["CLM_FROM_DT"], v["CLM_THRU_DT"], pid),
                code, amounts["paid_amount"] or ZERO, v["CLM_EFCTV_DT"], (r.file_no, r.row))
        resolve_versions(list(versions.values()))
        for cid, ver in versions.items():
            if ver.unmatched:
                r, _, _, money = heads.pop(cid)
                self.unmatched(r, money)
        lines = self.children(self.read("2", found.get("2", [])), heads)
        procs = self.children(self.read("3", found.get("3", [])), heads)
        dxs = self.children(self.read("4", found.get("4", [])), heads)
        extra = self.children(self.read("A", found.get("A", [])), heads)
        for cid, (r, code, pid, money) in heads.items():
            v = r.v
            window += [v["CLM_FROM_DT"], v["CLM_THRU_DT"]]
            header = self.institutional_header(r, code, pid, versions[cid], procs.get(cid, []),
                                               dxs.get(cid, []))
            a = extra.get(cid, [])
            ded = coins = None
            if a:
                for dup in a[1:]:
                    self.reject(dup, "duplicate_key", "CUR_CLM_UNIQ_ID",
                                "a second CCLFA record for the same claim")
                av = a[0].v
                ded = signed(av["CLM_MDCR_IP_BENE_DDCTBL_AMT"] or av["CLM_MDCR_DDCTBL_AMT"],
                             code)
                coins = signed(av["CLM_MDCR_COINSRNC_AMT"], code)
                if av["CLM_ACTV_CARE_FROM_DT"] and header["admission_date"]:
                    header["admission_date"] = cms.iso(av["CLM_ACTV_CARE_FROM_DT"])
                self.count_flags(av, "A")
                a[0].tally.mapped += 1
            rows = sorted(lines.get(cid, []), key=lambda x: (int(x.v["CLM_LINE_NUM"] or 0), x.row))
            kept: list[Rec | None] = []
            seen_lines: set[str | None] = set()
            for x in rows:
                if x.v["CLM_LINE_NUM"] in seen_lines:
                    self.reject(x, "duplicate_key", "CLM_LINE_NUM", "line number repeated")
                    continue
                seen_lines.add(x.v["CLM_LINE_NUM"])
                kept.append(x)
            if not kept:
                kept = [None]
                self.notes["part_a_claims_without_revenue_lines"] += 1
            for n, x in enumerate(kept, start=1):
                row = dict(header)
                row["claim_line_number"] = n
                if n == 1:
                    row.update(money)
                    row["deductible_amount"] = ded
                    row["coinsurance_amount"] = coins
                else:
                    row.update(charge_amount=ZERO, allowed_amount=ZERO, paid_amount=ZERO)
                if x is not None:
                    lv = x.v
                    row.update({
                        "claim_line_start_date": cms.iso(lv["CLM_LINE_FROM_DT"]
                                                         or lv["CLM_LINE_INSTNL_REV_CTR_DT"]),
                        "claim_line_end_date": cms.iso(lv["CLM_LINE_THRU_DT"]
                                                       or lv["CLM_LINE_INSTNL_REV_CTR_DT"]),
                        "revenue_center_code": cms.revenue_code(lv["CLM_LINE_PROD_REV_CTR_CD"]),
                        "service_unit_quantity": _int_qty(lv["CLM_LINE_SRVC_UNIT_QTY"]),
                        "hcpcs_code": cms.hcpcs(lv["CLM_LINE_HCPCS_CD"]),
                        **{f"hcpcs_modifier_{i}": lv[f"HCPCS_{i}_MDFR_CD"] for i in range(1, 6)},
                    })
                    x.tally.mapped += 1
                self.out.emit("medical_claim", row)
            r.tally.mapped += 1

    def institutional_header(self, r: Rec, code: str, pid: str, ver: Version,
                             procs: list[Rec], dxs: list[Rec]) -> dict[str, Any]:
        v = r.v
        frm, thru = v["CLM_FROM_DT"], v["CLM_THRU_DT"]
        # diagnoses: the principal first, then CCLF4 in sequence order, each code once
        codes: list[str] = []
        poa: dict[str, str | None] = {}
        principal = cms.clean_icd(v["PRNCPL_DGNS_CD"])
        if principal:
            codes.append(principal)
        for d in sorted(dxs, key=lambda x: (int(x.v["CLM_VAL_SQNC_NUM"] or 0), x.row)):
            c = cms.clean_icd(d.v["CLM_DGNS_CD"])
            if c and c not in codes:
                codes.append(c)
            if c and c not in poa:
                poa[c] = _poa(d.v["CLM_POA_IND"])
            d.tally.mapped += 1
        if len(codes) > MAX_CODES:
            self.notes["diagnoses_beyond_25_not_kept"] += len(codes) - MAX_CODES
        pxs: list[tuple[str, date | None]] = []
        for p in sorted(procs, key=lambda x: (int(x.v["CLM_VAL_SQNC_NUM"] or 0), x.row)):
            c = cms.clean_icd(p.v["CLM_PRCDR_CD"])
            if c:
                pxs.append((c, p.v["CLM_PRCDR_PRFRM_DT"]))
            p.tally.mapped += 1
        if len(pxs) > MAX_CODES:
            self.notes["procedures_beyond_25_not_kept"] += len(pxs) - MAX_CODES
        inpatient = (v["CLM_TYPE_CD"] or "") == "60"
        status = cms.discharge_status(v["BENE_PTNT_STUS_CD"])
        drg_text = (v["DGNS_DRG_CD"] or "").lstrip("0")
        drg = cms.drg(drg_text) if drg_text else None
        row: dict[str, Any] = {
            "claim_id": ver.claim_id, "claim_type": "institutional", "person_id": pid,
            "member_id": pid, "payer": PAYER, "payer_type": "medicare",
            "plan": "medicare ffs (cclf)", "claim_start_date": cms.iso(frm),
            "claim_end_date": cms.iso(thru),
            "admission_date": cms.iso(frm) if inpatient else None,
            "discharge_date": cms.iso(thru) if inpatient and status != "30" else None,
            "admit_source_code": v["CLM_ADMSN_SRC_CD"], "admit_type_code": v["CLM_ADMSN_TYPE_CD"],
            "discharge_disposition_code": status,
            "bill_type_code": cms.bill_type(v["CLM_BILL_FAC_TYPE_CD"], v["CLM_BILL_CLSFCTN_CD"],
                                            v["CLM_BILL_FREQ_CD"]),
            "drg_code_type": "ms-drg" if drg else None, "drg_code": drg,
            "rendering_npi": cms.valid_npi(v["ATNDG_PRVDR_NPI_NUM"]),
            "billing_npi": cms.valid_npi(v["CLM_BLG_PRVDR_NPI_NUM"] or v["FAC_PRVDR_NPI_NUM"]),
            "facility_npi": cms.valid_npi(v["FAC_PRVDR_NPI_NUM"]),
            "diagnosis_code_type": cms.icd_dx_type(v["DGNS_PRCDR_ICD_IND"], thru),
            "procedure_code_type": cms.icd_px_type(v["DGNS_PRCDR_ICD_IND"], thru) if pxs else None,
            "adjustment_type": ADJUSTMENT[code], "original_claim_id": ver.original_claim_id,
            "data_source": DATA_SOURCE, "file_name": r.file,
        }
        for i, c in enumerate(codes[:MAX_CODES], start=1):
            row[f"diagnosis_code_{i}"] = c
            row[f"diagnosis_poa_{i}"] = poa.get(c)
        for i, (c, d) in enumerate(pxs[:MAX_CODES], start=1):
            row[f"procedure_code_{i}"] = c
            row[f"procedure_date_{i}"] = cms.iso(d)
        return row

    def count_flags(self, v: dict[str, Any], part: str) -> None:
        """Benefit enhancement / demonstration flags (no canonical column): counted in notes."""
        for k, x in v.items():
            if k.endswith("_SW") and x not in (None, "0", "N"):
                self.notes[f"CCLF{part}_{k}_set"] += 1
            if k.startswith("CLM_DEMO_") and x not in (None, "00"):
                self.notes[f"CCLF{part}_demo_{x}"] += 1

    # -- Part B: CCLF5 + CCLF6 + CCLFB -----------------------------------------------
    def part_b(self, found: dict[str, list[tuple[Path, date | None]]],
               window: list[date]) -> None:
        accepted: dict[tuple[str, str], tuple[Rec, str, str, dict[str, Decimal | None]]] = {}
        versions: dict[tuple[str, str], Version] = {}
        seen: set[Any] = set()
        for ftype in ("5", "6"):
            for r in self.read(ftype, found.get(ftype, [])):
                v = r.v
                key = (_num_id(v["CUR_CLM_UNIQ_ID"]) or "", _num_id(v["CLM_LINE_NUM"]) or "")
                allowed = v["CLM_LINE_ALOWD_CHRG_AMT"] or ZERO
                amounts = {"paid_amount": v["CLM_LINE_CVRD_PD_AMT"] or ZERO,
                           "allowed_amount": allowed, "charge_amount": allowed}
                ok = self.check_claim(r, amounts, seen, key, ("CLM_FROM_DT", "CLM_THRU_DT"))
                if ok is None:
                    continue
                code, pid = ok
                accepted[key] = (r, code, pid, {k: signed(a, code) for k, a in amounts.items()})
                versions[key] = Version(
                    key[0], (ftype, v["CLM_CNTL_NUM"], key[1], pid), code,
                    amounts["paid_amount"] or ZERO, v["CLM_EFCTV_DT"], (r.file_no, r.row))
        resolve_versions(list(versions.values()))
        for key, ver in versions.items():
            if ver.unmatched:
                r, _, _, money = accepted.pop(key)
                self.unmatched(r, money)
        extra = self.children(
            self.read("B", found.get("B", [])), accepted,
            key=lambda x: (_num_id(x.v["CUR_CLM_UNIQ_ID"]) or "",
                           _num_id(x.v["CLM_LINE_NUM"]) or ""))
        for key, (r, code, pid, money) in accepted.items():
            v = r.v
            window += [v["CLM_FROM_DT"], v["CLM_THRU_DT"]]
            dx: list[str] = []
            for i in range(1, 13):
                c = cms.clean_icd(v.get(f"CLM_DGNS_{i}_CD"))
                if c and c not in dx:
                    dx.append(c)
            line_dx = cms.clean_icd(v.get("CLM_LINE_DGNS_CD"))
            if line_dx and line_dx not in dx:
                dx.insert(0, line_dx) if not dx else dx.append(line_dx)
            ded = None
            b = extra.get(key, [])
            if b:
                for dup in b[1:]:
                    self.reject(dup, "duplicate_key", "CLM_LINE_NUM",
                                "a second CCLFB record for the same claim line")
                ded = signed(b[0].v["CLM_MDCR_DDCTBL_AMT"], code)
                self.count_flags(b[0].v, "B")
                b[0].tally.mapped += 1
            dme = r.file_type == "6"
            row: dict[str, Any] = {
                "claim_id": key[0], "claim_line_number": int(key[1] or 0) or 1,
                "claim_type": "professional", "person_id": pid, "member_id": pid,
                "payer": PAYER, "payer_type": "medicare", "plan": "medicare ffs (cclf)",
                "claim_start_date": cms.iso(v["CLM_FROM_DT"]),
                "claim_end_date": cms.iso(v["CLM_THRU_DT"]),
                "claim_line_start_date": cms.iso(v["CLM_LINE_FROM_DT"]),
                "claim_line_end_date": cms.iso(v["CLM_LINE_THRU_DT"]),
                "place_of_service_code": cms.pos(v["CLM_POS_CD"]),
                "hcpcs_code": cms.hcpcs(v["CLM_LINE_HCPCS_CD"]),
                "service_unit_quantity": _int_qty(v.get("CLM_LINE_SRVC_UNIT_QTY")),
                "rendering_npi": None if dme else cms.valid_npi(v["RNDRG_PRVDR_NPI_NUM"]),
                "billing_npi": cms.valid_npi(v["CLM_BLG_PRVDR_NPI_NUM"] or v["PAYTO_PRVDR_NPI_NUM"])
                if dme else None,
                "billing_tin": None if dme else v["CLM_RNDRG_PRVDR_TAX_NUM"],
                **money, "deductible_amount": ded,
                "diagnosis_code_type": cms.icd_dx_type(v.get("DGNS_PRCDR_ICD_IND"),
                                                       v["CLM_THRU_DT"]),
                "adjustment_type": ADJUSTMENT[code],
                "original_claim_id": versions[key].original_claim_id,
                "data_source": DATA_SOURCE, "file_name": r.file,
            }
            if not dme:
                row.update({f"hcpcs_modifier_{i}": v[f"HCPCS_{i}_MDFR_CD"] for i in range(1, 6)})
            for i, c in enumerate(dx[:MAX_CODES], start=1):
                row[f"diagnosis_code_{i}"] = c
            self.out.emit("medical_claim", row)
            r.tally.mapped += 1

    # -- Part D: CCLF7 -----------------------------------------------------------------
    def part_d(self, found: dict[str, list[tuple[Path, date | None]]],
               window: list[date]) -> None:
        accepted: dict[str, tuple[Rec, str, str, dict[str, Decimal | None]]] = {}
        versions: dict[str, Version] = {}
        seen: set[Any] = set()
        for r in self.read("7", found.get("7", [])):
            v = r.v
            cid = _num_id(v["CUR_CLM_UNIQ_ID"]) or ""
            bene = v["CLM_LINE_BENE_PMT_AMT"] or ZERO
            amounts = {"allowed_amount": bene, "paid_amount": ZERO}
            ok = self.check_claim(r, amounts, seen, cid, ("CLM_LINE_FROM_DT",))
            if ok is None:
                continue
            code, pid = ok
            money = {k: signed(a, code) for k, a in amounts.items()}
            if cms.ndc11(v["CLM_LINE_NDC_CD"]) is None:
                self.reject(r, "unmapped_code", "CLM_LINE_NDC_CD", "NDC is not 11 digits",
                            money, value=v["CLM_LINE_NDC_CD"])
                continue
            accepted[cid] = (r, code, pid, money)
            versions[cid] = Version(
                cid, (v["PRVDR_SRVC_ID_QLFYR_CD"], v["CLM_SRVC_PRVDR_GNRC_ID_NUM"],
                      v["CLM_LINE_FROM_DT"], v["CLM_LINE_RX_SRVC_RFRNC_NUM"],
                      v["CLM_LINE_RX_FILL_NUM"], pid),
                code, bene, v["CLM_EFCTV_DT"], (r.file_no, r.row))
        resolve_versions(list(versions.values()))
        for cid, ver in versions.items():
            if ver.unmatched:
                r, _, _, money = accepted.pop(cid)
                self.unmatched(r, money)
        for cid, (r, code, pid, money) in accepted.items():
            v = r.v
            window.append(v["CLM_LINE_FROM_DT"])
            fill = (v["CLM_LINE_RX_FILL_NUM"] or "").strip()
            days = v["CLM_LINE_DAYS_SUPLY_QTY"]
            self.out.emit("pharmacy_claim", {
                "claim_id": cid, "claim_line_number": 1, "person_id": pid, "member_id": pid,
                "payer": PAYER, "payer_type": "medicare", "plan": "medicare part d (cclf)",
                "prescribing_provider_npi": cms.valid_npi(v["CLM_PRSBNG_PRVDR_GNRC_ID_NUM"])
                if v["PRVDR_PRSBNG_ID_QLFYR_CD"] == "01" else None,
                "dispensing_provider_npi": cms.valid_npi(v["CLM_SRVC_PRVDR_GNRC_ID_NUM"])
                if v["PRVDR_SRVC_ID_QLFYR_CD"] == "01" else None,
                "dispensing_date": cms.iso(v["CLM_LINE_FROM_DT"]),
                "ndc_code": cms.ndc11(v["CLM_LINE_NDC_CD"]),
                "quantity": _int_qty(v["CLM_LINE_SRVC_UNIT_QTY"]),
                "days_supply": int(days) if days is not None and int(days) <= 365 else None,
                "refills": int(fill) if fill.isdigit() else None,
                **money, "copayment_amount": money["allowed_amount"],
                "adjustment_type": ADJUSTMENT[code],
                "original_claim_id": versions[cid].original_claim_id,
                "data_source": DATA_SOURCE, "file_name": r.file})
            r.tally.mapped += 1

def _pos(layout: Layout, column: str) -> slice:
    for f in layout.fields:
        if f.name == column:
            return slice(f.start - 1, f.start - 1 + f.length)
    return slice(0, 0)
