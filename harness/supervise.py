"""The services `make run` starts: their logs in the terminal, and a death reported by name."""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import runlogs
from harness.process import ManagedProcess

ROOT = Path(__file__).resolve().parent.parent
TAIL_LINES = 12


@dataclass
class Service:
    name: str
    process: ManagedProcess
    follower: runlogs.Follower

    @property
    def log_path(self) -> Path:
        return self.process.log_path


def start(name: str, module: str, log_dir: Path, env: Mapping[str, str]) -> Service:
    """``python -m module`` with its output in a fresh ``log_dir/name.log`` (the previous run's rotated)."""
    path = runlogs.fresh(log_dir / f"{name}.log")
    process = ManagedProcess([sys.executable, "-m", module], path, {**env, "PYTHONUNBUFFERED": "1"}, ROOT)
    return Service(name, process.start(), runlogs.Follower(path))


def how_it_ended(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class Services:
    def __init__(self) -> None:
        self.all: list[Service] = []

    def add(self, service: Service) -> None:
        self.all.append(service)

    def follow(self) -> None:
        """Print what each service logged since the last call, prefixed with its name."""
        width = max((len(s.name) for s in self.all), default=0)
        for service in self.all:
            for line in service.follower.lines():
                print(f"{service.name:>{width}} | {line}", flush=True)

    def dead(self) -> Service | None:
        return next((s for s in self.all if not s.process.running), None)

    def report_death(self, service: Service) -> None:
        """One line naming the service and how it ended (with its last error), then its last lines."""
        self.follow()  # whatever it managed to write before dying comes first
        cause = runlogs.reason(service.log_path)
        print(
            f"\nerror: {service.name} {how_it_ended(service.process.returncode)}"
            + (f"; its last error: {cause}" if cause else ""),
            file=sys.stderr,
            flush=True,
        )
        print(f"last lines of {service.log_path}:", file=sys.stderr)
        for line in runlogs.last_lines(service.log_path, TAIL_LINES):
            print(f"    {line}", file=sys.stderr)
        others = [s.name for s in self.all if s is not service and s.process.running]
        if others:
            print(f"stopping the rest: {', '.join(others)}", file=sys.stderr, flush=True)

    def stop_all(self) -> None:
        for service in self.all:
            service.process.signal(signal.SIGTERM)  # all at once: each has its own grace period
        for service in self.all:
            service.process.stop(8)
        self.follow()
