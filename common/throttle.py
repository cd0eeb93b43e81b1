"""One log line per kind of trouble every few seconds, however often the trouble repeats.

A flood of bad messages, a hostile client or a broker outage repeats the same event
thousands of times a second; the counters count every one, the log says it at a rate a
human can read, with how many were held back since the last line.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class LogThrottle:
    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._logged_at: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def ready(self, key: str = "") -> int | None:
        """The number of ``key`` events held back since its last line when this one may be logged
        (then log it), else None (it is counted towards the next line)."""
        now = self._clock()
        if now - self._logged_at.get(key, -self.every_s) < self.every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._logged_at[key] = now
        return self._held.pop(key, 0)
