"""Records read from Kafka and not yet applied: the hand-off between the reader and the worker.

The gateway reads Kafka without waiting for the tables. aiokafka fetches a partition again
only once its buffered records have been taken, so a loop that polled, then applied, then
polled again left whatever reached the broker during an apply waiting at the broker for a
whole further cycle (measured: ~2 apply cycles of latency at 10k ticks/s). Reading on while
the worker applies keeps fetches going; the worker then takes everything read so far.
Memory stays bounded: the reader waits while ``limit`` records or ``max_bytes`` wait
(an Arrow message carries thousands of ticks, so a count alone would not bound it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, limit: int, max_bytes: int, size: Callable[[T], int]) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.size = size
        self.items: list[T] = []
        self.sizes: list[int] = []  # of each waiting item, measured once (put and take run per record)
        self.bytes = 0
        self._filled = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def put(self, items: list[T]) -> None:
        if not items:
            return
        sizes = list(map(self.size, items))
        self.items.extend(items)
        self.sizes.extend(sizes)
        self.bytes += sum(sizes)
        self._filled.set()
        self._update_room()

    async def room(self) -> None:
        """Returns once fewer than ``limit`` records and ``max_bytes`` wait."""
        await self._room.wait()

    async def wait(self, timeout: float) -> bool:
        """True once something waits to be taken; False if nothing came within ``timeout`` s."""
        try:
            await asyncio.wait_for(self._filled.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def take(self) -> list[T]:
        """What is waiting, up to ``limit`` records or ``max_bytes`` (at least one record); waits for one."""
        await self._filled.wait()
        count, taken_bytes = 0, 0
        for size in self.sizes[: self.limit]:
            if count and taken_bytes + size > self.max_bytes:
                break
            count, taken_bytes = count + 1, taken_bytes + size
        taken, self.items = self.items[:count], self.items[count:]
        del self.sizes[:count]
        self.bytes -= taken_bytes
        if not self.items:
            self._filled.clear()
        self._update_room()
        return taken

    def _update_room(self) -> None:
        if len(self.items) >= self.limit or self.bytes >= self.max_bytes:
            self._room.clear()
        else:
            self._room.set()
