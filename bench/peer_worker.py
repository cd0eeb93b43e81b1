"""Runs in .venv-peer (see bench/peer.py): Deephaven's embedded server consumes a Kafka topic of JSON ticks.

Writes one JSON object to ``--result``: ``{"ok": true, "ticks_per_s", "rows", "seconds", "startup_s", ...}``
or ``{"ok": false, "stage", "error"}``. The clock runs from the ``consume`` call until the append table
holds ``--ticks`` rows (seen by a table listener, so at update-graph cycle ends); server startup is timed
apart. Exits when its stdin closes, so a parent that dies never leaves a JVM behind.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Deephaven's default update-graph cycle is 1000 ms; rows become visible only at cycle ends, so a
# shorter cycle measures ingest instead of the tick of the clock. 100 ms is a common low-latency setting.
CYCLE_MS = 100
COLUMNS = {
    "symbol": "string",
    "name": "string",
    "exchange": "string",
    "sector": "string",
    "price": "double",
    "bid": "double",
    "ask": "double",
    "bid_size": "int64",
    "ask_size": "int64",
    "volume": "int64",
    "open": "double",
    "high": "double",
    "low": "double",
    "close": "double",
    "event_time": "int64",  # epoch ms, as in the message
    "producer_id": "string",
    "seq": "int64",
}


class Failed(Exception):
    def __init__(self, stage: str, error: str) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _one_line(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text[:300]


def say(line: str) -> None:
    """A progress line for the parent's log: its last line is the reason given if the worker is killed."""
    print(f"peer-worker: {line}", file=sys.__stdout__, flush=True)


def _watch_parent() -> None:
    """Exit at once (JVM included) when the parent closes our stdin or dies."""

    def watch() -> None:
        try:
            sys.stdin.buffer.read()
        finally:
            os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def start_server(workdir: Path, heap: str) -> float:
    say("starting the JVM and the Deephaven server")
    started = time.perf_counter()
    try:
        from deephaven_server import Server  # type: ignore[import-not-found,unused-ignore]

        server = Server(
            host="127.0.0.1",
            port=_free_port(),
            jvm_args=[
                f"-Xmx{heap}",
                f"-DPeriodicUpdateGraph.targetCycleDurationMillis={CYCLE_MS}",
                f"-Ddeephaven.cacheDir={workdir / 'cache'}",
                f"-Ddeephaven.dataDir={workdir / 'data'}",
                f"-Ddeephaven.configDir={workdir / 'config'}",
            ],
        )
        server.start()
    except Exception as exc:
        raise Failed("JVM/server startup", _one_line(exc)) from exc
    startup_s = time.perf_counter() - started
    say(f"server started in {startup_s:.1f}s")
    return startup_s


def consume(bootstrap: str, topic: str, ticks: int, timeout: float, tuned: bool = False) -> dict[str, Any]:
    import deephaven.dtypes as dht  # type: ignore[import-not-found,unused-ignore]
    from deephaven.stream.kafka import consumer as kc  # type: ignore[import-not-found,unused-ignore]
    from deephaven.table_listener import listen  # type: ignore[import-not-found,unused-ignore]

    spec = kc.json_spec({name: getattr(dht, kind) for name, kind in COLUMNS.items()})
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": f"peer-deephaven-{os.getpid()}",
        # Only the tick columns: no KafkaPartition / KafkaOffset / KafkaTimestamp bookkeeping columns.
        "deephaven.partition.column.name": "",
        "deephaven.offset.column.name": "",
        "deephaven.timestamp.column.name": "",
    }
    # Off by default: measured here, the Kafka client's defaults (500 records a poll) ingest faster in
    # Deephaven than our gateway's sizing (50,000 a poll): 114k vs 85k ticks/s at 200k ticks, idle machine.
    if (
        tuned
    ):  # the same fetch sizing as our gateway's consumer (gateway/ingest/source.py, gateway/settings.py)
        config |= {
            "max.poll.records": "50000",
            "max.partition.fetch.bytes": str(8 * 1_048_576),
            "fetch.max.bytes": str(64 * 1_048_576),
            "fetch.max.wait.ms": "10",
        }
    done = threading.Event()
    marks: dict[str, float] = {}

    started = time.perf_counter()
    try:
        table = kc.consume(
            config,
            topic,
            offsets=kc.ALL_PARTITIONS_SEEK_TO_BEGINNING,
            key_spec=kc.KeyValueSpec.IGNORE,
            value_spec=spec,
            table_type=kc.TableType.append(),
        )
    except Exception as exc:
        raise Failed("Kafka consume", _one_line(exc)) from exc
    consume_call_s = time.perf_counter() - started
    say(f"consuming {topic} from {bootstrap}")

    def on_update(_update: Any, _replay: bool) -> None:
        now = time.perf_counter()
        size = int(table.size)
        if size and "first" not in marks:
            marks["first"] = now
        if size >= ticks and not done.is_set():
            marks["done"] = now
            done.set()

    handle = listen(table, on_update)
    if table.size >= ticks:  # caught up before the listener was attached
        marks.setdefault("done", time.perf_counter())
        done.set()
    deadline = started + timeout
    while not done.wait(min(2.0, max(deadline - time.perf_counter(), 0))):
        held = f"table held {table.size} of {ticks} rows after {time.perf_counter() - started:.1f}s"
        if time.perf_counter() >= deadline:
            raise Failed("ingest", held)
        say(held)
    handle.stop()
    seconds = marks["done"] - started
    rows = int(table.size)
    return {
        "rows": rows,
        "seconds": seconds,
        "ticks_per_s": rows / seconds,
        "consume_call_s": consume_call_s,
        "first_row_s": marks.get("first", marks["done"]) - started,
        "columns": list(table.column_names),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--ticks", type=int, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--gateway-fetch", action="store_true", help="our gateway's fetch sizing")
    args = parser.parse_args()
    _watch_parent()
    deadline = time.monotonic() + args.timeout
    result: dict[str, Any]
    try:
        startup_s = start_server(args.workdir, args.heap)
        figures = consume(
            args.bootstrap,
            args.topic,
            args.ticks,
            max(deadline - time.monotonic(), 1),
            args.gateway_fetch,
        )
        result = {
            "ok": True,
            "version": version("deephaven-server"),
            "startup_s": startup_s,
            "cycle_ms": CYCLE_MS,
            "fetch": "gateway" if args.gateway_fetch else "kafka-defaults",
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            **figures,
        }
    except Failed as exc:
        result = {"ok": False, "stage": exc.stage, "error": exc.error}
    except Exception as exc:
        result = {"ok": False, "stage": "worker", "error": _one_line(exc)}
    args.result.write_text(json.dumps(result))
    print(json.dumps(result), file=sys.__stdout__, flush=True)
    os._exit(0 if result["ok"] else 1)  # skip the JVM's slow orderly shutdown


if __name__ == "__main__":
    main()
