"""CMS CCW RIF claims and enrollment (``valuecare load PATH --format rif``).

Reads a folder of pipe-delimited RIF extracts with CCW column names (the layout of the
CMS Beneficiary FHIR Data Server RIF loads): ``beneficiary_<year>.csv`` (or
``beneficiary.csv``), ``beneficiary_history.csv``, ``carrier``, ``dme``, ``inpatient``,
``outpatient``, ``snf``, ``hha``, ``hospice`` and ``pde`` (``.csv``/``.txt``).  Columns
are found by name, so column order and extra columns do not matter.

What goes where (details and sources in ``docs/connectors.md``):

* beneficiary rows → ``member`` (latest reference year wins; history rows fill persons
  without a yearly row), ``death`` (``DEATH_DT``) and ``eligibility``: monthly Medicare
  entitlement (``MDCR_ENTLMT_BUYIN_<m>_IND``) and managed-care (``HMO_<m>_IND``) months,
  merged into contiguous spans: plan ``medicare ffs`` (Parts A and B, HMO indicator 0 or
  4), ``medicare part a only`` / ``medicare part b only``, or ``medicare advantage``
  (payer_type ``medicare advantage``) for months in a Medicare health plan.
* carrier and DME lines → professional ``medical_claim`` lines, line money.
* inpatient, outpatient, SNF, HHA, hospice → institutional ``medical_claim``: one line per
  revenue-center row; the claim header money (total charges, Medicare paid, allowed =
  paid + primary payer paid + beneficiary deductible/coinsurance) sits on the first line
  of the claim and the other lines carry 0, so nothing is counted twice.
* Part D events → ``pharmacy_claim``.

Source rejects (rule names): ``malformed_line``, ``bad_date``, ``bad_amount``,
``missing_reference`` (claim of a beneficiary without a usable beneficiary row),
``unmapped_code`` (a sex, race or claim type code the codebook lacks, an unknown DML_IND),
``not_final_action`` (``FINAL_ACTION = N``: superseded by a later version),
``deleted_record`` (``DML_IND = DELETE``), ``missing_identifier``.
Messages never carry a source value: values go to the quarantine table only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.connectors import cms_common as cc
from valuecare.connectors.base import Conversion, SourceTally, money

DATA_SOURCE = "cms rif"
PAYER = "medicare"
FFS = "medicare ffs"
MA = "medicare advantage"
PART_D = "medicare part d"

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEPT", "OCT", "NOV", "DEC")

#: file kind → NCH claim type codes it may hold (CCW NCH_CLM_TYPE_CD).
CLAIM_TYPES = {
    "carrier": {"71", "72"}, "dme": {"81", "82"}, "inpatient": {"60", "61"},
    "outpatient": {"40"}, "snf": {"20", "30"}, "hha": {"10"}, "hospice": {"50"},
}
INSTITUTIONAL = ("inpatient", "outpatient", "snf", "hha", "hospice")
KINDS = ("beneficiary", "beneficiary_history", "carrier", "dme", *INSTITUTIONAL, "pde")


class Bad(Exception):
    """A source record that cannot be mapped: rule, column, reason (no values)."""

    def __init__(self, rule: str, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.rule, self.column, self.reason = rule, column, reason


def kind_of(path: Path) -> str | None:
    """The RIF file kind from a file name (``beneficiary_2015.csv`` → ``beneficiary``)."""
    stem = path.stem.lower()
    if stem.startswith("beneficiary_history"):
        return "beneficiary_history"
    if re.match(r"^beneficiar(y|ies)(_?[0-9]{4})?$", stem):
        return "beneficiary"
    for k in KINDS[2:]:
        if stem == k or stem.startswith(k + "_") or stem.startswith(k + "-"):
            return k
    return None


def get_date(r: dict[str, str], col: str, *, required: bool = False) -> date | None:
    try:
        d = cc.parse_cms_date(r.get(col))
    except ValueError as exc:
        raise Bad("bad_date", col, str(exc)) from exc
    if d is None and required:
        raise Bad("bad_date", col, "required date is blank")
    return d


def get_money(r: dict[str, str], col: str) -> Decimal | None:
    try:
        return money(r.get(col))
    except ValueError as exc:
        raise Bad("bad_amount", col, "not an amount with at most two decimals") from exc


def msum(*vals: Decimal | None) -> Decimal:
    return sum((v for v in vals if v is not None), Decimal("0.00"))


def adjustment(r: dict[str, str]) -> str:
    """original / adjustment / reversal from CLM_FREQ_CD, CLAIM_QUERY_CODE, ADJSTMT_DLTN_CD.

    Frequency 8 (void/cancel), claim query 0 (credit adjustment) and Part D deletion D are
    reversals; frequency 7 (replacement), query 5 (debit adjustment) and Part D adjustment
    A are adjustments (CCW codebook).
    """
    freq = (r.get("CLM_FREQ_CD") or "").strip()
    query = (r.get("CLAIM_QUERY_CODE") or "").strip()
    pde = (r.get("ADJSTMT_DLTN_CD") or "").strip()
    if freq == "8" or query == "0" or pde == "D":
        return "reversal"
    if freq == "7" or query == "5" or pde == "A":
        return "adjustment"
    return "original"


def signed(v: Decimal | None, adj: str) -> Decimal | None:
    """Reversal amounts are kept as ``<= 0`` (the canonical sign rule)."""
    if v is None or adj != "reversal":
        return v
    return -abs(v)


def diagnoses(r: dict[str, str], n_slots: int, start: date | None) -> dict[str, Any]:
    """Principal diagnosis first, then ICD_DGNS_CD1..n and external causes, no repeats."""
    out: dict[str, Any] = {}
    codes: list[tuple[str, str | None]] = []

    def add(code: str | None, poa: str | None) -> None:
        c = cc.clean_icd(code)
        if c and all(c != x for x, _ in codes):
            codes.append((c, poa))

    poa_of = {}
    for j in range(1, n_slots + 1):
        c = cc.clean_icd(r.get(f"ICD_DGNS_CD{j}"))
        if c and c not in poa_of:
            poa_of[c] = (r.get(f"CLM_POA_IND_SW{j}") or "").strip() or None
    principal = r.get("PRNCPAL_DGNS_CD") or r.get("ICD_DGNS_CD1")
    add(principal, poa_of.get(cc.clean_icd(principal) or ""))
    for j in range(1, n_slots + 1):
        c = r.get(f"ICD_DGNS_CD{j}")
        add(c, poa_of.get(cc.clean_icd(c) or ""))
    add(r.get("FST_DGNS_E_CD"), None)
    for j in range(1, 13):
        add(r.get(f"ICD_DGNS_E_CD{j}"), (r.get(f"CLM_E_POA_IND_SW{j}") or "").strip() or None)
    version = r.get("PRNCPAL_DGNS_VRSN_CD") or r.get("ICD_DGNS_VRSN_CD1")
    out["diagnosis_code_type"] = cc.icd_dx_type(version, start)
    for i, (c, poa) in enumerate(codes[:25], start=1):
        out[f"diagnosis_code_{i}"] = c
        if poa:
            out[f"diagnosis_poa_{i}"] = poa
    return out


def procedures(r: dict[str, str], start: date | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    k = 0
    version = None
    for j in range(1, 26):
        c = cc.clean_icd(r.get(f"ICD_PRCDR_CD{j}"))
        if not c:
            continue
        k += 1
        version = version or r.get(f"ICD_PRCDR_VRSN_CD{j}")
        out[f"procedure_code_{k}"] = c
        out[f"procedure_date_{k}"] = cc.iso(get_date(r, f"PRCDR_DT{j}"))
    if k:
        out["procedure_code_type"] = cc.icd_px_type(version, start)
    return out


@dataclass
class Month:
    year: int
    month: int
    plan: str
    payer_type: str
    dual: str | None
    status: str | None
    orec: str | None
    file: str


@dataclass
class Person:
    row: dict[str, str]
    year: int
    file: str
    months: dict[tuple[int, int], Month] = field(default_factory=dict)
    death: date | None = None
    dual: tuple[tuple[int, int], str] | None = None


class Rif:
    name = "rif"
    description = "CMS CCW RIF claims and beneficiary files (pipe-delimited, CCW column names)"

    def convert(self, source: Path, out: Conversion) -> None:
        files = [source] if source.is_file() else sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
        by_kind: dict[str, list[Path]] = {}
        ignored = []
        for p in files:
            k = kind_of(p)
            if k is None:
                ignored.append(p.name)
            else:
                by_kind.setdefault(k, []).append(p)
        if ignored:
            out.notes.setdefault("ignored_files", []).extend(ignored)
        run = _Run(out)
        run.beneficiaries(by_kind.get("beneficiary", []), by_kind.get("beneficiary_history", []))
        for k in ("carrier", "dme"):
            for p in by_kind.get(k, []):
                run.professional(p, k)
        for k in INSTITUTIONAL:
            for p in by_kind.get(k, []):
                run.institutional(p, k)
        for p in by_kind.get("pde", []):
            run.pde(p)


class _Reader:
    """Counting rows of a delimited CMS file (RIF ``|``, DE-SynPUF ``,``)."""

    DELIMITER = "|"
    out: Conversion

    def _rows(self, path: Path, target: str) -> Iterable[tuple[SourceTally, int, dict[str, str]]]:
        """Count every record; quarantine malformed lines; yield the well-formed rows."""
        self.out.read_input(path)
        t = self.out.tally(path.name, target)
        for n, r, raw in cc.read_records(path, self.DELIMITER):
            t.records += 1
            if r is None:
                self.out.reject(t, table=target, row_number=n, rule="malformed_line",
                                reason="number of fields differs from the header", raw=raw)
                continue
            yield t, n, r

    def _reject(self, t: SourceTally, table: str, n: int, bad: Bad, r: dict[str, str],
                amounts: dict[str, Decimal | None] | None = None) -> None:
        self.out.reject(t, table=table, row_number=n, rule=bad.rule, column=bad.column,
                        value=r.get(bad.column) if bad.column else None, reason=bad.reason,
                        raw=r, amounts=amounts)


class _Run(_Reader):
    def __init__(self, out: Conversion) -> None:
        self.out = out
        self.members: set[str] = set()

    def _claim_checks(self, r: dict[str, str], kind: str) -> None:
        dml = (r.get("DML_IND") or "INSERT").strip().upper()
        if dml == "DELETE":
            raise Bad("deleted_record", "DML_IND", "the extract deletes this record")
        if dml not in ("INSERT", "UPDATE"):
            raise Bad("unmapped_code", "DML_IND", "DML_IND is not INSERT, UPDATE or DELETE")
        if (r.get("FINAL_ACTION") or "F").strip().upper() == "N":
            raise Bad("not_final_action", "FINAL_ACTION",
                      "not the final action claim: a later version supersedes it")
        if kind in CLAIM_TYPES and (r.get("NCH_CLM_TYPE_CD") or "").strip() not in \
                CLAIM_TYPES[kind]:
            raise Bad("unmapped_code", "NCH_CLM_TYPE_CD",
                      f"claim type code is not one the {kind} file holds")
        bene = (r.get("BENE_ID") or "").strip()
        if bene not in self.members:
            raise Bad("missing_reference", "BENE_ID",
                      "no usable beneficiary row for this claim's beneficiary")

    # ---- beneficiaries ---------------------------------------------------------------
    def beneficiaries(self, yearly: list[Path], history: list[Path]) -> None:
        people: dict[str, Person] = {}
        for path in yearly:
            for t, n, r in self._rows(path, "member"):
                try:
                    self._bene_row(r, path.name, people)
                except Bad as b:
                    self._reject(t, "member", n, b, r)
                    continue
                t.mapped += 1
        hist: dict[str, tuple[dict[str, str], str]] = {}
        for path in history:
            for t, n, r in self._rows(path, "member"):
                try:
                    bene = self._demographics(r)
                except Bad as b:
                    self._reject(t, "member", n, b, r)
                    continue
                hist.setdefault(bene, (r, path.name))
                t.mapped += 1
        for bene, (r, fname) in hist.items():
            if bene not in people:
                people[bene] = Person(r, 0, fname)
        for bene, p in people.items():
            self._emit_person(bene, p, hist.get(bene, (None, ""))[0])

    def _demographics(self, r: dict[str, str]) -> str:
        bene = (r.get("BENE_ID") or "").strip()
        if not bene:
            raise Bad("missing_identifier", "BENE_ID", "BENE_ID is blank")
        get_date(r, "BENE_BIRTH_DT", required=True)
        get_date(r, "DEATH_DT")
        get_date(r, "BENE_DEATH_DT")
        if cc.sex(r.get("BENE_SEX_IDENT_CD")) is None:
            raise Bad("unmapped_code", "BENE_SEX_IDENT_CD", "sex code not in the codebook")
        if cc.race_ethnicity(r.get("BENE_RACE_CD")) is None:
            raise Bad("unmapped_code", "BENE_RACE_CD", "race code not in the codebook")
        return bene

    def _bene_row(self, r: dict[str, str], fname: str, people: dict[str, Person]) -> None:
        bene = self._demographics(r)
        yr = (r.get("RFRNC_YR") or "").strip()
        if not (yr.isdigit() and len(yr) == 4):
            raise Bad("bad_date", "RFRNC_YR", "reference year is not a year")
        year = int(yr)
        death = get_date(r, "DEATH_DT") or get_date(r, "BENE_DEATH_DT")
        months: dict[tuple[int, int], Month] = {}
        dual_last: tuple[tuple[int, int], str] | None = None
        for m in range(1, 13):
            mon = MONTHS[m - 1]
            if death and (year, m) > (death.year, death.month):
                continue
            buyin = (r.get(f"MDCR_ENTLMT_BUYIN_{m}_IND") or "").strip().upper()
            hmo = (r.get(f"HMO_{m}_IND") or "0").strip().upper() or "0"
            dual = cc.dual_status(r.get(f"META_DUAL_ELGBL_STUS_{mon}_CD")
                                  or r.get(f"DUAL_STUS_CD_{m:02d}"))
            if dual:
                dual_last = ((year, m), dual)
            if buyin in ("", "0"):
                continue
            if hmo not in ("0", "4"):
                plan, ptype = MA, "medicare advantage"
            elif buyin in ("3", "C"):
                plan, ptype = FFS, "medicare"
            elif buyin in ("1", "A"):
                plan, ptype = "medicare part a only", "medicare"
            elif buyin in ("2", "B"):
                plan, ptype = "medicare part b only", "medicare"
            else:
                raise Bad("unmapped_code", f"MDCR_ENTLMT_BUYIN_{m}_IND",
                          "entitlement code not in the codebook")
            status = (r.get(f"MDCR_STUS_{mon}_CD") or "").strip() or None
            orec = (r.get("BENE_ENTLMT_RSN_ORIG") or "").strip() or None
            months[(year, m)] = Month(year, m, plan, ptype, dual, status, orec, fname)
        p = people.get(bene)
        if p is None or year >= p.year:
            keep = p.months if p else {}
            old_death, old_dual = (p.death, p.dual) if p else (None, None)
            p = people[bene] = Person(r, year, fname, keep, old_death, old_dual)
        p.months.update(months)
        if death:
            p.death = max(p.death, death) if p.death else death
        if dual_last and (p.dual is None or dual_last[0] >= p.dual[0]):
            p.dual = dual_last

    def _emit_person(self, bene: str, p: Person, hist: dict[str, str] | None) -> None:
        r = p.row
        birth = get_date(r, "BENE_BIRTH_DT")
        sex = cc.sex(r.get("BENE_SEX_IDENT_CD"))
        race, eth = cc.race_ethnicity(r.get("BENE_RACE_CD")) or ("unknown", "unknown")
        state = cc.ssa_state(r.get("STATE_CODE"))
        z = cc.zip5((hist or {}).get("BENE_ZIP_CD") or r.get("BENE_ZIP_CD"))
        self.out.emit("member", {
            "person_id": bene, "sex": sex, "race": race, "ethnicity": eth,
            "birth_date": cc.iso(birth), "death_date": cc.iso(p.death),
            "death_flag": 1 if p.death else 0, "state": state, "zip_code": z,
            "zip3": z[:3] if z else None, "region": cc.census_region(state),
            "dual_status_code": p.dual[1] if p.dual else None,
            "data_source": DATA_SOURCE, "file_name": p.file})
        self.members.add(bene)
        if p.death:
            self.out.emit("death", {"person_id": bene, "death_date": cc.iso(p.death),
                                    "death_source": "enrollment", "data_source": DATA_SOURCE,
                                    "file_name": p.file})
        span: list[Month] = []

        def flush() -> None:
            if not span:
                return
            a, b = span[0], span[-1]
            self.out.emit("eligibility", {
                "person_id": bene, "member_id": bene, "gender": sex,
                "birth_date": cc.iso(birth),
                "enrollment_start_date": date(a.year, a.month, 1).isoformat(),
                "enrollment_end_date": cc.month_end(b.year, b.month).isoformat(),
                "payer": PAYER, "payer_type": a.payer_type, "plan": a.plan,
                "original_reason_entitlement_code": a.orec, "dual_status_code": a.dual,
                "medicare_status_code": a.status, "data_source": DATA_SOURCE,
                "file_name": a.file})
            span.clear()

        for key in sorted(p.months):
            m = p.months[key]
            if span:
                last = span[-1]
                nxt = (last.year + (last.month == 12), last.month % 12 + 1)
                same = (m.plan, m.dual, m.status, m.orec) == (last.plan, last.dual,
                                                              last.status, last.orec)
                if nxt != key or not same:
                    flush()
            span.append(m)
        flush()

    # ---- claims ----------------------------------------------------------------------
    def _header(self, r: dict[str, str], kind: str, adj: str) -> dict[str, Any]:
        start = get_date(r, "CLM_FROM_DT", required=True)
        end = get_date(r, "CLM_THRU_DT", required=True)
        row: dict[str, Any] = {
            "claim_id": (r.get("CLM_ID") or "").strip(), "person_id": r["BENE_ID"].strip(),
            "member_id": r["BENE_ID"].strip(), "payer": PAYER, "payer_type": "medicare",
            "plan": FFS, "claim_start_date": cc.iso(start), "claim_end_date": cc.iso(end),
            "paid_date": cc.iso(get_date(r, "NCH_WKLY_PROC_DT")),
            "adjustment_type": adj, "data_source": DATA_SOURCE,
        }
        if not row["claim_id"]:
            raise Bad("missing_identifier", "CLM_ID", "CLM_ID is blank")
        row.update(diagnoses(r, 25 if kind in INSTITUTIONAL else 12, start))
        return row

    def professional(self, path: Path, kind: str) -> None:
        for t, n, r in self._rows(path, "medical_claim"):
            amounts: dict[str, Decimal | None] = {}
            try:
                adj = adjustment(r)
                amounts = {
                    "charge_amount": signed(get_money(r, "LINE_SBMTD_CHRG_AMT"), adj),
                    "allowed_amount": signed(get_money(r, "LINE_ALOWD_CHRG_AMT"), adj),
                    "paid_amount": signed(get_money(r, "LINE_NCH_PMT_AMT"), adj)}
                t.add_money(amounts)
                self._claim_checks(r, kind)
                row = self._header(r, kind, adj)
                line = cc.int_text(r.get("LINE_NUM"))
                if line is None:
                    raise Bad("missing_identifier", "LINE_NUM", "LINE_NUM is blank")
                billing = (cc.valid_npi(r.get("CARR_CLM_BLG_NPI_NUM"))
                           or cc.valid_npi(r.get("ORG_NPI_NUM"))
                           or cc.valid_npi(r.get("PRVDR_NPI")))
                row.update({
                    "claim_line_number": line, "claim_type": "professional",
                    "claim_line_start_date": cc.iso(get_date(r, "LINE_1ST_EXPNS_DT")),
                    "claim_line_end_date": cc.iso(get_date(r, "LINE_LAST_EXPNS_DT")),
                    "place_of_service_code": cc.pos(r.get("LINE_PLACE_OF_SRVC_CD"))
                    or (r.get("LINE_PLACE_OF_SRVC_CD") or "").strip() or None,
                    "service_unit_quantity": cc.int_text(r.get("LINE_SRVC_CNT")),
                    "hcpcs_code": (r.get("HCPCS_CD") or "").strip().upper() or None,
                    "hcpcs_modifier_1": (r.get("HCPCS_1ST_MDFR_CD") or "").strip() or None,
                    "hcpcs_modifier_2": (r.get("HCPCS_2ND_MDFR_CD") or "").strip() or None,
                    "rendering_npi": cc.valid_npi(r.get("PRF_PHYSN_NPI")),
                    "billing_npi": billing,
                    "billing_tin": (r.get("TAX_NUM") or "").strip() or None,
                    "coinsurance_amount": signed(get_money(r, "LINE_COINSRNC_AMT"), adj),
                    "deductible_amount": signed(get_money(r, "LINE_BENE_PTB_DDCTBL_AMT"), adj),
                    **amounts, "file_name": path.name})
            except Bad as b:
                self._reject(t, "medical_claim", n, b, r, amounts)
                continue
            self.out.emit("medical_claim", row)
            t.mapped += 1

    def institutional(self, path: Path, kind: str) -> None:
        claims: dict[str, list[tuple[SourceTally, int, dict[str, str]]]] = {}
        for t, n, r in self._rows(path, "medical_claim"):
            claims.setdefault((r.get("CLM_ID") or "").strip() or f"#row{n}", []).append((t, n, r))
        ctl = {}
        for rows in claims.values():
            r0 = rows[0][2]
            if (r0.get("FI_DOC_CLM_CNTL_NUM") or "").strip():
                ctl[r0["FI_DOC_CLM_CNTL_NUM"].strip()] = (r0.get("CLM_ID") or "").strip()
        for rows in claims.values():
            self._institutional_claim(rows, kind, path.name, ctl)

    def _institutional_claim(self, rows: list[tuple[SourceTally, int, dict[str, str]]],
                             kind: str, fname: str, ctl: dict[str, str]) -> None:
        t, n0, h = rows[0]
        amounts: dict[str, Decimal | None] = {}
        try:
            adj = adjustment(h)
            paid = get_money(h, "CLM_PMT_AMT")
            prim = get_money(h, "NCH_PRMRY_PYR_CLM_PD_AMT")
            if kind in ("inpatient", "snf"):
                share = [get_money(h, c) for c in (
                    "NCH_BENE_IP_DDCTBL_AMT", "NCH_BENE_PTA_COINSRNC_LBLTY_AM",
                    "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM")]
                ded, coins = share[0], share[1]
            elif kind == "outpatient":
                share = [get_money(h, c) for c in (
                    "NCH_BENE_PTB_DDCTBL_AMT", "NCH_BENE_PTB_COINSRNC_AMT",
                    "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM")]
                ded, coins = share[0], share[1]
            else:
                share, ded, coins = [], None, None
            amounts = {
                "charge_amount": signed(get_money(h, "CLM_TOT_CHRG_AMT"), adj),
                "allowed_amount": signed(msum(paid, prim, *share), adj),
                "paid_amount": signed(paid, adj)}
            t.add_money(amounts)
            self._claim_checks(h, kind)
            header = self._header(h, kind, adj)
            orig = ctl.get((h.get("FI_ORIG_CLM_CNTL_NUM") or "").strip())
            header.update({
                "claim_type": "institutional",
                "bill_type_code": cc.bill_type(h.get("CLM_FAC_TYPE_CD"),
                                               h.get("CLM_SRVC_CLSFCTN_TYPE_CD"),
                                               h.get("CLM_FREQ_CD")),
                "admission_date": cc.iso(get_date(h, "CLM_ADMSN_DT")
                                         or get_date(h, "CLM_HOSPC_START_DT_ID")),
                "discharge_date": cc.iso(get_date(h, "NCH_BENE_DSCHRG_DT")),
                "admit_type_code": (h.get("CLM_IP_ADMSN_TYPE_CD") or "").strip() or None,
                "admit_source_code": (h.get("CLM_SRC_IP_ADMSN_CD") or "").strip() or None,
                "discharge_disposition_code": cc.discharge_status(h.get("PTNT_DSCHRG_STUS_CD")),
                "facility_npi": cc.valid_npi(h.get("ORG_NPI_NUM")),
                "billing_npi": cc.valid_npi(h.get("ORG_NPI_NUM")),
                "original_claim_id": orig if adj != "original" else None,
                **procedures(h, get_date(h, "CLM_FROM_DT"))})
            if kind in ("inpatient", "snf") and cc.drg(h.get("CLM_DRG_CD")):
                header.update({"drg_code_type": "ms-drg", "drg_code": cc.drg(h.get("CLM_DRG_CD"))})
            lines = []
            for i, (_, _, r) in enumerate(rows):
                for col in ("CLM_ID", "BENE_ID", "CLM_FROM_DT", "CLM_THRU_DT", "CLM_PMT_AMT"):
                    if (r.get(col) or "").strip() != (h.get(col) or "").strip():
                        raise Bad("malformed_line", col,
                                  "claim header differs between lines of one claim")
                line = cc.int_text(r.get("CLM_LINE_NUM")) or str(i + 1)
                rev_dt = cc.iso(get_date(r, "REV_CNTR_DT"))
                zero = Decimal("0.00")
                lines.append({
                    **header, "claim_line_number": line,
                    "claim_line_start_date": rev_dt, "claim_line_end_date": rev_dt,
                    "revenue_center_code": cc.revenue_code(r.get("REV_CNTR"))
                    or (r.get("REV_CNTR") or "").strip() or None,
                    "hcpcs_code": (r.get("HCPCS_CD") or "").strip().upper() or None,
                    "hcpcs_modifier_1": (r.get("HCPCS_1ST_MDFR_CD") or "").strip() or None,
                    "hcpcs_modifier_2": (r.get("HCPCS_2ND_MDFR_CD") or "").strip() or None,
                    "service_unit_quantity": cc.int_text(r.get("REV_CNTR_UNIT_CNT")),
                    "rendering_npi": cc.valid_npi(r.get("RNDRNG_PHYSN_NPI"))
                    or cc.valid_npi(h.get("AT_PHYSN_NPI")),
                    "charge_amount": amounts["charge_amount"] if i == 0 else zero,
                    "allowed_amount": amounts["allowed_amount"] if i == 0 else zero,
                    "paid_amount": amounts["paid_amount"] if i == 0 else zero,
                    "deductible_amount": signed(ded, adj) if i == 0 else None,
                    "coinsurance_amount": signed(coins, adj) if i == 0 else None,
                    "file_name": fname})
        except Bad as b:
            for i, (tt, n, r) in enumerate(rows):
                self._reject(tt, "medical_claim", n, b, r, amounts if i == 0 else None)
            return
        for row in lines:
            self.out.emit("medical_claim", row)
            t.mapped += 1

    # ---- Part D ----------------------------------------------------------------------
    def pde(self, path: Path) -> None:
        for t, n, r in self._rows(path, "pharmacy_claim"):
            amounts: dict[str, Decimal | None] = {}
            try:
                adj = adjustment(r)
                cov = get_money(r, "CVRD_D_PLAN_PD_AMT")
                ncov = get_money(r, "NCVRD_PLAN_PD_AMT")
                amounts = {"allowed_amount": signed(get_money(r, "TOT_RX_CST_AMT"), adj),
                           "paid_amount": signed(msum(cov, ncov), adj)}
                t.add_money(amounts)
                self._claim_checks(r, "pde")
                pde_id = (r.get("PDE_ID") or "").strip()
                if not pde_id:
                    raise Bad("missing_identifier", "PDE_ID", "PDE_ID is blank")

                def npi(q: str, c: str, rr: dict[str, str] = r) -> str | None:
                    return cc.valid_npi(rr.get(c)) if (rr.get(q) or "").strip() == "01" else None

                row = {
                    "claim_id": pde_id, "claim_line_number": 1,
                    "person_id": r["BENE_ID"].strip(), "member_id": r["BENE_ID"].strip(),
                    "payer": PAYER, "payer_type": "medicare", "plan": PART_D,
                    "prescribing_provider_npi": npi("PRSCRBR_ID_QLFYR_CD", "PRSCRBR_ID"),
                    "dispensing_provider_npi": npi("SRVC_PRVDR_ID_QLFYR_CD", "SRVC_PRVDR_ID"),
                    "dispensing_date": cc.iso(get_date(r, "SRVC_DT", required=True)),
                    "paid_date": cc.iso(get_date(r, "PD_DT")),
                    "ndc_code": cc.ndc11(r.get("PROD_SRVC_ID"))
                    or (r.get("PROD_SRVC_ID") or "").strip() or None,
                    "quantity": cc.int_text(r.get("QTY_DSPNSD_NUM")),
                    "days_supply": cc.int_text(r.get("DAYS_SUPLY_NUM")),
                    "refills": cc.int_text(r.get("FILL_NUM")),
                    "copayment_amount": signed(get_money(r, "PTNT_PAY_AMT"), adj),
                    **amounts, "adjustment_type": adj, "data_source": DATA_SOURCE,
                    "file_name": path.name}
            except Bad as b:
                self._reject(t, "pharmacy_claim", n, b, r, amounts)
                continue
            self.out.emit("pharmacy_claim", row)
            t.mapped += 1
