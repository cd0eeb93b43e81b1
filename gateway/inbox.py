"""Records read from Kafka and not yet applied: the hand-off between the reader and the worker.

The gateway reads Kafka without waiting for the tables. aiokafka fetches a partition again
only once its buffered records have been taken, so a loop that polled, then applied, then
polled again left whatever reached the broker during an apply waiting at the broker for a
whole further cycle (measured: ~2 apply cycles of latency at 10k ticks/s). Reading on while
the worker applies keeps fetches going; the worker then takes everything read so far.
Memory stays bounded: the reader waits while ``limit`` records are waiting.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[T] = []
        self._filled = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def put(self, items: list[T]) -> None:
        if not items:
            return
        self.items.extend(items)
        self._filled.set()
        if len(self.items) >= self.limit:
            self._room.clear()

    async def room(self) -> None:
        """Returns once fewer than ``limit`` records wait."""
        await self._room.wait()

    async def take(self) -> list[T]:
        """Everything waiting, up to ``limit`` records (one table update); waits for at least one."""
        await self._filled.wait()
        taken, self.items = self.items[: self.limit], self.items[self.limit :]
        if not self.items:
            self._filled.clear()
        if len(self.items) < self.limit:
            self._room.set()
        return taken
