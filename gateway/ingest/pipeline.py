"""Kafka -> decode -> de-duplicate -> Perspective tables, one update per table per poll.

Decoding and table updates run on one worker thread (as in Perspective's streaming
example) so the event loop stays free for WebSocket clients; that thread is also what
serialises every write to the tables (perspective releases the GIL while updating).
With GATEWAY_INGEST_WORKERS the fetch and decode run in worker processes instead
(gateway/ingest/workers.py), and that thread only merges their batches and updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import ConsumerRecord

from common import malloc
from common.codec.routing import Bad, Decoded, decode_records
from common.throttle import LogThrottle
from gateway import metrics
from gateway.ingest import health
from gateway.ingest.dlq import DeadLetters
from gateway.ingest.inbox import Inbox
from gateway.ingest.roster import Roster
from gateway.ingest.sequence import SequenceTracker
from gateway.ingest.source import KafkaSource, keep_refreshed
from gateway.ingest.stats import LiveStats, Rates
from gateway.ingest.tables import Tables, gateway_rows, producer_rows
from gateway.ingest.worker import Shipment
from gateway.ingest.workers import WorkerPool
from gateway.ingest.writer import TableWriter
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

T = TypeVar("T")

START_WAIT_S = 10.0  # start() returns once connected, or after this long (then keeps trying)
TRIM_EVERY_S = 5.0  # hand freed heap back to the system (common/malloc.py)
ERROR_LOG_EVERY_S = 10.0  # at most one line per decode error reason in this long
_STOP_TIMEOUT_S = 5.0


def _record_bytes(record: ConsumerRecord) -> int:
    return len(record.value or b"")


@dataclass(frozen=True)
class IngestParts:
    """The pipeline's collaborators, built and wired by gateway/app.py."""

    source: KafkaSource | WorkerPool  # in process, or GATEWAY_INGEST_WORKERS processes
    dead_letters: DeadLetters
    tables: Tables
    writer: TableWriter
    sequence: SequenceTracker
    roster: Roster
    stats: LiveStats


class Pipeline:
    def __init__(
        self, settings: GatewaySettings, parts: IngestParts, clients: Callable[[], int] = lambda: 0
    ) -> None:
        self.settings = settings
        self.tables = parts.tables
        self.writer = parts.writer
        self.sequence = parts.sequence
        self.roster = parts.roster
        self.stats = parts.stats
        self.source = parts.source
        self.dead_letters = parts.dead_letters
        self.clients = clients
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tables")
        self._tasks: list[asyncio.Task[None]] = []
        self._rates = Rates()
        self._throttle = LogThrottle(ERROR_LOG_EVERY_S)  # decode errors: one line per reason
        self._stopped = False

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
        """Connect, assign every partition, seek, and start consuming.

        Waits up to START_WAIT_S for the broker, then returns anyway (not ready yet) so a
        gateway started before Kafka still serves pages and answers SIGTERM; it keeps trying.
        """
        self._tasks = [
            asyncio.create_task(self._consume(), name="ingest"),
            asyncio.create_task(self._housekeeping(), name="ingest-housekeeping"),
        ]
        if isinstance(self.source, WorkerPool):
            self.source.start()  # (the workers refresh their own shares)
        else:
            # Its own task: with the broker gone, one refresh waits out two 5 s call timeouts, and the
            # stats rows must keep coming meanwhile (the page calls a row silent for 5 s a dead gateway).
            first = self.settings.stats_interval_ms / 1000  # soon: readiness waits on it
            self._tasks.append(asyncio.create_task(keep_refreshed(self.source, first), name="ingest-refresh"))
        deadline = time.monotonic() + START_WAIT_S
        while not self.source.assigned and time.monotonic() < deadline and not self._tasks[0].done():
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop consuming and close the Kafka clients; bounded, and safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, _STOP_TIMEOUT_S)
        await self.dead_letters.stop(_STOP_TIMEOUT_S)
        await self.source.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _consume(self) -> None:
        """Apply what the reader has read, batch after batch (see gateway/ingest/inbox.py for why the
        reading runs on its own)."""
        if isinstance(self.source, WorkerPool):  # the workers fetch and decode; here only the tables' part
            await self._drain(self.source.inbox, functools.partial(self._apply_shipments, self.source))
            return
        inbox: Inbox[ConsumerRecord] = Inbox(
            self.settings.max_records, self.settings.max_batch_bytes, _record_bytes
        )
        reader = asyncio.create_task(self._read(inbox, self.source), name="ingest-reader")
        try:
            await self._drain(inbox, functools.partial(self._apply_records, self.source))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(reader, _STOP_TIMEOUT_S)

    async def _drain(self, inbox: Inbox[T], apply: Callable[[list[T]], Awaitable[None]]) -> None:
        while True:
            if await inbox.wait(self.writer.bars_every_s or START_WAIT_S):
                await apply(await inbox.take())
            else:  # quiet: the ticks the last batches left for `bars` are due
                await self._flush_bars()

    async def _apply_records(self, source: KafkaSource, records: list[ConsumerRecord]) -> None:
        await self._apply(functools.partial(self._process, records), len(records))
        source.done(records)  # applied or lost, these offsets are behind us either way

    async def _apply_shipments(self, pool: WorkerPool, shipments: list[Shipment]) -> None:
        await self._apply(
            functools.partial(self._process_shipments, shipments), sum(s.messages for s in shipments)
        )
        pool.took(shipments)  # applied or lost, as above: the statuses behind them hold now

    async def _flush_bars(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, self.writer.flush_bars)
        except Exception:  # a bug must not end ingest for good
            log.exception("could not write the held ticks to `bars`")

    async def _read(self, inbox: Inbox[ConsumerRecord], source: KafkaSource) -> None:
        while True:
            await inbox.room()
            try:
                inbox.put(await source.poll())
            except Exception:  # whatever the client throws, the source reconnects on the next poll
                log.exception("polling Kafka failed")
                await asyncio.sleep(1)

    async def _apply(self, process: Callable[[], Bad], messages: int) -> None:
        """``process`` on the tables thread; ``messages``: how many it applies (0: statuses only)."""
        started = time.perf_counter()
        try:
            bad = await asyncio.get_running_loop().run_in_executor(self.executor, process)
        except Exception:  # a bug must not end ingest for good; the batch is lost, and said so
            log.exception("could not apply a batch of %d messages", messages)
            return
        if messages:
            metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
        if bad:
            self._count_bad(bad)
            self.dead_letters.submit(bad)

    def _process(self, records: list[ConsumerRecord]) -> Bad:
        """Worker thread: decode every record, apply the good ticks in one update per table."""
        return self._ingest(decode_records(records))

    def _process_shipments(self, shipments: list[Shipment]) -> Bad:
        """Worker thread: the workers' decoded batches, applied in one update per table."""
        decoded = [s.decoded for s in shipments if s.decoded is not None]
        if decoded:
            return self._ingest(Decoded.merge(decoded))
        self.writer.flush_bars()  # statuses keep coming while no ticks do: `bars` is due by its cadence
        return []

    def _ingest(self, decoded: Decoded) -> Bad:
        metrics.MESSAGES.labels("json").inc(decoded.json_messages)
        metrics.MESSAGES.labels("arrow").inc(decoded.arrow_messages)
        admitted, counts = self.sequence.admit(decoded.batch, decoded.partitions)
        self.roster.note(decoded.header_sets)
        metrics.DUPLICATES.inc(counts.duplicates)
        metrics.OUT_OF_ORDER.inc(counts.out_of_order)
        self.writer.apply(admitted)
        self.stats.record(admitted)
        metrics.TICKS.inc(admitted.num_rows)
        metrics.BATCH_TICKS.observe(admitted.num_rows)
        return decoded.bad

    def _count_bad(self, bad: Bad) -> None:
        self.stats.decode_errors += len(bad)
        for record, error in bad:
            metrics.DECODE_ERRORS.labels(error.reason).inc()
            held = self._throttle.ready(error.reason)
            if held is not None:
                log.warning(
                    "rejected %d %s message(s) in the last %.0fs; e.g. %s/%d@%d: %s",
                    held + 1,
                    error.reason,
                    ERROR_LOG_EVERY_S,
                    record.topic,
                    record.partition,
                    record.offset,
                    error.detail,
                )

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        last_trim = 0.0
        while True:
            await asyncio.sleep(self.settings.stats_interval_ms / 1000)
            if time.monotonic() - last_trim >= TRIM_EVERY_S:
                last_trim = time.monotonic()
                await loop.run_in_executor(self.executor, malloc.trim)
            try:
                await loop.run_in_executor(self.executor, self._publish_stats)
            except Exception:  # a failed refresh of the stats rows must not end the refreshes
                log.exception("could not refresh the producers/gateway tables")

    def _publish_stats(self) -> None:
        """Worker thread: refresh the `producers` rows and the one `gateway` row."""
        if self.source.caught_up:  # while replaying, partitions run unevenly: holes are not gaps yet
            self.sequence.expire()
        metrics.GAPS.set(self.sequence.gaps())
        producers = self.sequence.producers
        if producers:
            # Refreshed every interval for every producer, so one that stopped turns stale on its own.
            stale_before_ms = time.time() * 1000 - self.settings.producer_stale_s * 1000
            rows = producer_rows(producers, self._rates.rate, stale_before_ms, self.roster)
            self.tables.producers.update(rows)
        p50, p99 = self.stats.latency_ms()
        status, reason = health.verdict(self._health_inputs())
        self.tables.gateway.update(
            gateway_rows(
                ingest_ticks_per_s=self.stats.rate(),
                ticks_total=self.stats.ticks_total,
                lag=self.source.lag(),
                decode_errors=self.stats.decode_errors,
                dlq=self.dead_letters.sent,
                duplicates=self.sequence.duplicates(),
                latency_p50_ms=p50,
                latency_p99_ms=p99,
                clients=self.clients(),
                uptime_s=self.stats.uptime(),
                partitions=self.source.partition_count,
                status=status,
                reason=reason,
            )
        )

    def _health_inputs(self) -> health.Inputs:
        return health.Inputs(
            broker_up=self.source.broker_up,
            assigned=self.source.assigned,
            caught_up=self.source.caught_up,
            since_tick_s=self.stats.since_tick(),
            stale_after_s=self.settings.stale_after_s,
            bootstrap=self.settings.bootstrap_servers,
        )
