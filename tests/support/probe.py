"""Watch a running `python -m producer` through its Prometheus endpoint, instead of sleeping."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path

from harness.ports import free_port
from harness.process import ManagedProcess, wait_for
from harness.services import start_producer


def read_metrics(port: int) -> dict[str, float]:
    """Samples of the text exposition format, by name (labels are not used by the producer)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


@dataclass
class Watched:
    process: ManagedProcess
    metrics_port: int

    def metric(self, name: str) -> float:
        try:
            return read_metrics(self.metrics_port).get(name, 0.0)
        except OSError:
            return 0.0

    def acked(self) -> int:
        return int(self.metric("producer_ticks_acked_total"))

    def wait_acked(self, at_least: int, timeout: float = 30.0) -> int:
        """Block until Kafka has acknowledged ``at_least`` ticks; fail with the log tail if not."""
        if not wait_for(lambda: self.acked() >= at_least or not self.process.running, timeout, 0.1):
            tail = self.process.tail()
            raise AssertionError(f"acked {self.acked()} < {at_least} after {timeout}s:\n{tail}")
        assert self.process.running, self.process.tail()
        return self.acked()

    def wait_log(self, text: str, timeout: float = 30.0) -> None:
        if not self.process.wait_for_output(text, timeout):
            raise AssertionError(f"no {text!r} in the producer log after {timeout}s:\n{self.process.tail()}")


def start_watched(bootstrap: str, topic: str, log_dir: Path, **settings: object) -> Watched:
    """`python -m producer` with its metrics endpoint on a free port, connected to Kafka."""
    port = free_port()
    process = start_producer(bootstrap, topic, log_dir, metrics_port=port, **settings)
    return Watched(process, port)
