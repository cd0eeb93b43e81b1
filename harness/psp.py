"""A real Perspective client (perspective-python 5.5.1's AsyncClient) over a real WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import perspective
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


@asynccontextmanager
async def connect(url: str, origin: str | None = None) -> AsyncIterator[Any]:
    """``async with connect(ws_url) as client: table = await client.open_table("quotes")``."""
    headers = {"Origin": origin} if origin else {}
    ws: WebSocketClientConnection = await websocket_connect(HTTPRequest(url, headers=headers))

    async def send(message: bytes) -> None:
        await ws.write_message(bytes(message), binary=True)

    client = perspective.AsyncClient(send)

    async def pump() -> None:
        while (message := await ws.read_message()) is not None:
            await client.handle_response(message)

    reader = asyncio.create_task(pump())
    try:
        yield client
    finally:
        ws.close()
        reader.cancel()
