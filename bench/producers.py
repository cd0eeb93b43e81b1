"""Producer scaling: aggregate acknowledged ticks/s of 1, 2, 4 producers per format."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from bench.stack import producer
from harness.cluster import KafkaCluster
from harness.services import summary


def run_scaling(kafka: KafkaCluster, count: int, fmt: str, seconds: float, log_dir: Path) -> dict[str, Any]:
    topic = kafka.create_topic(f"prod-{fmt}-{count}-{uuid.uuid4().hex[:6]}", 6, 1)
    rate = 400_000 if fmt == "arrow" else 200_000
    procs = [
        producer(
            kafka.bootstrap,
            topic,
            log_dir,
            producer_id=f"s{count}-{i}-{fmt}",
            rate=rate,
            format=fmt,
            batch_size=5000,
        )
        for i in range(count)
    ]
    time.sleep(seconds)
    for p in procs:
        p.stop()
    acked = sum(summary(p)["acked"] for p in procs)
    return {
        "producers": count,
        "format": fmt,
        "acked": acked,
        "seconds": seconds,
        "ticks_per_s": acked / seconds,
    }
