"""Produce and consume helpers for integration tests (aiokafka, no consumer group)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from common.aio import bounded, close_quietly
from common.codec import decode_arrow, decode_json_batch
from common.headers import CONTENT_TYPE_ARROW, header
from common.schema import Tick
from harness.admin import describe_topic
from tests.support.wire import batch_to_ticks

Message = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


async def produce(bootstrap: str, topic: str, messages: Sequence[Message]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers) for key, value, headers in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def consume_all(
    bootstrap: str,
    topic: str,
    expected: int,
    timeout: float = 30.0,
    weight: Callable[[ConsumerRecord], int] = lambda record: 1,
) -> list[ConsumerRecord]:
    """Read from the start of every partition until ``expected`` (records, or the sum of ``weight``).

    Every step is bounded: fewer than ``expected`` within ``timeout`` fails with what was read.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    records: list[ConsumerRecord] = []
    seen = 0

    async def read() -> None:
        nonlocal seen
        await consumer.start()
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
                seen += sum(weight(r) for r in part)

    try:
        await bounded(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"read {seen} of {expected} from {topic!r} within {timeout}s") from None
    finally:
        # A consumer stuck on a dead connection must not hang the test (aiokafka #703, #1101).
        await close_quietly(consumer.stop(), 10, "test consumer")
    return records


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    # With assign() and no subscription, aiokafka never fills partitions_for_topic: ask the admin API.
    described = await asyncio.to_thread(describe_topic, bootstrap, topic)
    return [TopicPartition(topic, p["partition"]) for p in described]


def tick_count(record: ConsumerRecord) -> int:
    if header(record.headers, "content-type") == CONTENT_TYPE_ARROW:
        return int(decode_arrow(record.value).num_rows)
    return 1


def decode_records(records: Sequence[ConsumerRecord]) -> list[Tick]:
    """All ticks of ``records``; JSON ones decoded in one batch (the per-message path is slow)."""
    arrow = [r for r in records if header(r.headers, "content-type") == CONTENT_TYPE_ARROW]
    json_batch, errors = decode_json_batch([r.value for r in records if r not in arrow])
    assert not errors, errors[:3]
    ticks = batch_to_ticks(json_batch)
    for record in arrow:
        ticks.extend(batch_to_ticks(decode_arrow(record.value)))
    return ticks
