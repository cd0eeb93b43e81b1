"""Fuzzing the decoders: any input is either a valid tick or a DecodeError, never anything else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from common.codec import DecodeError, decode_arrow, decode_json_batch, encode_arrow, encode_json
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON
from common.schema import FIELD_NAMES, MAX_INTEGER, MAX_PRICE, MAX_STRING_LENGTH
from tests.support.ticks import SAMPLE, ticks
from tests.support.wire import batch_to_ticks, decode_message

hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5000),
    st.recursive(
        st.integers(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=30,
    ),
)


def _valid(tick: dict[str, Any]) -> bool:
    """What a correct decoder must accept: the schema's types and ranges, nothing else."""
    for name in FIELD_NAMES:
        value = tick[name]
        if name in MAX_STRING_LENGTH:
            if type(value) is not str or len(value) > MAX_STRING_LENGTH[name]:
                return False
            if name in {"symbol", "producer_id", "exchange"} and not value:
                return False
        elif name in {"bid_size", "ask_size", "volume", "seq", "event_time"}:
            if (
                type(value) is not int
                or not 0 <= value <= MAX_INTEGER
                or (name == "event_time" and value <= 0)
            ):
                return False
        elif type(value) not in (int, float) or not 0 < value <= MAX_PRICE or value != value:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), hostile_values, max_size=4))
def test_hostile_json_fields_are_rejected_or_decoded_exactly(changes: dict[str, Any]) -> None:
    tick = {**SAMPLE, **changes}
    value = json.dumps(tick, allow_nan=True).encode()
    batch, errors = decode_json_batch([value])
    if errors:
        assert isinstance(errors[0][1], DecodeError)
        assert batch.num_rows == 0
    else:
        assert _valid(tick), tick
        decoded = batch_to_ticks(batch)[0]
        assert all(decoded[k] == tick[k] for k in FIELD_NAMES)  # type: ignore[literal-required]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=2000),
    st.sampled_from([CONTENT_TYPE_JSON, CONTENT_TYPE_ARROW, "x"]),
    st.sampled_from([b"1", b"2", b"", b"-1", b"99999999999999999999"]),
)
def test_random_bytes_and_headers_only_ever_raise_decode_error(
    value: bytes, content: str, version: bytes
) -> None:
    with contextlib.suppress(DecodeError):
        decode_message(value, [("content-type", content.encode()), ("schema-version", version)])


@settings(max_examples=100, deadline=None)
@given(st.lists(ticks, min_size=1, max_size=20), st.data())
def test_truncated_or_corrupted_arrow_is_rejected_or_exact(batch: list[Any], data: st.DataObject) -> None:
    value = bytearray(encode_arrow(batch))
    cut = data.draw(st.integers(0, len(value)))
    flip = data.draw(st.integers(0, len(value) - 1))
    value[flip] ^= 0xFF
    try:
        decoded = batch_to_ticks(decode_arrow(bytes(value[:cut])))
    except DecodeError:
        return
    assert len(decoded) == len(batch)
    assert all(_valid(dict(t)) for t in decoded)


def test_deeply_nested_json_is_a_decode_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    _, errors = decode_json_batch([deep, encode_json(SAMPLE)])
    assert errors[0][1].reason in {"bad_json", "not_an_object"}


def test_giant_strings_are_rejected() -> None:
    _, errors = decode_json_batch([json.dumps({**SAMPLE, "name": "x" * 1_000_000}).encode()])
    assert errors[0][1].reason == "string_too_long"
