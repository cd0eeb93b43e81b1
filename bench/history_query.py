"""History's query latency over a day of stored ticks, and the live gateway's ingest beside history.

The query figure is measured as a page pays it: a Perspective client over `/history`, one
symbol's 1-minute candles over the whole day (open, filter, read, delete the view). The day is
written straight into a database file through HistoryStore (the same append and candle fold as
the service), spread over the last 23 hours so the retention keeps it all.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench.ingest import gateway_ingest
from common.schema import ARROW_SCHEMA, FIELDS, Kind
from harness.cluster import KafkaCluster
from harness.psp import connect
from harness.services import start_history
from history.store import HistoryStore

SYMBOLS = 50
_CHUNK = 122_880  # DuckDB's row group: a transaction of this size goes straight to the file
_DAY_MS = 23 * 3_600_000


def _prices(index: np.ndarray, total: int) -> np.ndarray:
    day = index / total  # 0 at the day's first tick, 1 at its last
    phase = (index % SYMBOLS) / SYMBOLS
    return np.asarray(
        100 + 6 * np.sin(2 * np.pi * (2 * day + phase)) + 2 * np.sin(2 * np.pi * (23 * day + 3 * phase)),
        dtype=np.float64,
    )


def _chunk(first: int, rows: int, total: int, now_ms: int) -> pa.RecordBatch:
    index = np.arange(first, first + rows, dtype=np.int64)
    symbols = pa.array([f"S{i:02d}" for i in range(SYMBOLS)])
    rng = np.random.default_rng(first)
    columns: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        if kind is Kind.FLOAT:  # a day's swings per symbol plus noise: candles that look like a market
            columns[name] = pa.array(_prices(index, total) + rng.random(rows) * 0.4)
        elif kind is Kind.INTEGER:
            columns[name] = pa.array(index)  # seq and volume rise: one producer, no holes
        elif kind is Kind.EPOCH_MS:
            columns[name] = pa.array(now_ms - _DAY_MS + index * _DAY_MS // total, pa.timestamp("ms"))
        else:
            columns[name] = pa.array(["bench"] * rows)
    columns["symbol"] = symbols.take(pa.array(index % SYMBOLS))
    return pa.RecordBatch.from_pydict(columns, schema=ARROW_SCHEMA)


def build_day(path: Path, ticks: int) -> dict[str, float]:
    """``ticks`` over the last 23 hours into a new file; its size and how long writing took."""
    store = HistoryStore(str(path))
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    try:
        for first in range(0, ticks, _CHUNK):
            store.append(_chunk(first, min(_CHUNK, ticks - first), ticks, now_ms), "bench", {})
    finally:
        store.close()
    return {
        "ticks": ticks,
        "write_s": time.perf_counter() - started,
        "db_mb_per_million": path.stat().st_size / 1e6 / (ticks / 1e6),
    }


async def _candles(url: str, queries: int) -> list[float]:
    timings = []
    async with connect(url) as client:
        table = await client.open_table("history.bars_1m")
        for i in range(queries + 3):
            started = time.perf_counter()
            view = await table.view(
                columns=["minute", "open", "high", "low", "close", "volume"],
                filter=[["symbol", "==", f"S{i % SYMBOLS:02d}"]],
                sort=[["minute", "asc"]],
            )
            rows = await view.num_rows()
            await view.to_arrow()
            await view.delete()
            if i >= 3:  # three warm-ups
                timings.append(1000 * (time.perf_counter() - started))
            assert rows >= 1380, f"{rows} candles for one symbol over 23 hours"
    return timings


def query_latency(kafka: KafkaCluster, topic: str, ticks: int, log_dir: Path, queries: int) -> dict[str, Any]:
    """p50/p99 of one symbol's candles over a day of ``ticks`` stored ticks, through /history."""
    path = Path(tempfile.mkdtemp(prefix="bench-history-day-")) / "history.duckdb"
    written = build_day(path, ticks)
    history = start_history(kafka.bootstrap, topic, path, log_dir)
    try:
        timings = asyncio.run(_candles(f"ws://127.0.0.1:{history.port}/history", queries))
    finally:
        history.process.stop()
        shutil.rmtree(path.parent, ignore_errors=True)
    ordered = sorted(timings)
    return {
        **written,
        "queries": len(timings),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def gateway_beside_history(
    kafka: KafkaCluster, topic: str, ticks: int, log_dir: Path, repeats: int, **settings: object
) -> dict[str, list[float]]:
    """The gateway's ingest of ``topic`` alone and with history reading it too, interleaved."""
    runs: dict[str, list[float]] = {"alone": [], "with history": []}
    for _ in range(repeats):
        runs["alone"].append(asyncio.run(gateway_ingest(kafka.bootstrap, topic, ticks))["ticks_per_s"])
        path = Path(tempfile.mkdtemp(prefix="bench-history-ab-")) / "history.duckdb"
        # A new group each time, so every run's history reads the whole topic beside the gateway.
        group = f"bench-ab-{uuid.uuid4().hex[:6]}"
        history = start_history(
            kafka.bootstrap, topic, path, log_dir, ready=False, group_id=group, **settings
        )
        try:
            runs["with history"].append(
                asyncio.run(gateway_ingest(kafka.bootstrap, topic, ticks))["ticks_per_s"]
            )
        finally:
            history.process.stop()
            shutil.rmtree(path.parent, ignore_errors=True)
    return runs
