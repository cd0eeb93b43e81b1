"""History settings: every one an environment variable ``HISTORY_<NAME>``, documented in the README."""

from __future__ import annotations

from pydantic import Field

from common.settings import AuthToken, KafkaServiceSettings, Secret, settings_config


class HistorySettings(KafkaServiceSettings):
    model_config = settings_config("HISTORY_")

    # Kafka
    group_id: str = Field(
        "tickerflow.history",
        min_length=1,
        description="consumer group whose committed offsets mark what is stored",
    )
    max_records: int = Field(
        10_000,
        ge=1,
        description="Kafka messages read per poll (measured, 1M JSON ticks: 50,000 peaked at 545 MB RSS, "
        "10,000 at 407 MB at the same speed: polls are gathered into one transaction anyway)",
    )
    batch_rows: int = Field(
        368_640,
        ge=1,
        description="ticks gathered over polls into one DuckDB transaction (3 of DuckDB's 122,880-row "
        "groups: such a transaction writes straight to the file, not its WAL); measured, 6M Arrow ticks, "
        "2 interleaved runs: 122,880 420-550k ticks/s, 245,760 480-500k, 368,640 640-650k at 470 MB RSS",
    )
    batch_wait_ms: int = Field(
        500, ge=0, le=60_000, description="longest a tick waits for its transaction while a batch gathers"
    )
    poll_timeout_ms: int = Field(200, ge=0, le=10_000, description="longest wait for a poll to fill")
    session_timeout_ms: int = Field(
        6000,
        ge=6000,
        le=300_000,
        description="a killed history's partitions go to its restart after this long (the group's wait)",
    )
    reconnect_after_s: float = Field(
        15.0, gt=0, description="restart the Kafka client after this long without a broker"
    )
    # Storage
    db_path: str = Field(".run/history/history.duckdb", min_length=1, description="the DuckDB database file")
    retention_hours: float = Field(24.0, gt=0, description="ticks older than this (by event_time) are pruned")
    prune_interval_s: float = Field(60.0, gt=0, description="how often old ticks are pruned")
    memory_limit_mb: int = Field(
        128,
        ge=64,
        description="DuckDB's memory_limit (its buffer pool), in MiB; measured, Arrow ticks streaming in: "
        "256 peaked at 502 MB RSS, 192 at 460 MB (10M); 128 with 368,640-row transactions at 470 MB (6M)",
    )
    threads: int = Field(2, ge=1, le=64, description="DuckDB worker threads")
    nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU niceness added at start: history catches up later, the live gateway must not wait",
    )
    # HTTP / WebSocket
    host: str = Field("0.0.0.0", min_length=1, description="interface to listen on")
    port: int = Field(
        8090, ge=1, le=65535, description="HTTP + WebSocket port (/history, /healthz, /readyz, /metrics)"
    )
    allowed_origins: str = Field(
        "*", min_length=1, description="comma-separated Origin allowlist for /history ('*' allows any)"
    )
    token: AuthToken = Field(
        "",
        description="shared secret (16+ characters); when set, clients need a ticket (as on the gateway)",
    )
    metrics_token: Secret = Field("", description="when set, /metrics requires `Authorization: Bearer` it")
    max_frame_bytes: int = Field(65_536, ge=1024, description="largest WebSocket frame accepted")
    max_connections: int = Field(100, ge=1, description="cap on concurrent WebSocket connections")
    max_pending_bytes: int = Field(
        16 * 1_048_576, ge=65_536, description="per-client backlog before the client is dropped"
    )
    max_view_rows: int = Field(
        1_000_000, ge=1, description="a view that would hold more rows than this is refused (filter first)"
    )
