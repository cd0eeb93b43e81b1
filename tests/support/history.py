"""Helpers for the history tests: Kafka's end offsets, history's stored offsets, the file's counts."""

from __future__ import annotations

import urllib.request

import duckdb
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from common.aio import bounded, close_quietly
from harness.services import History
from tests.support.kafka_io import partitions_of


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await bounded(consumer.start(), 10)
        ends = await bounded(consumer.end_offsets(await partitions_of(bootstrap, topic)), 10)
    finally:
        await close_quietly(consumer.stop(), 10, "test consumer")
    return {tp.partition: offset for tp, offset in ends.items()}


def samples(history: History, name: str) -> dict[str, float]:
    """Every sample of metric ``name`` by its ``partition`` or ``reason`` label ('' when unlabelled)."""
    with urllib.request.urlopen(f"{history.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                label = sample.labels.get("partition", sample.labels.get("reason", ""))
                found[label] = float(sample.value)
    return found


def wait_stored_up_to(history: History, ends: dict[int, int], timeout: float = 60) -> None:
    """Until history's database holds every partition up to ``ends`` (its next offsets reach them)."""

    def reached() -> bool:
        positions = samples(history, "history_next_offset")
        return all(positions.get(str(p), -1) >= end for p, end in ends.items())

    if not history.process.wait_for(reached, timeout, 0.2):
        positions = samples(history, "history_next_offset") if history.process.running else "exited"
        raise AssertionError(f"history at {positions}, Kafka ends {ends}:\n{history.process.tail(30)}")


def file_counts(path: str) -> tuple[int, int]:
    """(ticks, distinct (producer_id, seq)) in a closed history file."""
    with duckdb.connect(path, read_only=True) as connection:
        row = connection.execute("SELECT count(*), count(DISTINCT (producer_id, seq)) FROM ticks").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def query(path: str, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql).fetchall()


async def rewind_group(bootstrap: str, topic: str, group: str) -> None:
    """Commit offset 0 on every partition for ``group``: ``kafka-consumer-groups --reset-offsets
    --to-earliest``, done with aiokafka."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await bounded(consumer.start(), 10)
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await bounded(consumer.commit({tp: 0 for tp in partitions}), 10)
    finally:
        await close_quietly(consumer.stop(), 10, "test consumer")
