"""PROM scoring, baseline/follow-up pairing and response rates (valuecare.outcomes.proms).

Expected scores are typed here from the published tables, not read from the package:
HOOS, JR and KOOS, JR interval scores from the HSS scoring instructions (Lyman et al., Clin
Orthop Relat Res 2016); PROMIS-10 T-scores from Hays et al., Qual Life Res 2009 / the
PROMIS Global Health scoring manual.  Windows and thresholds are those of the CMS THA/TKA
PRO-PM (CBE #3559): baseline 90-0 days before surgery, follow-up 300-425 days after, and
substantial clinical benefit 22 (HOOS, JR) / 20 (KOOS, JR) points.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import spark_available
from valuecare.model.schema import OBSERVATION
from valuecare.model.types import arrow_schema
from valuecare.outcomes.proms import (
    PromDefinitionError,
    PromRules,
    load_prom_rules,
    parse_instrument,
    prom_change,
    response_rates,
    score_items,
)

D0 = date(2023, 5, 20)
SURG = date(2023, 6, 1)       # anchor_start_date of the pairing cycles
DIS = date(2023, 6, 3)        # anchor_end_date (discharge)
AS_OF = date(2025, 1, 1)

# Published conversion values at selected raw scores (typed from the tables).
HOOS = {0: 100.0, 1: 92.34, 6: 70.426, 11: 55.985, 12: 52.965, 18: 32.735, 23: 8.104,
        24: 0.0}
KOOS = {0: 100.0, 2: 84.6, 7: 68.284, 14: 52.465, 15: 50.012, 21: 34.174, 27: 8.291,
        28: 0.0}
GPH = {4: 16.2, 9: 32.4, 12: 39.8, 16: 50.8, 20: 67.7}
GMH = {4: 21.2, 7: 31.3, 10: 38.8, 15: 50.8, 20: 67.6}
#: A Global07 pain answer (0-10) giving each recoded point value (inverse of 0->5,
#: 1-3->4, 4-6->3, 7-9->2, 10->1).
PAIN_FOR_POINTS = {5: 0, 4: 2, 3: 5, 2: 8, 1: 10}


class Obs:
    """Canonical ``observation`` rows; ``observation_id`` grows in insertion order."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, person: str, code: str, value: float | None, *, day: date = D0,
            enc: str | None = "E1", otype: str = "prom_item") -> None:
        self.rows.append({
            "observation_id": f"O{len(self.rows):06d}", "person_id": person,
            "encounter_id": enc, "panel_id": code.split(".")[0], "observation_date": day,
            "observation_type": otype, "source_code_type": "prom", "source_code": code,
            "result": None if value is None else str(value), "result_numeric": value,
            "data_source": "test"})

    def jr(self, person: str, instrument: str, values: list[float | None], **kw: Any) -> None:
        for j, v in enumerate(values, start=1):
            self.add(person, f"{instrument}.{j}", v, **kw)

    def promis(self, person: str, answers: dict[int, float | None], **kw: Any) -> None:
        for j, v in sorted(answers.items()):
            self.add(person, f"PROMIS10.Global{j:02d}", v, **kw)

    def table(self) -> ibis.Table:
        schema = arrow_schema(OBSERVATION)
        cols = {f.name: pa.array([r.get(f.name) for r in self.rows], f.type) for f in schema}
        return ibis.memtable(pa.table(cols, schema=schema))


def spread(raw: int, n: int, top: int = 4) -> list[int]:
    """``n`` answers 0..top summing to ``raw`` (fill the first items first)."""
    return [min(top, max(0, raw - top * i)) for i in range(n)]


def gph_answers(raw: int) -> dict[int, int]:
    """PROMIS-10 answers whose GPH raw sum is ``raw``; GMH items all 3 (GMH raw 12)."""
    p = [1 + x for x in spread(raw - 4, 4)]
    return {1: 3, 2: 3, 3: p[0], 4: 3, 5: 3, 6: p[1], 7: PAIN_FOR_POINTS[p[2]],
            8: 6 - p[3], 9: 3, 10: 3}


def gmh_answers(raw: int) -> dict[int, int]:
    """PROMIS-10 answers whose GMH raw sum is ``raw``; GPH = 3 + 3 + 3 + 3 (raw 12)."""
    p = [1 + x for x in spread(raw - 4, 4)]
    return {1: 3, 2: p[0], 3: 3, 4: p[1], 5: p[2], 6: 3, 7: 5, 8: 3, 9: 3, 10: 6 - p[3]}


def scoring_obs() -> Obs:
    o = Obs()
    for raw in HOOS:
        o.jr(f"H{raw}", "HOOS_JR", spread(raw, 6), enc=f"EH{raw}")
    for raw in KOOS:
        o.jr(f"K{raw}", "KOOS_JR", spread(raw, 7), enc=f"EK{raw}")
    for raw in GPH:
        o.promis(f"G{raw}", gph_answers(raw))
    for raw in GMH:
        o.promis(f"M{raw}", gmh_answers(raw))
    # worked example (see test_promis10_worked_example)
    o.promis("W", {1: 3, 2: 4, 3: 3, 4: 2, 5: 4, 6: 4, 7: 5, 8: 2, 9: 3, 10: 3})
    for pain in (0, 1, 3, 4, 6, 7, 9, 10):
        o.promis(f"PAIN{pain}", {1: 1, 2: 3, 3: 1, 4: 3, 5: 3, 6: 1, 7: pain, 8: 5, 9: 1,
                                 10: 3})
    o.jr("INC5", "HOOS_JR", [1, 1, 1, 1, 1])                   # item 6 never sent
    o.jr("NULL3", "KOOS_JR", [1, 1, None, 1, 1, 1, 1])          # item 3 sent empty
    o.jr("BAD5", "HOOS_JR", [5, 0, 0, 0, 0, 0])                 # 5 is not an answer
    o.jr("BADFRAC", "HOOS_JR", [2.5, 0, 0, 0, 0, 0])
    o.jr("BADNEG", "KOOS_JR", [-1, 0, 0, 0, 0, 0, 0])
    o.jr("BADINC", "HOOS_JR", [9, 0, 0])                       # invalid and incomplete
    part = gph_answers(12)
    del part[10]
    o.promis("PART", part)                                      # GMH misses Global10
    o.promis("BADPAIN", {**gph_answers(12), 7: 11})             # pain 11 is not 0-10
    o.promis("ONLY1", {1: 3})                                   # in neither scale
    # duplicates: an earlier-loaded HOOS_JR.2 = 4 and a later-loaded HOOS_JR.1 = 4
    o.add("DUP", "HOOS_JR.2", 4)
    o.jr("DUP", "HOOS_JR", [1, 1, 1, 1, 1, 1])
    o.add("DUP", "HOOS_JR.1", 4)
    # same person and day, two encounters: E1 and none
    o.jr("ENC", "HOOS_JR", [0] * 6, enc="E1")
    o.jr("ENC", "HOOS_JR", [4] * 6, enc=None)
    o.jr("ENC", "HOOS_JR", [2] * 6, enc=None, day=D0 + timedelta(days=1))
    # rows that must be ignored: generator raw sums, a prom_score row with an item code,
    # a lab
    o.jr("RAWROW", "HOOS_JR", [2] * 6)
    o.add("RAWROW", "HOOS_JR.RAW", 99, otype="prom_score")
    o.add("RAWROW", "HOOS_JR.1", 4, otype="prom_score")
    o.add("RAWROW", "4548-4", 7.1, otype="lab")
    return o


@pytest.fixture(scope="module")
def duck() -> Any:
    return ibis.duckdb.connect()


@pytest.fixture(scope="module")
def scored(duck: Any) -> pd.DataFrame:
    return duck.execute(score_items(scoring_obs().table()))


def one(df: pd.DataFrame, person: str, scale: str, enc: str | None = "E1",
        day: date = D0) -> pd.Series:
    enc_ok = df.encounter_id.isna() if enc is None else df.encounter_id == enc
    hit = df[(df.person_id == person) & (df.scale == scale) & enc_ok
             & (pd.to_datetime(df.observation_date) == pd.Timestamp(day))]
    assert len(hit) == 1, hit
    return hit.iloc[0]


# ---- conversion tables ------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", sorted(HOOS.items()))
def test_hoos_jr_interval_score(scored: pd.DataFrame, raw: int, expected: float) -> None:
    """HSS HOOS, JR table: raw summed score -> interval score (Lyman 2016)."""
    r = one(scored, f"H{raw}", "HOOS_JR", enc=f"EH{raw}")
    assert (r.status, r.items_expected, r.items_answered) == ("scored", 6, 6)
    assert (r.raw_score, r.score) == (raw, expected)


@pytest.mark.parametrize("raw,expected", sorted(KOOS.items()))
def test_koos_jr_interval_score(scored: pd.DataFrame, raw: int, expected: float) -> None:
    """HSS KOOS, JR table: raw summed score -> interval score (Lyman 2016)."""
    r = one(scored, f"K{raw}", "KOOS_JR", enc=f"EK{raw}")
    assert (r.status, r.items_expected, r.items_answered) == ("scored", 7, 7)
    assert (r.raw_score, r.score) == (raw, expected)


@pytest.mark.parametrize("scale,prefix,table", [("PROMIS10_GPH", "G", GPH),
                                                ("PROMIS10_GMH", "M", GMH)])
def test_promis10_t_scores(scored: pd.DataFrame, scale: str, prefix: str,
                           table: dict[int, float]) -> None:
    """Hays 2009 raw-to-T tables at several raw sums, each from its own assessment."""
    got = {raw: tuple(one(scored, f"{prefix}{raw}", scale)[["raw_score", "score"]])
           for raw in table}
    assert got == {raw: (raw, t) for raw, t in table.items()}


def test_promis10_worked_example(scored: pd.DataFrame) -> None:
    """Answers Global01..10 = 3, 4, 3, 2, 4, 4, 5 (pain), 2 (fatigue), 3, 3 (emotional).

    GPH raw = Global03 3 + Global06 4 + pain 5 recoded (4-6 -> 3) + (6 - fatigue 2 = 4) = 14
    -> T 44.9.  GMH raw = Global02 4 + Global04 2 + Global05 4 + (6 - emotional 3 = 3) = 13
    -> T 45.8.  Global01 and Global09 are in neither scale.
    """
    gph, gmh = one(scored, "W", "PROMIS10_GPH"), one(scored, "W", "PROMIS10_GMH")
    assert (gph.raw_score, gph.score, gph.items_expected) == (14, 44.9, 4)
    assert (gmh.raw_score, gmh.score, gmh.items_expected) == (13, 45.8, 4)


@pytest.mark.parametrize("pain,points,t", [(0, 5, 29.6), (1, 4, 26.7), (3, 4, 26.7),
                                           (4, 3, 23.5), (6, 3, 23.5), (7, 2, 19.9),
                                           (9, 2, 19.9), (10, 1, 16.2)])
def test_promis10_pain_recode(scored: pd.DataFrame, pain: int, points: int, t: float) -> None:
    """Global07 0->5, 1-3->4, 4-6->3, 7-9->2, 10->1; GPH = 1 + 1 + points + (6 - 5)."""
    r = one(scored, f"PAIN{pain}", "PROMIS10_GPH")
    assert (r.raw_score, r.score) == (3 + points, t)


# ---- incomplete, invalid, duplicates, grouping -----------------------------------------

@pytest.mark.parametrize("person,scale,answered,expected,status", [
    ("INC5", "HOOS_JR", 5, 6, "incomplete"),
    ("NULL3", "KOOS_JR", 6, 7, "incomplete"),
    ("BAD5", "HOOS_JR", 6, 6, "invalid"),
    ("BADFRAC", "HOOS_JR", 6, 6, "invalid"),
    ("BADNEG", "KOOS_JR", 7, 7, "invalid"),
    ("BADINC", "HOOS_JR", 3, 6, "invalid"),
    ("PART", "PROMIS10_GMH", 3, 4, "incomplete"),
    ("BADPAIN", "PROMIS10_GPH", 4, 4, "invalid"),
    ("ONLY1", "PROMIS10_GPH", 0, 4, "incomplete"),
    ("ONLY1", "PROMIS10_GMH", 0, 4, "incomplete"),
])
def test_unscorable_assessments(scored: pd.DataFrame, person: str, scale: str,
                                answered: int, expected: int, status: str) -> None:
    """No imputation (the published tables have none); bad answers are invalid."""
    r = one(scored, person, scale)
    assert (r.items_answered, r.items_expected, r.status) == (answered, expected, status)
    assert pd.isna(r.raw_score) and pd.isna(r.score)


def test_other_scale_of_the_assessment_still_scored(scored: pd.DataFrame) -> None:
    """PART misses only a GMH item and BADPAIN has a bad pain answer: GPH 12 / GMH 12."""
    assert tuple(one(scored, "PART", "PROMIS10_GPH")[["status", "score"]]) == ("scored", 39.8)
    assert tuple(one(scored, "BADPAIN", "PROMIS10_GMH")[["status", "score"]]) == (
        "scored", 43.5)


def test_duplicate_item_answers_take_the_latest_loaded(scored: pd.DataFrame) -> None:
    """HOOS_JR.1 answered 1 then 4 (later id wins), HOOS_JR.2 answered 4 then 1:
    raw = 4 + 1 + 1 + 1 + 1 + 1 = 9 -> 61.815."""
    r = one(scored, "DUP", "HOOS_JR")
    assert (r.items_answered, r.raw_score, r.score) == (6, 9, 61.815)


def test_null_encounter_is_its_own_assessment(scored: pd.DataFrame) -> None:
    """Same person and day: E1 all 0 (100.0) and no encounter all 4 (0.0); next day 52.965."""
    assert one(scored, "ENC", "HOOS_JR", enc="E1").score == 100.0
    assert one(scored, "ENC", "HOOS_JR", enc=None).score == 0.0
    assert one(scored, "ENC", "HOOS_JR", enc=None, day=D0 + timedelta(days=1)).score == 52.965
    assert len(scored[scored.person_id == "ENC"]) == 3


def test_prom_score_and_other_rows_are_ignored(scored: pd.DataFrame) -> None:
    """Only prom_item rows count: raw 12 -> 52.965 despite a RAW row and a mislabelled one."""
    rows = scored[scored.person_id == "RAWROW"]
    assert list(rows.scale) == ["HOOS_JR"]
    assert (rows.iloc[0].raw_score, rows.iloc[0].score) == (12, 52.965)


def test_score_columns_and_types(scored: pd.DataFrame, duck: Any) -> None:
    expr = score_items(scoring_obs().table())
    assert list(expr.columns) == [
        "person_id", "instrument", "scale", "observation_date", "encounter_id",
        "items_expected", "items_answered", "raw_score", "score", "status"]
    assert str(expr.schema()["score"]) == "float64"
    assert set(scored.status) == {"scored", "incomplete", "invalid"}


# ---- scoring rules as data --------------------------------------------------------------

def test_packaged_rules_have_full_tables_sources_and_thresholds() -> None:
    rules = load_prom_rules()
    sizes = {s.id: len(s.conversion.table) for i in rules.instruments for s in i.scales}
    assert sizes == {"HOOS_JR": 25, "KOOS_JR": 29, "PROMIS10_GPH": 17, "PROMIS10_GMH": 17}
    assert {s: rules.scale(s).mcid.value for s in sizes} == {
        "HOOS_JR": 22, "KOOS_JR": 20, "PROMIS10_GPH": 5, "PROMIS10_GMH": 5}
    for ins in rules.instruments:
        assert ins.sources
        for s in ins.scales:
            assert s.higher_is_better
            assert s.conversion.verification.tag in ("V", "T", "M")
            assert s.mcid.source and s.mcid.verification.tag in ("V", "T", "M")


TINY = """
instrument: TINY
name: A two-item test instrument
version: "1"
missing_items: all items required
sources: [{citation: this test}]
items:
  - {code: TINY.1, text: first, min: 0, max: 1}
  - {code: TINY.2, text: second, min: 1, max: 3}
scales:
  - id: TINY_S
    name: tiny scale
    items: [{code: TINY.1}, {code: TINY.2, scoring: reverse}]
    score_min: 0
    score_max: 100
    higher_is_better: false
    conversion:
      method: sum
      decimals: 1
      source: this test
      verification: {tag: M, checked_against: nothing}
      table: {1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0}
    mcid:
      value: 10
      kind: minimal_important_difference
      source: this test
      verification: {tag: M, checked_against: nothing}
"""


def test_rules_handed_in_as_data(duck: Any) -> None:
    """TINY.1 = 1 and TINY.2 = 1 reversed (1 + 3 - 1 = 3): raw 4 -> 40.0."""
    rules = PromRules(instruments=(parse_instrument(TINY, "tiny.yaml"),))
    o = Obs()
    o.add("P", "TINY.1", 1)
    o.add("P", "TINY.2", 1)
    r = duck.execute(score_items(o.table(), rules=rules)).iloc[0]
    assert (r.scale, r.raw_score, r.score) == ("TINY_S", 4, 40.0)


@pytest.mark.parametrize("old,new,message", [
    ("4: 40.0}", "}", "one row per raw score"),
    ("3: 30.0, 4: 40.0", "3: 50.0, 4: 40.0", "strictly monotone"),
    ("4: 40.0}", "4: 40.05}", "decimals"),
    ("{code: TINY.2, scoring: reverse}", "{code: TINY.2, scoring: recode, recode: {1: 3}}",
     "recode must map each answer"),
    ("{code: TINY.2, scoring: reverse}", "{code: TINY.3}", "unknown item TINY.3"),
    ("kind: minimal_important_difference", "kind: vibes", "mcid.kind"),
])
def test_invalid_definitions_say_what_and_where(old: str, new: str, message: str) -> None:
    assert old in TINY
    with pytest.raises(PromDefinitionError, match="tiny.yaml") as err:
        parse_instrument(TINY.replace(old, new), "tiny.yaml")
    assert message in str(err.value)


# ---- pairing baseline and follow-up ------------------------------------------------------

def scores_table(rows: list[tuple[Any, ...]]) -> ibis.Table:
    """Rows ``(person, scale, day, score, encounter, status)`` in score_items' shape."""
    inst = {"HOOS_JR": "HOOS_JR", "KOOS_JR": "KOOS_JR", "PROMIS10_GPH": "PROMIS10"}
    cols: dict[str, list[Any]] = {k: [] for k in (
        "person_id", "instrument", "scale", "observation_date", "encounter_id",
        "items_expected", "items_answered", "raw_score", "score", "status")}
    for person, scale, day, score, enc, status in rows:
        for k, v in zip(cols, (person, inst[scale], scale, day, enc, 6, 6, None, score,
                               status), strict=True):
            cols[k].append(v)
    types = {"observation_date": pa.date32(), "items_expected": pa.int64(),
             "items_answered": pa.int64(), "raw_score": pa.int64(), "score": pa.float64()}
    return ibis.memtable(pa.table({k: pa.array(v, types.get(k, pa.string()))
                                   for k, v in cols.items()}))


def cycles_table(rows: list[tuple[str, date, date]]) -> ibis.Table:
    """Rows ``(cycle, anchor_start, anchor_end)``; the person is named like the cycle."""
    return ibis.memtable(pa.table({
        "cycle_id": pa.array([r[0] for r in rows], pa.string()),
        "person_id": pa.array([r[0] for r in rows], pa.string()),
        "anchor_start_date": pa.array([r[1] for r in rows], pa.date32()),
        "anchor_end_date": pa.array([r[2] for r in rows], pa.date32()),
        "start_date": pa.array([r[1] - timedelta(days=90) for r in rows], pa.date32()),
        "end_date": pa.array([r[2] + timedelta(days=90) for r in rows], pa.date32()),
    }))


def b(days: int) -> date:
    return SURG + timedelta(days=days)


def f(days: int) -> date:
    return DIS + timedelta(days=days)


RECENT = date(2024, 12, 1)                      # follow-up window closes 2026: not due
CLOSES = AS_OF - timedelta(days=425)            # follow-up window closes on AS_OF itself
PAIR_SCORES = [
    ("b90", "HOOS_JR", b(-90), 46.652, "E1", "scored"), ("b90", "HOOS_JR", f(362), 70.426,
                                                         "E2", "scored"),
    ("b91", "HOOS_JR", b(-91), 46.652, "E1", "scored"), ("b91", "HOOS_JR", f(362), 70.426,
                                                         "E2", "scored"),
    ("b0", "HOOS_JR", b(0), 49.858, "E1", "scored"), ("b0", "HOOS_JR", b(1), 0.0, "E3",
                                                      "scored"),
    ("b0", "HOOS_JR", f(362), 70.426, "E2", "scored"),
    ("f300", "HOOS_JR", b(-10), 46.652, None, "scored"), ("f300", "HOOS_JR", f(300), 92.34,
                                                          None, "scored"),
    ("f299", "HOOS_JR", b(-10), 46.652, None, "scored"), ("f299", "HOOS_JR", f(299), 92.34,
                                                          None, "scored"),
    ("f425", "HOOS_JR", b(-10), 46.652, None, "scored"), ("f425", "HOOS_JR", f(425), 92.34,
                                                          None, "scored"),
    ("f426", "HOOS_JR", b(-10), 46.652, None, "scored"), ("f426", "HOOS_JR", f(426), 92.34,
                                                          None, "scored"),
    # closest: baseline -1 beats -5 and -60; follow-up 310 (52.5 from 362.5) beats 420
    ("close", "HOOS_JR", b(-60), 0.0, "E1", "scored"), ("close", "HOOS_JR", b(-5), 8.104,
                                                        "E1", "scored"),
    ("close", "HOOS_JR", b(-1), 15.633, "E1", "scored"),
    ("close", "HOOS_JR", f(310), 58.93, "E1", "scored"), ("close", "HOOS_JR", f(420), 100.0,
                                                          "E1", "scored"),
    # ties: follow-up 362 and 363 are both 0.5 from 362.5 -> earlier; baseline same day,
    # encounters EA and EB -> greater encounter id
    ("tie", "HOOS_JR", b(-5), 20.805, "EA", "scored"), ("tie", "HOOS_JR", b(-5), 25.103,
                                                        "EB", "scored"),
    ("tie", "HOOS_JR", f(362), 64.664, "E1", "scored"), ("tie", "HOOS_JR", f(363), 67.516,
                                                         "E1", "scored"),
    ("fuonly", "HOOS_JR", f(400), 92.34, "E1", "scored"),
    ("incfu", "HOOS_JR", b(-3), 46.652, "E1", "scored"),
    ("incfu", "HOOS_JR", f(362), None, "E1", "incomplete"),
    ("other", "KOOS_JR", b(-3), 50.012, "E1", "scored"),
    ("other", "KOOS_JR", f(362), 84.6, "E1", "scored"),
    ("notdue", "HOOS_JR", RECENT - timedelta(days=5), 46.652, "E1", "scored"),
    ("closes", "HOOS_JR", CLOSES - timedelta(days=30), 46.652, "E1", "scored"),
]
PAIR_CYCLES = [(c, SURG, DIS) for c in ("b90", "b91", "b0", "f300", "f299", "f425", "f426",
                                        "close", "tie", "fuonly", "incfu", "other", "none")]
PAIR_CYCLES += [("notdue", RECENT, RECENT + timedelta(days=2)),
                ("notdue_none", RECENT, RECENT + timedelta(days=2)),
                ("closes", CLOSES - timedelta(days=2), CLOSES)]


@pytest.fixture(scope="module")
def paired(duck: Any) -> pd.DataFrame:
    ch = prom_change(scores_table(PAIR_SCORES), cycles_table(PAIR_CYCLES),
                     instrument="HOOS_JR", scale="HOOS_JR", as_of=AS_OF)
    return duck.execute(ch).set_index("cycle_id")


def test_every_cycle_keeps_one_row(paired: pd.DataFrame) -> None:
    assert sorted(paired.index) == sorted(c for c, *_ in PAIR_CYCLES)
    assert list(paired.columns) == [
        "person_id", "instrument", "scale", "baseline_date", "baseline_score",
        "followup_date", "followup_score", "change", "mcid_reached", "status"]


@pytest.mark.parametrize("cycle,status", [
    ("b90", "measured"), ("b91", "missing_baseline"), ("b0", "measured"),
    ("f300", "measured"), ("f299", "missing_followup"), ("f425", "measured"),
    ("f426", "missing_followup"), ("fuonly", "missing_baseline"),
    ("incfu", "missing_followup"), ("other", "missing_both"), ("none", "missing_both"),
    ("notdue", "not_due"), ("notdue_none", "not_due"), ("closes", "missing_followup"),
])
def test_status(paired: pd.DataFrame, cycle: str, status: str) -> None:
    """Baseline day -90 in, -91 out, 0 in, +1 out; follow-up 300 in, 299 out, 425 in,
    426 out; the window closing on as_of is closed (missing), after it not due."""
    assert paired.loc[cycle, "status"] == status


@pytest.mark.parametrize("cycle,bdate,bscore,fdate,fscore", [
    ("b90", b(-90), 46.652, f(362), 70.426),
    ("b0", b(0), 49.858, f(362), 70.426),
    ("f300", b(-10), 46.652, f(300), 92.34),
    ("f425", b(-10), 46.652, f(425), 92.34),
    ("close", b(-1), 15.633, f(310), 58.93),
    ("tie", b(-5), 25.103, f(362), 64.664),
])
def test_closest_assessments_are_paired(paired: pd.DataFrame, cycle: str, bdate: date,
                                        bscore: float, fdate: date, fscore: float) -> None:
    r = paired.loc[cycle]
    assert (pd.Timestamp(r.baseline_date), r.baseline_score) == (pd.Timestamp(bdate), bscore)
    assert (pd.Timestamp(r.followup_date), r.followup_score) == (pd.Timestamp(fdate), fscore)


@pytest.mark.parametrize("cycle,change,reached", [
    ("b90", 23.774, True),     # 70.426 - 46.652 >= 22 (CMS SCB, HOOS, JR)
    ("b0", 20.568, False),     # 70.426 - 49.858 < 22
    ("close", 43.297, True),   # 58.930 - 15.633
    ("tie", 39.561, True),     # 64.664 - 25.103
])
def test_change_and_threshold(paired: pd.DataFrame, cycle: str, change: float,
                              reached: bool) -> None:
    assert paired.loc[cycle, "change"] == change
    assert bool(paired.loc[cycle, "mcid_reached"]) is reached


def test_no_change_unless_measured(paired: pd.DataFrame) -> None:
    rest = paired[paired.status != "measured"]
    assert rest.change.isna().all() and rest.mcid_reached.isna().all()
    assert pd.isna(paired.loc["b91", "baseline_date"])
    assert paired.loc["notdue", "baseline_score"] == 46.652


def test_sign_and_threshold_options(duck: Any) -> None:
    """Lower-is-better flips the sign (46.652 - 70.426); the threshold is inclusive."""
    sc, cy = scores_table(PAIR_SCORES), cycles_table([("b90", SURG, DIS)])
    low = duck.execute(prom_change(sc, cy, instrument="HOOS_JR", scale="HOOS_JR",
                                   higher_is_better=False, as_of=AS_OF)).iloc[0]
    assert (low.change, bool(low.mcid_reached)) == (-23.774, False)
    exact = duck.execute(prom_change(sc, cy, instrument="HOOS_JR", scale="HOOS_JR",
                                     mcid=23.774, as_of=AS_OF)).iloc[0]
    assert bool(exact.mcid_reached) is True


def test_symmetric_window_tie_goes_to_the_later_baseline(duck: Any) -> None:
    """Baseline window -10..+10: days -2 and +2 are equally close -> +2 (later)."""
    sc = scores_table([("t", "HOOS_JR", b(-2), 0.0, "E1", "scored"),
                       ("t", "HOOS_JR", b(2), 8.104, "E1", "scored")])
    r = duck.execute(prom_change(sc, cycles_table([("t", SURG, DIS)]), instrument="HOOS_JR",
                                 scale="HOOS_JR", baseline_days=(-10, 10),
                                 as_of=AS_OF)).iloc[0]
    assert (pd.Timestamp(r.baseline_date), r.baseline_score) == (pd.Timestamp(b(2)), 8.104)


def test_as_of_defaults_to_the_latest_assessment(duck: Any) -> None:
    """Latest observation_date M: a window ending M + 1 is not due, one ending M is closed."""
    m = date(2024, 6, 30)
    sc = scores_table([("x", "KOOS_JR", m, 50.012, "E1", "scored")])
    cy = cycles_table([("due", SURG, m - timedelta(days=425)),
                       ("open", SURG, m - timedelta(days=424))])
    got = duck.execute(prom_change(sc, cy, instrument="HOOS_JR", scale="HOOS_JR"))
    assert dict(zip(got.cycle_id, got.status, strict=True)) == {
        "due": "missing_both", "open": "not_due"}


def test_promis_defaults_from_rules(duck: Any) -> None:
    """PROMIS-10 GPH: 39.8 -> 44.9 is +5.1 >= 5 T-score points; 39.8 -> 42.3 is +2.5."""
    sc = scores_table([("p", "PROMIS10_GPH", b(-3), 39.8, "E1", "scored"),
                       ("p", "PROMIS10_GPH", f(362), 44.9, "E1", "scored"),
                       ("q", "PROMIS10_GPH", b(-3), 39.8, "E1", "scored"),
                       ("q", "PROMIS10_GPH", f(362), 42.3, "E1", "scored")])
    got = duck.execute(prom_change(sc, cycles_table([("p", SURG, DIS), ("q", SURG, DIS)]),
                                   instrument="PROMIS10", scale="PROMIS10_GPH",
                                   as_of=AS_OF)).set_index("cycle_id")
    assert (got.loc["p", "change"], bool(got.loc["p", "mcid_reached"])) == (5.1, True)
    assert (got.loc["q", "change"], bool(got.loc["q", "mcid_reached"])) == (2.5, False)


def test_unknown_or_mismatched_scale_is_refused() -> None:
    sc, cy = scores_table([]), cycles_table([])
    with pytest.raises(PromDefinitionError, match="belongs to HOOS_JR"):
        prom_change(sc, cy, instrument="KOOS_JR", scale="HOOS_JR")
    with pytest.raises(PromDefinitionError, match="no PROM scale 'OKS'"):
        prom_change(sc, cy, instrument="OKS", scale="OKS")


# ---- response rates ---------------------------------------------------------------------

def test_response_rates(duck: Any) -> None:
    """Group A: measured (reached), measured (not), missing_followup, not_due (with
    baseline), missing_both -> cycles 5, baselines 4 (0.8), due 4, follow-ups 2 (0.5),
    paired 2 (0.5), reached 1 of 2 (0.5).  Group B: missing_baseline (follow-up only),
    not_due (nothing) -> cycles 2, baselines 0, due 1, follow-ups 1 (1.0), paired 0,
    reached 0 of 0 (null).  Overall: 7, 4 (4/7), 5 due, 3 (3/5), 2 (2/5), 1 (1/2)."""
    rows = [("A", 40.0, 70.0, True, "measured"), ("A", 40.0, 50.0, False, "measured"),
            ("A", 40.0, None, None, "missing_followup"), ("A", 40.0, None, None, "not_due"),
            ("A", None, None, None, "missing_both"),
            ("B", None, 80.0, None, "missing_baseline"), ("B", None, None, None, "not_due")]
    ch = ibis.memtable(pa.table({
        "grp": pa.array([r[0] for r in rows], pa.string()),
        "baseline_score": pa.array([r[1] for r in rows], pa.float64()),
        "followup_score": pa.array([r[2] for r in rows], pa.float64()),
        "mcid_reached": pa.array([r[3] for r in rows], pa.bool_()),
        "status": pa.array([r[4] for r in rows], pa.string())}))
    got = duck.execute(response_rates(ch, ["grp"])).set_index("grp")
    counts = ["cycles", "baseline_responses", "followup_due", "followup_responses", "paired",
              "mcid_reached"]
    assert got.loc["A", counts].tolist() == [5, 4, 4, 2, 2, 1]
    assert got.loc["B", counts].tolist() == [2, 0, 1, 1, 0, 0]
    rates = ["baseline_rate", "followup_rate", "paired_rate", "mcid_rate"]
    assert got.loc["A", rates].tolist() == [0.8, 0.5, 0.5, 0.5]
    assert got.loc["B", rates].tolist()[:3] == [0.0, 1.0, 0.0]
    assert math.isnan(got.loc["B", "mcid_rate"])
    overall = duck.execute(response_rates(ch, [])).iloc[0]
    assert overall[counts].tolist() == [7, 4, 5, 3, 2, 1]
    assert overall[rates].tolist() == pytest.approx([4 / 7, 3 / 5, 2 / 5, 1 / 2])


# ---- synthetic data: item scoring reproduces the generator's raw sums ----------------------

def test_synthetic_raw_sums_reproduced(tmp_path: Path, duck: Any) -> None:
    """The generator writes each assessment's raw sum (``*.RAW``) beside the items; our
    scoring of the items must give the same raw sum for every assessment, all scored."""
    from valuecare.synth import SynthConfig, generate

    generate(SynthConfig(members=1500, years=3, seed=5), out=tmp_path)
    obs = duck.read_parquet(str(tmp_path / "observation" / "*.parquet"))
    got = duck.execute(score_items(obs))
    o = obs.filter((obs.observation_type == "prom_score") & (obs.source_code_type == "prom"))
    scale = o.source_code.cases(("HOOS_JR.RAW", "HOOS_JR"), ("KOOS_JR.RAW", "KOOS_JR"),
                                ("PROMIS10.GPH_RAW", "PROMIS10_GPH"),
                                ("PROMIS10.GMH_RAW", "PROMIS10_GMH"))
    raw = duck.execute(o.filter(scale.notnull()).select(
        "person_id", "observation_date", "encounter_id", scale=scale,
        raw_score=o.result_numeric.cast("int64")))
    assert len(raw) > 20
    assert set(got.status) == {"scored"}
    key = ["person_id", "observation_date", "encounter_id", "scale", "raw_score"]
    mine = got[key].sort_values(key).reset_index(drop=True)
    theirs = raw[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)


# ---- DuckDB and Spark give identical results ---------------------------------------------

@pytest.fixture(scope="module")
def spark_con() -> Any:
    if not spark_available():
        pytest.skip("pyspark or java not installed")
    from valuecare.model.engines import spark_session

    return ibis.pyspark.connect(spark_session())


@pytest.mark.spark
def test_duckdb_and_spark_identical(duck: Any, spark_con: Any) -> None:
    """score_items and prom_change on the scoring and pairing fixtures, both engines."""
    o = scoring_obs()
    o.jr("H6", "HOOS_JR", spread(2, 6), day=f(330), enc="F1")     # follow-up, raw 2
    o.jr("ENC", "HOOS_JR", spread(3, 6), day=f(425), enc=None)    # follow-up, raw 3
    obs = o.table()
    # as_of defaults to the latest assessment, f(425): "nobody"'s window closes that day.
    # ENC's baseline is the one on D0 + 1 (day -11), not the two on D0 (day -12).
    cycles = cycles_table([("H6", SURG, DIS), ("ENC", SURG, DIS), ("nobody", SURG, DIS),
                           ("recent", RECENT, RECENT)])
    pair_sc, pair_cy = scores_table(PAIR_SCORES), cycles_table(PAIR_CYCLES)

    def rows(df: pd.DataFrame) -> list[tuple[Any, ...]]:
        """Engine-neutral values: nulls as None, dates as Timestamps, sorted rows."""
        def norm(v: Any) -> Any:
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                return None
            return pd.Timestamp(v) if isinstance(v, (date, pd.Timestamp)) else v
        return sorted((tuple(norm(v) for v in r) for r in df.itertuples(index=False)),
                      key=repr)

    def results(con: Any) -> list[list[tuple[Any, ...]]]:
        sc = score_items(obs)
        exprs = [sc, prom_change(sc, cycles, instrument="HOOS_JR", scale="HOOS_JR"),
                 prom_change(pair_sc, pair_cy, instrument="HOOS_JR", scale="HOOS_JR",
                             as_of=AS_OF)]
        return [rows(con.execute(e)) for e in exprs]

    duck_rows, spark_rows = results(duck), results(spark_con)
    assert [len(r) for r in duck_rows] == [len(r) for r in spark_rows]
    assert all(duck_rows)
    change = {r[0]: (r[5], r[7], r[10]) for r in duck_rows[1]}
    assert change == {"H6": (70.426, 85.257, "measured"), "ENC": (52.965, 80.55, "measured"),
                      "nobody": (None, None, "missing_both"),
                      "recent": (None, None, "not_due")}
    for d, s in zip(duck_rows, spark_rows, strict=True):
        assert d == s
