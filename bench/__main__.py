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

from bench.browser import run_browser
from bench.data import preload
from bench.engine import run_engine
from bench.history import run_history
from bench.history_query import gateway_beside_history, query_latency
from bench.ingest import gateway_ingest
from bench.latency import run_case
from bench.memory import run_memory
from bench.naive import naive_ingest
from bench.peer import PeerUnavailable, deephaven_ingest
from bench.producers import run_scaling
from bench.report import JSON_WORKERS, machine, spread, write
from common import collector
from harness.cluster import KafkaCluster

T = TypeVar("T")
PLANS: dict[str, dict[str, Any]] = {
    "quick": {
        "ingest_ticks": 200_000,
        "naive_ticks": 10_000,
        "repeats": 1,
        "latency": [(1000, 1, True), (1000, 10, True), (1000, 10, False)],
        "latency_s": 5,
        "browser_s": 4,
        "peer": False,
        "memory_ticks": 600_000,
        "scaling": [1, 2],
        "scaling_s": 3,
        "history_day_ticks": 300_000,
        "history_queries": 10,
        "engine_rows": (200,),
    },
    "full": {
        "ingest_ticks": 2_000_000,
        "naive_ticks": 30_000,
        "repeats": 3,
        "latency": [(r, v, True) for r in (1000, 10_000, 50_000) for v in (1, 10, 100)]
        + [(10_000, 100, False)],
        "latency_s": 12,
        "browser_s": 15,
        "peer": True,
        "memory_ticks": 10_000_000,
        "scaling": [1, 2, 4],
        "scaling_s": 8,
        "history_day_ticks": 10_000_000,
        "history_queries": 100,
        "engine_rows": (200, 2000),
    },
}
PEER_SKIPPED = (
    "Deephaven was not run: `--quick` leaves it out (its venv is ~1 GB and its JVM needs ~3 GB); "
    "`make bench` runs it."
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


def peer_runs(
    kafka: KafkaCluster, topic: str, ticks: int, repeats: int, progress: Progress
) -> dict[str, Any]:
    """Deephaven's Kafka consumer on the same JSON topic, or exactly why it could not be measured."""
    try:
        runs = [
            progress.step("peer: Deephaven", lambda: deephaven_ingest(kafka.bootstrap, topic, ticks))
            for _ in range(repeats)
        ]
    except PeerUnavailable as error:
        return {"measured": False, "reason": error.reason}
    return {
        "measured": True,
        "ticks_per_s": spread([r["ticks_per_s"] for r in runs]),
        "startup_s": spread([r["startup_s"] for r in runs]),
        "rows": runs[0]["rows"],
    }


def run(mode: str, out: Path | None = None) -> Path:
    plan = PLANS[mode]
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    steps = 6 * plan["repeats"] + 3 + len(plan["latency"]) + 2 + 2 * len(plan["scaling"]) + 2 + 3
    steps += (plan["repeats"] if plan["peer"] else 0) + (1 if plan["browser_s"] else 0)
    progress = Progress(steps)
    n = plan["ingest_ticks"]
    with KafkaCluster(nodes=1) as kafka:
        json_topic = progress.step("preload JSON", lambda: topic_with(kafka, n, "json"))
        arrow1k = progress.step("preload Arrow 1k", lambda: topic_with(kafka, n, "arrow", 1000))
        arrow10k = progress.step("preload Arrow 10k", lambda: topic_with(kafka, n, "arrow", 10_000))
        runs: dict[str, list[float]] = {}
        cases = [  # (name, topic, ticks, naive, GATEWAY_INGEST_WORKERS)
            ("naive (1 update per message)", json_topic, plan["naive_ticks"], True, 0),
            ("gateway, JSON", json_topic, n, False, 0),
            (JSON_WORKERS, json_topic, n, False, 2),
            ("gateway, Arrow 1k/msg", arrow1k, n, False, 0),
            ("gateway, Arrow 10k/msg", arrow10k, n, False, 0),
            ("gateway, Arrow 10k/msg, 2 ingest workers", arrow10k, n, False, 2),
        ]
        for _ in range(plan["repeats"]):
            for name, topic, ticks, naive, workers in cases:

                def measure(
                    topic: str = topic, ticks: int = ticks, naive: bool = naive, workers: int = workers
                ) -> float:
                    if naive:
                        return asyncio.run(naive_ingest(kafka.bootstrap, topic, ticks))
                    return asyncio.run(gateway_ingest(kafka.bootstrap, topic, ticks, workers))["ticks_per_s"]

                runs.setdefault(name, []).append(progress.step(f"ingest {name}", measure))
        history: dict[str, dict[str, Any]] = {}
        for name, topic in (("JSON", json_topic), ("Arrow 1k/msg", arrow1k)):

            def write_history(topic: str = topic) -> dict[str, Any]:
                return run_history(kafka, topic, n, logs)

            history[name] = progress.step(f"history, {name}", write_history)
        beside = progress.step(
            "gateway JSON ingest alone vs beside history",
            lambda: gateway_beside_history(kafka, json_topic, n, logs, plan["repeats"]),
        )
        day = plan["history_day_ticks"]
        queries = progress.step(
            f"history: candles over a day of {day:,} stored ticks",
            lambda: query_latency(
                kafka,
                kafka.create_topic(f"bench-empty-{uuid.uuid4().hex[:6]}", 6, 1),
                day,
                logs,
                plan["history_queries"],
            ),
        )
        peer = (
            peer_runs(kafka, json_topic, n, plan["repeats"], progress)
            if plan["peer"]
            else {"measured": False, "reason": PEER_SKIPPED}
        )
        latency = []
        for rate, viewers, shared in plan["latency"]:

            def case(rate: int = rate, viewers: int = viewers, shared: bool = shared) -> dict[str, Any]:
                return run_case(kafka, rate, viewers, plan["latency_s"], logs, shared)

            views = "shared views" if shared else "one view per client (naive)"
            latency.append(progress.step(f"latency {rate}/s x {viewers} viewers, {views}", case))
        browser = None
        if plan["browser_s"]:
            browser = progress.step(
                "latency: Chromium dashboard at 10k/s",
                lambda: run_browser(kafka, 10_000, plan["browser_s"], logs),
            )
        engine = progress.step("Perspective fan-out profile", lambda: run_engine(plan["engine_rows"]))
        memory = progress.step(
            f"memory {plan['memory_ticks']:,} ticks", lambda: run_memory(kafka, plan["memory_ticks"], logs)
        )
        history_memory = progress.step(
            f"history memory, the same {plan['memory_ticks']:,} ticks",
            lambda: run_history(kafka, memory["topic"], plan["memory_ticks"], logs),
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
        "peer": peer,
        "history": history,
        "history_beside": {k: spread(v) for k, v in beside.items()},
        "history_queries": queries,
        "history_memory": history_memory,
        "latency": latency,
        "browser": browser,
        "engine": engine,
        "memory": memory,
        "scaling": scaling,
        "notes": [
            "naive baseline measured on fewer ticks (it is >100x slower); ticks/s is comparable",
            "latency viewers are perspective-python 5.5.1 clients in 2 processes on the same 2 cores",
        ],
    }
    out = out or Path(__file__).parent / "results" / time.strftime("%Y%m%d-%H%M%S")
    print(write(out, results))
    print(f"report: {out / 'report.md'}")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 3 min) that checks the code works")
    parser.add_argument("--out", type=Path, help="report folder (default bench/results/<timestamp>)")
    args = parser.parse_args(argv)
    # The ingest figures run the gateway's pipeline in this process: tuned as `python -m gateway` is.
    collector.tune()
    run("quick" if args.quick else "full", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
