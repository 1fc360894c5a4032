"""Row-level rules of the loader, one rule at a time, on hand-written values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from valuecare.model.schema import MEDICAL_CLAIM, MEMBER, Table
from valuecare.model.validate import decode_utf8, parse_batch


def _claim_batch(**overrides: list) -> pa.RecordBatch:
    base = {
        "claim_id": ["C1"], "claim_line_number": ["1"], "claim_type": ["professional"],
        "person_id": ["P1"], "payer": ["Acme"], "claim_start_date": ["2024-01-02"],
        "claim_end_date": ["2024-01-02"], "charge_amount": ["10.00"],
        "allowed_amount": ["8.00"], "paid_amount": ["6.00"], "diagnosis_code_1": ["E119"],
        "adjustment_type": ["original"], "data_source": ["t"],
    }
    base.update(overrides)
    return pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in base.items()})


def _rules(table: Table, batch: pa.RecordBatch) -> set[tuple[str, str]]:
    parsed = parse_batch(table, batch)
    return {(f.column, f.rule) for f in parsed.failures}


def test_clean_row_passes_and_is_typed() -> None:
    parsed = parse_batch(MEDICAL_CLAIM, _claim_batch())
    assert parsed.failures == []
    assert parsed.typed["paid_amount"].to_pylist() == [Decimal("6.00")]
    assert parsed.typed["claim_start_date"].to_pylist() == [date(2024, 1, 2)]
    assert parsed.typed["claim_line_number"].to_pylist() == [1]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("2023-02-30", "bad_date"),   # not a calendar day (strptime would roll it over)
        ("2023-13-01", "bad_date"),
        ("13/01/2023", "bad_date"),   # not ISO
        ("yesterday", "bad_date"),
        ("", "missing_required"),
    ],
)
def test_dates(value: str, rule: str) -> None:
    assert ("claim_start_date", rule) in _rules(
        MEDICAL_CLAIM, _claim_batch(claim_start_date=[value]))


def test_leap_day_is_a_real_day() -> None:
    assert _rules(MEDICAL_CLAIM, _claim_batch(claim_start_date=["2024-02-29"],
                                              claim_end_date=["2024-02-29"])) == set()


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("N/A", "not_a_number"),
        ("$1,200.00", "not_a_number"),
        ("12,50", "not_a_number"),
        ("1.234", "money_precision"),
        ("-6.00", "negative_amount"),
    ],
)
def test_money(value: str, rule: str) -> None:
    assert ("paid_amount", rule) in _rules(MEDICAL_CLAIM, _claim_batch(paid_amount=[value]))


def test_reversal_may_be_negative_but_not_positive() -> None:
    neg = _claim_batch(adjustment_type=["reversal"], charge_amount=["-10.00"],
                       allowed_amount=["-8.00"], paid_amount=["-6.00"])
    assert _rules(MEDICAL_CLAIM, neg) == set()
    pos = _claim_batch(adjustment_type=["reversal"])
    assert ("paid_amount", "positive_reversal") in _rules(MEDICAL_CLAIM, pos)


def test_paid_above_allowed() -> None:
    assert ("paid_amount", "paid_above_allowed") in _rules(
        MEDICAL_CLAIM, _claim_batch(paid_amount=["9.00"]))


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("diagnosis_code_1", "E11.9", "bad_code_format"),   # dots are removed before load
        ("diagnosis_code_1", "XYZ", "bad_code_format"),
        ("hcpcs_code", "9921", "bad_code_format"),
        ("rendering_npi", "12345", "bad_code_format"),
        ("claim_type", "dental", "not_allowed"),
        ("claim_line_number", "1.5", "not_integer"),
        ("claim_line_number", "0", "out_of_range"),
    ],
)
def test_codes_and_vocabularies(column: str, value: str, rule: str) -> None:
    assert (column, rule) in _rules(MEDICAL_CLAIM, _claim_batch(**{column: [value]}))


def test_end_before_start() -> None:
    assert ("claim_end_date", "dates_out_of_order") in _rules(
        MEDICAL_CLAIM, _claim_batch(claim_end_date=["2024-01-01"]))


def test_member_vocabulary_and_booleans() -> None:
    batch = pa.RecordBatch.from_pydict({
        "person_id": ["P1", "P2"], "sex": ["X", "female"], "birth_date": ["1950-01-01"] * 2,
        "food_insecurity": ["maybe", "yes"], "data_source": ["t", "t"],
    })
    parsed = parse_batch(MEMBER, batch)
    rules = {(f.column, f.rule): f.mask.tolist() for f in parsed.failures}
    assert rules[("sex", "not_allowed")] == [True, False]
    assert rules[("food_insecurity", "not_boolean")] == [True, False]
    assert parsed.typed["food_insecurity"].to_pylist() == [None, True]


def test_invalid_utf8_is_flagged_and_kept_readable() -> None:
    arr = pa.array([b"ok", "Clínica São José".encode("latin-1"), None], pa.binary())
    text, bad = decode_utf8(arr)
    assert bad.tolist() == [False, True, False]
    assert text.to_pylist()[1] == "Clínica São José"


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"diagnosis_code_1": ["U071"]}, set()),  # COVID-19, ICD-10-CM since 2020
        ({"diagnosis_code_1": ["4019"], "diagnosis_code_type": ["icd-9-cm"]}, set()),
        ({"diagnosis_code_1": ["V5861"], "diagnosis_code_type": ["icd-9-cm"]}, set()),
        ({"diagnosis_code_1": ["E8889"], "diagnosis_code_type": ["icd-9-cm"]}, set()),
        ({"diagnosis_code_1": ["4019"]}, {"diagnosis_code_1"}),  # ICD-9 without its type
        ({"diagnosis_code_1": ["I10"], "diagnosis_code_type": ["icd-9-cm"]},
         {"diagnosis_code_1"}),
        ({"diagnosis_code_2": ["I10"], "diagnosis_code_3": ["XYZ"]}, {"diagnosis_code_3"}),
        ({"procedure_code_1": ["0SR9019"]}, set()),
        ({"procedure_code_1": ["8154"], "procedure_code_type": ["icd-9-pcs"]}, set()),
        ({"procedure_code_1": ["8154"]}, {"procedure_code_1"}),
        ({"diagnosis_code_1": [None]}, set()),  # DME lines carry no diagnosis
    ],
)
def test_code_format_follows_the_code_system(overrides: dict, bad: set[str]) -> None:
    rules = _rules(MEDICAL_CLAIM, _claim_batch(**overrides))
    assert {c for c, r in rules if r == "bad_code_format"} == bad
    assert rules - {(c, "bad_code_format") for c in bad} == set()
