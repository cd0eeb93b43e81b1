"""A bounded FIFO of encoded messages waiting for Kafka, which sheds its oldest ticks when full.

Bounded by ticks rather than messages, so one setting means the same in JSON mode (a tick
per message) and Arrow mode (a batch per message). Shedding the oldest keeps the newest
prices flowing after an outage, and every shed tick is counted, so the gaps a consumer sees
in ``seq`` are exactly the reported drops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Kafka message: its key, encoded value and how many ticks it carries."""

    key: bytes
    value: bytes
    ticks: int


class TickBuffer:
    def __init__(self, capacity_ticks: int) -> None:
        self.capacity = capacity_ticks
        self.ticks = 0
        self._messages: deque[Outgoing] = deque()

    def __len__(self) -> int:
        return len(self._messages)

    def offer(self, messages: Iterable[Outgoing]) -> int:
        """Append newest-last; return how many of the oldest ticks were shed to stay in bounds."""
        for message in messages:
            self._messages.append(message)
            self.ticks += message.ticks
        return self._shed()

    def give_back(self, messages: list[Outgoing]) -> int:
        """Return taken-but-unsent messages to the front, in their order; return ticks shed."""
        self._messages.extendleft(reversed(messages))
        self.ticks += sum(m.ticks for m in messages)
        return self._shed()

    def take(self, max_bytes: int) -> list[Outgoing]:
        """The oldest messages up to ``max_bytes`` of values (always at least one if any)."""
        taken: list[Outgoing] = []
        size = 0
        while self._messages and (not taken or size < max_bytes):
            message = self._messages.popleft()
            taken.append(message)
            size += len(message.value)
            self.ticks -= message.ticks
        return taken

    def _shed(self) -> int:
        shed = 0
        # Keep the newest message even if it alone is over capacity: an Arrow batch is indivisible.
        while self.ticks > self.capacity and len(self._messages) > 1:
            oldest = self._messages.popleft()
            self.ticks -= oldest.ticks
            shed += oldest.ticks
        return shed
