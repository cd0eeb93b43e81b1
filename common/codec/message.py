"""One Kafka message of either format, decoded by its headers (the producer's read-back of its
own topic uses it; the gateway and history decode a whole poll at once in common/codec/routing.py).

Not re-exported by ``common.codec``: it needs common/headers.py, which needs the codec's
``DecodeError``.
"""

from __future__ import annotations

import pyarrow as pa

from common.codec.arrow_format import decode_arrow
from common.codec.json_format import decode_json_batch
from common.codec.rejected import DecodeError
from common.headers import CONTENT_TYPE_ARROW, Headers, parse_headers


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
