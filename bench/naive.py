"""The naive baseline: the seed example's pattern, one `table.update` per Kafka message.

Lives in bench/ only. It is what the gateway's batching is measured against.
"""

from __future__ import annotations

import asyncio
import os
import time

import orjson
import perspective
from aiokafka import AIOKafkaConsumer, TopicPartition

from common.schema import perspective_schema
from harness.admin import describe_topic


async def naive_ingest(bootstrap: str, topic: str, ticks: int, timeout: float = 600) -> float:
    """Consume ``ticks`` JSON messages, updating `ticks` and `quotes` once per message; ticks/s."""
    # The seed example's engine, Perspective's default (a thread per core), whatever ran before it here.
    perspective.set_num_cpus(os.cpu_count() or 1)
    server = perspective.Server()
    client = server.new_local_client()
    ticks_table = client.table(perspective_schema(), limit=100_000, name="ticks")
    quotes = client.table(perspective_schema(), index="symbol", name="quotes")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [
            TopicPartition(topic, p["partition"])
            for p in await asyncio.to_thread(describe_topic, bootstrap, topic)
        ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        started = time.perf_counter()
        done = 0
        while done < ticks and time.perf_counter() - started < timeout:
            batch = await consumer.getmany(timeout_ms=100, max_records=10_000)
            for records in batch.values():
                for record in records:
                    row = orjson.loads(record.value)
                    ticks_table.update([row])
                    quotes.update([row])
                    done += 1
        return done / (time.perf_counter() - started)
    finally:
        await consumer.stop()
