"""Prometheus metrics of the ingest half (default registry; the server half serves /metrics).

The older ingest metrics are still defined in ``gateway.metrics`` next to the WebSocket
ones and re-exported here, so ingest modules import from one place; moving their
definitions here is a pure move that keeps every metric name.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from gateway.metrics import (
    BATCH_TICKS,
    BROKER_UP,
    DECODE_ERRORS,
    DLQ,
    DLQ_FAILURES,
    DUPLICATES,
    LAG,
    LATENCY,
    MESSAGES,
    RECONNECTS,
    TICKS,
    UPDATE_SECONDS,
)

GAPS = Gauge("gateway_sequence_gaps", "seqs missing past the grace period, all producers (late fills undo)")
OUT_OF_ORDER = Counter(
    "gateway_out_of_order_ticks", "ticks that came after a higher seq of their producer in the same partition"
)
PRODUCER_RESTARTS = Counter("gateway_producer_restarts", "producers seen starting over from a low seq")

__all__ = [
    "BATCH_TICKS",
    "BROKER_UP",
    "DECODE_ERRORS",
    "DLQ",
    "DLQ_FAILURES",
    "DUPLICATES",
    "GAPS",
    "LAG",
    "LATENCY",
    "MESSAGES",
    "OUT_OF_ORDER",
    "PRODUCER_RESTARTS",
    "RECONNECTS",
    "TICKS",
    "UPDATE_SECONDS",
]
