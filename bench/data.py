"""Preloading a topic with ticks, fast: pre-encoded values sent without awaiting each one."""

from __future__ import annotations

import asyncio

import numpy as np
from aiokafka import AIOKafkaProducer

from common.codec import encode_columns
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from producer.app import Generator
from producer.market import Market, universe
from producer.metrics import Tally
from producer.settings import ProducerSettings

CHUNK = 20_000


def _generator(producer_id: str, fmt: str, batch_size: int) -> Generator:
    settings = ProducerSettings(producer_id=producer_id, format=fmt, batch_size=batch_size)
    market = Market(universe(50, 42), 42)
    return Generator(settings, market, np.arange(50), Tally())


def arrow_message(rows: int) -> bytes:
    """One Arrow IPC message of ``rows`` generated ticks, as a producer would send it."""
    (message,) = _generator("bench", "arrow", rows).make(rows)
    return message.value


async def preload(
    bootstrap: str, topic: str, ticks: int, fmt: str, batch_size: int = 1000, producer_id: str = "bench"
) -> None:
    """Write ``ticks`` ticks to ``topic`` as JSON messages or Arrow batches of ``batch_size``."""
    generator = _generator(producer_id, fmt, batch_size)
    content = CONTENT_TYPE_ARROW if fmt == "arrow" else CONTENT_TYPE_JSON
    headers = make_headers(content, producer_id)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=20,
        max_batch_size=1_048_576,
        max_request_size=16_777_216,
        compression_type="lz4",
    )
    await producer.start()
    try:
        remaining = ticks
        while remaining > 0:
            step = min(CHUNK, remaining)
            futures = [
                await producer.send(topic, m.value, key=m.key, headers=headers) for m in generator.make(step)
            ]
            await asyncio.gather(*futures)
            remaining -= step
    finally:
        await producer.stop()


__all__ = ["encode_columns", "preload"]
