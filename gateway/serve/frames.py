"""Binary WebSocket frames written straight to the stream, for the many small server frames.

Tornado's ``write_message`` wraps each write in a coroutine and a Task so that awaiting it is
optional; at 100 viewers that is ~9,000 Tasks a second on the IOLoop for nothing, since the
outbox only needs to know when the bytes are flushed, which the IOStream's own Future says.
Server frames are never masked (RFC 6455 5.1) and this server negotiates no extension
(``TableSocket.get_compression_options`` returns None), so a frame is a 2-10 byte header
and the payload.
"""

from __future__ import annotations

import struct

_FIN_BINARY = 0x82


def binary_frame(payload: bytes) -> bytes:
    """One final, unmasked binary frame carrying ``payload``."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", _FIN_BINARY, size)
    elif size <= 0xFFFF:
        head = struct.pack("!BBH", _FIN_BINARY, 126, size)
    else:
        head = struct.pack("!BBQ", _FIN_BINARY, 127, size)
    return head + payload
