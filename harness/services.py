"""Start the real services as subprocesses (`python -m producer|gateway`), as users run them."""

from __future__ import annotations

import os
import re
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness.ports import free_port
from harness.process import ManagedProcess, http_ok, wait_for

ROOT = Path(__file__).resolve().parent.parent


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCER_", "GATEWAY_", "HISTORY_"))}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_producer(bootstrap: str, topic: str, log_dir: Path, **settings: object) -> ManagedProcess:
    env = {"PRODUCER_BOOTSTRAP_SERVERS": bootstrap, "PRODUCER_TOPIC": topic}
    env.update({f"PRODUCER_{k.upper()}": str(v) for k, v in settings.items()})
    name = str(settings.get("producer_id", "producer"))
    process = ManagedProcess([sys.executable, "-m", "producer"], log_dir / f"{name}.log", _env(env), ROOT)
    process.start()
    if not process.wait_for_output("connected to Kafka", 60):
        raise AssertionError(f"producer did not connect:\n{process.tail()}")
    # In a group it publishes once the group hands it shards; a static selection right away.
    if not process.wait_for_output("publishing", 60):
        raise AssertionError(f"producer did not start publishing:\n{process.tail()}")
    return process


class Gateway:
    """A gateway subprocess and where to reach it."""

    def __init__(self, process: ManagedProcess, port: int) -> None:
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/websocket"


def start_gateway(
    bootstrap: str, topic: str, log_dir: Path, ready: bool = True, **settings: object
) -> Gateway:
    port = int(str(settings.pop("port", 0))) or free_port()
    env = {
        "GATEWAY_BOOTSTRAP_SERVERS": bootstrap,
        "GATEWAY_TOPIC": topic,
        "GATEWAY_PORT": str(port),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_START": "earliest",
        "GATEWAY_DLQ_TOPIC": f"{topic}.dlq",
    }
    env.update({f"GATEWAY_{k.upper()}": str(v) for k, v in settings.items()})
    process = ManagedProcess(
        [sys.executable, "-m", "gateway"], log_dir / f"gateway-{port}.log", _env(env), ROOT
    )
    process.start()
    gateway = Gateway(process, port)
    check = f"{gateway.url}/readyz" if ready else f"{gateway.url}/healthz"
    if not wait_for(lambda: http_ok(check) or not process.running, 60, 0.1) or not process.running:
        raise AssertionError(f"gateway not {'ready' if ready else 'up'}:\n{process.tail(30)}")
    return gateway


class History:
    """A history subprocess, its database file and where to reach it."""

    def __init__(self, process: ManagedProcess, port: int, db_path: Path) -> None:
        self.process = process
        self.port = port
        self.db_path = db_path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_history(
    bootstrap: str, topic: str, db_path: Path, log_dir: Path, ready: bool = True, **settings: object
) -> History:
    """``python -m history`` on a free port; waits for /readyz (or only /healthz with ready=False)."""
    port = int(str(settings.pop("port", 0))) or free_port()
    env = {
        "HISTORY_BOOTSTRAP_SERVERS": bootstrap,
        "HISTORY_TOPIC": topic,
        "HISTORY_PORT": str(port),
        "HISTORY_HOST": "127.0.0.1",
        "HISTORY_DB_PATH": str(db_path),
        "HISTORY_GROUP_ID": f"{topic}.history",
    }
    env.update({f"HISTORY_{k.upper()}": str(v) for k, v in settings.items()})
    process = ManagedProcess(
        [sys.executable, "-m", "history"], log_dir / f"history-{port}.log", _env(env), ROOT
    )
    process.start()
    history = History(process, port, db_path)
    check = f"{history.url}/readyz" if ready else f"{history.url}/healthz"
    if not wait_for(lambda: http_ok(check) or not process.running, 60, 0.1) or not process.running:
        raise AssertionError(f"history not {'ready' if ready else 'up'}:\n{process.tail(30)}")
    return history


def summary(process: ManagedProcess) -> dict[str, int]:
    """The counts from the producer's final `producer stopped:` line."""
    match = re.search(r"producer stopped: (.*)", process.output())
    assert match, f"no summary line in:\n{process.tail()}"
    return {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def metric(service: Gateway | History, name: str, **labels: str) -> float:
    """One sample of a service's /metrics (0.0 when absent), matched by name and labels."""
    with urllib.request.urlopen(f"{service.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
