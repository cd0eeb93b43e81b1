"""The gateway's Prometheus metrics, both wings (default registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from gateway.serve.limits import ServeMetrics

TICKS = Counter("gateway_ticks", "ticks applied to the tables")
MESSAGES = Counter("gateway_messages", "Kafka messages consumed", ["content_type"])
DECODE_ERRORS = Counter("gateway_decode_errors", "messages rejected by the decoders", ["reason"])
DLQ = Counter("gateway_dlq_messages", "bad messages copied to the dead-letter topic")
DLQ_FAILURES = Counter("gateway_dlq_failures", "bad messages that could not be dead-lettered")
DUPLICATES = Counter("gateway_duplicate_ticks", "ticks dropped as duplicate (producer_id, seq)")
LAG = Gauge("gateway_consumer_lag", "messages behind the end of the partition", ["partition"])
LATENCY = Histogram(
    "gateway_e2e_latency_seconds",
    "now - event_time when a tick is applied (sampled)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
BATCH_TICKS = Histogram(
    "gateway_batch_ticks", "ticks per table update", buckets=(1, 10, 100, 1000, 10_000, 50_000, 100_000)
)
UPDATE_SECONDS = Histogram("gateway_update_seconds", "decode + table update time per poll")
ENGINE_THREADS = Gauge("gateway_engine_threads", "threads Perspective's engine runs (GATEWAY_ENGINE_THREADS)")
BROKER_UP = Gauge("gateway_broker_up", "1 while the Kafka broker answers")
RECONNECTS = Counter("gateway_kafka_reconnects", "times the Kafka consumer was rebuilt")
WORKER_RESTARTS = Counter(
    "gateway_ingest_worker_restarts", "ingest worker processes that ended and were started again"
)
GAPS = Gauge("gateway_sequence_gaps", "seqs missing past the grace period, all producers (late fills undo)")
OUT_OF_ORDER = Counter(
    "gateway_out_of_order_ticks", "ticks that came after a higher seq of their producer in the same partition"
)
# The serve wing's metrics, named gateway_ws_* and gateway_auth_blocks as before the wing was shared.
SERVE = ServeMetrics.named("gateway")
WS_CLIENTS = SERVE.clients
WS_CONNECTIONS = SERVE.connections
WS_REFUSED = SERVE.refused
AUTH_BLOCKS = SERVE.auth_blocks
WS_FRAMES = SERVE.frames
WS_BYTES_OUT = SERVE.bytes_out
WS_CONFLATED = SERVE.conflated
SHARED_VIEWS = Gauge("gateway_shared_views", "views Perspective computes on behalf of clients sharing them")
SHARED_VIEW_USERS = Gauge("gateway_shared_view_users", "client views served by a shared view")
