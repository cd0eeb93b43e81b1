"""The shared codecs: what round-trips, and the precise error each malformed input gets."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.codec import DecodeError, decode_arrow, decode_json_batch, encode_arrow, encode_json
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.schema import ARROW_SCHEMA, FIELD_NAMES, Tick, perspective_schema
from tests.support.ticks import SAMPLE, ticks
from tests.support.wire import batch_to_ticks, decode_json, decode_message


def _with(**changes: Any) -> bytes:
    return json.dumps({**SAMPLE, **changes}, allow_nan=True).encode()


def _reason(call: Any, *args: Any) -> str:
    with pytest.raises(DecodeError) as caught:
        call(*args)
    return caught.value.reason


@given(ticks)
def test_json_round_trip_is_exact(tick: Tick) -> None:
    assert decode_json(encode_json(tick)) == tick


@settings(max_examples=30)
@given(st.lists(ticks, min_size=1, max_size=50))
def test_arrow_round_trip_is_exact(batch: list[Tick]) -> None:
    assert batch_to_ticks(decode_arrow(encode_arrow(batch))) == batch


@settings(max_examples=50)
@given(st.lists(ticks, min_size=1, max_size=30))
def test_json_batch_decodes_every_good_tick_in_order(batch: list[Tick]) -> None:
    decoded, errors = decode_json_batch([encode_json(t) for t in batch])
    assert errors == []
    assert batch_to_ticks(decoded) == batch


def test_schema_is_derived_from_one_field_list() -> None:
    assert tuple(perspective_schema()) == FIELD_NAMES == tuple(ARROW_SCHEMA.names)
    assert perspective_schema()["event_time"] == "datetime"
    assert ARROW_SCHEMA.field("event_time").type == pa.timestamp("ms")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"", "empty_message"),
        (b"[1, 2]", "not_an_object"),
        (orjson.dumps({k: v for k, v in SAMPLE.items() if k != "seq"}), "missing_field"),
        (_with(price="101.2"), "wrong_type"),
        (_with(bid_size=1.5), "wrong_type"),
        (_with(ask=True), "wrong_type"),
        (_with(volume=None), "wrong_type"),
        (_with(symbol=""), "empty_string"),
        (_with(symbol="X" * 17), "string_too_long"),
        (_with(price=float("nan")), "bad_json"),
        (_with(price=float("inf")), "bad_json"),
        (b'{"price": 1e400}', "bad_json"),
        (_with(price=-1.0), "non_positive_price"),
        (_with(bid=0.0), "non_positive_price"),
        (_with(volume=-5), "out_of_range"),
        (_with(seq=2**63 + 5), "out_of_range"),
        (_with(seq=2**70), "wrong_type"),
        (_with(event_time=0), "out_of_range"),
    ],
)
def test_malformed_json_tick_is_rejected_with_its_reason(value: bytes, reason: str) -> None:
    assert _reason(decode_json, value) == reason


def test_bad_messages_in_a_json_batch_do_not_lose_the_good_ones() -> None:
    good = [encode_json({**SAMPLE, "seq": n}) for n in range(5)]
    values = [good[0], b"{", good[1], _with(symbol=""), good[2], _with(price=-1), good[3], good[4]]
    decoded, errors = decode_json_batch(values)
    assert [t["seq"] for t in batch_to_ticks(decoded)] == [0, 1, 2, 3, 4]
    assert [(i, e.reason) for i, e in errors] == [
        (1, "bad_json"),
        (3, "empty_string"),
        (5, "non_positive_price"),
    ]


def test_two_ticks_smuggled_into_one_json_message_are_rejected() -> None:
    value = encode_json(SAMPLE) + b"\n" + encode_json(SAMPLE)
    decoded, errors = decode_json_batch([value, encode_json(SAMPLE)])
    assert decoded.num_rows == 1
    assert [(i, e.reason) for i, e in errors] == [(0, "bad_json")]


def test_error_carries_field_and_value() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_json(_with(volume=-5))
    assert caught.value.detail == "field 'volume' has bad value -5"
    assert str(caught.value) == "out_of_range: field 'volume' has bad value -5"


@pytest.mark.parametrize("cut", [1, 8, 100, -1, -10])
def test_truncated_arrow_is_rejected(cut: int) -> None:
    value = encode_arrow([SAMPLE] * 10)
    assert _reason(decode_arrow, value[:cut]) in {"truncated_arrow", "empty_message"}


def test_arrow_with_wrong_column_type_is_rejected() -> None:
    batch = pa.record_batch({name: [str(SAMPLE[name])] for name in FIELD_NAMES})  # type: ignore[literal-required]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    assert _reason(decode_arrow, sink.getvalue().to_pybytes()) == "bad_arrow_schema"


def test_arrow_with_missing_column_is_rejected() -> None:
    batch = pa.record_batch({"symbol": ["ACME"]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    assert _reason(decode_arrow, sink.getvalue().to_pybytes()) == "bad_arrow_schema"


@pytest.mark.parametrize("column", ["symbol", "price", "seq", "event_time"])
def test_arrow_with_a_null_in_a_required_column_is_rejected_by_name(column: str) -> None:
    good = pa.ipc.open_stream(pa.py_buffer(encode_arrow([SAMPLE] * 3))).read_all()
    index = good.schema.get_field_index(column)
    field = good.schema.field(index).with_nullable(True)
    values = good.column(index).to_pylist()
    values[1] = None
    table = good.set_column(index, field, pa.array(values, field.type))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(DecodeError) as caught:
        decode_arrow(sink.getvalue().to_pybytes())
    assert caught.value.reason == "null_field"
    assert column in caught.value.detail


def test_one_bad_row_rejects_the_whole_arrow_message() -> None:
    value = encode_arrow([SAMPLE, {**SAMPLE, "price": float("nan")}, SAMPLE])
    with pytest.raises(DecodeError) as caught:
        decode_arrow(value)
    assert caught.value.reason == "non_finite"
    assert caught.value.detail.startswith("row 1:")


def test_message_dispatch_by_content_type() -> None:
    arrow = decode_message(encode_arrow([SAMPLE] * 3), make_headers(CONTENT_TYPE_ARROW, "p"))
    single = decode_message(encode_json(SAMPLE), make_headers(CONTENT_TYPE_JSON, "p"))
    assert (arrow.num_rows, single.num_rows) == (3, 1)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([], "unknown_content_type"),
        ([("content-type", b"text/csv"), ("schema-version", b"1")], "unknown_content_type"),
        ([("content-type", CONTENT_TYPE_JSON.encode()), ("schema-version", b"99")], "unknown_schema_version"),
        ([("content-type", CONTENT_TYPE_JSON.encode())], "unknown_schema_version"),
        ([("content-type", CONTENT_TYPE_JSON.encode()), ("schema-version", b"x")], "unknown_schema_version"),
    ],
)
def test_unknown_headers_are_rejected(headers: list[tuple[str, bytes]], reason: str) -> None:
    assert _reason(decode_message, encode_json(SAMPLE), headers) == reason


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_never_escape_as_anything_but_decode_error(value: bytes) -> None:
    for decode in (decode_json, decode_arrow):
        with contextlib.suppress(DecodeError):
            decode(value)


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(FIELD_NAMES),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    )
)
def test_fast_and_strict_json_paths_agree(changes: dict[str, Any]) -> None:
    value = json.dumps({**SAMPLE, **changes}, allow_nan=True).encode()
    decoded, errors = decode_json_batch([value, encode_json(SAMPLE)])
    assert decoded.num_rows + len(errors) == 2
    assert batch_to_ticks(decoded)[-1] == SAMPLE
    if not errors:
        assert batch_to_ticks(decoded)[0] == decode_json(value)
