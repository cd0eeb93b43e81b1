"""Frames written straight to the stream read back, byte for byte, in a real WebSocket client,
at every payload-length encoding RFC 6455 has (7-bit, 16-bit and 64-bit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tornado.httpserver import HTTPServer
from tornado.web import Application
from tornado.websocket import WebSocketHandler, websocket_connect

from gateway.serve.frames import binary_frame
from harness.ports import free_port

SIZES = [0, 1, 125, 126, 65_535, 65_536, 300_000]


def payload(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(range(size % 256))


class Sender(WebSocketHandler):
    def open(self) -> None:
        assert self.ws_connection is not None and self.ws_connection.stream is not None
        for size in SIZES:
            self.ws_connection.stream.write(binary_frame(payload(size)))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    port = free_port()
    server = HTTPServer(Application([(r"/ws", Sender)]))
    server.listen(port, "127.0.0.1")
    yield f"ws://127.0.0.1:{port}/ws"
    server.stop()


async def test_a_client_reads_every_length_encoding_as_one_binary_message(url: str) -> None:
    client = await websocket_connect(url)
    received = [await client.read_message() for _ in SIZES]
    client.close()
    assert [len(m or b"") for m in received] == SIZES
    assert received == [payload(size) for size in SIZES]
    assert all(isinstance(m, bytes) for m in received)


def test_the_header_is_fin_binary_with_the_shortest_length() -> None:
    assert binary_frame(b"ab") == b"\x82\x02ab"
    assert binary_frame(b"x" * 126)[:4] == b"\x82\x7e\x00\x7e"
    assert binary_frame(b"x" * 65_536)[:10] == b"\x82\x7f" + (65_536).to_bytes(8, "big")
