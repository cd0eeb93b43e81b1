"""The exact bytes a real Perspective 5.5.1 client sends, recorded against a throwaway server.

Request ids and view ids are chosen by the client, so the recorded frames can be replayed
on any connection, e.g. by a raw socket that never reads its replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import perspective

Schema = dict[str, str]


class Recorder:
    """A real AsyncClient wired straight to a local session, keeping every request it sends."""

    def __init__(self, tables: dict[str, Schema]) -> None:
        self.server = perspective.Server()
        local = self.server.new_local_client()
        for name, schema in tables.items():
            local.table(schema, name=name)
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        self.client: Any = None
        self.session: Any = None

    async def __aenter__(self) -> Recorder:
        loop = asyncio.get_running_loop()

        def reply(message: bytes) -> None:
            self.received.append(bytes(message))
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.client.handle_response(message)))

        self.session = session = self.server.new_session(reply)

        async def send(message: bytes) -> None:
            self.sent.append(bytes(message))
            session.handle_request(message)

        self.client = perspective.AsyncClient(send)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.session.close()
        self.client = None

    async def last_request(self, action: Callable[[Any], Awaitable[Any]]) -> bytes:
        """The final frame ``action(client)`` sends (its own request, after any lookups)."""
        await action(self.client)
        return self.sent[-1]
