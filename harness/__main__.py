"""`python -m harness up|down|status`: a persistent local broker for humans (make kafka-up/down)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from harness.cluster import KafkaCluster
from harness.errors import HarnessError
from harness.ports import port_open
from harness.process import wait_for


def _pid(directory: Path) -> int | None:
    try:
        pid = int((directory / "node-1" / "pid").read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def up(port: int, directory: Path) -> int:
    if _pid(directory) is not None and port_open("127.0.0.1", port):
        print(f"kafka already running at 127.0.0.1:{port} (data in {directory})")
        return 0
    cluster = KafkaCluster(nodes=1, workdir=directory.resolve(), port=port, detached=True)
    cluster.start()
    print(f"kafka ready at {cluster.bootstrap} in {cluster.start_seconds:.1f}s (data in {directory})")
    return 0


def down(directory: Path) -> int:
    pid = _pid(directory)
    if pid is None:
        print("kafka is not running")
        return 0
    os.killpg(pid, signal.SIGTERM)
    if not wait_for(lambda: _pid(directory) is None, 30, 0.2):
        os.killpg(pid, signal.SIGKILL)
    print("kafka stopped")
    return 0


def status(port: int, directory: Path) -> int:
    running = _pid(directory) is not None and port_open("127.0.0.1", port)
    print(f"kafka running at 127.0.0.1:{port}" if running else "kafka not running")
    return 0 if running else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--dir", type=Path, default=Path(".run/kafka"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "up":
            return up(args.port, args.dir)
        if args.command == "down":
            return down(args.dir)
        return status(args.port, args.dir)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
