"""`make run` as a user runs it: ``python -m harness.stack`` on free ports with its own run dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from harness.ports import can_bind, free_port, free_ports
from harness.process import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
LIVE = "Tickerflow is live"


class Stack:
    """One `make run` and its terminal (stdout and stderr, in order, in one file)."""

    def __init__(
        self,
        run_dir: Path,
        kafka_port: int,
        gateway_port: int,
        terminal: Path,
        live_timeout: float = 90,
        history_port: int | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.kafka_port = kafka_port
        self.gateway_port = gateway_port
        self.history_port = history_port or free_port()
        args = [
            *(sys.executable, "-m", "harness.stack", "--producers", "1"),
            *("--kafka-port", str(kafka_port), "--gateway-port", str(gateway_port)),
            *("--history-port", str(self.history_port)),
            *("--run-dir", str(run_dir), "--live-timeout", str(live_timeout)),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCER_", "GATEWAY_", "HISTORY_"))}
        self.process = ManagedProcess(args, terminal, {**env, "PYTHONUNBUFFERED": "1"}, ROOT).start()

    @property
    def terminal(self) -> str:
        return self.process.output()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def wait_live(self, timeout: float = 120) -> None:
        if not self.process.wait_for(lambda: LIVE in self.terminal, timeout):
            raise AssertionError(f"`make run` not live within {timeout}s:\n{self.terminal[-3000:]}")

    def service(self, module: str) -> psutil.Process:
        """The child running ``python -m <module>``."""
        children = psutil.Process(self.process.pid).children()
        return next(c for c in children if c.cmdline()[-2:] == ["-m", module])

    def wait_exit(self, timeout: float) -> int | None:
        return self.process.wait(timeout)


def kafka_port() -> int:
    """A free port whose next one (the controller's) is free too."""
    while True:
        port = free_ports(1)[0]
        if can_bind("127.0.0.1", port + 1):
            return port


def new_stack(run_dir: Path, terminal: Path, kafka: int | None = None) -> Stack:
    return Stack(run_dir, kafka or kafka_port(), free_port(), terminal)


def kafka_cli(command: str, run_dir: Path, port: int | None = None) -> subprocess.CompletedProcess[str]:
    """``make kafka-up`` / ``make kafka-down`` on the stack's broker."""
    args = [sys.executable, "-m", "harness", command, "--dir", str(run_dir / "kafka")]
    args += ["--port", str(port)] if port else []
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
