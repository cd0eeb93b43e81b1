"""Retention: ticks older than ``retention_hours`` (by event_time) deleted every ``prune_interval_s``.

The DELETE runs on its own thread and cursor, so neither the event loop nor the writer waits
for it: DuckDB lets a transaction deleting old rows and one appending new rows commit side by
side. The seen ranges (schema.SEEN) are kept, so a replay cannot bring pruned ticks back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb

from history import metrics
from history.store import HistoryStore

log = logging.getLogger(__name__)


class Pruner:
    def __init__(self, store: HistoryStore, retention_hours: float, interval_s: float) -> None:
        self.store = store
        self.retention_ms = int(retention_hours * 3_600_000)
        self.interval_s = interval_s
        self.pruned = 0

    async def run(self, stopping: asyncio.Event) -> None:
        with ThreadPoolExecutor(1, thread_name_prefix="history-prune") as thread:
            while not stopping.is_set():
                try:
                    await asyncio.wait_for(stopping.wait(), self.interval_s)
                except TimeoutError:
                    await self._prune(thread)

    async def _prune(self, thread: ThreadPoolExecutor) -> None:
        cutoff = int(time.time() * 1000) - self.retention_ms
        started = time.perf_counter()
        try:
            removed = await asyncio.get_running_loop().run_in_executor(thread, self.store.prune, cutoff)
        except duckdb.Error as exc:  # e.g. a conflict with a concurrent write: the next round retries
            log.warning("pruning failed, retrying in %.0fs: %s", self.interval_s, exc)
            return
        self.pruned += removed
        metrics.PRUNED.inc(removed)
        if removed:
            log.info(
                "pruned %d ticks older than %.1f h in %.3fs",
                removed,
                self.retention_ms / 3_600_000,
                time.perf_counter() - started,
            )
