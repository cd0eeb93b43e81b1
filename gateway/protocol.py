"""Just enough of Perspective's protobuf wire format to keep the tables read-only.

A ``Request`` is ``msg_id = 1``, ``entity_id = 2`` and a oneof of request kinds at
field 3 and above. The whole top level is read, not just its first kind field: protobuf
decoders let the *last* member of a oneof win, so a frame that starts with a harmless
kind and ends with ``table_update`` would otherwise slip past as harmless. A real client
sends exactly one kind; anything else, or anything unreadable, is malformed.

The reader is bounded (at most ``_MAX_FIELDS`` top-level fields, payloads skipped by
length, never copied) and never raises on garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Request kinds that create, change or delete tables (field numbers in perspective.proto,
# verified against 5.5.1 clients: update 33, remove 31, replace and clear 32, ...).
MUTATING: Final = {
    27: "make_table",
    28: "table_delete",
    31: "table_remove",
    32: "table_replace",
    33: "table_update",
    38: "make_join_table",
}
# Response.server_error (a ServerError{message = 1, status_code = 2}), as the server
# itself answers e.g. a view on a column that does not exist.
_SERVER_ERROR_FIELD: Final = 50
# msg_id, entity_id and one kind: a few spare for encoders that repeat a scalar.
_MAX_FIELDS: Final = 8
_MAX_ENTITY_BYTES: Final = 1024
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


# Requests that name a view (Request.table_make_view_req carries the new view's id at field 1).
MAKE_VIEW: Final = 6
VIEW_DELETE: Final = 11
# Response.view_on_update_resp: ViewOnUpdateResp{optional bytes delta = 1; uint32 port_id = 2}.
VIEW_ON_UPDATE: Final = 21


@dataclass(frozen=True)
class RequestHead:
    msg_id: int
    entity_id: str
    kind: int
    body: tuple[int, int] = (0, 0)  # where the kind's own message lies in the frame

    @property
    def mutating(self) -> str | None:
        """The mutating request's name, or None for a read."""
        return MUTATING.get(self.kind)


class _Malformed(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 64, 7):
        if pos >= len(data):
            raise _Malformed("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    raise _Malformed("varint longer than 10 bytes")


def _field_end(data: bytes, pos: int, wire: int) -> tuple[int, int]:
    """(start, end) of the value that starts at ``pos``; a varint's value is returned as start."""
    if wire == _VARINT:
        return _varint(data, pos)
    if wire == _LENGTH_DELIMITED:
        length, pos = _varint(data, pos)
        end = pos + length
    elif wire in (_FIXED64, _FIXED32):
        end = pos + (8 if wire == _FIXED64 else 4)
    else:
        raise _Malformed(f"wire type {wire}")  # groups (3, 4) and 6, 7 never occur in a Request
    if end > len(data):
        raise _Malformed("truncated field")
    return pos, end


def _read(data: bytes) -> RequestHead:
    msg_id, entity_id, kind, body, pos = 0, "", 0, (0, 0), 0
    for _ in range(_MAX_FIELDS):
        if pos == len(data):
            if kind == 0:
                raise _Malformed("no request kind")
            return RequestHead(msg_id, entity_id, kind, body)
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        start, pos = _field_end(data, pos, wire)
        if field == 1 and wire == _VARINT:
            msg_id = start
        elif field == 2 and wire == _LENGTH_DELIMITED and pos - start <= _MAX_ENTITY_BYTES:
            entity_id = data[start:pos].decode("utf-8")
        elif field >= 3 and wire == _LENGTH_DELIMITED and kind == 0:
            kind, body = field, (start, pos)
        else:
            raise _Malformed(f"unexpected field {field} (wire type {wire})")
    raise _Malformed("too many fields")


def read_head(data: bytes) -> RequestHead | None:
    """The request's id, entity and kind, or None when it is not a well-formed request."""
    try:
        return _read(data)
    except (_Malformed, UnicodeDecodeError):
        return None


def new_view_id(data: bytes, head: RequestHead) -> str | None:
    """The view id a ``table_make_view`` request asks for ("" if unset), or None if unreadable."""
    pos, end = head.body
    view_id = ""
    try:
        for _ in range(_MAX_FIELDS):
            if pos >= end:
                return view_id if pos == end else None
            key, pos = _varint(data, pos)
            start, pos = _field_end(data, pos, key & 7)
            if key == 1 << 3 | _LENGTH_DELIMITED:
                view_id = data[start:pos].decode("utf-8")
    except (_Malformed, UnicodeDecodeError):
        return None
    return None


def notification_key(data: bytes) -> tuple[int, str, int] | None:
    """(msg_id, entity_id, port_id) of an update notification that carries no rows, else None.

    Responses share the Request envelope. A notification without a delta only tells the
    client "view changed, read it again": a newer one for the same subscription says as much,
    so a backlogged client can skip it. Row deltas (field 1 set) carry data and are never skipped.
    """
    head = read_head(data)
    if head is None or head.kind != VIEW_ON_UPDATE:
        return None
    pos, end = head.body
    port_id = 0
    try:
        for _ in range(_MAX_FIELDS):
            if pos >= end:
                return (head.msg_id, head.entity_id, port_id) if pos == end else None
            key, pos = _varint(data, pos)
            start, pos = _field_end(data, pos, key & 7)
            if key >> 3 == 1:
                return None
            if key == 2 << 3 | _VARINT:
                port_id = start
    except _Malformed:
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
    return _encode_varint(field << 3 | _LENGTH_DELIMITED) + _encode_varint(len(payload)) + payload


def error_response(msg_id: int, entity_id: str, message: str) -> bytes:
    """A ``Response`` carrying ``ServerError{message}``: the client's promise rejects with it."""
    head = _encode_varint(1 << 3 | _VARINT) + _encode_varint(msg_id)
    if entity_id:
        head += _length_delimited(2, entity_id.encode())
    return head + _length_delimited(_SERVER_ERROR_FIELD, _length_delimited(1, message.encode()))
