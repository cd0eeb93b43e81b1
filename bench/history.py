"""History's write throughput, file size and RSS: a preloaded topic into `python -m history`.

The clock starts when history has its partitions (process start and the group join are not
writing) and stops when it has stored every tick; RSS is sampled all along.
``python -m bench.history [--json N] [--arrow N]`` measures on its own broker, next to the
gateway's ingest of the same topics (the goal: history keeps up with the gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.data import preload
from bench.ingest import gateway_ingest
from bench.stack import Sampler
from harness.cluster import KafkaCluster
from harness.services import History, metric, start_history

_TIMEOUT_S = 900


def run_history(
    kafka: KafkaCluster, topic: str, ticks: int, log_dir: Path, **settings: object
) -> dict[str, Any]:
    """``ticks`` already in ``topic`` through a fresh history process and database file."""
    db = Path(tempfile.mkdtemp(prefix="bench-history-")) / "history.duckdb"
    history = start_history(kafka.bootstrap, topic, db, log_dir, ready=False, **settings)
    sampler = Sampler(history.process.pid)
    started: tuple[float, float] | None = None  # (when the partitions were assigned, ticks stored then)
    stored = 0.0
    try:
        deadline = time.monotonic() + _TIMEOUT_S
        while stored < ticks and time.monotonic() < deadline:
            sampler.sample()
            if started is None and _assigned(history):
                started = (time.monotonic(), _stored(history))
            stored = _stored(history)
            time.sleep(0.05)
        finished = time.monotonic()
    finally:
        history.process.stop()
    assert started is not None and stored >= ticks, f"history stored {stored} of {ticks}"
    size = db.stat().st_size + (Path(f"{db}.wal").stat().st_size if Path(f"{db}.wal").exists() else 0)
    return {
        "ticks": ticks,
        "ticks_per_s": (ticks - started[1]) / max(finished - started[0], 1e-6),
        "peak_rss_mb": max(sampler.rss_mb),
        "db_mb_per_million": size / 1e6 / (ticks / 1e6),
    }


def _assigned(history: History) -> bool:
    try:
        with urllib.request.urlopen(f"{history.url}/readyz", timeout=2) as response:
            body = response.read()
    except urllib.error.HTTPError as not_ready:  # 503 until ready: the body says which check fails
        body = not_ready.read()
    except OSError:  # not listening yet
        return False
    return bool(json.loads(body).get("assigned"))


def _stored(history: History) -> float:
    try:
        return metric(history, "history_ticks_stored_total")
    except OSError:  # not listening yet
        return 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--json", type=int, default=1_000_000, help="JSON ticks (one per message)")
    parser.add_argument("--arrow", type=int, default=3_000_000, help="Arrow ticks (1,000 per message)")
    parser.add_argument("--set", action="append", default=[], help="a history setting, NAME=VALUE")
    parser.add_argument("--no-gateway", action="store_true", help="measure history only")
    args = parser.parse_args(argv)
    settings = dict(pair.split("=", 1) for pair in args.set)
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    results: dict[str, Any] = {}
    with KafkaCluster(nodes=1) as kafka:
        for fmt, ticks in (("json", args.json), ("arrow", args.arrow)):
            if not ticks:
                continue
            topic = kafka.create_topic(f"bench-history-{fmt}-{uuid.uuid4().hex[:6]}", 6, 1)
            asyncio.run(preload(kafka.bootstrap, topic, ticks, fmt, batch_size=1000))
            results[f"history, {fmt}"] = run_history(kafka, topic, ticks, logs, **settings)
            if not args.no_gateway:
                results[f"gateway, {fmt}"] = asyncio.run(gateway_ingest(kafka.bootstrap, topic, ticks))
            print(json.dumps({k: v for k, v in results.items() if fmt in k}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
