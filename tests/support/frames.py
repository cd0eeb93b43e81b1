"""Hand-built protobuf frames, for requests no well-behaved client would send."""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def field(number: int, wire: int, value: bytes | int) -> bytes:
    """One field: wire 0 takes an int (or bytes, read little-endian), wire 2 takes bytes."""
    if wire == 0:
        number_value = value if isinstance(value, int) else int.from_bytes(value[:8] or b"\0", "little")
        return varint(number << 3) + varint(number_value)
    payload = value if isinstance(value, bytes) else varint(value)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def request(msg_id: int, entity_id: str, kind: int, body: bytes = b"") -> bytes:
    """A Request: msg_id = 1, entity_id = 2, the kind's message at field ``kind``."""
    return field(1, 0, msg_id) + field(2, 2, entity_id.encode()) + field(kind, 2, body)
