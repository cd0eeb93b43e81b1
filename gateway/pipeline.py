"""Kafka -> decode -> de-duplicate -> Perspective tables, one update per table per poll.

Decoding and table updates run on one worker thread (as in Perspective's streaming
example) so the event loop stays free for WebSocket clients; the thread is also what
serialises every write to the tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
from aiokafka import ConsumerRecord

from common.codec import EMPTY_BATCH, decode_arrow, decode_json_batch
from common.errors import DecodeError
from common.headers import CONTENT_TYPE_ARROW, parse_headers
from gateway import metrics
from gateway.consumer import KafkaSource
from gateway.dlq import DeadLetters
from gateway.sequence import SequenceTracker
from gateway.settings import GatewaySettings
from gateway.stats import LiveStats
from gateway.tables import create_tables
from gateway.writer import TableWriter

log = logging.getLogger(__name__)

Bad = list[tuple[ConsumerRecord, DecodeError]]


class Pipeline:
    def __init__(
        self, settings: GatewaySettings, server: Any, clients: Callable[[], int] = lambda: 0
    ) -> None:
        self.settings = settings
        self.tables = create_tables(server.new_local_client())
        self.writer = TableWriter(self.tables, settings.ticks_limit, settings.bars_limit)
        self.sequence = SequenceTracker(settings.gap_grace_ms / 1000)
        self.stats = LiveStats()
        self.source = KafkaSource(settings)
        self.dead_letters = DeadLetters(
            settings.bootstrap_servers, settings.dlq_topic, settings.dlq_replication
        )
        self.clients = clients
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tables")
        self._tasks: list[asyncio.Task[None]] = []
        self._error_counts: Counter[str] = Counter()
        self._last_error_log = 0.0

    def readiness(self) -> dict[str, bool]:
        return {
            "broker": self.source.broker_up,
            "assigned": self.source.assigned,
            "caught_up": self.source.caught_up,
        }

    @property
    def ready(self) -> bool:
        return all(self.readiness().values())

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._run(), name="ingest"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        await self.source.stop()
        await self.dead_letters.stop()
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def _run(self) -> None:
        await self.source.connect()
        try:
            await self.dead_letters.start()
        except Exception as exc:
            log.error("dead-letter topic %r unavailable: %r", self.settings.dlq_topic, exc)
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._step(loop)
            except asyncio.CancelledError:
                raise
            except Exception:  # the ingest loop must outlive any one bad poll
                log.exception("ingest step failed; continuing")
                await asyncio.sleep(0.5)

    async def _step(self, loop: asyncio.AbstractEventLoop) -> None:
        records = await self.source.poll()
        if not records:
            return
        started = time.perf_counter()
        bad = await loop.run_in_executor(self.executor, self._process, records)
        metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
        if bad:
            self._count_bad(bad)
            await self.dead_letters.send(bad)

    def _process(self, records: list[ConsumerRecord]) -> Bad:
        """Worker thread: decode every record, apply the good ticks in one update per table."""
        bad: Bad = []
        json_records: list[ConsumerRecord] = []
        batches: list[pa.RecordBatch] = []
        for record in records:
            try:
                content_type = parse_headers(record.headers)
                if content_type == CONTENT_TYPE_ARROW:
                    batches.append(decode_arrow(record.value))
                    metrics.MESSAGES.labels("arrow").inc()
                elif record.value is None:
                    raise DecodeError("empty_message", "message has no value (tombstone)")
                else:
                    json_records.append(record)
            except DecodeError as error:
                bad.append((record, error))
        if json_records:
            metrics.MESSAGES.labels("json").inc(len(json_records))
            decoded, errors = decode_json_batch([r.value for r in json_records])
            bad.extend((json_records[i], e) for i, e in errors)
            batches.insert(0, decoded)
        self._apply(pa.Table.from_batches(batches or [EMPTY_BATCH]).combine_chunks().to_batches())
        return bad

    def _apply(self, batches: list[pa.RecordBatch]) -> None:
        batch = batches[0] if batches else EMPTY_BATCH
        before = sum(p.duplicates for p in self.sequence.producers.values())
        admitted = self.sequence.admit(batch)
        metrics.DUPLICATES.inc(sum(p.duplicates for p in self.sequence.producers.values()) - before)
        self.writer.apply(admitted)
        self.stats.record(admitted)
        metrics.TICKS.inc(admitted.num_rows)
        metrics.BATCH_TICKS.observe(admitted.num_rows)

    def _count_bad(self, bad: Bad) -> None:
        for _, error in bad:
            metrics.DECODE_ERRORS.labels(error.reason).inc()
            self._error_counts[error.reason] += 1
        self.stats.decode_errors += len(bad)
        now = time.monotonic()
        if now - self._last_error_log >= 10:  # one line per 10 s, not one per poison message
            record, error = bad[0]
            log.warning(
                "rejected %d bad messages since last report %s; e.g. %s/%d@%d: %s",
                sum(self._error_counts.values()),
                dict(self._error_counts),
                record.topic,
                record.partition,
                record.offset,
                error,
            )
            self._error_counts.clear()
            self._last_error_log = now

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        refresh_every = 2.0
        last_refresh = 0.0
        while True:
            await asyncio.sleep(self.settings.stats_interval_ms / 1000)
            if time.monotonic() - last_refresh >= refresh_every:
                try:
                    await self.source.refresh()
                except Exception:
                    log.exception("Kafka refresh failed; retrying")
                last_refresh = time.monotonic()
            await loop.run_in_executor(self.executor, self._publish_stats)

    def _publish_stats(self) -> None:
        self.sequence.expire()
        producers = self.sequence.producers
        if producers:
            self.tables.producers.update(
                {
                    "producer_id": list(producers),
                    "ticks": [p.ticks for p in producers.values()],
                    "ticks_per_s": [self._producer_rate(pid, p.ticks) for pid, p in producers.items()],
                    "last_seq": [p.last_seq for p in producers.values()],
                    "gaps": [p.gaps for p in producers.values()],
                    "duplicates": [p.duplicates for p in producers.values()],
                    "out_of_order": [p.out_of_order for p in producers.values()],
                    "last_seen": [p.last_seen_ms for p in producers.values()],
                }
            )
        p50, p99 = self.stats.latency_ms()
        self.tables.gateway.update(
            [
                {
                    "id": 0,
                    "ingest_ticks_per_s": self.stats.rate(),
                    "ticks_total": self.stats.ticks_total,
                    "lag": self.source.lag(),
                    "decode_errors": self.stats.decode_errors,
                    "dlq": self.dead_letters.sent,
                    "duplicates": sum(p.duplicates for p in producers.values()),
                    "latency_p50_ms": p50,
                    "latency_p99_ms": p99,
                    "clients": self.clients(),
                    "uptime_s": self.stats.uptime(),
                    "partitions": len(self.source.positions),
                }
            ]
        )

    _rates: dict[str, tuple[float, int, float]] = {}

    def _producer_rate(self, producer_id: str, ticks: int) -> float:
        now = time.monotonic()
        then, before, rate = self._rates.get(producer_id, (now, ticks, 0.0))
        if now - then >= 1.0:
            rate = (ticks - before) / (now - then)
            self._rates[producer_id] = (now, ticks, rate)
        elif producer_id not in self._rates:
            self._rates[producer_id] = (now, ticks, 0.0)
        return rate
