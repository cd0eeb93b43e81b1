"""Everything the producers published, as a tape of ticks with who sent them under which assignment.

Each message carries its producer's `rebalances` header, so (producer, rebalances) names one
ownership period exactly: the tests need no guessing from gaps in time to tell periods apart.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from common.aio import bounded, close_quietly
from common.codec import decode_arrow
from common.headers import CONTENT_TYPE, CONTENT_TYPE_ARROW, OWNED_SYMBOLS, REBALANCES, header
from tests.support.kafka_io import partitions_of
from tests.support.wire import batch_to_ticks


@dataclass(frozen=True)
class Seen:
    symbol: str
    producer: str
    period: int  # the producer's rebalance count when it sent the tick
    owned: int
    time: int  # event_time, epoch ms
    price: float
    seq: int


async def read_tape(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Seen]:
    """Every tick (JSON or Arrow) in ``topic`` up to its end offsets now, sorted by event time."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tape: list[Seen] = []

    async def read() -> None:
        await consumer.start()
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    if r.offset < end[TopicPartition(r.topic, r.partition)]:
                        tape.extend(_seen(r))

    try:
        await bounded(read(), timeout)
    finally:
        await close_quietly(consumer.stop(), 10, "tape consumer")
    return sorted(tape, key=lambda s: (s.time, s.producer, s.seq))


def _seen(record: ConsumerRecord) -> list[Seen]:
    headers = record.headers
    if header(headers, CONTENT_TYPE) == CONTENT_TYPE_ARROW:
        ticks: list[Any] = batch_to_ticks(decode_arrow(record.value))
    else:
        ticks = [orjson.loads(record.value)]
    period, owned = int(header(headers, REBALANCES) or -1), int(header(headers, OWNED_SYMBOLS) or -1)
    return [
        Seen(t["symbol"], t["producer_id"], period, owned, t["event_time"], t["price"], t["seq"])
        for t in ticks
    ]


def now_ms() -> int:
    return int(time.time() * 1000)


def publishers(tape: Iterable[Seen], since: int, until: int | None = None) -> dict[str, set[str]]:
    """Symbol -> the producers that published it with an event time in [since, until)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for s in tape:
        if s.time >= since and (until is None or s.time < until):
            seen[s.symbol].add(s.producer)
    return dict(seen)


def split_cleanly(tape: Iterable[Seen], since: int, universe: int, producers: int) -> bool:
    """Since ``since``: ``producers`` publishers, one per symbol, together covering the universe."""
    by_symbol = publishers(tape, since)
    every = set().union(*by_symbol.values()) if by_symbol else set()
    return (
        len(by_symbol) == universe
        and len(every) == producers
        and all(len(p) == 1 for p in by_symbol.values())
    )


async def settle(bootstrap: str, topic: str, universe: int, producers: int, timeout: float = 60.0) -> int:
    """Poll until the last 2 s show a clean split; return that moment (epoch ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        moment = now_ms()
        await asyncio.sleep(2.0)
        if split_cleanly(await read_tape(bootstrap, topic), moment, universe, producers):
            return moment
    raise AssertionError(f"{producers} producers did not split {universe} symbols within {timeout}s")


def longest_overlap_ms(tape: Iterable[Seen]) -> int:
    """The longest time two producers' ownership periods of one symbol overlap (0 or less: none)."""
    periods: dict[str, dict[tuple[str, int], list[int]]] = defaultdict(dict)
    for s in tape:
        span = periods[s.symbol].setdefault((s.producer, s.period), [s.time, s.time])
        span[0], span[1] = min(span[0], s.time), max(span[1], s.time)
    longest = -(2**62)
    for spans in periods.values():
        for (p, _), (a0, a1) in spans.items():
            for (q, _), (b0, b1) in spans.items():
                if p < q:
                    longest = max(longest, min(a1, b1) - max(a0, b0))
    return longest


def relative_steps(tape: Iterable[Seen]) -> tuple[float, float]:
    """(largest step within one producer's walk, largest step where a symbol changed hands)."""
    last: dict[str, Seen] = {}
    within = across = 0.0
    for s in tape:
        before = last.get(s.symbol)
        if before is not None:
            step = abs(s.price / before.price - 1)
            if before.producer == s.producer:
                within = max(within, step)
            else:
                across = max(across, step)
        last[s.symbol] = s
    return within, across


def seq_holes(tape: Iterable[Seen]) -> dict[str, int]:
    """Producer -> how many seqs between 1 and its highest are missing (0 everywhere: gap-free)."""
    seqs: dict[str, set[int]] = defaultdict(set)
    for s in tape:
        seqs[s.producer].add(s.seq)
    return {p: max(found) - len(found) for p, found in seqs.items()}
