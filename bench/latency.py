"""End-to-end latency: producers at a rate, N real viewers, (seen - event_time) percentiles."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bench.stack import Sampler, gateway, producer, viewer_command
from harness.cluster import KafkaCluster
from harness.services import ROOT

VIEWER_PROCESSES = 2  # one per core: a single Python process cannot serve 100 clients' updates


def run_case(
    kafka: KafkaCluster, rate: int, viewers: int, seconds: float, log_dir: Path, shared: bool = True
) -> dict[str, Any]:
    """One (rate, viewers) case; ``shared=False`` is the naive fan-out: one view per client."""
    topic = kafka.create_topic(f"lat-{rate}-{viewers}-{uuid.uuid4().hex[:6]}", 6, 1)
    gw = gateway(kafka.bootstrap, topic, log_dir, start="latest", share_views=shared)
    fmt = "arrow" if rate > 20_000 else "json"
    prod = producer(
        kafka.bootstrap,
        topic,
        log_dir,
        producer_id=f"lat{rate}",
        rate=rate,
        format=fmt,
        batch_size=max(rate // 100, 1),
    )
    sampler = Sampler(gw.process.pid)
    try:
        time.sleep(1.0)  # let the producer reach its rate before viewers connect
        per_process = [
            viewers // VIEWER_PROCESSES + (1 if i < viewers % VIEWER_PROCESSES else 0)
            for i in range(min(VIEWER_PROCESSES, viewers))
        ]
        # Every viewer receives every delta; up to 5 per process also decode them for the figures.
        procs = [
            subprocess.Popen(
                viewer_command(gw.ws_url, n, seconds, min(n, 5)), cwd=ROOT, stdout=subprocess.PIPE
            )
            for n in per_process
        ]
        deadline = time.monotonic() + seconds + 30
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            sampler.sample()
            time.sleep(0.5)
        samples = np.array(
            [
                s
                for p in procs
                for s in orjson.loads(p.communicate(timeout=30)[0] or b'{"samples":[]}')["samples"]
            ]
        )
    finally:
        prod.stop()
        gw.process.stop()
    p50, p95, p99 = np.percentile(samples, [50, 95, 99]).tolist() if len(samples) else [None] * 3
    return {
        "rate": rate,
        "viewers": viewers,
        "shared": shared,
        "samples": len(samples),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "gateway_cpu_pct": float(np.mean(sampler.cpu)) if sampler.cpu else None,
        "gateway_rss_mb": max(sampler.rss_mb) if sampler.rss_mb else None,
    }
