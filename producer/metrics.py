"""The producer's counters: Prometheus metrics (served only when PRODUCER_METRICS_PORT is set)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, start_http_server

GENERATED = Counter("producer_ticks_generated", "ticks created by the market model")
ACKED = Counter("producer_ticks_acked", "ticks acknowledged by Kafka (acks=all)")
DROPPED = Counter("producer_ticks_dropped", "oldest ticks dropped because the buffer was full")
SEND_ERRORS = Counter("producer_send_errors", "sends that failed or timed out (then retried)")
BUFFERED = Gauge("producer_buffer_ticks", "ticks waiting for Kafka")


@dataclass
class Tally:
    """Exact counts for the final summary line (Prometheus counters are floats)."""

    generated: int = 0
    acked: int = 0
    dropped: int = 0
    send_errors: int = 0
    rate_window: list[int] = field(default_factory=lambda: [0])

    def add_generated(self, n: int) -> None:
        self.generated += n
        GENERATED.inc(n)

    def add_acked(self, n: int) -> None:
        self.acked += n
        ACKED.inc(n)

    def add_dropped(self, n: int) -> None:
        self.dropped += n
        DROPPED.inc(n)

    def add_error(self) -> None:
        self.send_errors += 1
        SEND_ERRORS.inc()


def serve(port: int) -> None:
    if port:
        start_http_server(port)
