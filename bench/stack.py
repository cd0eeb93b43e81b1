"""Gateway and producers as real processes for the benchmarks, with the gateway's CPU and RSS."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from harness.process import ManagedProcess
from harness.services import Gateway, start_gateway, start_producer


def gateway(bootstrap: str, topic: str, log_dir: Path, ready: bool = True, **settings: object) -> Gateway:
    result: Gateway = start_gateway(bootstrap, topic, log_dir, ready, **settings)
    return result


def producer(bootstrap: str, topic: str, log_dir: Path, **settings: object) -> ManagedProcess:
    result: ManagedProcess = start_producer(bootstrap, topic, log_dir, **settings)
    return result


class Sampler:
    """CPU % and RSS of one process, sampled on demand."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.process.cpu_percent(None)
        self.cpu: list[float] = []
        self.rss_mb: list[float] = []
        self.times: list[float] = []
        self.started = time.monotonic()

    def sample(self) -> None:
        self.cpu.append(self.process.cpu_percent(None))
        self.rss_mb.append(self.process.memory_info().rss / 1_048_576)
        self.times.append(time.monotonic() - self.started)


def viewer_command(url: str, count: int, seconds: float, measured: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "bench.viewer", url, str(count), str(seconds)]
    return command if measured is None else [*command, str(measured)]
