"""Live figures for the one-row `gateway` table and the `producers` table."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyarrow as pa

from gateway.metrics import LATENCY

WINDOW_S = 5.0
SAMPLES_PER_BATCH = 256


class LiveStats:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.ticks_total = 0
        self.decode_errors = 0
        self.last_tick_at: float | None = None  # monotonic time the newest tick was applied
        self._rate: deque[tuple[float, int]] = deque()
        self._latency: deque[tuple[float, np.ndarray]] = deque()
        self._rng = np.random.default_rng(0)

    def record(self, batch: pa.RecordBatch) -> None:
        """Count ``batch`` and sample its end-to-end latency (now - event_time) at apply time."""
        now = time.monotonic()
        self.ticks_total += batch.num_rows
        self._rate.append((now, batch.num_rows))
        if batch.num_rows:
            self.last_tick_at = now
            event_ms = batch.column("event_time").cast(pa.int64()).to_numpy()
            if len(event_ms) > SAMPLES_PER_BATCH:
                event_ms = self._rng.choice(event_ms, SAMPLES_PER_BATCH, replace=False)
            latency = np.maximum(time.time() * 1000 - event_ms, 0)
            self._latency.append((now, latency))
            for value in latency[:32].tolist():  # prometheus has no bulk observe: a sample is enough
                LATENCY.observe(value / 1000)
        self._trim(now)

    def rate(self) -> float:
        now = time.monotonic()
        self._trim(now)
        if not self._rate:
            return 0.0
        span = max(now - self._rate[0][0], 1.0)
        return sum(n for _, n in self._rate) / span

    def latency_ms(self) -> tuple[float, float]:
        self._trim(time.monotonic())
        if not self._latency:
            return 0.0, 0.0
        values = np.concatenate([v for _, v in self._latency])
        p50, p99 = np.percentile(values, [50, 99])
        return float(p50), float(p99)

    def since_tick(self) -> float | None:
        return None if self.last_tick_at is None else time.monotonic() - self.last_tick_at

    def uptime(self) -> float:
        return time.monotonic() - self.started

    def _trim(self, now: float) -> None:
        for window in (self._rate, self._latency):
            while window and now - window[0][0] > WINDOW_S:
                window.popleft()


class Rates:
    """Per-key rate of a growing count, re-estimated at most once a second."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int, float]] = {}  # key -> (when, count, rate)

    def rate(self, key: str, count: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        then, before, rate = self._last.setdefault(key, (now, count, 0.0))
        if now - then >= 1.0:
            rate = (count - before) / (now - then)
            self._last[key] = (now, count, rate)
        return rate
