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

from collections.abc import Iterator
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
# msg_id, entity_id and one kind: a few spare for encoders that repeat a scalar.
_MAX_FIELDS: Final = 8
_MAX_ENTITY_BYTES: Final = 1024
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


# Requests that name a view (Request.table_make_view_req carries the new view's id at field 1,
# its ViewConfig at field 2).
MAKE_VIEW: Final = 6
VIEW_DELETE: Final = 11
# Response.view_on_update_resp: ViewOnUpdateResp{optional bytes delta = 1; uint32 port_id = 2}.
VIEW_ON_UPDATE: Final = 21
VIEW_REMOVE_ON_UPDATE: Final = 22  # ViewRemoveOnUpdateReq{uint32 id = 1}: the on_update's msg_id
VIEW_ON_DELETE: Final = 34
VIEW_REMOVE_DELETE: Final = 35  # ViewRemoveDeleteReq{uint32 id = 1}
# Response.server_error (a ServerError{message = 1, status_code = 2}), as the server
# itself answers e.g. a view on a column that does not exist.
SERVER_ERROR: Final = 50
# ViewConfig fields: repeated strings and small messages; a long column list is still far below.
_MAX_CONFIG_FIELDS: Final = 4096
_CONFIG_MAPS: Final = frozenset({6, 7})  # ViewConfig: map<string, string> expressions = 6, aggregates = 7


@dataclass(frozen=True)
class RequestHead:
    msg_id: int
    entity_id: str
    kind: int
    body: tuple[int, int] = (0, 0)  # where the kind's own message lies in the frame
    start: int = 0  # where the kind's field (its key) starts

    def kind_field(self, data: bytes) -> bytes:
        """The kind's whole field (key, length, message), to put under another envelope."""
        return data[self.start : self.body[1]]

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
    msg_id, entity_id, kind, body, pos, kind_start = 0, "", 0, (0, 0), 0, 0
    for _ in range(_MAX_FIELDS):
        if pos == len(data):
            if kind == 0:
                raise _Malformed("no request kind")
            return RequestHead(msg_id, entity_id, kind, body, kind_start)
        field_start = pos
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        start, pos = _field_end(data, pos, wire)
        if field == 1 and wire == _VARINT:
            msg_id = start
        elif field == 2 and wire == _LENGTH_DELIMITED and pos - start <= _MAX_ENTITY_BYTES:
            entity_id = data[start:pos].decode("utf-8")
        elif field >= 3 and wire == _LENGTH_DELIMITED and kind == 0:
            kind, body, kind_start = field, (start, pos), field_start
        else:
            raise _Malformed(f"unexpected field {field} (wire type {wire})")
    raise _Malformed("too many fields")


def read_head(data: bytes) -> RequestHead | None:
    """The request's id, entity and kind, or None when it is not a well-formed request."""
    try:
        return _read(data)
    except (_Malformed, UnicodeDecodeError):
        return None


def _fields(data: bytes, span: tuple[int, int], limit: int = _MAX_FIELDS) -> Iterator[tuple[int, int, int]]:
    """(key, start, end) of each field of the message at ``span``; raises _Malformed past ``limit``."""
    pos, end = span
    for _ in range(limit):
        if pos >= end:
            if pos != end:
                raise _Malformed("field runs past its message")
            return
        key, pos = _varint(data, pos)
        start, pos = _field_end(data, pos, key & 7)
        yield key, start, pos
    raise _Malformed("too many fields")


def make_view_parts(data: bytes, head: RequestHead) -> tuple[str, bytes] | None:
    """(view id, ViewConfig bytes) of a ``table_make_view`` request ("" if unset), None if unreadable."""
    view_id, config = "", b""
    try:
        for key, start, end in _fields(data, head.body):
            if key == 1 << 3 | _LENGTH_DELIMITED:
                view_id = data[start:end].decode("utf-8")
            elif key == 2 << 3 | _LENGTH_DELIMITED:
                config = data[start:end]
    except (_Malformed, UnicodeDecodeError):
        return None
    return view_id, config


def new_view_id(data: bytes, head: RequestHead) -> str | None:
    """The view id a ``table_make_view`` request asks for ("" if unset), or None if unreadable."""
    parts = make_view_parts(data, head)
    return None if parts is None else parts[0]


def groups_rows(config: bytes) -> bool:
    """True when a ViewConfig has a group_by (or cannot be read): such a view has per-client tree
    state (expand, collapse, depth), so it is not one every client can share."""
    try:
        return any(key >> 3 == 1 for key, _, _ in _fields(config, (0, len(config)), _MAX_CONFIG_FIELDS))
    except _Malformed:
        return True


def config_key(config: bytes) -> bytes:
    """``config`` with its map entries (expressions, aggregates) sorted: the same view, the same key.

    perspective 5.5.1's clients encode those maps from a HashMap, so one config comes out in a
    different entry order from one client to the next, and even twice from the same Python client.
    Every ``<perspective-viewer>`` view has an aggregate per column: keyed on the raw bytes, 2
    dashboards shared 3 of their 6 views and 3 dashboards 1 more (gateway_shared_views 6 -> 9 -> 11).
    Other repeated fields (columns, sort, filter) keep their order: it is their meaning.
    """
    kept: list[bytes] = []
    maps: list[bytes] = []
    begin = 0  # fields lie end to end: each one's bytes run from the last one's end to its own
    try:
        for key, _, end in _fields(config, (0, len(config)), _MAX_CONFIG_FIELDS):
            (maps if key >> 3 in _CONFIG_MAPS else kept).append(config[begin:end])
            begin = end
    except _Malformed:
        return config  # unreadable: its own bytes (groups_rows keeps such a view unshared anyway)
    return b"".join(kept + sorted(maps))


def has_field(data: bytes, head: RequestHead, number: int) -> bool:
    """True when the request kind's own message carries field ``number`` (False if unreadable)."""
    try:
        return any(key >> 3 == number for key, _, _ in _fields(data, head.body))
    except _Malformed:
        return False


def request_id(data: bytes, head: RequestHead) -> int | None:
    """The ``uint32 id = 1`` of a remove-subscription request (0 if unset), None if unreadable."""
    found = 0
    try:
        for key, start, _ in _fields(data, head.body):
            if key == 1 << 3 | _VARINT:
                found = start
    except _Malformed:
        return None
    return found


def notification_key(data: bytes) -> tuple[int, str, int] | None:
    """(msg_id, entity_id, port_id) of an update notification that carries no rows, else None.

    Responses share the Request envelope. A notification without a delta only tells the
    client "view changed, read it again": a newer one for the same subscription says as much,
    so a backlogged client can skip it. Row deltas (field 1 set) carry data and are never skipped.
    """
    head = read_head(data)
    if head is None or head.kind != VIEW_ON_UPDATE:
        return None
    port_id = 0
    try:
        for key, start, _ in _fields(data, head.body):
            if key >> 3 == 1:
                return None
            if key == 2 << 3 | _VARINT:
                port_id = start
    except _Malformed:
        return None
    return head.msg_id, head.entity_id, port_id


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


def message_field(kind: int, payload: bytes = b"") -> bytes:
    """A request or response kind's field, e.g. ``message_field(VIEW_DELETE)`` for ViewDeleteResp{}."""
    return _length_delimited(kind, payload)


def string_field(number: int, value: str) -> bytes:
    return _length_delimited(number, value.encode())


def uint_field(number: int, value: int) -> bytes:
    return _encode_varint(number << 3 | _VARINT) + _encode_varint(value)


def envelope(msg_id: int, entity_id: str, kind_field: bytes) -> bytes:
    """A Request or Response: ``msg_id``, ``entity_id`` and one kind's whole field."""
    head = uint_field(1, msg_id)
    return head + (string_field(2, entity_id) if entity_id else b"") + kind_field


def error_response(msg_id: int, entity_id: str, message: str) -> bytes:
    """A ``Response`` carrying ``ServerError{message}``: the client's promise rejects with it."""
    return envelope(msg_id, entity_id, message_field(SERVER_ERROR, string_field(1, message)))
