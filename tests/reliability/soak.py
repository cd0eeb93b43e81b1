"""`make soak`: SOAK_MINUTES (default 10) at 10k ticks/s with 20 viewers and one broker restart.

Samples gateway RSS and viewer latency every 10 s into tests/reliability/soak-results/, plots
them, and passes when nothing was lost and RSS and p99 latency stay flat after warm-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import orjson

from bench.stack import Sampler, viewer_command
from harness.cluster import KafkaCluster
from harness.services import ROOT, metric, start_gateway, start_producer, summary

SAMPLE_S = 10
VIEWERS = 20
DECODING = 2  # all 20 receive every row delta; 2 decode them, so one process keeps up with 10k/s


def flat(series: list[float], slack: float) -> bool:
    """No upward trend after warm-up: the last third's median within 25% (+ slack) of the second's.

    Medians, so the one broker restart's transient spike does not count as growth.
    """
    third = len(series) // 3
    if third == 0:
        return False
    middle, last = series[third : 2 * third], series[2 * third :]
    return float(np.median(last)) <= 1.25 * float(np.median(middle)) + slack


def _latency_window(url: str) -> float | None:
    """p99 of one short-lived viewer's samples: a probe that joins, watches 3 s and leaves."""
    out = subprocess.run(viewer_command(url, 1, 3), cwd=ROOT, capture_output=True, timeout=60, check=False)
    samples = orjson.loads(out.stdout or b'{"samples": []}')["samples"]
    return float(np.percentile(samples, 99)) if samples else None


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "10"))
    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    out = ROOT / "tests" / "reliability" / "soak-results"
    out.mkdir(exist_ok=True)
    with KafkaCluster(nodes=1) as kafka:
        topic = kafka.create_topic("soak", 6, 1)
        gateway = start_gateway(kafka.bootstrap, topic, logs, ticks_limit=100_000)
        producer = start_producer(
            kafka.bootstrap, topic, logs, producer_id="soak", rate=10_000, format="arrow", batch_size=100
        )
        viewers = subprocess.Popen(
            viewer_command(gateway.ws_url, VIEWERS, minutes * 60, DECODING),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        sampler = Sampler(gateway.process.pid)
        p99: list[float | None] = []
        started = time.monotonic()
        restarted = False
        while time.monotonic() - started < minutes * 60:
            if not restarted and time.monotonic() - started > minutes * 30:
                kafka.node(1).stop()
                time.sleep(5)
                kafka.restart(1)
                restarted = True
            sampler.sample()
            p99.append(_latency_window(gateway.ws_url))
            print(f"{sampler.times[-1]:6.0f}s rss {sampler.rss_mb[-1]:6.0f} MB  p99 {p99[-1]} ms", flush=True)
            time.sleep(max(0.0, SAMPLE_S - 3))
        producer.stop()
        acked = summary(producer)["acked"]
        deadline = time.monotonic() + 60
        while metric(gateway, "gateway_ticks_total") < acked and time.monotonic() < deadline:
            time.sleep(0.5)
        applied = metric(gateway, "gateway_ticks_total")
        viewers.kill()
        gateway.process.stop()
    lat = [v for v in p99 if v is not None]
    rss_flat = flat(sampler.rss_mb, slack=50)
    lat_flat = flat(lat, slack=20)
    result = {
        "minutes": minutes,
        "acked": acked,
        "applied": applied,
        "lost": acked - applied,
        "rss_mb": sampler.rss_mb,
        "p99_ms": p99,
        "times_s": sampler.times,
        "rss_flat": rss_flat,
        "latency_flat": lat_flat,
        "peak_p99_ms": max(lat, default=None),
    }
    (out / "soak.json").write_text(json.dumps(result, indent=2))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(sampler.times, sampler.rss_mb, label="gateway RSS MB")
    ax.plot(sampler.times, [v or 0 for v in p99], label="viewer p99 ms")
    ax.legend()
    ax.set_xlabel("seconds")
    fig.savefig(out / "soak.png")
    print(
        f"soak: acked {acked}, applied {applied:.0f}, lost {acked - applied:.0f}; "
        f"RSS flat {rss_flat}, p99 flat {lat_flat}"
    )
    return 0 if acked == applied and rss_flat and lat_flat else 1


if __name__ == "__main__":
    sys.exit(main())
