"""History's Prometheus metrics (default registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STORED = Counter("history_ticks_stored", "ticks appended to the database")
DUPLICATES = Counter("history_duplicates_skipped", "ticks not stored: their (producer_id, seq) is stored")
REJECTED = Counter("history_rejected_messages", "Kafka messages refused by the decoders", ["reason"])
MESSAGES = Counter("history_messages", "Kafka messages consumed (good and bad)")
COMMIT_SECONDS = Histogram(
    "history_commit_seconds",
    "one poll's DuckDB transaction: dedup, insert, seen ranges, offsets, commit",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
KAFKA_COMMIT_FAILURES = Counter(
    "history_kafka_commit_failures", "Kafka offset commits that failed (the database's offsets still hold)"
)
LAG = Gauge("history_consumer_lag", "messages behind the end of the partition", ["partition"])
PRUNED = Counter("history_rows_pruned", "ticks deleted by the retention")
DB_BYTES = Gauge("history_db_bytes", "size of the database file and its write-ahead log")
BROKER_UP = Gauge("history_broker_up", "1 while the Kafka broker answers")
RECONNECTS = Counter("history_kafka_reconnects", "times the Kafka consumer was rebuilt")
POSITION = Gauge(
    "history_next_offset", "next Kafka offset to read per partition, as stored in the database", ["partition"]
)
