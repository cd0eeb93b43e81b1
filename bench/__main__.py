"""`python -m bench [--quick]`: every figure through a real broker; report in bench/results/<time>/."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.data import preload
from bench.engine import run_engine
from bench.ingest import gateway_ingest
from bench.latency import run_case
from bench.memory import run_memory
from bench.naive import naive_ingest
from bench.producers import run_scaling
from bench.report import machine, spread, write
from harness.cluster import KafkaCluster

T = TypeVar("T")
PLANS: dict[str, dict[str, Any]] = {
    "quick": {
        "ingest_ticks": 200_000,
        "naive_ticks": 10_000,
        "repeats": 1,
        "latency": [(1000, 1), (1000, 10)],
        "latency_s": 6,
        "memory_ticks": 1_000_000,
        "scaling": [1, 2],
        "scaling_s": 4,
        "engine_rows": (200,),
    },
    "full": {
        "ingest_ticks": 2_000_000,
        "naive_ticks": 30_000,
        "repeats": 3,
        "latency": [(r, v) for r in (1000, 10_000, 50_000) for v in (1, 10, 100)],
        "latency_s": 12,
        "memory_ticks": 10_000_000,
        "scaling": [1, 2, 4],
        "scaling_s": 8,
        "engine_rows": (200, 2000),
    },
}
PEER = (
    "Deephaven (`deephaven-server` from PyPI) was not run in this report: the suite did not yet wire "
    "its Kafka consumer; its ratio is therefore not claimed."
)


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()

    def step(self, what: str, action: Callable[[], T]) -> T:
        width = 30
        filled = int(width * self.done / self.total)
        print(
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{time.monotonic() - self.started:5.0f}s  {what}",
            flush=True,
        )
        result = action()
        self.done += 1
        return result


def topic_with(kafka: KafkaCluster, ticks: int, fmt: str, batch: int = 1000) -> str:
    topic = kafka.create_topic(f"bench-{fmt}-{batch}-{uuid.uuid4().hex[:6]}", 6, 1)
    asyncio.run(preload(kafka.bootstrap, topic, ticks, fmt, batch_size=batch))
    return topic


def run(mode: str) -> Path:
    plan = PLANS[mode]
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    steps = 4 * plan["repeats"] + 3 + len(plan["latency"]) + 2 + 2 * len(plan["scaling"])
    progress = Progress(steps)
    n = plan["ingest_ticks"]
    with KafkaCluster(nodes=1) as kafka:
        json_topic = progress.step("preload JSON", lambda: topic_with(kafka, n, "json"))
        arrow1k = progress.step("preload Arrow 1k", lambda: topic_with(kafka, n, "arrow", 1000))
        arrow10k = progress.step("preload Arrow 10k", lambda: topic_with(kafka, n, "arrow", 10_000))
        runs: dict[str, list[float]] = {}
        cases = [
            ("naive (1 update per message)", json_topic, plan["naive_ticks"], True),
            ("gateway, JSON", json_topic, n, False),
            ("gateway, Arrow 1k/msg", arrow1k, n, False),
            ("gateway, Arrow 10k/msg", arrow10k, n, False),
        ]
        for _ in range(plan["repeats"]):
            for name, topic, ticks, naive in cases:

                def measure(topic: str = topic, ticks: int = ticks, naive: bool = naive) -> float:
                    if naive:
                        return asyncio.run(naive_ingest(kafka.bootstrap, topic, ticks))
                    return asyncio.run(gateway_ingest(kafka.bootstrap, topic, ticks))["ticks_per_s"]

                runs.setdefault(name, []).append(progress.step(f"ingest {name}", measure))
        latency = []
        for rate, viewers in plan["latency"]:

            def case(rate: int = rate, viewers: int = viewers) -> dict[str, Any]:
                return run_case(kafka, rate, viewers, plan["latency_s"], logs)

            latency.append(progress.step(f"latency {rate}/s x {viewers} viewers", case))
        engine = progress.step("Perspective fan-out profile", lambda: run_engine(plan["engine_rows"]))
        memory = progress.step(
            f"memory {plan['memory_ticks']:,} ticks", lambda: run_memory(kafka, plan["memory_ticks"], logs)
        )
        scaling = []
        for fmt in ("json", "arrow"):
            for count in plan["scaling"]:

                def scale(count: int = count, fmt: str = fmt) -> dict[str, Any]:
                    return run_scaling(kafka, count, fmt, plan["scaling_s"], logs)

                scaling.append(progress.step(f"producers x{count} {fmt}", scale))
    results = {
        "mode": mode,
        "machine": machine(),
        "ingest_ticks": n,
        "ingest": {k: spread(v) for k, v in runs.items()},
        "peer": PEER,
        "latency": latency,
        "engine": engine,
        "memory": memory,
        "scaling": scaling,
        "notes": [
            "naive baseline measured on fewer ticks (it is >100x slower); ticks/s is comparable",
            "latency viewers are perspective-python 5.5.1 clients in 2 processes on the same 2 cores",
            "a headless-Chromium viewer's latency is measured by the e2e suite's status bar, not here",
        ],
    }
    out = Path(__file__).parent / "results" / time.strftime("%Y%m%d-%H%M%S")
    print(write(out, results))
    print(f"report: {out / 'report.md'}")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 3 min) that checks the code works")
    args = parser.parse_args(argv)
    run("quick" if args.quick else "full")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
