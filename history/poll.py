"""One poll's records into the database: decode (the gateway's decoders), store, count, log.

``decode_poll`` runs on the decoder thread and ``store_poll`` on the writer thread (both are CPU
work that must not stall the event loop), so poll N+1 is decoded while poll N is written: DuckDB
releases the GIL while it inserts and commits. ``report`` runs on the loop, so the counters and
the log throttle are touched from one thread only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from aiokafka import ConsumerRecord

from common.codec import concat
from common.codec.routing import Bad, decode_records
from common.throttle import LogThrottle
from history import metrics
from history.store import Appended, HistoryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Polled:
    """One poll, decoded: the good ticks, the bad records, and where each partition goes on."""

    messages: int
    batch: pa.RecordBatch
    bad: Bad
    offsets: dict[int, int]


@dataclass(frozen=True)
class Stored:
    messages: int
    appended: Appended
    bad: Bad
    offsets: dict[int, int]  # next offset per partition: what Kafka may now be told


def next_offsets(records: Sequence[ConsumerRecord]) -> dict[int, int]:
    offsets: dict[int, int] = {}
    for record in records:
        offsets[record.partition] = max(offsets.get(record.partition, 0), record.offset + 1)
    return offsets


def decode_poll(records: Sequence[ConsumerRecord]) -> Polled:
    decoded = decode_records(records)
    return Polled(len(records), decoded.batch, decoded.bad, next_offsets(records))


def merge(polls: Sequence[Polled]) -> Polled:
    """Several polls as one: their ticks in order, every bad record, the furthest offsets."""
    if len(polls) == 1:
        return polls[0]
    offsets: dict[int, int] = {}
    for polled in polls:
        for partition, offset in polled.offsets.items():
            offsets[partition] = max(offsets.get(partition, 0), offset)
    return Polled(
        sum(p.messages for p in polls),
        concat([p.batch for p in polls]),
        [bad for p in polls for bad in p.bad],
        offsets,
    )


def store_poll(store: HistoryStore, topic: str, polled: Polled) -> Stored:
    """Good ticks stored and every record's offset passed, in one transaction (bad ones too)."""
    appended = store.append(polled.batch, topic, polled.offsets)
    return Stored(polled.messages, appended, polled.bad, polled.offsets)


class Reporter:
    def __init__(self) -> None:
        self._throttle = LogThrottle(10.0)  # a flood of bad messages: one line per reason per 10 s

    def report(self, stored: Stored) -> None:
        metrics.MESSAGES.inc(stored.messages)
        metrics.STORED.inc(stored.appended.stored)
        metrics.DUPLICATES.inc(stored.appended.duplicates)
        metrics.COMMIT_SECONDS.observe(stored.appended.seconds)
        for record, error in stored.bad:
            metrics.REJECTED.labels(error.reason).inc()
            held = self._throttle.ready(error.reason)
            if held is not None:
                log.warning(
                    "rejected message at %s[%d]@%d: %s (%d more like it not logged)",
                    record.topic,
                    record.partition,
                    record.offset,
                    error,
                    held,
                )


class Gathered:
    """Decoded polls waiting for their transaction."""

    def __init__(self, rows: int, wait_s: float) -> None:
        self.rows, self.wait_s = rows, wait_s
        self.polls: list[Polled] = []
        self._count = 0
        self._since = 0.0

    def add(self, polled: Polled) -> None:
        if not self.polls:
            self._since = time.monotonic()
        self.polls.append(polled)
        self._count += polled.batch.num_rows

    def due(self, more: bool) -> bool:
        """Write now: enough ticks, waited long enough, or the last poll found nothing more."""
        if not self.polls:
            return False
        return not more or self._count >= self.rows or time.monotonic() - self._since >= self.wait_s

    def take(self) -> Polled:
        polls, self.polls, self._count = self.polls, [], 0
        return merge(polls)
