"""A persistent local broker for humans: up, down and status (make kafka-up/down, make run).

`python -m harness` (harness/__main__.py) is the command line over these.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from pathlib import Path

from harness import admin, pidfile
from harness.cluster import KafkaCluster
from harness.errors import HarnessError
from harness.ports import port_open
from harness.process import wait_for

DEFAULT_DIR = Path(".run/kafka")
# SIGTERM, then SIGKILL after this long: `make kafka-down` is done in at most ~10 s (README).
STOP_GRACE_S = 8.0


def quiet_kafka_client_logs() -> None:
    """aiokafka logs every refused connection of a readiness probe at ERROR; our own line says it once."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def broker_pid(directory: Path) -> int | None:
    """The pid of the broker started in ``directory``, if that very process is alive (not a zombie)."""
    process = pidfile.running(directory / "node-1" / "pid")
    return None if process is None else process.pid


def _running_port(directory: Path) -> int | None:
    try:
        text = (directory / "node-1" / "server.properties").read_text()
    except FileNotFoundError:
        return None
    found = re.search(r"^listeners=PLAINTEXT://[^:]+:(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def _answers(port: int) -> bool:
    try:
        admin.describe_cluster(f"127.0.0.1:{port}", timeout=5)
    except Exception:
        return False
    return True


def up(port: int, directory: Path, timeout: float = 90.0) -> int:
    """Start (or reuse) a detached single-node broker; prints ``kafka ready at 127.0.0.1:PORT``."""
    quiet_kafka_client_logs()
    pid = broker_pid(directory)
    if pid is not None:
        running = _running_port(directory) or port
        if running != port:
            raise HarnessError(
                f"a broker from {directory} already runs on port {running} (pid {pid}): "
                "run `make kafka-down` first or pass that port"
            )
        if not _answers(port):
            print(f"kafka: pid {pid} from {directory} is up, waiting for it to answer on port {port}...")
        if not wait_for(lambda: _answers(port), timeout, 0.5):
            raise HarnessError(f"kafka pid {pid} from {directory} does not answer on port {port}")
        print(f"kafka ready at 127.0.0.1:{port} (already running, pid {pid}, data in {directory})")
        return 0
    cluster = KafkaCluster(
        nodes=1, workdir=directory.resolve(), port=port, detached=True, start_timeout=timeout
    )
    print(f"kafka: starting at 127.0.0.1:{port} (data in {directory}; up to {timeout:.0f}s)...", flush=True)
    bootstrap = cluster.start()
    print(f"kafka ready at {bootstrap} (started in {cluster.start_seconds:.1f}s, data in {directory})")
    return 0


def down(directory: Path, grace: float = STOP_GRACE_S) -> int:
    """SIGTERM (a controlled shutdown), SIGKILL after ``grace`` seconds: bounded either way."""
    pid = broker_pid(directory)
    if pid is None:
        print("kafka is not running")
        return 0
    started = time.monotonic()
    os.killpg(pid, signal.SIGTERM)
    how = "SIGTERM"
    if not wait_for(lambda: broker_pid(directory) is None, grace, 0.1):
        os.killpg(pid, signal.SIGKILL)
        how = f"SIGKILL after {grace:.0f}s of SIGTERM"
        wait_for(lambda: broker_pid(directory) is None, 2, 0.05)
    took = time.monotonic() - started
    print(f"kafka stopped in {took:.1f}s by {how} (pid {pid}; data kept in {directory})")
    return 0


def status(port: int | None, directory: Path) -> int:
    """Exit 0 when the broker of ``directory`` is alive and answers metadata."""
    pid = broker_pid(directory)
    port = port or _running_port(directory) or 9092
    if pid is not None and port_open("127.0.0.1", port) and _answers(port):
        print(f"kafka running at 127.0.0.1:{port} (pid {pid}, data in {directory})")
        return 0
    print(f"kafka not running at 127.0.0.1:{port}" + (f" (pid {pid} alive, not answering)" if pid else ""))
    return 1
