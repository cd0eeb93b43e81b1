"""Gateway memory while N ticks stream through it: RSS must flatten once the rings are full."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from bench.data import preload
from bench.stack import Sampler, gateway
from harness.cluster import KafkaCluster
from harness.services import metric


def run_memory(kafka: KafkaCluster, ticks: int, log_dir: Path) -> dict[str, Any]:
    topic = kafka.create_topic(f"mem-{uuid.uuid4().hex[:6]}", 6, 1)
    asyncio.run(preload(kafka.bootstrap, topic, ticks, "arrow", batch_size=10_000))
    started = time.monotonic()
    gw = gateway(kafka.bootstrap, topic, log_dir, start="earliest", ready=False)
    sampler = Sampler(gw.process.pid)
    applied: list[float] = []
    try:
        while time.monotonic() - started < 900:
            sampler.sample()
            applied.append(metric(gw, "gateway_ticks_total"))
            if applied[-1] >= ticks:
                break
            time.sleep(0.5)
        for _ in range(6):  # a few seconds after the last tick: does it settle?
            sampler.sample()
            applied.append(applied[-1])
            time.sleep(0.5)
    finally:
        gw.process.stop()
    return {
        "topic": topic,  # history's memory is measured on the same ticks
        "ticks": ticks,
        "times_s": sampler.times,
        "rss_mb": sampler.rss_mb,
        "applied": applied,
        "final_rss_mb": sampler.rss_mb[-1],
        "peak_rss_mb": max(sampler.rss_mb),
    }
