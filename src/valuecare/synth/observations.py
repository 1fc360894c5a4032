"""Observations: vitals, labs, PHQ-9, PROMs (item answers and raw sums), social needs.

PROM instruments and item counts are the published ones: HOOS JR 6 items and KOOS JR
7 items scored 0 (none) to 4 (extreme) (Lyman 2016; HSS); PROMIS Global-10 (v1.2) ten
items, Global07 pain 0-10 and the other nine 1-5, with Global08 (fatigue) and Global10
(emotional problems) reverse-worded.  We store **raw sums only** (clearly labelled
``*.RAW``); interval / T-score conversion tables are not reproduced here.  PROMIS raw
physical (GPH: Global03, Global06, recoded Global07, reversed Global08) and mental (GMH:
Global02, Global04, Global05, reversed Global10) sums follow Hays 2009.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from valuecare.model.schema import OBSERVATION
from valuecare.model.types import arrow_schema
from valuecare.synth import params as P
from valuecare.synth.config import DATA_SOURCE
from valuecare.synth.context import Context
from valuecare.synth.util import date_array, prefixed_ids, str_array

PROM_RESPONSE_BASELINE = 0.9
PROM_RESPONSE_FOLLOWUP = 0.7   # ~30% non-response at one year (AJRR PROM reports)

_SOCIAL = (("88122-7", "Within the past 12 months we worried whether our food would run out "
            "before we got money to buy more"),
           ("71802-3", "Housing status"),
           ("93030-5", "Has lack of transportation kept you from medical appointments, "
            "meetings, work, or from getting things needed for daily living"))


class _Rows:
    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, person: np.ndarray, day: np.ndarray, enc: np.ndarray, panel: Any,
            otype: str, ctype: str, code: Any, desc: Any, value: np.ndarray, units: Any,
            fmt: str = "%d") -> None:
        n = len(person)
        if n == 0:
            return

        def full(v: Any) -> np.ndarray:
            return v if isinstance(v, np.ndarray) else np.full(n, v, dtype=object)

        text = np.char.mod(fmt, value).astype(object) if value.dtype != object else value
        num = value.astype(np.float64) if value.dtype != object else np.full(n, np.nan)
        self.parts.append({"person": person, "day": day, "enc": full(enc), "panel": full(panel),
                           "type": full(otype), "ctype": full(ctype), "code": full(code),
                           "desc": full(desc), "result": text, "num": num,
                           "units": full(units)})


def _prom_block(rows: _Rows, rng: np.random.Generator, person: np.ndarray, day: np.ndarray,
                enc: np.ndarray, panel: str, n_items: int, severity: np.ndarray,
                health: np.ndarray) -> None:
    """Item answers and raw sums of a JR instrument (0-4, higher worse) and PROMIS-10."""
    n = len(person)
    items = np.clip(np.rint(severity[:, None] + rng.normal(0, 0.6, (n, n_items))), 0, 4)
    items = items.astype(np.int64)
    for j in range(n_items):
        rows.add(person, day, enc, panel, "prom_item", "prom", f"{panel}.{j + 1}",
                 f"{panel} item {j + 1} (0 none - 4 extreme)", items[:, j], None)
    rows.add(person, day, enc, panel, "prom_score", "prom", f"{panel}.RAW",
             f"{panel} raw sum of {n_items} items (0-{4 * n_items}, higher = worse); "
             "not the interval score", items.sum(axis=1), None)
    g = np.clip(np.rint(1 + 4 * health[:, None] + rng.normal(0, 0.6, (n, 10))), 1, 5)
    g = g.astype(np.int64)
    g[:, 7] = 6 - g[:, 7]   # Global08 fatigue (reverse-worded)
    g[:, 9] = 6 - g[:, 9]   # Global10 emotional problems (reverse-worded)
    pain = np.clip(np.rint(10 * (1 - health) + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64)
    g[:, 6] = pain
    for j in range(10):
        scale = "0-10" if j == 6 else "1-5"
        rows.add(person, day, enc, "PROMIS10", "prom_item", "prom", f"PROMIS10.Global{j + 1:02d}",
                 f"PROMIS Global-10 item Global{j + 1:02d} ({scale})", g[:, j], None)
    pain_rc = np.select([pain == 0, pain <= 3, pain <= 6, pain <= 9], [5, 4, 3, 2], 1)
    gph = g[:, 2] + g[:, 5] + pain_rc + (6 - g[:, 7])
    gmh = g[:, 1] + g[:, 3] + g[:, 4] + (6 - g[:, 9])
    rows.add(person, day, enc, "PROMIS10", "prom_score", "prom", "PROMIS10.GPH_RAW",
             "PROMIS-10 global physical health raw sum (4-20); not the T-score", gph, None)
    rows.add(person, day, enc, "PROMIS10", "prom_score", "prom", "PROMIS10.GMH_RAW",
             "PROMIS-10 global mental health raw sum (4-20); not the T-score", gmh, None)


def observation_table(ctx: Context, claim_id_of_seq: np.ndarray, person_ids: pa.Array
                      ) -> pa.Table:
    m, rng = ctx.m, ctx.rng
    rows = _Rows()

    def linked(req: dict[str, Any], seq_key: str = "seq") -> np.ndarray:
        return claim_id_of_seq[req[seq_key]]

    for req in ctx.obs:
        kind = req["kind"]
        if kind == "bp":
            enc = linked(req)
            ok = enc != None  # noqa: E711
            p, d, e = req["person"][ok], req["day"][ok], enc[ok]
            htn = m.cond[p, P.COND["hypertension"]]
            sys = np.rint(rng.normal(np.where(htn, 138, 124), 14)).clip(85, 220)
            dia = np.rint(rng.normal(np.where(htn, 82, 77), 9)).clip(45, 130)
            rows.add(p, d, e, None, "vital", "loinc", "8480-6", "Systolic blood pressure",
                     sys.astype(np.int64), "mm[Hg]")
            rows.add(p, d, e, None, "vital", "loinc", "8462-4", "Diastolic blood pressure",
                     dia.astype(np.int64), "mm[Hg]")
        elif kind in ("a1c", "a1c_screen"):
            enc = linked(req)
            ok = enc != None  # noqa: E711
            p, d, e = req["person"][ok], req["day"][ok], enc[ok]
            if kind == "a1c":
                mean = 7.3 + 0.8 * req["insulin"][ok]
                v = rng.normal(mean, 1.2).clip(5.0, 14.0)
            else:
                v = rng.normal(5.5, 0.35, len(p)).clip(4.2, 6.4)
            rows.add(p, d, e, None, "lab", "loinc", "4548-4",
                     "Hemoglobin A1c/Hemoglobin.total in Blood", np.round(v, 1), "%", "%.1f")
        elif kind == "phq9":
            enc = linked(req)
            ok = enc != None  # noqa: E711
            p, d, e = req["person"][ok], req["day"][ok], enc[ok]
            v = np.rint(rng.normal(11, 5, len(p))).clip(0, 27).astype(np.int64)
            rows.add(p, d, e, "PHQ9", "prom_score", "loinc", "44261-6",
                     "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]", v,
                     "{score}")
        elif kind.startswith("prom_"):
            panel, k = ("HOOS_JR", 6) if kind == "prom_hip" else ("KOOS_JR", 7)
            n = len(req["person"])
            sev0 = rng.normal(2.6, 0.45, n)
            h0 = rng.normal(0.42, 0.12, n).clip(0.05, 0.95)
            gain = rng.normal(1.7, 0.45, n) * req["quality"] - 0.8 * req["complication"]
            sev1 = sev0 - gain
            h1 = (h0 + 0.18 * req["quality"] - 0.12 * req["complication"]
                  + rng.normal(0, 0.05, n)).clip(0.02, 0.98)
            for sk, dk, resp, sev, h in (("pre_seq", "pre_day", PROM_RESPONSE_BASELINE,
                                          sev0, h0),
                                         ("fu_seq", "fu_day", PROM_RESPONSE_FOLLOWUP,
                                          sev1, h1)):
                enc = linked(req, sk)
                ok = (enc != None) & (rng.random(n) < resp)  # noqa: E711
                _prom_block(rows, rng, req["person"][ok], req[dk][ok], enc[ok], panel, k,
                            sev[ok], h[ok])

    # social needs screening: ~30% of members a year (AHC HRSN screening tool)
    p, d = ctx.events(np.full((m.n, ctx.years), 0.3))
    ok = ctx.alive_covered(p, d)
    p, d = p[ok], d[ok]
    for j, (code, desc) in enumerate(_SOCIAL):
        positive = m.social[p, j]
        rows.add(p, d, np.full(len(p), None, object), "AHC_HRSN", "screening", "loinc", code,
                 desc, np.where(positive, "yes", "no").astype(object), None)

    parts = rows.parts
    cat = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]} if parts else {}
    n = len(cat.get("person", []))
    schema = arrow_schema(OBSERVATION)
    if n == 0:
        return schema.empty_table()
    num = cat["num"]
    cols = {
        "observation_id": prefixed_ids("O", ctx.chunk * 1_000_000_000 + np.arange(n), 14),
        "person_id": person_ids.take(pa.array(cat["person"].astype(np.int64))),
        "encounter_id": str_array(cat["enc"]),
        "panel_id": str_array(cat["panel"]),
        "observation_date": date_array(cat["day"]),
        "observation_type": str_array(cat["type"]),
        "source_code_type": str_array(cat["ctype"]),
        "source_code": str_array(cat["code"]),
        "source_description": str_array(cat["desc"]),
        "result": str_array(cat["result"]),
        "result_numeric": pa.array(num, pa.float64(), mask=np.isnan(num)),
        "source_units": str_array(cat["units"]),
        "data_source": str_array(np.full(n, DATA_SOURCE, dtype=object)),
        "file_name": pa.nulls(n, pa.string()),
    }
    return pa.table([cols[f.name] for f in schema], schema=schema)
