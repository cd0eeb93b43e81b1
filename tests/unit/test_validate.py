"""Row validation (common/codec/validate.py): each bad value is named in its row, and a clean batch,
which a quick look at each column's extremes clears, has no problems, up to the bounds themselves."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from common.codec.validate import row_problems
from common.schema import ARROW_SCHEMA, MAX_INTEGER, MAX_PRICE, MAX_STRING_LENGTH
from tests.support.ticks import SAMPLE


def _batch(**middle_row: Any) -> pa.RecordBatch:
    """Three ticks; the middle one with ``middle_row``'s values."""
    rows = [dict(SAMPLE), {**SAMPLE, **middle_row}, dict(SAMPLE)]
    return pa.RecordBatch.from_pylist(rows, schema=ARROW_SCHEMA)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"symbol": None}, "null_field"),
        ({"seq": None}, "null_field"),
        ({"symbol": ""}, "empty_string"),
        ({"producer_id": ""}, "empty_string"),
        ({"symbol": "X" * (MAX_STRING_LENGTH["symbol"] + 1)}, "string_too_long"),
        ({"name": "é" * (MAX_STRING_LENGTH["name"] + 1)}, "string_too_long"),
        ({"price": float("nan")}, "non_finite"),
        ({"bid": float("inf")}, "non_finite"),
        ({"ask": float("-inf")}, "non_finite"),
        ({"low": -0.0}, "non_positive_price"),
        ({"open": -1.0}, "non_positive_price"),
        ({"high": MAX_PRICE * 2}, "out_of_range"),
        ({"volume": -1}, "out_of_range"),
        ({"seq": MAX_INTEGER + 1}, "out_of_range"),
        ({"event_time": 0}, "out_of_range"),
        ({"event_time": -5}, "out_of_range"),
    ],
)
def test_a_bad_value_is_named_in_its_row_and_only_there(change: dict[str, Any], reason: str) -> None:
    problems = row_problems(_batch(**change))
    assert list(problems) == [1]
    assert problems[1].reason == reason
    assert repr(next(iter(change))) in problems[1].detail


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"price": MAX_PRICE, "bid": 5e-324},  # the bounds themselves, and the smallest positive float
        {"seq": MAX_INTEGER, "volume": 0},
        {"event_time": 1},
        {"symbol": "X" * MAX_STRING_LENGTH["symbol"]},
        # More bytes than the limit, but not more characters: the quick look cannot clear it, the
        # per-check masks must.
        {"symbol": "é" * MAX_STRING_LENGTH["symbol"], "name": "€" * MAX_STRING_LENGTH["name"]},
        {"sector": ""},  # only symbol, producer_id and exchange must not be empty
    ],
)
def test_values_at_the_bounds_are_good(change: dict[str, Any]) -> None:
    assert row_problems(_batch(**change)) == {}


def test_an_empty_batch_has_no_problems() -> None:
    assert row_problems(_batch().slice(0, 0)) == {}
