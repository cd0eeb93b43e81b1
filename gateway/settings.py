"""Gateway settings: every one an environment variable ``GATEWAY_<NAME>``, documented in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from common.settings import AuthToken, KafkaServiceSettings, Secret, TopicName, settings_config

REPOSITORY_CLIENT = Path(__file__).resolve().parent.parent / "client"


class GatewaySettings(KafkaServiceSettings):
    model_config = settings_config("GATEWAY_")

    # Kafka
    start: Literal["replay", "earliest", "latest"] = Field(
        "replay", description="start position: replay the last REPLAY_SECONDS, earliest or latest"
    )
    replay_seconds: int = Field(300, ge=0, description="how far back `replay` starts")
    max_records: int = Field(
        50_000, ge=1, description="Kafka messages read ahead of the tables, and the most one update applies"
    )
    # 32 MiB: each update pays a fixed cost per table (the ring write alone ~18 ms for its 10k rows),
    # so when the gateway is behind, fewer, bigger updates catch up faster; when it keeps up, an
    # update takes what came during the last one and this bound is never reached. Measured 2026-12-05,
    # interleaved, one broker: 10M preloaded Arrow ticks into a gateway process, 8 / 16 / 32 MiB:
    # 1.12-1.18M / 1.53-1.54M / 1.66-1.70M ticks/s, peak RSS 234-243 / 267-273 / 292-303 MB;
    # in process, 2M Arrow ticks 1.17-1.62M / 2.05-2.32M / 2.13-2.74M; 1M JSON 139-148k -> 170-175k.
    # (The 8 MiB figure before, "no faster", was a streamed run bound by its producers.)
    max_batch_bytes: int = Field(
        32 * 1_048_576,
        ge=1_048_576,
        description="Kafka bytes read ahead of the tables, and the most one update applies (speed vs memory)",
    )
    # Each worker process fetches and decodes a share of the partitions (p % workers), so the
    # per-record aiokafka and decode work leaves the process that holds the tables (issue 18).
    # Off by default: it is a catch-up speed, paid for in live latency and memory. Same machine,
    # interleaved: JSON replay 79-107k -> 123-192k ticks/s with 2, but at 10k ticks/s live the
    # e2e p50 went 16-33 -> 31-135 ms (the extra hop, and two more busy processes on 2 cores),
    # and the processes hold ~550 MB against ~330 MB while replaying 1M ticks.
    ingest_workers: int = Field(
        0, ge=0, le=16, description="processes that fetch and decode a share of the partitions (0: none)"
    )
    poll_timeout_ms: int = Field(20, ge=0, le=10_000, description="longest wait for a poll to fill")
    fetch_max_wait_ms: int = Field(10, ge=0, le=10_000, description="broker-side wait for a fetch to fill")
    dlq_topic: TopicName = Field("ticks.dlq", description="dead-letter topic for bad messages ('' disables)")
    dlq_replication: int = Field(1, ge=1, le=5, description="replication factor if the DLQ topic is created")
    reconnect_after_s: float = Field(
        15.0, gt=0, description="restart the Kafka client after this long without a broker"
    )
    # Tables
    # Perspective 5.5.1 hands every column of every update to Arrow's thread pool (ParallelFor,
    # one task a column) and waits for them: on 2 cores, perf puts ~35% of the gateway's CPU at
    # 1k ticks/s in the kernel, waking those threads and switching to them. One thread is fewer
    # threads to wake and schedule beside the broker and the viewers (the hand-offs stay: Arrow's
    # pool cannot run a task inline). Interleaved A/B
    # (issue 18): 1k ticks/s, 1 viewer, p50 15.1 / 17.5 -> 8.6 / 10.6 ms, 1-11 points less CPU;
    # 10k ticks/s, 100 viewers p50 47-89 -> 39-77 ms (6 pairs); Arrow replay 523-819k -> 451-862k
    # ticks/s (medians ~4% lower). Views update as one pool task each: 100 private views lose most.
    # The hang a gateway on 1 thread had after a restart (CI, 2026-12-04 21:01) is Perspective's
    # write into an empty table, which hangs any pool size given enough grouped views: found,
    # reproduced and guarded in gateway/ingest/first_write.py, for every size.
    engine_threads: int = Field(
        1, ge=0, le=64, description="threads Perspective's engine splits an update over (0: one per core)"
    )
    # 20k, not 100k: a row-delta subscription costs Perspective 5.5.1 time in proportion to the
    # table's rows on every update (in-process, 150-row updates: +0.33 ms a view at 10k rows, +2.4 ms
    # at 100k), and the whole ring rides every update. A/B at 10k ticks/s, 1 viewer: p50 26-34 ms at
    # 100k, 7-8 ms at 20k; RSS -50 MB. Every tick is kept by the history service (`/history`).
    ticks_limit: int = Field(20_000, ge=1, description="rows kept in the `ticks` ring")
    ticks_per_update: int = Field(
        10_000,
        ge=1,
        description="most rows of one batch written to the `ticks` ring (its newest); quotes, bars "
        "and counters still see every tick",
    )
    bars_limit: int = Field(50_000, ge=1, description="rows kept in the `bars` ring (symbol x second)")
    bars_interval_ms: int = Field(
        250,
        ge=0,
        le=1000,
        description="`bars` (1 s candles) are folded and written this often, not per batch (0: per batch)",
    )
    gap_grace_ms: int = Field(
        2000, ge=0, description="a missing seq still missing after this long is counted as a gap"
    )
    stale_after_s: float = Field(
        5.0, gt=0, description="no tick for this long: the `gateway` table's status turns `stale`"
    )
    stats_interval_ms: int = Field(
        500, ge=50, description="how often the `gateway` and `producers` rows refresh"
    )
    producer_stale_s: float = Field(
        10.0, gt=0, description="a producer whose newest tick is older than this shows as `stale`"
    )
    # HTTP / WebSocket
    host: str = Field("0.0.0.0", min_length=1, description="interface to listen on")
    port: int = Field(8080, ge=1, le=65535, description="HTTP + WebSocket port")
    allowed_origins: str = Field(
        "*", min_length=1, description="comma-separated Origin allowlist for /websocket ('*' allows any)"
    )
    token: AuthToken = Field(
        "", description="shared secret (16+ characters); when set, clients must present it (see README)"
    )
    metrics_token: Secret = Field("", description="when set, /metrics requires `Authorization: Bearer` it")
    auth_max_failures: int = Field(
        10, ge=1, description="failed POST /auth/ticket per client address before it is blocked (429)"
    )
    auth_window_s: float = Field(
        60.0, gt=0, description="an address quiet this long after its last failure or block starts afresh"
    )
    auth_backoff_max_s: float = Field(
        300.0, ge=1, description="longest block; each failure past the limit doubles it from 1 s"
    )
    max_frame_bytes: int = Field(1_048_576, ge=1024, description="largest WebSocket frame accepted")
    max_connections: int = Field(1000, ge=1, description="cap on concurrent WebSocket connections")
    max_pending_bytes: int = Field(
        16 * 1_048_576,
        ge=65_536,
        description="per-client backlog (unsent plus queued bytes) before the client is dropped",
    )
    share_views: bool = Field(
        True, description="clients asking for the same view share one (computed once per update)"
    )
    history_url: str = Field(
        "ws://127.0.0.1:8090/history",
        pattern=r"^(wss?://\S+)?$",
        description="the history service's WebSocket, proxied at /history (empty: no /history)",
    )
    client_dir: str = Field(
        default_factory=lambda: str(REPOSITORY_CLIENT), description="folder of the dashboard page served at /"
    )

    @field_validator("client_dir")
    @classmethod
    def _client_dir(cls, value: str) -> str:
        if not (Path(value) / "index.html").is_file():
            raise ValueError(f"{value!r} has no index.html")
        return value
