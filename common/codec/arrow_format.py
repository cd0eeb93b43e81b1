"""The Arrow IPC wire format: a stream of one record batch of many ticks per message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from common.codec.rejected import DecodeError, short
from common.codec.validate import check_batch
from common.schema import ARROW_SCHEMA, FIELD_NAMES, Tick


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


def decode_arrow(value: bytes) -> pa.RecordBatch:
    """Decode and validate one Arrow IPC stream; any bad row rejects the whole message."""
    if not value:
        raise DecodeError("empty_message", "empty Arrow message")
    try:
        table = pa.ipc.open_stream(pa.py_buffer(value)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DecodeError("truncated_arrow", short(exc)) from None
    missing = [n for n in FIELD_NAMES if n not in table.schema.names]
    if missing:
        raise DecodeError("bad_arrow_schema", f"missing columns {missing}")
    try:
        table = table.select(list(FIELD_NAMES)).cast(ARROW_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise DecodeError("bad_arrow_schema", short(exc)) from None
    except ValueError as exc:  # pyarrow's cast says "with null values to non-nullable" this way
        raise DecodeError("null_field", short(exc)) from None
    batch = table.combine_chunks().to_batches()
    if not batch:
        raise DecodeError("empty_message", "Arrow stream holds no rows")
    check_batch(batch[0])
    return batch[0]
