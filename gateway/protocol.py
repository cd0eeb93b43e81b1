"""Just enough of Perspective's protobuf wire format to keep the tables read-only.

A request is ``msg_id = 1``, ``entity_id = 2`` and one request kind at field 3 or above;
we read those three and never build the rest. The reader is bounded and never raises
on garbage: anything it cannot read is refused as malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Request kinds that create, change or delete tables (verified against 5.5.1 clients).
MUTATING: Final = {
    27: "make_table",
    28: "table_delete",
    31: "table_remove",
    32: "table_replace",
    33: "table_update",
    38: "make_join_table",
}
_SERVER_ERROR_FIELD: Final = 50
_MAX_FIELDS: Final = 64


@dataclass(frozen=True)
class RequestHead:
    msg_id: int
    entity_id: str
    kind: int


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 64, 7):
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    raise ValueError("varint too long")


def _skip(data: bytes, pos: int, wire: int) -> tuple[bytes | int, int]:
    if wire == 0:
        return _varint(data, pos)
    if wire == 1:
        end = pos + 8
    elif wire == 5:
        end = pos + 4
    elif wire == 2:
        length, pos = _varint(data, pos)
        end = pos + length
        if end > len(data):
            raise ValueError("truncated field")
        return data[pos:end], end
    else:
        raise ValueError(f"unsupported wire type {wire}")
    if end > len(data):
        raise ValueError("truncated field")
    return data[pos:end], end


def read_head(data: bytes) -> RequestHead | None:
    """The request's id, entity and kind, or None when it is not a well-formed request."""
    msg_id, entity_id, pos = 0, "", 0
    try:
        for _ in range(_MAX_FIELDS):
            if pos >= len(data):
                return None  # no kind field at all
            key, pos = _varint(data, pos)
            field, wire = key >> 3, key & 7
            value, pos = _skip(data, pos, wire)
            if field == 1 and isinstance(value, int):
                msg_id = value
            elif field == 2 and isinstance(value, bytes):
                entity_id = value.decode("utf-8")
            elif field >= 3:
                return RequestHead(msg_id, entity_id, field)
            else:
                return None
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | 2) + _encode_varint(len(payload)) + payload


def error_response(msg_id: int, entity_id: str, message: str) -> bytes:
    """A ``Response`` carrying ``ServerError{message}``: the client's promise rejects with it."""
    inner = _length_delimited(1, message.encode())
    head = _encode_varint(1 << 3) + _encode_varint(msg_id)
    if entity_id:
        head += _length_delimited(2, entity_id.encode())
    return head + _length_delimited(_SERVER_ERROR_FIELD, inner)
