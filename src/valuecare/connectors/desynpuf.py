"""CMS DE-SynPUF (2008-2010 Data Entrepreneurs' Synthetic Public Use File).

``valuecare load PATH --format desynpuf`` reads a folder holding any of the eight
comma-separated DE-SynPUF files of one or more samples (names as CMS publishes them):
``DE1_0_<year>_Beneficiary_Summary_File_Sample_<n>.csv``,
``DE1_0_2008_to_2010_Carrier_Claims_Sample_<n>A/B.csv``, ``..._Inpatient_Claims_...``,
``..._Outpatient_Claims_...`` and ``..._Prescription_Drug_Events_...``.

What goes where (details and sources in ``docs/connectors.md``, after the CMS
"DE-SynPUF Data Users Document" and codebook):

* beneficiary summary rows → ``member`` (latest year wins), ``death`` and ``eligibility``.
  The file gives only *counts* of Part A, Part B and HMO months per year, not which
  months: a year's covered months are placed so they end in December (or in the month of
  death), HMO months last.  Member-month totals per year are exact; positions are a
  convention.
* carrier claims (one row per claim, up to 13 lines) → one professional ``medical_claim``
  line per filled line; line money (``LINE_NCH_PMT_AMT_n`` paid, ``LINE_ALOWD_CHRG_AMT_n``
  allowed).  The file has no billed charges: ``charge_amount`` carries the allowed amount.
* inpatient / outpatient claims (one row per claim segment) → institutional lines, one per
  ``HCPCS_CD_n`` (or one line without HCPCS); the row's money on its first line.  The file
  has no type of bill: inpatient claims get 111, outpatient 131 (the file a claim is in).
* Part D events → ``pharmacy_claim`` (paid = gross drug cost - patient pay).

Diagnoses are ICD-9-CM (``diagnosis_code_type = icd-9-cm``), procedures ICD-9 (``icd-9-pcs``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuecare.connectors import cms_common as cc
from valuecare.connectors.base import Conversion
from valuecare.connectors.rif import (
    FFS,
    MA,
    PART_D,
    PAYER,
    Bad,
    _Reader,
    get_date,
    get_money,
    msum,
)

DATA_SOURCE = "cms de-synpuf"

KINDS = (("Beneficiary_Summary_File", "beneficiary"), ("Carrier_Claims", "carrier"),
         ("Inpatient_Claims", "inpatient"), ("Outpatient_Claims", "outpatient"),
         ("Prescription_Drug_Events", "pde"))
_YEAR = re.compile(r"(20[0-9]{2})_Beneficiary_Summary", re.IGNORECASE)


def kind_of(path: Path) -> str | None:
    low = path.name.lower()
    for key, kind in KINDS:
        if key.lower() in low:
            return kind
    return None


def place_months(year: int, part_a: int, part_b: int, hmo: int,
                 death: date | None) -> list[tuple[int, str, str]]:
    """(month, plan, payer_type) for one summary year (the convention in the docstring)."""
    last = death.month if death and death.year == year else 12
    if death and death.year < year:
        return []
    n = min(max(part_a, part_b, hmo), last)
    h = min(hmo, n)
    out = []
    for i, m in enumerate(range(last - n + 1, last + 1)):
        if i >= n - h:
            out.append((m, MA, "medicare advantage"))
        elif part_a > 0 and part_b > 0:
            out.append((m, FFS, "medicare"))
        elif part_a > 0:
            out.append((m, "medicare part a only", "medicare"))
        else:
            out.append((m, "medicare part b only", "medicare"))
    return out


def _months(r: dict[str, str], col: str) -> int:
    v = (r.get(col) or "0").strip() or "0"
    if not v.isdigit() or int(v) > 12:
        raise Bad("unmapped_code", col, "month count is not 0-12")
    return int(v)


def _dx(r: dict[str, str], cols: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"diagnosis_code_type": "icd-9-cm"}
    codes: list[str] = []
    for c in cols:
        x = cc.clean_icd(r.get(c))
        if x and x not in codes:
            codes.append(x)
    for i, x in enumerate(codes[:25], start=1):
        out[f"diagnosis_code_{i}"] = x
    return out


class DeSynPuf:
    name = "desynpuf"
    description = "CMS DE-SynPUF 2008-2010 (beneficiary summary, carrier, inpatient, " \
        "outpatient, Part D event files)"

    def convert(self, source: Path, out: Conversion) -> None:
        files = [source] if source.is_file() else sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        by_kind: dict[str, list[Path]] = {}
        for p in files:
            k = kind_of(p)
            if k is None:
                out.notes.setdefault("ignored_files", []).append(p.name)
            else:
                by_kind.setdefault(k, []).append(p)
        run = _Run(out)
        run.beneficiaries(by_kind.get("beneficiary", []))
        for p in by_kind.get("carrier", []):
            run.carrier(p)
        for k in ("inpatient", "outpatient"):
            for p in by_kind.get(k, []):
                run.institutional(p, k)
        for p in by_kind.get("pde", []):
            run.pde(p)


class _Run(_Reader):
    DELIMITER = ","

    def __init__(self, out: Conversion) -> None:
        self.out = out
        self.members: set[str] = set()

    def _person(self, r: dict[str, str]) -> str:
        pid = (r.get("DESYNPUF_ID") or "").strip()
        if not pid:
            raise Bad("missing_identifier", "DESYNPUF_ID", "DESYNPUF_ID is blank")
        if pid not in self.members:
            raise Bad("missing_reference", "DESYNPUF_ID",
                      "no usable beneficiary summary row for this claim's beneficiary")
        return pid

    # ---- beneficiaries ---------------------------------------------------------------
    def beneficiaries(self, paths: list[Path]) -> None:
        people: dict[str, dict[str, Any]] = {}
        for path in paths:
            m = _YEAR.search(path.name)
            for t, n, r in self._rows(path, "member"):
                try:
                    if m is None:
                        raise Bad("bad_date", None, "the file name does not give the year")
                    year = int(m.group(1))
                    pid = (r.get("DESYNPUF_ID") or "").strip()
                    if not pid:
                        raise Bad("missing_identifier", "DESYNPUF_ID", "DESYNPUF_ID is blank")
                    birth = get_date(r, "BENE_BIRTH_DT", required=True)
                    death = get_date(r, "BENE_DEATH_DT")
                    sex = cc.sex(r.get("BENE_SEX_IDENT_CD"))
                    if sex is None:
                        raise Bad("unmapped_code", "BENE_SEX_IDENT_CD",
                                  "sex code not in the codebook")
                    race = cc.race_ethnicity(r.get("BENE_RACE_CD"))
                    if race is None:
                        raise Bad("unmapped_code", "BENE_RACE_CD", "race code not in the codebook")
                    months = place_months(year, _months(r, "BENE_HI_CVRAGE_TOT_MONS"),
                                          _months(r, "BENE_SMI_CVRAGE_TOT_MONS"),
                                          _months(r, "BENE_HMO_CVRAGE_TOT_MONS"), death)
                except Bad as b:
                    self._reject(t, "member", n, b, r)
                    continue
                p = people.setdefault(pid, {"year": 0, "months": {}, "death": None})
                if year >= p["year"]:
                    p.update(year=year, row=r, file=path.name, birth=birth, sex=sex, race=race)
                if death:
                    p["death"] = max(p["death"], death) if p["death"] else death
                for mon, plan, ptype in months:
                    p["months"][(year, mon)] = (plan, ptype, path.name)
                t.mapped += 1
        for pid, p in people.items():
            self._emit_person(pid, p)

    def _emit_person(self, pid: str, p: dict[str, Any]) -> None:
        r = p["row"]
        state = cc.ssa_state(r.get("SP_STATE_CODE"))
        death = p["death"]
        self.out.emit("member", {
            "person_id": pid, "sex": p["sex"], "race": p["race"][0], "ethnicity": p["race"][1],
            "birth_date": cc.iso(p["birth"]), "death_date": cc.iso(death),
            "death_flag": 1 if death else 0, "state": state,
            "region": cc.census_region(state), "data_source": DATA_SOURCE,
            "file_name": p["file"]})
        self.members.add(pid)
        if death:
            self.out.emit("death", {"person_id": pid, "death_date": cc.iso(death),
                                    "death_source": "enrollment", "data_source": DATA_SOURCE,
                                    "file_name": p["file"]})
        keys = sorted(k for k in p["months"] if not death or k <= (death.year, death.month))
        spans: list[list[tuple[int, int]]] = []
        for k in keys:
            if spans:
                ly, lm = spans[-1][-1]
                nxt = (ly + (lm == 12), lm % 12 + 1)
                if nxt == k and p["months"][k][:2] == p["months"][spans[-1][-1]][:2]:
                    spans[-1].append(k)
                    continue
            spans.append([k])
        esrd = (r.get("BENE_ESRD_IND") or "").strip().upper() == "Y"
        for s in spans:
            (y0, m0), (y1, m1) = s[0], s[-1]
            plan, ptype, fname = p["months"][s[0]]
            self.out.emit("eligibility", {
                "person_id": pid, "member_id": pid, "gender": p["sex"],
                "birth_date": cc.iso(p["birth"]),
                "enrollment_start_date": date(y0, m0, 1).isoformat(),
                "enrollment_end_date": cc.month_end(y1, m1).isoformat(),
                "payer": PAYER, "payer_type": ptype, "plan": plan,
                "enrollment_status": "ESRD" if esrd else None,
                "data_source": DATA_SOURCE, "file_name": fname})

    # ---- claims ----------------------------------------------------------------------
    def _base(self, r: dict[str, str]) -> dict[str, Any]:
        cid = (r.get("CLM_ID") or "").strip()
        if not cid:
            raise Bad("missing_identifier", "CLM_ID", "CLM_ID is blank")
        start = get_date(r, "CLM_FROM_DT", required=True)
        end = get_date(r, "CLM_THRU_DT", required=True)
        return {"claim_id": cid, "member_id": r["DESYNPUF_ID"].strip(), "payer": PAYER,
                "payer_type": "medicare", "plan": FFS, "claim_start_date": cc.iso(start),
                "claim_end_date": cc.iso(end), "adjustment_type": "original",
                "data_source": DATA_SOURCE}

    def carrier(self, path: Path) -> None:
        for t, n, r in self._rows(path, "medical_claim"):
            amounts: dict[str, Decimal | None] = {}
            try:
                lines = []
                tot = {"charge_amount": Decimal("0.00"), "allowed_amount": Decimal("0.00"),
                       "paid_amount": Decimal("0.00")}
                for i in range(1, 14):
                    paid = get_money(r, f"LINE_NCH_PMT_AMT_{i}")
                    allowed = get_money(r, f"LINE_ALOWD_CHRG_AMT_{i}")
                    ded = get_money(r, f"LINE_BENE_PTB_DDCTBL_AMT_{i}")
                    coins = get_money(r, f"LINE_COINSRNC_AMT_{i}")
                    prim = get_money(r, f"LINE_BENE_PRMRY_PYR_PD_AMT_{i}")
                    hc = (r.get(f"HCPCS_CD_{i}") or "").strip().upper() or None
                    npi = (r.get(f"PRF_PHYSN_NPI_{i}") or "").strip()
                    if not (hc or npi or msum(paid, allowed, ded, coins, prim)):
                        continue
                    a = allowed if allowed is not None else Decimal("0.00")
                    p = paid if paid is not None else Decimal("0.00")
                    tot["charge_amount"] += a
                    tot["allowed_amount"] += a
                    tot["paid_amount"] += p
                    lines.append({
                        "claim_line_number": i, "hcpcs_code": hc,
                        "rendering_npi": cc.valid_npi(npi),
                        "billing_tin": (r.get(f"TAX_NUM_{i}") or "").strip() or None,
                        "charge_amount": a, "allowed_amount": a, "paid_amount": p,
                        "deductible_amount": ded, "coinsurance_amount": coins})
                amounts = dict(tot)
                t.add_money(amounts)
                self._person(r)
                base = self._base(r)
                base.update(person_id=r["DESYNPUF_ID"].strip(), claim_type="professional",
                            **_dx(r, [f"ICD9_DGNS_CD_{j}" for j in range(1, 9)]))
                if not lines:
                    raise Bad("malformed_line", "HCPCS_CD_1", "the claim has no filled line")
            except Bad as b:
                self._reject(t, "medical_claim", n, b, r, amounts)
                continue
            for ln in lines:
                self.out.emit("medical_claim", {
                    **base, **ln, "claim_line_start_date": base["claim_start_date"],
                    "claim_line_end_date": base["claim_end_date"], "file_name": path.name})
            t.mapped += 1

    def institutional(self, path: Path, kind: str) -> None:
        for t, n, r in self._rows(path, "medical_claim"):
            amounts: dict[str, Decimal | None] = {}
            try:
                paid = get_money(r, "CLM_PMT_AMT")
                prim = get_money(r, "NCH_PRMRY_PYR_CLM_PD_AMT")
                if kind == "inpatient":
                    share = [get_money(r, c) for c in (
                        "NCH_BENE_IP_DDCTBL_AMT", "NCH_BENE_PTA_COINSRNC_LBLTY_AM",
                        "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM")]
                else:
                    share = [get_money(r, c) for c in (
                        "NCH_BENE_PTB_DDCTBL_AMT", "NCH_BENE_PTB_COINSRNC_AMT",
                        "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM")]
                allowed = msum(paid, prim, *share)
                amounts = {"charge_amount": allowed, "allowed_amount": allowed,
                           "paid_amount": msum(paid)}
                t.add_money(amounts)
                pid = self._person(r)
                base = self._base(r)
                seg = (r.get("SEGMENT") or "1").strip() or "1"
                if not seg.isdigit():
                    raise Bad("unmapped_code", "SEGMENT", "segment is not a number")
                start = get_date(r, "CLM_FROM_DT")
                px = [cc.clean_icd(r.get(f"ICD9_PRCDR_CD_{j}")) for j in range(1, 7)]
                px = [x for x in px if x]
                base.update({
                    "person_id": pid, "claim_type": "institutional",
                    "bill_type_code": "111" if kind == "inpatient" else "131",
                    "admission_date": cc.iso(get_date(r, "CLM_ADMSN_DT")),
                    "discharge_date": cc.iso(get_date(r, "NCH_BENE_DSCHRG_DT")),
                    "drg_code_type": "ms-drg" if cc.drg(r.get("CLM_DRG_CD")) else None,
                    "drg_code": cc.drg(r.get("CLM_DRG_CD")),
                    "facility_npi": None,
                    "rendering_npi": cc.valid_npi(r.get("AT_PHYSN_NPI")),
                    **_dx(r, ["ICD9_DGNS_CD_1"] + [f"ICD9_DGNS_CD_{j}" for j in range(2, 11)]
                          + ["ADMTNG_ICD9_DGNS_CD"]),
                    "procedure_code_type": "icd-9-pcs" if px else None,
                    **{f"procedure_code_{i}": x for i, x in enumerate(px, start=1)},
                    "file_name": path.name})
                if start is None:
                    raise Bad("bad_date", "CLM_FROM_DT", "required date is blank")
                hcpcs = [(r.get(f"HCPCS_CD_{k}") or "").strip().upper() for k in range(1, 46)]
                hcpcs = [h for h in hcpcs if h] or [""]
            except Bad as b:
                self._reject(t, "medical_claim", n, b, r, amounts)
                continue
            off = (int(seg) - 1) * 45
            zero = Decimal("0.00")
            for i, h in enumerate(hcpcs):
                first = i == 0
                self.out.emit("medical_claim", {
                    **base, "claim_line_number": off + i + 1, "hcpcs_code": h or None,
                    "charge_amount": amounts["charge_amount"] if first else zero,
                    "allowed_amount": amounts["allowed_amount"] if first else zero,
                    "paid_amount": amounts["paid_amount"] if first else zero,
                    "deductible_amount": share[0] if first else None,
                    "coinsurance_amount": share[1] if first else None})
            t.mapped += 1

    def pde(self, path: Path) -> None:
        for t, n, r in self._rows(path, "pharmacy_claim"):
            amounts: dict[str, Decimal | None] = {}
            try:
                gross = get_money(r, "TOT_RX_CST_AMT")
                patient = get_money(r, "PTNT_PAY_AMT")
                amounts = {"allowed_amount": gross,
                           "paid_amount": msum(gross) - msum(patient)}
                t.add_money(amounts)
                pid = self._person(r)
                pde_id = (r.get("PDE_ID") or "").strip()
                if not pde_id:
                    raise Bad("missing_identifier", "PDE_ID", "PDE_ID is blank")
                row = {
                    "claim_id": pde_id, "claim_line_number": 1, "person_id": pid,
                    "member_id": pid, "payer": PAYER, "payer_type": "medicare",
                    "plan": PART_D,
                    "dispensing_date": cc.iso(get_date(r, "SRVC_DT", required=True)),
                    "ndc_code": cc.ndc11(r.get("PROD_SRVC_ID"))
                    or (r.get("PROD_SRVC_ID") or "").strip() or None,
                    "quantity": cc.int_text(r.get("QTY_DSPNSD_NUM")),
                    "days_supply": cc.int_text(r.get("DAYS_SUPLY_NUM")),
                    "copayment_amount": patient, **amounts, "adjustment_type": "original",
                    "data_source": DATA_SOURCE, "file_name": path.name}
            except Bad as b:
                self._reject(t, "pharmacy_claim", n, b, r, amounts)
                continue
            self.out.emit("pharmacy_claim", row)
            t.mapped += 1
