"""The CMS-HCC community/institutional model as data: disease groups and interactions.

Transcribed from hccinfhir 0.4 ``model_interactions.py`` (which follows the CMS SAS
macros ``V24H86M``/``V28115M``): each group is a set of payment HCCs whose presence (after
hierarchies) sets a flag, each interaction is a product of flags.  Names are the CMS
variable names; the coefficient looked up is ``<segment>_<name>`` (lower case).
"""

from __future__ import annotations

from collections.abc import Mapping

_r = range

GROUPS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "V28": {
        "CANCER": tuple(map(str, _r(17, 24))),
        "DIABETES": ("35", "36", "37", "38"),
        "CARD_RESP_FAIL": ("211", "212", "213"),
        "HF": ("221", "222", "223", "224", "225", "226"),
        "CHR_LUNG": ("276", "277", "278", "279", "280"),
        "KIDNEY": ("326", "327", "328", "329"),
        "SUBUSE": ("135", "136", "137", "138", "139"),
        "PSYCH": ("151", "152", "153", "154", "155"),
        "NEURO": ("180", "181", "182", "190", "191", "192", "195", "196", "198", "199"),
        "ULCER": ("379", "380", "381", "382"),
        "H238": ("238",),
    },
    "V24": {
        "CANCER": ("8", "9", "10", "11", "12"),
        "DIABETES": ("17", "18", "19"),
        "CARD_RESP_FAIL": ("82", "83", "84"),
        "CHF": ("85",),
        "COPD": ("110", "111", "112"),
        "RENAL": ("134", "135", "136", "137", "138"),
        "SEPSIS": ("2",),
        "SUBUSE": ("54", "55", "56"),
        "PSYCH": ("57", "58", "59", "60"),
        "PRESSURE_ULCER": ("157", "158", "159"),
        **{f"H{h}": (h,) for h in ("6", "39", "47", "57", "77", "79", "96", "114", "161",
                                   "188")},
    },
}

#: interaction name -> the flags multiplied; ``DISABLED`` is the person-level flag
#: (age < 65 and OREC not 0).
INTERACTIONS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "V28": {
        "DIABETES_HF_V28": ("DIABETES", "HF"),
        "HF_CHR_LUNG_V28": ("HF", "CHR_LUNG"),
        "HF_KIDNEY_V28": ("HF", "KIDNEY"),
        "CHR_LUNG_CARD_RESP_FAIL_V28": ("CHR_LUNG", "CARD_RESP_FAIL"),
        "HF_HCC238_V28": ("HF", "H238"),
        "gSubUseDisorder_gPsych_V28": ("SUBUSE", "PSYCH"),
        "DISABLED_CANCER_V28": ("DISABLED", "CANCER"),
        "DISABLED_NEURO_V28": ("DISABLED", "NEURO"),
        "DISABLED_HF_V28": ("DISABLED", "HF"),
        "DISABLED_CHR_LUNG_V28": ("DISABLED", "CHR_LUNG"),
        "DISABLED_ULCER_V28": ("DISABLED", "ULCER"),
    },
    "V24": {
        "HCC47_gCancer": ("H47", "CANCER"),
        "DIABETES_CHF": ("DIABETES", "CHF"),
        "CHF_gCopdCF": ("CHF", "COPD"),
        "HCC85_gRenal_V24": ("CHF", "RENAL"),
        "gCopdCF_CARD_RESP_FAIL": ("COPD", "CARD_RESP_FAIL"),
        "HCC85_HCC96": ("CHF", "H96"),
        "gSubstanceUseDisorder_gPsych": ("SUBUSE", "PSYCH"),
        "SEPSIS_PRESSURE_ULCER": ("SEPSIS", "PRESSURE_ULCER"),
        "SEPSIS_ARTIF_OPENINGS": ("SEPSIS", "H188"),
        "ART_OPENINGS_PRESS_ULCER": ("H188", "PRESSURE_ULCER"),
        "gCopdCF_ASP_SPEC_B_PNEUM": ("COPD", "H114"),
        "ASP_SPEC_B_PNEUM_PRES_ULC": ("H114", "PRESSURE_ULCER"),
        "SEPSIS_ASP_SPEC_BACT_PNEUM": ("SEPSIS", "H114"),
        "SCHIZOPHRENIA_gCopdCF": ("H57", "COPD"),
        "SCHIZOPHRENIA_CHF": ("H57", "CHF"),
        "SCHIZOPHRENIA_SEIZURES": ("H57", "H79"),
        "DISABLED_HCC85": ("DISABLED", "CHF"),
        "DISABLED_PRESSURE_ULCER": ("DISABLED", "PRESSURE_ULCER"),
        "DISABLED_HCC161": ("DISABLED", "H161"),
        "DISABLED_HCC39": ("DISABLED", "H39"),
        "DISABLED_HCC77": ("DISABLED", "H77"),
        "DISABLED_HCC6": ("DISABLED", "H6"),
    },
}

#: Person-level variables (hccinfhir ``create_demographic_interactions`` and
#: ``create_dual_interactions``) as products of person flags.
DEMOGRAPHIC: Mapping[str, tuple[str, ...]] = {
    "OriginallyDisabled_Female": ("AGED", "ORIGDIS", "FEMALE"),
    "OriginallyDisabled_Male": ("AGED", "ORIGDIS", "MALE"),
    "Originally_ESRD_Female": ("AGED", "OREC_ESRD", "FEMALE"),
    "Originally_ESRD_Male": ("AGED", "OREC_ESRD", "MALE"),
    "MCAID_Female_Aged": ("MCAID", "FEMALE", "AGED"),
    "MCAID_Female_NonAged": ("MCAID", "FEMALE", "NONAGED"),
    "MCAID_Male_Aged": ("MCAID", "MALE", "AGED"),
    "MCAID_Male_NonAged": ("MCAID", "MALE", "NONAGED"),
    "LTI_Aged": ("LTI", "AGED"),
    "LTI_NonAged": ("LTI", "NONAGED"),
    "LTIMCAID": ("LTI", "MCAID"),
    "FBDual_Female_Aged": ("FBD", "FEMALE", "AGED"),
    "FBDual_Female_NonAged": ("FBD", "FEMALE", "NONAGED"),
    "FBDual_Male_Aged": ("FBD", "MALE", "AGED"),
    "FBDual_Male_NonAged": ("FBD", "MALE", "NONAGED"),
    "PBDual_Female_Aged": ("PBD", "FEMALE", "AGED"),
    "PBDual_Female_NonAged": ("PBD", "FEMALE", "NONAGED"),
    "PBDual_Male_Aged": ("PBD", "MALE", "AGED"),
    "PBDual_Male_NonAged": ("PBD", "MALE", "NONAGED"),
}

#: Payment-HCC count variables: D1..D9 (exactly n HCCs after hierarchies) and D10P.
COUNTS: tuple[str, ...] = (*(f"D{i}" for i in range(1, 10)), "D10P")

#: Segments (coefficient prefixes) of the CMS-HCC continuing-enrollee, institutional and
#: new-enrollee models.
SEGMENTS: tuple[str, ...] = ("CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE", "SNPNE")

#: Dual status codes (CMS MMA ``dual_elgbl_cd``; hccinfhir ``constants.py``).
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
MEDICAID = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10")
NE_MEDICAID = ("01", "02", "03", "04", "05", "06", "08")

#: V28 only: CC 223 counts only with another heart-failure CC (CMS ``V28115H1`` note).
V28_HCC223_NEEDS = ("221", "222", "224", "225", "226")
