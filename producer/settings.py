"""Producer settings: every one an environment variable ``PRODUCER_<NAME>``, documented in the README."""

from __future__ import annotations

import os
import re
import socket
from typing import Literal

from pydantic import Field, field_validator

from common.settings import KafkaServiceSettings, settings_config

_SHARD = re.compile(r"^(\d+)/(\d+)$")


def default_producer_id() -> str:
    """Hostname + pid, so `docker compose up --scale producer=5` gives five distinct ids."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ProducerSettings(KafkaServiceSettings):
    model_config = settings_config("PRODUCER_")

    partitions: int = Field(6, ge=1, le=1000, description="partitions when the topic is created")
    replication: int = Field(1, ge=1, le=5, description="replication factor when the topic is created")
    format: Literal["json", "arrow"] = Field(
        "json", description="json: one tick per message, key = symbol; arrow: IPC batches, key = producer id"
    )
    batch_size: int = Field(1000, ge=1, le=100_000, description="ticks per Arrow message (arrow format)")
    interval_ms: int = Field(250, ge=1, description="paced mode: a random subset of symbols ticks this often")
    rate: int = Field(0, ge=0, description="ticks/s for load (0 = paced mode, the default)")
    symbols: int = Field(50, ge=1, le=5000, description="size of the seeded symbol universe")
    symbol_list: str = Field("", description="comma-separated symbols this producer owns ('' = all)")
    shard: str = Field("", description="own a slice of the universe: 'i/n' (e.g. 0/3); '' = all")
    split: bool = Field(
        True,
        description="split the universe with the topic's other producers through a Kafka consumer group "
        "(unless PRODUCER_SHARD or PRODUCER_SYMBOL_LIST is set); false = publish every symbol",
    )
    shards: int = Field(
        24, ge=1, le=1000, description="partitions of the control topic `<topic>.shards` when created"
    )
    session_timeout_ms: int = Field(
        6000,
        ge=1000,
        le=300_000,
        description="a producer killed without leaving loses its symbols after this long",
    )
    seed: int = Field(42, description="universe seed: same seed, same companies and symbols")
    producer_id: str = Field(
        default_factory=default_producer_id,
        min_length=1,
        max_length=128,
        description="producer identity (default hostname-pid)",
    )
    linger_ms: int = Field(
        0,
        ge=0,
        le=10_000,
        description="Kafka producer linger (0: each round is already one batch per partition)",
    )
    max_batch_bytes: int = Field(1_048_576, ge=16_384, description="Kafka producer batch size in bytes")
    compression: Literal["lz4", "zstd", "none"] = Field("lz4", description="Kafka compression codec")
    startup_timeout_s: float = Field(
        60.0, gt=0, description="give up (exit 1) if Kafka is unreachable this long"
    )
    send_timeout_s: float = Field(
        5.0, gt=0, description="bound on one send or flush while the broker is away"
    )
    buffer_ticks: int = Field(
        200_000, ge=1, description="ticks held while Kafka is away; beyond it the oldest are dropped"
    )
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port (0 = off)")

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: str) -> str:
        match = _SHARD.match(value)
        if value and not (match and int(match.group(1)) < int(match.group(2))):
            raise ValueError("must be 'i/n' with 0 <= i < n, e.g. 0/3")
        return value

    @property
    def grouped(self) -> bool:
        """Ownership comes from the producers' consumer group, not from a static selection."""
        return self.split and not (self.shard or self.symbol_list)

    @property
    def shards_topic(self) -> str:
        return f"{self.topic}.shards"

    @property
    def group_id(self) -> str:
        return f"{self.topic}.producers"

    def shard_of(self) -> tuple[int, int]:
        if not self.shard:
            return 0, 1
        index, count = self.shard.split("/")
        return int(index), int(count)

    def owned_symbols(self) -> list[str]:
        return [s.strip().upper() for s in self.symbol_list.split(",") if s.strip()]
