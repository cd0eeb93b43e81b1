"""The producer's counters, kept exact for the final summary line and mirrored to Prometheus.

Prometheus is served only when PRODUCER_METRICS_PORT is set; the counters always count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, start_http_server

log = logging.getLogger(__name__)

GENERATED = Counter("producer_ticks_generated", "ticks created by the market model")
SENT = Counter("producer_ticks_sent", "ticks handed to the Kafka client (a retried tick counts again)")
ACKED = Counter("producer_ticks_acked", "ticks acknowledged by Kafka (acks=all)")
DROPPED = Counter("producer_ticks_dropped", "ticks dropped: oldest shed from a full buffer, or rejected")
SEND_ERRORS = Counter("producer_send_errors", "batches that failed or timed out (their ticks are retried)")
BUFFER_DEPTH = Gauge("producer_buffer_depth_ticks", "ticks waiting in the producer's buffer")


@dataclass
class Tally:
    """Exact integer counts (Prometheus counters are floats and cannot be read back)."""

    generated: int = 0
    sent: int = 0
    acked: int = 0
    dropped: int = 0
    send_errors: int = 0

    def add_generated(self, n: int) -> None:
        self.generated += n
        GENERATED.inc(n)

    def add_sent(self, n: int) -> None:
        self.sent += n
        SENT.inc(n)

    def add_acked(self, n: int) -> None:
        self.acked += n
        ACKED.inc(n)

    def add_dropped(self, n: int) -> None:
        if n:
            self.dropped += n
            DROPPED.inc(n)

    def add_error(self) -> None:
        self.send_errors += 1
        SEND_ERRORS.inc()

    @staticmethod
    def set_buffer_depth(ticks: int) -> None:
        BUFFER_DEPTH.set(ticks)

    def summary(self) -> str:
        """``key=value`` pairs; tests and other tools parse the ``producer stopped:`` line made of them."""
        unsent = self.generated - self.acked - self.dropped
        return (
            f"generated={self.generated} sent={self.sent} acked={self.acked} dropped={self.dropped} "
            f"unsent={unsent} send_errors={self.send_errors}"
        )


def serve(port: int) -> None:
    if port:
        start_http_server(port)
        log.info("metrics on http://0.0.0.0:%s/metrics", port)
