"""Failed-attempt throttling per client address, for ``POST /auth/ticket``.

Guessing the shared secret costs one request per guess; without a limit one client made
3,000 guesses in 1.5 s. Here an address may fail ``max_failures`` times; the next failure
blocks it for 1 s and every one after that for twice as long as the one before (2 s, 4 s
... up to ``max_backoff_s``), and while blocked it is answered 429 without its token being looked
at. An address that stays quiet for ``window_s`` after its last failure or block is
forgotten. The table keeps at most ``max_addresses`` entries (least recently failing
dropped first), so a flood of addresses costs bounded memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

BASE_BACKOFF_S = 1.0
MAX_ADDRESSES = 10_000


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class FailureThrottle:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        max_backoff_s: float,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_backoff_s = max_backoff_s
        self.max_addresses = max_addresses
        self._records: OrderedDict[str, _Record] = OrderedDict()  # oldest failure first

    def __len__(self) -> int:
        return len(self._records)

    def retry_after(self, address: str, now: float | None = None) -> float:
        """Seconds until ``address`` may try again; 0 when it may try now."""
        now = time.monotonic() if now is None else now
        record = self._records.get(address)
        return max(record.blocked_until - now, 0.0) if record is not None else 0.0

    def failed(self, address: str, now: float | None = None) -> float:
        """Count a failure; returns how long ``address`` is now blocked (0 if not)."""
        now = time.monotonic() if now is None else now
        self._forget_quiet(now)
        record = self._records.pop(address, None) or _Record()
        self._records[address] = record  # to the end: the most recent failure
        record.failures += 1
        record.last_failure = now
        over = record.failures - self.max_failures  # the first failure over the limit blocks 1 s
        if over > 0:
            backoff = min(BASE_BACKOFF_S * 2.0 ** min(over - 1, 62), self.max_backoff_s)
            record.blocked_until = now + backoff
        while len(self._records) > self.max_addresses:
            self._records.popitem(last=False)
        return max(record.blocked_until - now, 0.0)

    def succeeded(self, address: str) -> None:
        """The address knows the secret: its earlier failures were typos, not guesses."""
        self._records.pop(address, None)

    def _forget_quiet(self, now: float) -> None:
        # Entries are in order of last failure, so the quiet ones are at the front.
        while self._records:
            record = next(iter(self._records.values()))
            if now - max(record.last_failure, record.blocked_until) < self.window_s:
                break
            self._records.popitem(last=False)
