"""Decoding helpers only the tests need: one message, one JSON tick, and batches as tick dicts."""

from __future__ import annotations

import pyarrow as pa

from common.codec import DecodeError, decode_arrow, decode_json_batch
from common.headers import CONTENT_TYPE_ARROW, Headers, parse_headers
from common.schema import Tick


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
