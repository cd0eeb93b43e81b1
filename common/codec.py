"""Wire formats of a tick: JSON (one tick per message) and Arrow IPC (a batch per message).

Both decode to a ``pyarrow.RecordBatch`` with ``ARROW_SCHEMA``, so the gateway has one
shape to feed Perspective whichever format a producer chose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson
import pyarrow as pa

from common.errors import DecodeError
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, Headers, parse_headers
from common.schema import ARROW_SCHEMA, FIELD_NAMES, FIELDS, Kind, Tick
from common.validate import check_batch, row_problems

_ACCEPTED_TYPES: Final[dict[Kind, frozenset[type]]] = {
    Kind.STRING: frozenset({str}),
    Kind.FLOAT: frozenset({float, int}),
    Kind.INTEGER: frozenset({int}),
    Kind.EPOCH_MS: frozenset({int}),
}
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_FIELD_SET: Final = frozenset(FIELD_NAMES)

EMPTY_BATCH: Final = pa.RecordBatch.from_pylist([], schema=ARROW_SCHEMA)


def encode_json(tick: Tick) -> bytes:
    return orjson.dumps(tick)


def encode_arrow(ticks: Sequence[Tick]) -> bytes:
    return encode_batch(pa.RecordBatch.from_pylist(list(ticks), schema=ARROW_SCHEMA))


def encode_columns(columns: Mapping[str, Sequence[Any]]) -> bytes:
    """Encode ticks given column by column (the producer's fast path in Arrow mode)."""
    arrays = [pa.array(columns[name], type=ARROW_SCHEMA.field(name).type) for name in FIELD_NAMES]
    return encode_batch(pa.RecordBatch.from_arrays(arrays, schema=ARROW_SCHEMA))


def encode_batch(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, ARROW_SCHEMA) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def decode_json(value: bytes) -> Tick:
    """Decode and validate one JSON tick."""
    batch, errors = decode_json_batch([value])
    if errors:
        raise errors[0][1]
    return batch_to_ticks(batch)[0]


def batch_to_ticks(batch: pa.RecordBatch) -> list[Tick]:
    """Rows as plain tick dicts, with ``event_time`` as epoch milliseconds."""
    index = batch.schema.get_field_index("event_time")
    as_ms = batch.set_column(index, "event_time", batch.column(index).cast(pa.int64()))
    ticks: list[Tick] = as_ms.to_pylist()
    return ticks


def decode_json_batch(
    values: Sequence[bytes],
) -> tuple[pa.RecordBatch, list[tuple[int, DecodeError]]]:
    """Decode many JSON ticks at once: one batch of the good ones, and (index, error) for the rest.

    Type checks run per column (``set(map(type, column))`` is C speed) and value checks
    run vectorised in Arrow, so a clean batch never pays a per-field Python cost.
    """
    errors: dict[int, DecodeError] = {}
    objects = [_parse(i, v, errors) for i, v in enumerate(values)]
    good = [i for i, obj in enumerate(objects) if obj is not None]
    rows = [obj for obj in objects if obj is not None]
    bad_rows = _type_problems(rows)
    if bad_rows:
        for position, error in bad_rows.items():
            errors[good[position]] = error
        rows = [row for position, row in enumerate(rows) if position not in bad_rows]
        good = [index for position, index in enumerate(good) if position not in bad_rows]
    batch = _columns_to_batch(rows)
    problems = row_problems(batch)
    if problems:
        for position, error in problems.items():
            errors[good[position]] = error
        keep = pa.array([p not in problems for p in range(batch.num_rows)])
        batch = batch.filter(keep)
    return batch, sorted(errors.items())


def decode_arrow(value: bytes) -> pa.RecordBatch:
    """Decode and validate one Arrow IPC stream; any bad row rejects the whole message."""
    if not value:
        raise DecodeError("empty_message", "empty Arrow message")
    try:
        table = pa.ipc.open_stream(pa.py_buffer(value)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DecodeError("truncated_arrow", _short(exc)) from None
    missing = [n for n in FIELD_NAMES if n not in table.schema.names]
    if missing:
        raise DecodeError("bad_arrow_schema", f"missing columns {missing}")
    try:
        table = table.select(list(FIELD_NAMES)).cast(ARROW_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise DecodeError("bad_arrow_schema", _short(exc)) from None
    except ValueError as exc:  # pyarrow's cast says "with null values to non-nullable" this way
        raise DecodeError("null_field", _short(exc)) from None
    batch = table.combine_chunks().to_batches()
    if not batch:
        raise DecodeError("empty_message", "Arrow stream holds no rows")
    check_batch(batch[0])
    return batch[0]


def decode_message(value: bytes | None, headers: Headers) -> pa.RecordBatch:
    """Decode one Kafka message of either format, dispatching on its headers."""
    content_type = parse_headers(headers)
    if value is None:
        raise DecodeError("empty_message", "message has no value (tombstone)")
    if content_type == CONTENT_TYPE_ARROW:
        return decode_arrow(value)
    batch, errors = decode_json_batch([value])
    if errors:
        raise errors[0][1]
    return batch


def _parse(index: int, value: bytes | None, errors: dict[int, DecodeError]) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(value) if value else None
    except orjson.JSONDecodeError as exc:
        errors[index] = DecodeError("bad_json", _short(exc))
        return None
    if obj is None and not value:
        errors[index] = DecodeError("empty_message", "empty JSON message")
        return None
    if type(obj) is not dict:
        errors[index] = DecodeError("not_an_object", f"expected a JSON object, got {type(obj).__name__}")
        return None
    if not obj.keys() >= _FIELD_SET:
        missing = sorted(_FIELD_SET - obj.keys())
        errors[index] = DecodeError("missing_field", f"missing {missing}")
        return None
    return obj


def _type_problems(rows: list[dict[str, Any]]) -> dict[int, DecodeError]:
    problems: dict[int, DecodeError] = {}
    for name, kind in FIELDS.items():
        column = [row[name] for row in rows]
        accepted = _ACCEPTED_TYPES[kind]
        if not set(map(type, column)) <= accepted:
            for position, item in enumerate(column):
                if type(item) not in accepted and position not in problems:
                    problems[position] = DecodeError(
                        "wrong_type",
                        f"field {name!r} is {type(item).__name__}, expected {kind.value}",
                    )
        if kind is not Kind.STRING:
            _range_problems(name, kind, column, problems)
    return problems


def _range_problems(name: str, kind: Kind, column: list[Any], problems: dict[int, DecodeError]) -> None:
    """Integers beyond int64 overflow Arrow; beyond 2**53 they are not exact as floats: reject them."""
    low, high = (-(2**53), 2**53) if kind is Kind.FLOAT else (_INT64_MIN, _INT64_MAX)
    ints = [v for v in column if type(v) is int]
    if not ints or (min(ints) >= low and max(ints) <= high):
        return
    for position, item in enumerate(column):
        if type(item) is int and not low <= item <= high:
            problems.setdefault(position, DecodeError("out_of_range", f"field {name!r} is out of range"))


def _columns_to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    arrays = [
        pa.array([row[name] for row in rows], type=ARROW_SCHEMA.field(name).type) for name in FIELD_NAMES
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=ARROW_SCHEMA)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


__all__ = [
    "CONTENT_TYPE_ARROW",
    "CONTENT_TYPE_JSON",
    "EMPTY_BATCH",
    "DecodeError",
    "batch_to_ticks",
    "decode_arrow",
    "decode_json",
    "decode_json_batch",
    "decode_message",
    "encode_arrow",
    "encode_batch",
    "encode_columns",
    "encode_json",
]
