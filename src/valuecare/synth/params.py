"""Parameters of the synthetic population, each with its public source.

Figures are approximate (rounded, national, recent years) and are documented with their
sources in ``docs/synthetic-data.md``.  Nothing here comes from valuecare's analytics.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- geography
REGIONS = ("northeast", "midwest", "south", "west")
#: Census 2020 resident population shares by region (US Census Bureau).
REGION_SHARE = np.array([0.17, 0.21, 0.38, 0.24])
#: Regional price index applied to every allowed amount (CMS GPCI / HCCI price
#: indices put the Northeast and West above the South and Midwest; approximate).
REGION_PRICE = np.array([1.10, 0.95, 0.93, 1.07])

#: state, region index, population weight within region, ZIP3 range (USPS)
STATES: tuple[tuple[str, int, float, int, int], ...] = (
    ("NY", 0, 19.6, 100, 149), ("PA", 0, 13.0, 150, 196), ("NJ", 0, 9.3, 70, 89),
    ("MA", 0, 7.0, 10, 27), ("CT", 0, 3.6, 60, 69),
    ("IL", 1, 12.6, 600, 629), ("OH", 1, 11.8, 430, 458), ("MI", 1, 10.0, 480, 499),
    ("MN", 1, 5.7, 550, 567), ("WI", 1, 5.9, 530, 549), ("MO", 1, 6.2, 630, 658),
    ("TX", 2, 30.0, 750, 799), ("FL", 2, 22.2, 320, 349), ("GA", 2, 10.9, 300, 319),
    ("NC", 2, 10.7, 270, 289), ("VA", 2, 8.7, 220, 246), ("TN", 2, 7.0, 370, 385),
    ("AL", 2, 5.1, 350, 369), ("LA", 2, 4.6, 700, 714),
    ("CA", 3, 39.0, 900, 961), ("WA", 3, 7.8, 980, 994), ("AZ", 3, 7.4, 850, 865),
    ("CO", 3, 5.9, 800, 816), ("OR", 3, 4.2, 970, 979), ("UT", 3, 3.4, 840, 847),
)

# --------------------------------------------------------------------------- payers
PAYER_TYPES = ("medicare", "medicare advantage", "commercial", "medicaid")
MEDICARE, MA, COMMERCIAL, MEDICAID = 0, 1, 2, 3
#: payer, plan, payer type index, price factor professional, price factor institutional.
#: Commercial prices ~1.4x Medicare for physicians and ~2.2-2.6x for hospitals (RAND
#: hospital price transparency round 5; HCCI); Medicaid ~0.72x Medicare for physician
#: fees (KFF Medicaid-to-Medicare fee index 2019) and ~1.0x for hospitals once
#: supplemental payments are counted (MACPAC hospital payment index).
PAYERS: tuple[tuple[str, str, int, float, float], ...] = (
    ("Medicare", "Medicare Part A/B", MEDICARE, 1.00, 1.00),
    ("Humana", "Humana Gold Plus HMO", MA, 0.98, 0.99),
    ("UnitedHealthcare", "AARP Medicare Advantage PPO", MA, 1.00, 1.02),
    ("Aetna", "Aetna Medicare Eagle PPO", MA, 1.01, 1.00),
    ("Blue Cross Blue Shield", "BlueCard PPO", COMMERCIAL, 1.35, 2.20),
    ("Aetna", "Aetna Open Access Choice POS", COMMERCIAL, 1.45, 2.45),
    ("UnitedHealthcare", "UHC Choice Plus", COMMERCIAL, 1.40, 2.35),
    ("Cigna", "Cigna Open Access Plus", COMMERCIAL, 1.50, 2.55),
    ("State Medicaid", "Medicaid Fee-for-Service", MEDICAID, 0.70, 0.98),
    ("Centene", "Centene Medicaid Managed Care", MEDICAID, 0.74, 1.02),
    ("Molina Healthcare", "Molina Medicaid", MEDICAID, 0.72, 1.0),
)
PAYER_TYPE_OF = np.array([p[2] for p in PAYERS])
PRICE_PROF = np.array([p[3] for p in PAYERS])
PRICE_INST = np.array([p[4] for p in PAYERS])
#: Within-type choice weights of the named payers.
PAYER_WEIGHT = np.array([1.0, 0.45, 0.35, 0.20, 0.35, 0.22, 0.25, 0.18, 0.4, 0.35, 0.25])

#: Baseline line-of-business mix of the population (Medicare-heavy on purpose: the
#: product is aimed at Medicare value-based programs).
PAYER_TYPE_SHARE = np.array([0.34, 0.24, 0.28, 0.14])

#: Patient share of allowed (coinsurance rate) by payer type: Medicare Part B 20%,
#: MA and commercial plans mostly copays/coinsurance (~10-20%), Medicaid nominal.
COINSURANCE = np.array([0.20, 0.08, 0.15, 0.0])
#: Office-visit copay in cents by payer type (KFF EHBS 2023: ~$25-45 PCP copay).
COPAY_CENTS = np.array([0, 2000, 3000, 0])
#: Inpatient deductible in cents (Medicare Part A 2023: $1,600), commercial typical.
INPATIENT_DEDUCTIBLE = np.array([160000, 30000, 150000, 0])

# --------------------------------------------------------------------------- demographics
RACES = ("white", "black or african american", "asian", "american indian or alaska native",
         "native hawaiian or other pacific islander", "other race", "unknown")
#: Census 2020 race shares (single race; 'other' absorbs some other race/multiracial),
#: and shares for Medicaid enrollees (KFF, Medicaid enrollees by race/ethnicity).
RACE_SHARE = np.array([0.66, 0.12, 0.06, 0.01, 0.002, 0.07, 0.078])
RACE_SHARE_MEDICAID = np.array([0.52, 0.22, 0.05, 0.015, 0.003, 0.10, 0.092])
ETHNICITIES = ("hispanic or latino", "not hispanic or latino", "unknown")
HISPANIC_SHARE = {MEDICARE: 0.09, MA: 0.14, COMMERCIAL: 0.16, MEDICAID: 0.29}

#: Social needs prevalence (AHC model screening results, CMS AHC evaluation 2023):
#: food, housing, transportation for non-dual Medicare, commercial, Medicaid/dual.
SOCIAL_NEEDS = {
    "low": np.array([0.06, 0.04, 0.04]),
    "medicare": np.array([0.09, 0.05, 0.07]),
    "medicaid": np.array([0.32, 0.22, 0.18]),
}

#: Annual all-cause mortality: Gompertz fit to the SSA period life table 2020
#: (q ~1.3% at 65, ~3.5% at 75, ~9% at 85); children and young adults floor at 0.05%.
GOMPERTZ_A, GOMPERTZ_B = -10.5, 0.095
HF_MORTALITY_MULT = 2.5

# --------------------------------------------------------------------------- conditions
#: name, ICD-10-CM codes used for members who have it.
CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("diabetes", ("E119", "E1165", "E1140")),
    ("hypertension", ("I10",)),
    ("heart_failure", ("I5022", "I5032", "I5042")),
    ("cad", ("I2510",)),
    ("hip_oa", ("M1611", "M1612", "M160")),
    ("knee_oa", ("M1711", "M1712", "M170")),
    ("depression", ("F329", "F331", "F321")),
    ("ckd", ("N183", "N1830", "N1831")),
    ("copd", ("J449",)),
)
COND = {name: i for i, (name, _) in enumerate(CONDITIONS)}
#: Age bands: 0-17, 18-44, 45-64, 65-74, 75-84, 85+.
AGE_BANDS = np.array([0, 18, 45, 65, 75, 85])
#: Prevalence by age band (CMS Chronic Conditions Data Warehouse 2021 for 65+; CDC
#: NHIS/NHANES and BRFSS for younger adults; approximate).
PREVALENCE = np.array([
    [0.003, 0.04, 0.14, 0.25, 0.28, 0.24],    # diabetes (CDC NDSR 2022; CCW)
    [0.005, 0.12, 0.38, 0.55, 0.65, 0.70],    # hypertension (CDC; CCW ~58%)
    [0.0005, 0.004, 0.02, 0.06, 0.12, 0.20],  # heart failure (CCW ~11% of FFS)
    [0.0, 0.01, 0.06, 0.19, 0.27, 0.31],      # ischemic heart disease (CCW ~25%)
    [0.0, 0.004, 0.025, 0.06, 0.08, 0.09],    # hip osteoarthritis
    [0.0, 0.015, 0.07, 0.13, 0.16, 0.16],     # knee osteoarthritis (CDC arthritis)
    [0.03, 0.09, 0.10, 0.13, 0.14, 0.13],     # depression (CCW ~17% any; NSDUH adults)
    [0.001, 0.01, 0.04, 0.12, 0.20, 0.28],    # chronic kidney disease (CCW ~20%)
    [0.0, 0.01, 0.05, 0.10, 0.12, 0.12],      # COPD (CCW ~11%)
])
#: Medicaid / dual members carry more chronic disease (CMS dual eligible chartbook).
MEDICAID_COND_MULT = np.array([1.3, 1.1, 1.4, 1.1, 1.1, 1.1, 1.6, 1.3, 1.5])

#: HCC-relevant codes upcoders add to members who lack the condition, with the
#: condition index that would make them supported.
UPCODE_CODES = (("E1122", COND["diabetes"]), ("I509", COND["heart_failure"]),
                ("N184", COND["ckd"]))
UPCODER_SHARE = 0.08
UPCODE_PROB = 0.35       # share of an upcoder's E/M claims that carry an added code
LOW_VALUE_SHARE = 0.15
#: P(lumbar imaging within 6 weeks of a new low back pain visit): ~25% of LBP visits are
#: imaged in US practice (Mafi 2013 JAMA IM), far more by planted low-value orderers.
LBP_IMAGING_P = (0.12, 0.65)
LBP_RULE = "imaging for low back pain within 6 weeks"
