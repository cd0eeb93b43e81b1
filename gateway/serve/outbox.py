"""One connection's outgoing frames, with conflation for clients that read slower than we write.

While the socket keeps up (less than ``watermark`` bytes handed to it and not yet flushed),
every frame is written at once. Past that, frames wait in a queue, and an update
notification that carries no rows is dropped when one for the same view subscription is
already waiting: the waiting one still tells the client to re-read the view, and by the time
it is sent that read sees every change. A ``<perspective-viewer>`` only ever asks for such
notifications, so a slow dashboard gets fresh data at the rate it can take, instead of
an ever longer backlog. Row deltas are data and always wait their turn; when the backlog
passes ``limit`` the client is given up on (``overflow``), so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from gateway.serve.protocol import notification_key

Key = tuple[int, str, int]


class Outbox:
    def __init__(
        self,
        write: Callable[[bytes], asyncio.Future[None]],
        watermark: int,
        limit: int,
        on_conflated: Callable[[], None] = lambda: None,
    ) -> None:
        self._write = write
        self.watermark = watermark
        self.limit = limit
        self._on_conflated = on_conflated
        self.in_flight = 0  # bytes given to the socket and not yet flushed
        self.queued_bytes = 0
        self._queue: deque[tuple[bytes, Key | None]] = deque()
        self._waiting: set[Key] = set()

    @property
    def backlog(self) -> int:
        return self.in_flight + self.queued_bytes

    def send(self, message: bytes) -> bool:
        """Write, queue or conflate ``message``; False when the backlog is over the limit."""
        if not self._queue and self.in_flight < self.watermark:
            self._send_now(message)
            return True
        if self.backlog > self.limit:
            return False
        key = notification_key(message)
        if key is not None:
            if key in self._waiting:
                self._on_conflated()
                return True
            self._waiting.add(key)
        self._queue.append((message, key))
        self.queued_bytes += len(message)
        return True

    def _send_now(self, message: bytes) -> None:
        size = len(message)
        flushed = self._write(message)
        self.in_flight += size
        flushed.add_done_callback(lambda done: self._flushed(done, size))

    def _flushed(self, done: asyncio.Future[None], size: int) -> None:
        self.in_flight -= size
        if not done.cancelled() and done.exception() is not None:
            self._queue.clear()  # the socket is gone: nothing more will be written
            self._waiting.clear()
            self.queued_bytes = 0
            return
        while self._queue and self.in_flight < self.watermark:
            message, key = self._queue.popleft()
            self.queued_bytes -= len(message)
            if key is not None:
                self._waiting.discard(key)
            self._send_now(message)
