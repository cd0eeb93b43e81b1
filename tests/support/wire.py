"""Decoding helpers only the tests need: one JSON tick, and batches as tick dicts."""

from __future__ import annotations

import pyarrow as pa

from common.codec import decode_json_batch
from common.codec.message import decode_message
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


__all__ = ["batch_to_ticks", "decode_json", "decode_message"]
