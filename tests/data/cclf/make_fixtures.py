"""Write the hand-made CCLF fixture files of tests/connectors/test_cclf.py.

Positions come from the layouts the connector reads (valuecare/reference/cclf/layouts.yaml),
so every field sits exactly where the CCLF Information Packet puts it.  Run from the repo
root: ``.venv/bin/python tests/data/cclf/make_fixtures.py`` (the files are committed).
Identifiers are invented (MBI-shaped, never real); NPIs are the CMS example NPI.

Faults planted (see the test for the worked numbers): a truncated line (CCLF1, CCLF8,
CCLF9), an impossible date (CCLF8 birth date, CCLF5 from date), an amount with three
decimals (CCLF1), an unknown adjustment type code (CCLF1) and NDC (CCLF7), claims of a
beneficiary not in CCLF8 (CCLF1) and detail lines of claims not in CCLF1 (CCLF2/3/4/A/B),
a cancellation with nothing to cancel (CCLF1), and cancelled + replaced claims (CCLF1
Part A, CCLF5 Part B).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
LAYOUTS = yaml.safe_load(
    (HERE.parents[2] / "src/valuecare/reference/cclf/layouts.yaml").read_text())["files"]
NPI = "1234567893"
M1, M2, M3, OLD3, GHOST = "1AA0AA0AA01", "1AA0AA0AA02", "1AA0AA0AA03", "9ZZ9ZZ9ZZ99", "1ZZ0ZZ0ZZ00"


def render(ftype: str, values: dict[str, Any]) -> str:
    out = []
    for name, _start, length, typ in LAYOUTS[ftype]["fields"]:
        v = values.get(name)
        if v is None:
            out.append(" " * length)
        elif typ == "num":
            out.append(str(v).zfill(length))
        elif typ == "amount":
            s = str(v)
            neg = s.startswith("-")
            s = s.lstrip("-")
            s = s.zfill(length - 1)
            out.append(("-" if neg else "0") + s)
        elif typ == "qty":
            s = f"{v}.0000"
            out.append(s.zfill(length))
        else:
            out.append(str(v).ljust(length)[:length])
    line = "".join(out)
    assert len(line) == sum(f[2] for f in LAYOUTS[ftype]["fields"])
    return line


def write(name: str, lines: list[str]) -> None:
    (HERE / name).write_text("\n".join(lines) + "\n")


def main() -> None:
    # ---- CCLF9: previous MBI OLD3 is now M3; one truncated line
    write("CCLF9.txt", [
        render("9", {"HICN_MBI_XREF_IND": "M", "CRNT_NUM": M3, "PRVS_NUM": OLD3,
                     "PRVS_ID_EFCTV_DT": "2019-01-01", "PRVS_ID_OBSLT_DT": "2022-06-30"}),
        render("9", {"HICN_MBI_XREF_IND": "M", "CRNT_NUM": M2})[:20],
    ])
    # ---- CCLF8: 3 good beneficiaries, one truncated line, one impossible birth date
    bene = {"BENE_FIPS_STATE_CD": "36", "BENE_FIPS_CNTY_CD": "061", "BENE_ZIP_CD": "10001",
            "BENE_RACE_CD": "1", "BENE_AGE": "073", "BENE_MDCR_STUS_CD": "10",
            "BENE_ORGNL_ENTLMT_RSN_CD": "0", "BENE_PART_A_ENRLMT_BGN_DT": "2015-01-01",
            "BENE_PART_B_ENRLMT_BGN_DT": "2015-01-01", "BENE_1ST_NAME": "TEST",
            "BENE_LAST_NAME": "PERSON", "GEO_USPS_STATE_CD": "NY", "GEO_ZIP5_CD": "10001"}
    write("P.A1234.ACO.ZC8Y23.D230115.T0000001", [
        render("8", {**bene, "BENE_MBI_ID": M1, "BENE_DOB": "1950-01-02", "BENE_SEX_CD": "2",
                     "BENE_DUAL_STUS_CD": "02", "BENE_DEATH_DT": "9999-12-31"}),
        render("8", {**bene, "BENE_MBI_ID": M2, "BENE_DOB": "1948-05-06", "BENE_SEX_CD": "1",
                     "BENE_DUAL_STUS_CD": "NA", "BENE_DEATH_DT": "2023-03-10",
                     "BENE_RACE_CD": "2"}),
        render("8", {**bene, "BENE_MBI_ID": M3, "BENE_DOB": "1955-07-08", "BENE_SEX_CD": "1",
                     "BENE_DUAL_STUS_CD": "00"}),
        render("8", {**bene, "BENE_MBI_ID": "1AA0AA0AA04", "BENE_DOB": "1951-01-01"})[:120],
        render("8", {**bene, "BENE_MBI_ID": "1AA0AA0AA05", "BENE_DOB": "1950-13-01"}),
    ])
    # ---- CCLF1: Part A headers
    head = {"PRVDR_OSCAR_NUM": "123456", "CLM_BLG_PRVDR_OSCAR_NUM": "123456",
            "CLM_BILL_FAC_TYPE_CD": "1", "CLM_BILL_CLSFCTN_CD": "1", "CLM_BILL_FREQ_CD": "1",
            "PRNCPL_DGNS_CD": "I10", "DGNS_PRCDR_ICD_IND": "0", "FAC_PRVDR_NPI_NUM": NPI,
            "ATNDG_PRVDR_NPI_NUM": NPI, "CLM_BLG_PRVDR_NPI_NUM": NPI, "CLM_IDR_LD_DT": "2023-02-10",
            "CLM_ADMSN_TYPE_CD": "1", "CLM_ADMSN_SRC_CD": "1"}
    inpat = {**head, "CLM_TYPE_CD": "60", "CLM_FROM_DT": "2023-01-01",
             "CLM_THRU_DT": "2023-01-04", "BENE_PTNT_STUS_CD": "01", "DGNS_DRG_CD": "0470"}
    outpat = {**head, "CLM_TYPE_CD": "40", "CLM_FROM_DT": "2023-02-15", "CLM_THRU_DT":
              "2023-02-15", "CLM_BILL_FAC_TYPE_CD": "1", "CLM_BILL_CLSFCTN_CD": "3",
              "BENE_PTNT_STUS_CD": "01", "PRNCPL_DGNS_CD": "R079"}
    write("P.A1234.ACO.ZC1Y23.D230115.T0000001", [
        render("1", {**inpat, "CUR_CLM_UNIQ_ID": 1001, "BENE_MBI_ID": M1, "CLM_PMT_AMT": "1000.00",
                     "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "5000.00", "CLM_ADJSMT_TYPE_CD": "0",
                     "CLM_EFCTV_DT": "2023-01-05"}),
        render("1", {**inpat, "CUR_CLM_UNIQ_ID": 1002, "BENE_MBI_ID": M1, "CLM_PMT_AMT": "1000.00",
                     "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "5000.00", "CLM_ADJSMT_TYPE_CD": "1",
                     "CLM_EFCTV_DT": "2023-02-01", "CLM_BILL_FREQ_CD": "8"}),
        render("1", {**inpat, "CUR_CLM_UNIQ_ID": 1003, "BENE_MBI_ID": M1, "CLM_PMT_AMT": "1100.00",
                     "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "5200.00", "CLM_ADJSMT_TYPE_CD": "2",
                     "CLM_EFCTV_DT": "2023-02-01", "CLM_BILL_FREQ_CD": "7"}),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1004, "BENE_MBI_ID": OLD3,
                     "CLM_PMT_AMT": "200.50", "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "800.00",
                     "CLM_ADJSMT_TYPE_CD": "0", "CLM_EFCTV_DT": "2023-02-20"}),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1005, "BENE_MBI_ID": GHOST,
                     "CLM_PMT_AMT": "300.00", "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "900.00",
                     "CLM_ADJSMT_TYPE_CD": "0", "CLM_EFCTV_DT": "2023-02-20"}),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1006, "BENE_MBI_ID": M1,
                     "CLM_PMT_AMT": "0", "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "100.00",
                     "CLM_ADJSMT_TYPE_CD": "0", "CLM_EFCTV_DT": "2023-02-20"}
               ).replace("00000000000000000", "0000000000012.345", 1),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1007, "BENE_MBI_ID": M1,
                     "CLM_PMT_AMT": "50.00", "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "60.00",
                     "CLM_ADJSMT_TYPE_CD": "7", "CLM_EFCTV_DT": "2023-02-20"}),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1008, "BENE_MBI_ID": M2,
                     "CLM_PMT_AMT": "75.00", "CLM_MDCR_INSTNL_TOT_CHRG_AMT": "80.00",
                     "CLM_ADJSMT_TYPE_CD": "1", "CLM_EFCTV_DT": "2023-02-20"}),
        render("1", {**outpat, "CUR_CLM_UNIQ_ID": 1009, "BENE_MBI_ID": M1})[:150],
    ])
    # ---- CCLF2: revenue lines (claims 1001-1004), one for a quarantined claim, one orphan
    def rev(cid: int, n: int, mbi: str, rc: str, hcpcs: str = "", day: str = "2023-01-01"
            ) -> str:
        return render("2", {"CUR_CLM_UNIQ_ID": cid, "CLM_LINE_NUM": n, "BENE_MBI_ID": mbi,
                            "CLM_TYPE_CD": "60", "CLM_LINE_FROM_DT": day, "CLM_LINE_THRU_DT": day,
                            "CLM_LINE_PROD_REV_CTR_CD": rc, "CLM_LINE_HCPCS_CD": hcpcs,
                            "CLM_FROM_DT": day, "CLM_THRU_DT": day,
                            "CLM_LINE_SRVC_UNIT_QTY": 1, "CLM_LINE_CVRD_PD_AMT": "0.00"})
    write("P.A1234.ACO.ZC2Y23.D230115.T0000001", [
        rev(1001, 1, M1, "0120"), rev(1001, 2, M1, "0250"),
        rev(1002, 1, M1, "0120"), rev(1002, 2, M1, "0250"),
        rev(1003, 1, M1, "0120"), rev(1003, 2, M1, "0250"), rev(1003, 3, M1, "0300"),
        rev(1004, 1, OLD3, "0450", "99283", "2023-02-15"),
        rev(1005, 1, GHOST, "0450", "99283", "2023-02-15"),
        rev(9999, 1, M1, "0450"),
    ])
    # ---- CCLF3: ICD-10-PCS
    def px(cid: int, seq: int, code: str) -> str:
        return render("3", {"CUR_CLM_UNIQ_ID": cid, "BENE_MBI_ID": M1, "CLM_TYPE_CD": "60",
                            "CLM_VAL_SQNC_NUM": seq, "CLM_PRCDR_CD": code,
                            "CLM_PRCDR_PRFRM_DT": "2023-01-02", "CLM_FROM_DT": "2023-01-01",
                            "CLM_THRU_DT": "2023-01-04", "DGNS_PRCDR_ICD_IND": "0"})
    write("P.A1234.ACO.ZC3Y23.D230115.T0000001", [
        px(1001, 1, "0DTJ4ZZ"), px(1002, 1, "0DTJ4ZZ"), px(1003, 1, "0DTJ4ZZ"),
        px(1003, 2, "0DB64Z3"), px(9999, 1, "0DTJ4ZZ")])
    # ---- CCLF4: diagnoses (principal repeated as sequence 1, as CMS sends it)
    def dx(cid: int, seq: int, code: str, kind: str, mbi: str = M1, poa: str = "Y") -> str:
        return render("4", {"CUR_CLM_UNIQ_ID": cid, "BENE_MBI_ID": mbi, "CLM_TYPE_CD": "60",
                            "CLM_PROD_TYPE_CD": kind, "CLM_VAL_SQNC_NUM": seq,
                            "CLM_DGNS_CD": code, "CLM_FROM_DT": "2023-01-01",
                            "CLM_THRU_DT": "2023-01-04", "CLM_POA_IND": poa,
                            "DGNS_PRCDR_ICD_IND": "0"})
    write("P.A1234.ACO.ZC4Y23.D230115.T0000001", [
        dx(1001, 1, "I10", "P"), dx(1001, 2, "E119", "D", poa="N"),
        dx(1002, 1, "I10", "P"), dx(1002, 2, "E119", "D", poa="N"),
        dx(1003, 1, "I10", "P"), dx(1003, 2, "E119", "D", poa="N"), dx(1003, 3, "N179", "D"),
        dx(1004, 1, "R079", "P", OLD3), dx(9999, 1, "I10", "P")])
    # ---- CCLFA: deductible / coinsurance of Part A claims
    def ca(cid: int, ded: str, coins: str) -> str:
        return render("A", {"CUR_CLM_UNIQ_ID": cid, "BENE_MBI_ID": M1, "CLM_TYPE_CD": "60",
                            "CLM_ACTV_CARE_FROM_DT": "2023-01-01", "CLM_NGACO_SNF_WVR_SW": "1",
                            "CLM_MDCR_IP_BENE_DDCTBL_AMT": ded, "CLM_MDCR_COINSRNC_AMT": coins})
    write("P.A1234.ACO.ZCAY23.D230115.T0000001", [
        ca(1001, "1600.00", "0.00"), ca(1002, "1600.00", "0.00"), ca(1003, "1600.00", "0.00"),
        ca(9999, "10.00", "0.00")])
    # ---- CCLF5: Part B physician lines; 2001 line 1 cancelled (2002) and replaced (2003)
    def pb(cid: int, n: int, code: str, paid: str, allowed: str, eff: str, hcpcs: str = "99213",
           frm: str = "2023-01-10") -> str:
        return render("5", {"CUR_CLM_UNIQ_ID": cid, "CLM_LINE_NUM": n, "BENE_MBI_ID": M1,
                            "CLM_TYPE_CD": "71", "CLM_FROM_DT": frm, "CLM_THRU_DT": "2023-01-10",
                            "CLM_POS_CD": "11", "CLM_LINE_FROM_DT": "2023-01-10",
                            "CLM_LINE_THRU_DT": "2023-01-10", "CLM_LINE_HCPCS_CD": hcpcs,
                            "CLM_LINE_CVRD_PD_AMT": paid, "CLM_LINE_DGNS_CD": "E119",
                            "CLM_RNDRG_PRVDR_TAX_NUM": "123456789", "RNDRG_PRVDR_NPI_NUM": NPI,
                            "CLM_ADJSMT_TYPE_CD": code, "CLM_EFCTV_DT": eff,
                            "CLM_CNTL_NUM": "C2001", "CLM_LINE_ALOWD_CHRG_AMT": allowed,
                            "CLM_LINE_SRVC_UNIT_QTY": 1, "CLM_DGNS_1_CD": "E119",
                            "CLM_DGNS_2_CD": "I10", "DGNS_PRCDR_ICD_IND": "0"})
    write("P.A1234.ACO.ZC5Y23.D230115.T0000001", [
        pb(2001, 1, "0", "80.00", "100.00", "2023-01-12"),
        pb(2001, 2, "0", "20.00", "25.00", "2023-01-12", "36415"),
        pb(2002, 1, "1", "80.00", "100.00", "2023-02-03"),
        pb(2003, 1, "2", "90.00", "110.00", "2023-02-03"),
        pb(2004, 1, "0", "15.00", "20.00", "2023-01-12", frm="2023-02-30"),
    ])
    # ---- CCLF6: one DME line (CCLF6 carries no diagnosis)
    write("P.A1234.ACO.ZC6Y23.D230115.T0000001", [
        render("6", {"CUR_CLM_UNIQ_ID": 3001, "CLM_LINE_NUM": 1, "BENE_MBI_ID": M2,
                     "CLM_TYPE_CD": "82", "CLM_FROM_DT": "2023-01-20", "CLM_THRU_DT": "2023-01-20",
                     "CLM_POS_CD": "12", "CLM_LINE_FROM_DT": "2023-01-20",
                     "CLM_LINE_THRU_DT": "2023-01-20", "CLM_LINE_HCPCS_CD": "E0601",
                     "CLM_LINE_CVRD_PD_AMT": "40.00", "PAYTO_PRVDR_NPI_NUM": NPI,
                     "CLM_ADJSMT_TYPE_CD": "0", "CLM_EFCTV_DT": "2023-01-25",
                     "CLM_CNTL_NUM": "D3001", "CLM_LINE_ALOWD_CHRG_AMT": "50.00",
                     "CLM_BLG_PRVDR_NPI_NUM": NPI})])
    # ---- CCLFB: deductible of a Part B line, and an orphan
    write("P.A1234.ACO.ZCBY23.D230115.T0000001", [
        render("B", {"CUR_CLM_UNIQ_ID": 2001, "CLM_LINE_NUM": 1, "BENE_MBI_ID": M1,
                     "CLM_TYPE_CD": "71", "CLM_LINE_NGACO_TLHLTH_SW": "1",
                     "CLM_MDCR_DDCTBL_AMT": "10.00"}),
        render("B", {"CUR_CLM_UNIQ_ID": 9999, "CLM_LINE_NUM": 1, "BENE_MBI_ID": M1,
                     "CLM_TYPE_CD": "71", "CLM_MDCR_DDCTBL_AMT": "5.00"})])
    # ---- CCLF7: Part D
    def rx(cid: int, mbi: str, ndc: str, bene: str, ref: int) -> str:
        return render("7", {"CUR_CLM_UNIQ_ID": cid, "BENE_MBI_ID": mbi, "CLM_LINE_NDC_CD": ndc,
                            "CLM_TYPE_CD": "01", "CLM_LINE_FROM_DT": "2023-01-15",
                            "PRVDR_SRVC_ID_QLFYR_CD": "01", "CLM_SRVC_PRVDR_GNRC_ID_NUM": NPI,
                            "CLM_LINE_SRVC_UNIT_QTY": 30, "CLM_LINE_DAYS_SUPLY_QTY": 30,
                            "PRVDR_PRSBNG_ID_QLFYR_CD": "01",
                            "CLM_PRSBNG_PRVDR_GNRC_ID_NUM": NPI, "CLM_LINE_BENE_PMT_AMT": bene,
                            "CLM_ADJSMT_TYPE_CD": "0", "CLM_EFCTV_DT": "2023-01-16",
                            "CLM_LINE_RX_SRVC_RFRNC_NUM": ref, "CLM_LINE_RX_FILL_NUM": "0"})
    write("P.A1234.ACO.ZC7Y23.D230115.T0000001", [
        rx(4001, M1, "00002143380", "10.00", 1), rx(4002, M1, "ABC", "5.00", 2),
        rx(4003, OLD3, "00093505698", "7.50", 3)])
    (HERE / "README.txt").write_text("Not a CCLF file: the connector lists it as ignored.\n")


if __name__ == "__main__":
    main()
