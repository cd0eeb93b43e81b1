"""Helpers for the ingest tests: a Pipeline in-process, its tables, known ticks, poison."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import perspective
import pyarrow as pa
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from common.codec import encode_arrow, encode_json
from common.headers import CONTENT_TYPE, CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.schema import ARROW_SCHEMA, Tick
from gateway.app import build_pipeline
from gateway.ingest.pipeline import Pipeline
from gateway.settings import GatewaySettings
from tests.support.kafka_io import Message
from tests.support.ticks import SAMPLE

T0 = 1_764_000_000_000  # a whole second, epoch ms


def tick(producer: str, seq: int, symbol: str, price: float, at: int, volume: int = 0) -> Tick:
    return {
        **SAMPLE,
        "producer_id": producer,
        "seq": seq,
        "symbol": symbol,
        "price": price,
        "close": price,
        "bid": round(price - 0.01, 4),
        "ask": round(price + 0.01, 4),
        "event_time": at,
        "volume": volume,
    }


def as_json(t: Tick) -> Message:
    return (t["symbol"].encode(), encode_json(t), make_headers(CONTENT_TYPE_JSON, t["producer_id"]))


def as_arrow(ticks: list[Tick]) -> Message:
    producer = ticks[0]["producer_id"]
    return (producer.encode(), encode_arrow(ticks), make_headers(CONTENT_TYPE_ARROW, producer))


def poison(index: int) -> tuple[str, Message]:
    """Bad message number ``index`` and the reason it must be rejected with, cycling through every kind."""
    good = {**SAMPLE, "producer_id": "poison", "seq": index}
    as_json = make_headers(CONTENT_TYPE_JSON, "poison")
    as_arrow = make_headers(CONTENT_TYPE_ARROW, "poison")
    nullable = pa.schema([f.with_nullable(True) for f in ARROW_SCHEMA])
    kinds: list[tuple[str, Message]] = [
        ("bad_json", (b"k", b"{not json", as_json)),
        ("not_an_object", (b"k", b"[1, 2, 3]", as_json)),
        ("missing_field", (b"k", orjson.dumps({k: v for k, v in good.items() if k != "price"}), as_json)),
        ("wrong_type", (b"k", orjson.dumps({**good, "bid_size": "many"}), as_json)),
        ("empty_string", (b"k", orjson.dumps({**good, "symbol": ""}), as_json)),
        ("string_too_long", (b"k", orjson.dumps({**good, "name": "x" * 1000}), as_json)),
        ("non_positive_price", (b"k", orjson.dumps({**good, "price": -5.0}), as_json)),
        ("out_of_range", (b"k", orjson.dumps({**good, "seq": 2**60}), as_json)),
        ("empty_message", (b"k", b"", as_json)),
        ("empty_message", (b"k", None, as_json)),  # a tombstone
        ("truncated_arrow", (b"k", encode_arrow([good])[:-40], as_arrow)),
        ("non_finite", (b"k", encode_arrow([{**good, "price": float("nan")}]), as_arrow)),
        ("bad_arrow_schema", (b"k", _ipc(pa.record_batch({"symbol": ["A"]})), as_arrow)),
        (
            "null_field",
            (b"k", _ipc(pa.RecordBatch.from_pylist([{**good, "price": None}], nullable)), as_arrow),
        ),
        ("unknown_content_type", (b"k", encode_json(good), [(CONTENT_TYPE, b"text/xml")])),
        ("unknown_schema_version", (b"k", encode_json(good), [(CONTENT_TYPE, b"application/json")])),
    ]
    return kinds[index % len(kinds)]


def _ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def settings(bootstrap: str, topic: str, **changes: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "topic": topic,
        "start": "earliest",
        "dlq_topic": f"{topic}.dlq",
        "stats_interval_ms": 100,
        "gap_grace_ms": 300,
        **changes,
    }
    return GatewaySettings(**values)


@asynccontextmanager
async def running(bootstrap: str, topic: str, **changes: Any) -> AsyncIterator[Pipeline]:
    pipeline = build_pipeline(settings(bootstrap, topic, **changes), perspective.Server())
    await pipeline.start()
    try:
        yield pipeline
    finally:
        await pipeline.stop()


def rows(pipeline: Pipeline, table: str) -> list[dict[str, Any]]:
    """The rows of ``table``, read like a client does (a view), ordered by its index."""
    view = getattr(pipeline.tables, table).view()
    try:
        records: list[dict[str, Any]] = view.to_records()
        return records
    finally:
        view.delete()


def by(pipeline: Pipeline, table: str, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows(pipeline, table)}


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.05)


async def produce_until_sent(
    bootstrap: str, topic: str, messages: list[Message], timeout: float = 60.0
) -> None:
    """Produce once the broker takes it: started while Kafka is down, it waits for it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await asyncio.wait_for(producer.start(), 5)
            break
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await producer.stop()
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
            await asyncio.sleep(0.5)
    try:
        futures = [await producer.send(topic, v, key=k, headers=h) for k, v, h in messages]
        await asyncio.wait_for(asyncio.gather(*futures), timeout)
    finally:
        await asyncio.wait_for(producer.stop(), 10)
