"""What `make run` waits for before it says "live": the gateway's and history's /readyz, and each
producer's acked ticks."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

_ACKED = re.compile(r"^producer_ticks_acked_total (\S+)$", re.MULTILINE)


def _get(url: str) -> tuple[int, str] | None:
    """(status, body) of a GET, 503 included; None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def readiness(port: int) -> dict[str, Any] | None:
    """A service's /readyz body (``ready``, ``broker``, ``assigned``, ...); None if down."""
    answer = _get(f"http://127.0.0.1:{port}/readyz")
    if answer is None:
        return None
    try:
        body: dict[str, Any] = json.loads(answer[1])
    except ValueError:
        return None
    return body


def acked_ticks(metrics_port: int) -> float | None:
    """``producer_ticks_acked_total`` from a producer's /metrics, None if it does not answer yet."""
    answer = _get(f"http://127.0.0.1:{metrics_port}/metrics")
    found = _ACKED.search(answer[1]) if answer and answer[0] == 200 else None
    return float(found.group(1)) if found else None


def gateway_waits(port: int, kafka: str) -> list[str]:
    """What the gateway still waits for, in the order it happens; [] when /readyz says ready."""
    ready = readiness(port)
    if ready is None:
        return [f"gateway to answer on :{port}"]
    if ready.get("ready"):
        return []
    if not ready.get("broker"):
        # /readyz's `broker` is also false while the topic is missing (the first producer creates it)
        return [f"gateway to reach Kafka at {kafka} and find the topic"]
    if not ready.get("assigned"):
        return ["topic to be created (the first producer creates it)"]
    if not ready.get("caught_up"):
        return ["gateway replay to catch up with the topic"]
    return ["gateway /readyz"]


def history_waits(port: int) -> list[str]:
    """What history still waits for; [] when its /readyz says ready."""
    ready = readiness(port)
    if ready is None:
        return [f"history to answer on :{port}"]
    if ready.get("ready"):
        return []
    failing = [check for check, ok in ready.items() if ok is False and check != "ready"]
    return [f"history /readyz ({', '.join(failing) or 'not ready'})"]


@dataclass
class Probe:
    gateway_port: int
    kafka: str
    producers: dict[str, int]  # name -> its PRODUCER_METRICS_PORT
    history_port: int | None = None

    def serving(self) -> list[str]:
        """Once live: what stopped serving (the gateway, history), as words; [] means all serve."""
        waits = gateway_waits(self.gateway_port, self.kafka)
        return waits + (history_waits(self.history_port) if self.history_port else [])

    def waiting_for(self) -> list[str]:
        """Every check that is not true yet, as words; [] means live."""
        waits = self.serving()
        for name, port in self.producers.items():
            if not acked_ticks(port):
                waits.append(f"{name}: Kafka to acknowledge its first ticks")
        return waits
