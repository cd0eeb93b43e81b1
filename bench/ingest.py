"""Ingest throughput: the gateway's own pipeline, in process, from start to caught up."""

from __future__ import annotations

import asyncio
import time

from gateway.app import build_pipeline, new_server
from gateway.settings import GatewaySettings


async def gateway_ingest(
    bootstrap: str, topic: str, ticks: int, workers: int = 0, timeout: float = 600
) -> dict[str, float]:
    """Run a real Pipeline over ``topic`` (earliest) until it applied ``ticks`` ticks; ``workers``:
    GATEWAY_INGEST_WORKERS (their start-up, ~1 s of spawn and imports, is counted)."""
    settings = GatewaySettings(
        bootstrap_servers=bootstrap,
        topic=topic,
        start="earliest",
        dlq_topic="",
        stats_interval_ms=1000,
        ingest_workers=workers,
    )
    pipeline = build_pipeline(settings, new_server(settings))
    started = time.perf_counter()
    await pipeline.start()
    try:
        while pipeline.stats.ticks_total < ticks and time.perf_counter() - started < timeout:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        applied = pipeline.stats.ticks_total
    finally:
        await pipeline.stop()
    return {"ticks": applied, "seconds": elapsed, "ticks_per_s": applied / elapsed}
