"""A real Perspective client (perspective-python 5.5.1's AsyncClient) over a real WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
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


async def rows(client: Any, table: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every row of ``table``; a gateway that stops answering fails the test here, by name."""

    async def fetch() -> list[dict[str, Any]]:
        handle = await client.open_table(table)
        view = await handle.view()
        try:
            records: list[dict[str, Any]] = await view.to_records()
            return records
        finally:
            await view.delete()

    try:
        return await asyncio.wait_for(fetch(), timeout)
    except TimeoutError:
        raise AssertionError(f"no answer for the rows of {table!r} within {timeout}s") from None


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, interval: float = 0.2
) -> None:
    """Poll an async predicate until true, or fail with the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
