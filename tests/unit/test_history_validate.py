"""History's view-config validator: what a client may ask of the DuckDB virtual server."""

from __future__ import annotations

from typing import Any

import pytest

from history.serve.validate import Refused, check_config, check_view_name

SCHEMA = {"symbol": "string", "price": "float", "volume": "float", "event_time": "datetime"}


def _refusal(config: dict[str, Any]) -> str:
    with pytest.raises(Refused) as refused:
        check_config(SCHEMA, config)
    return refused.value.reason


def test_a_plain_grouped_view_is_rebuilt_from_checked_values_only() -> None:
    config = {
        "columns": ["price"],
        "group_by": ["symbol"],
        "aggregates": {"price": "avg"},
        "sort": [["price", "desc"]],
        "filter": [["symbol", "==", "A'B"], ["price", ">", 1.5]],
        "expressions": {},
        "windows": {},
    }
    assert check_config(SCHEMA, config) == {
        "columns": ["price"],
        "group_by": ["symbol"],
        "split_by": [],
        "aggregates": {"price": "avg"},
        "sort": [("price", "desc")],
        "filter": [("symbol", "==", "A'B"), ("price", ">", 1.5)],
        "filter_op": "and",
        "expressions": {},
        "windows": {},
    }


@pytest.mark.parametrize(
    "value", [1_780_000_000_000, "2026-05-28T20:26:40Z", "2026-05-28T22:26:40+02:00", "2026-05-28 20:26:40"]
)
def test_a_datetime_filter_takes_epoch_ms_or_iso_and_is_rewritten_in_one_utc_form(value: Any) -> None:
    clean = check_config(SCHEMA, {"filter": [["event_time", ">=", value]]})
    assert clean["filter"] == [("event_time", ">=", "2026-05-28 20:26:40.000")]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"columns": ['price" FROM x; --']}, "unknown_column"),
        ({"columns": [None]}, "unknown_column"),
        ({"group_by": ["nope"]}, "unknown_column"),
        ({"split_by": ["price"]}, "bad_split_by"),
        ({"sort": [["price", "desc; DROP TABLE t"]]}, "bad_sort"),
        ({"sort": [["price;", "desc"]]}, "unknown_column"),
        ({"aggregates": {"price": "string_agg"}}, "bad_aggregate"),
        ({"aggregates": {"price": ["weighted mean", "volume"]}}, "bad_aggregate"),
        ({"aggregates": {"symbol": "sum"}}, "bad_aggregate"),
        ({"filter": [["price", "= 1 OR 1=1 --", 1]]}, "bad_filter_op"),
        ({"filter": [["price", "LIKE", "%"]]}, "bad_filter_op"),
        ({"filter": [["price", "==", "1; DROP TABLE t"]]}, "bad_filter_value"),
        ({"filter": [["price", "==", float("nan")]]}, "bad_filter_value"),
        ({"filter": [["price", "==", float("inf")]]}, "bad_filter_value"),
        ({"filter": [["price", "==", True]]}, "bad_filter_value"),
        ({"filter": [["symbol", "==", "x" * 257]]}, "bad_filter_value"),
        ({"filter": [["symbol", "==", "a\x00b"]]}, "bad_filter_value"),
        ({"filter": [["symbol", "==", 5]]}, "bad_filter_value"),
        ({"filter": [["symbol", "in", ["a"] * 101]]}, "bad_filter_value"),
        ({"filter": [["event_time", ">", "yesterday'; DROP"]]}, "bad_filter_value"),
        ({"filter": [["event_time", ">", -1]]}, "bad_filter_value"),
        ({"filter": [["symbol", "==", "a"]] * 17}, "too_many_filters"),
        ({"group_by": ["symbol"] * 5}, "too_many_group_by"),
        ({"expressions": {"e": '"price" * 2'}}, "expressions_refused"),
        ({"windows": {"w": {"fn": "lag"}}}, "windows_refused"),
        ({"filter_op": "or 1=1"}, "malformed_config"),
        ({"group_rollup_mode": "cube"}, "malformed_config"),
        ({"having": "1=1"}, "unknown_config_key"),
    ],
)
def test_a_config_outside_the_schema_or_the_allowlists_is_refused(
    config: dict[str, Any], reason: str
) -> None:
    assert _refusal(config) == reason


def test_a_quote_in_a_string_filter_is_kept_as_data() -> None:
    # The builder doubles quotes in string literals; the validator only bounds the string.
    clean = check_config(SCHEMA, {"filter": [["symbol", "in", ["O'Q", "x'); DROP TABLE t; --"]]]})
    assert clean["filter"] == [("symbol", "in", ["O'Q", "x'); DROP TABLE t; --"])]


@pytest.mark.parametrize("name", ["UODQVHtaepAoAKvyDopDn", "view_1", "a-b"])
def test_a_client_view_name_of_letters_digits_dash_underscore_is_accepted(name: str) -> None:
    assert check_view_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "v; DROP TABLE t", 'v"', "v\x00", "vé", None])
def test_any_other_view_name_is_refused(name: Any) -> None:
    with pytest.raises(Refused, match="bad_view_name"):
        check_view_name(name)
