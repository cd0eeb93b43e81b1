"""One-second OHLC bars per symbol, merged across batches in event-time order.

A tick's ``volume`` is the symbol's cumulative day volume, so a bar's volume is the last
cumulative volume in its second minus the last one before it (the previous bar's).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_AGGREGATES = [
    ("price", "first"),
    ("price", "last"),
    ("price", "min"),
    ("price", "max"),
    ("volume", "min"),
    ("volume", "max"),
    ("event_time_ms", "min"),
    ("event_time_ms", "max"),
    ("price", "count"),
]


@dataclass(slots=True)
class Bar:
    symbol: str
    bucket: int
    open: float
    high: float
    low: float
    close: float
    first_ms: int
    last_ms: int
    volume_min: int
    volume_max: int
    ticks: int
    volume_base: int = -1  # cumulative volume before this bar; -1: unknown, use volume_min

    @property
    def key(self) -> str:
        return f"{self.symbol}|{self.bucket}"

    @property
    def volume(self) -> int:
        base = self.volume_base if 0 <= self.volume_base <= self.volume_min else self.volume_min
        return self.volume_max - base

    def merge(self, other: Bar) -> None:
        if other.first_ms < self.first_ms:
            self.open, self.first_ms = other.open, other.first_ms
        if other.last_ms >= self.last_ms:
            self.close, self.last_ms = other.close, other.last_ms
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.volume_min = min(self.volume_min, other.volume_min)
        self.volume_max = max(self.volume_max, other.volume_max)
        self.ticks += other.ticks


class BarBook:
    """Live bars keyed ``symbol|bucket_ms``, capped at ``limit`` (oldest evicted first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bars: OrderedDict[str, Bar] = OrderedDict()
        self.volume_seen: dict[str, int] = {}  # highest cumulative volume per symbol so far

    def add(self, batch: pa.RecordBatch | pa.Table) -> tuple[list[Bar], list[str]]:
        """Fold ``batch`` in; return the bars that changed and the keys evicted."""
        ms = batch.column("event_time").cast(pa.int64())
        table = pa.table(
            {
                "symbol": batch.column("symbol"),
                "price": batch.column("price"),
                "volume": batch.column("volume"),
                "event_time_ms": ms,
                "bucket": pc.multiply(pc.divide(ms, 1000), 1000),
            }
        ).sort_by("event_time_ms")
        grouped = table.group_by(["symbol", "bucket"], use_threads=False).aggregate(_AGGREGATES)
        changed = [self._merge(row) for row in grouped.to_pylist()]
        return changed, self._evict()

    def _merge(self, row: dict[str, Any]) -> Bar:
        bar = Bar(
            symbol=str(row["symbol"]),
            bucket=int(row["bucket"]),
            open=float(row["price_first"]),
            close=float(row["price_last"]),
            low=float(row["price_min"]),
            high=float(row["price_max"]),
            first_ms=int(row["event_time_ms_min"]),
            last_ms=int(row["event_time_ms_max"]),
            volume_min=int(row["volume_min"]),
            volume_max=int(row["volume_max"]),
            ticks=int(row["price_count"]),
        )
        existing = self.bars.get(bar.key)
        if existing is None:
            bar.volume_base = self.volume_seen.get(bar.symbol, -1)
            self.bars[bar.key] = existing = bar
        else:
            existing.merge(bar)
        self.volume_seen[bar.symbol] = max(self.volume_seen.get(bar.symbol, 0), bar.volume_max)
        return existing

    def _evict(self) -> list[str]:
        evicted = []
        while len(self.bars) > self.limit:
            key, _ = self.bars.popitem(last=False)
            evicted.append(key)
        return evicted
