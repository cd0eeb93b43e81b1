"""The open WebSocket connections: for the connection cap, the clients count and a clean shutdown."""

from __future__ import annotations

import asyncio
from typing import Protocol

GOING_AWAY = 1001


class Closable(Protocol):
    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Connections:
    def __init__(self) -> None:
        self.open: set[Closable] = set()

    def __len__(self) -> int:
        return len(self.open)

    async def close_all(self, timeout: float = 3.0) -> None:
        """Send every client a close frame and wait (bounded) until they have all gone."""
        for socket in list(self.open):
            socket.close(GOING_AWAY, "server shutting down")
        deadline = asyncio.get_running_loop().time() + timeout
        while self.open and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
