"""`make run`: local Kafka (reused if already up), N producers and the gateway, until Ctrl-C.

Kafka stays up afterwards (history survives); `make kafka-down` stops it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.local import up
from harness.process import ManagedProcess, http_ok, wait_for

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"


def _service(module: str, name: str, env: dict[str, str]) -> ManagedProcess:
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    return ManagedProcess(
        [sys.executable, "-m", module], RUN_DIR / "logs" / f"{name}.log", full_env, ROOT
    ).start()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.stack", description=__doc__)
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--kafka-port", type=int, default=9092)
    args = parser.parse_args(argv)
    try:
        up(args.kafka_port, RUN_DIR / "kafka")
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bootstrap = os.environ.get("GATEWAY_BOOTSTRAP_SERVERS", f"127.0.0.1:{args.kafka_port}")
    port = os.environ.get("GATEWAY_PORT", "8080")
    children = [_service("gateway", "gateway", {"GATEWAY_BOOTSTRAP_SERVERS": bootstrap})]
    children += [
        _service(
            "producer",
            f"producer-{i}",
            {
                "PRODUCER_BOOTSTRAP_SERVERS": bootstrap,
                "PRODUCER_PRODUCER_ID": f"{os.uname().nodename}-producer-{i}",
            },
        )
        for i in range(args.producers)
    ]
    if wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/readyz") or not children[0].running, 60, 0.2):
        print(
            f"\nTickerflow is live: open http://localhost:{port}  ({args.producers} producer(s); "
            f"logs in {RUN_DIR / 'logs'}; Ctrl-C stops)\n",
            flush=True,
        )
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    offsets = {id(c): 0 for c in children}
    while not stopping and all(c.running for c in children):
        for child in children:  # follow every log, like `docker compose up`
            text = child.output()
            new, offsets[id(child)] = text[offsets[id(child)] :], len(text)
            for line in new.splitlines():
                print(f"{child.log_path.stem:>12} | {line}", flush=True)
        time.sleep(0.3)
    for child in children:
        child.stop(8)
    print("stopped producers and gateway; Kafka keeps running (make kafka-down stops it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
