"""`python -m harness up|down|status`: the command line over harness/local.py."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from harness.errors import HarnessError
from harness.local import DEFAULT_DIR, down, quiet_kafka_client_logs, status, up


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness", description="a persistent local Kafka broker (make kafka-up/down)"
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, default=None, help="broker port (default 9092; controller: +1)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="data, logs and pid file")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the broker")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_kafka_client_logs()
    try:
        if args.command == "up":
            return up(args.port or 9092, args.dir, args.timeout)
        if args.command == "down":
            return down(args.dir)
        return status(args.port, args.dir)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
