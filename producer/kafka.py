"""Kafka client lifecycle: create the topic, start an idempotent producer, retry until a deadline.

Every call that talks to the broker is bounded (common/aio.py): aiokafka's start, send
and stop can hang while the broker is down (aiokafka #1101).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from common import topics
from common.aio import bounded, close_quietly
from producer.settings import ProducerSettings

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 5.0
STOP_TIMEOUT_S = 1.0


class StartupError(Exception):
    """Kafka stayed unreachable (or refused the topic) for the whole startup timeout."""


async def connect(settings: ProducerSettings, stop: asyncio.Event) -> AIOKafkaProducer | None:
    """A started producer with the topic in place; None if ``stop`` was set while retrying."""
    deadline = time.monotonic() + settings.startup_timeout_s
    delay = FIRST_RETRY_S
    while not stop.is_set():
        try:
            return await _start(settings)
        except (TimeoutError, KafkaError, OSError) as exc:  # TopicError is a KafkaError
            reason = str(exc) or type(exc).__name__
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupError(
                    f"Kafka at {settings.bootstrap_servers} unreachable for "
                    f"{settings.startup_timeout_s:g}s (PRODUCER_STARTUP_TIMEOUT_S): {reason}"
                ) from None
            log.warning(
                "Kafka at %s unreachable (%s): retrying in %.1fs, giving up in %.0fs",
                settings.bootstrap_servers,
                reason,
                min(delay, left),
                left,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(delay, left))
            delay = min(delay * 2, MAX_RETRY_S)
    return None


async def _start(settings: ProducerSettings) -> AIOKafkaProducer:
    await ensure_topic(settings, settings.topic, settings.partitions)
    producer = new_producer(settings)
    try:
        await bounded(producer.start(), settings.send_timeout_s)
    except BaseException:
        await stop_producer(producer)
        raise
    log.info("connected to Kafka at %s, topic %r", settings.bootstrap_servers, settings.topic)
    return producer


def new_producer(settings: ProducerSettings) -> AIOKafkaProducer:
    s = settings
    return AIOKafkaProducer(
        bootstrap_servers=s.bootstrap_servers,
        client_id=f"producer-{s.producer_id}",
        enable_idempotence=True,
        acks="all",
        linger_ms=s.linger_ms,
        max_batch_size=s.max_batch_bytes,
        # An Arrow message is indivisible: let one be larger than a batch (the broker has the last word).
        max_request_size=max(s.max_batch_bytes, 1_048_576) * 4,
        compression_type=None if s.compression == "none" else s.compression,
        # Long enough that a broker restart never expires a batch inside aiokafka: expiry cannot
        # tell "not written" from "written but unacknowledged", and a resend could duplicate.
        request_timeout_ms=120_000,
        retry_backoff_ms=200,
    )


async def stop_producer(producer: AIOKafkaProducer) -> None:
    await close_quietly(producer.stop(), STOP_TIMEOUT_S, "Kafka producer")


async def ensure_topic(settings: ProducerSettings, topic: str, partitions: int) -> None:
    """``topic`` with ``partitions`` and the producer's replication, created if missing."""
    s = settings
    if await topics.ensure_topic(s.bootstrap_servers, topic, partitions, s.replication, s.send_timeout_s):
        log.info("created topic %r (%d partitions, replication %d)", topic, partitions, s.replication)


class KeyPartitions:
    """Partition of each key, as the Java client and aiokafka's default partitioner choose it.

    Computed once per key: aiokafka's pure-Python murmur2 per message cost ~15% of JSON mode.
    """

    def __init__(self) -> None:
        self._partitions: list[int] = []
        self._cache: dict[bytes, int] = {}

    def update(self, partitions: set[int]) -> None:
        ordered = sorted(partitions)
        if ordered != self._partitions:
            self._partitions = ordered
            self._cache.clear()

    def of(self, key: bytes) -> int:
        partition = self._cache.get(key)
        if partition is None:
            partition = DefaultPartitioner()(key, self._partitions, self._partitions)
            self._cache[key] = partition
        return partition
