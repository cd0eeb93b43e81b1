"""The ticks topic through history's own consumer group into the store, exactly once.

Order of a batch of polls: read, then ONE DuckDB transaction (ticks, seen ranges, next offsets),
and only after it committed, the Kafka offset commit. A kill -9 anywhere leaves the file either
with the whole batch or none of it; Kafka's committed offsets are never ahead of the file.

Where a partition starts on assignment: the offset stored in the file, or Kafka's committed
offset when that is lower (someone rewound the group to replay, or the process died between the
two commits); the start of the partition when the file has nothing from it (a new file refills
from what Kafka still holds). Reading again is always safe: the store never stores a
(producer_id, seq) twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError

from common import malloc
from common.aio import bounded, close_quietly
from common.broker_watch import BrokerWatch
from common.topics import NEW_TOPIC_REFRESH_MS
from history import metrics
from history.poll import Gathered, Reporter, Stored, decode_poll, store_poll
from history.settings import HistorySettings
from history.store import HistoryStore

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 5.0
_PROBE_EVERY_S = 1.0
_CONSUMING_WITHIN_S = 5.0  # a successful poll or probe this recent counts as consuming


class HistoryConsumer:
    def __init__(self, settings: HistorySettings, store: HistoryStore) -> None:
        self.settings = settings
        self.store = store
        self.watch = BrokerWatch(
            settings.bootstrap_servers, settings.reconnect_after_s, metrics.BROKER_UP.set
        )
        self.positions: dict[int, int] = {}  # next offset per assigned partition
        self.lag: dict[int, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="history-writer")
        self._decoder = ThreadPoolExecutor(1, thread_name_prefix="history-decoder")
        self._reporter = Reporter()
        self._last_ok = 0.0

    # Readiness (the /readyz handler's protocol)
    def readiness(self) -> dict[str, bool]:
        return {
            "database": self.store.open,
            "broker": self.watch.up,
            "assigned": bool(self.positions),
            "consuming": self.caught_up or time.monotonic() - self._last_ok < _CONSUMING_WITHIN_S,
            "caught_up": self.caught_up,  # reported, not required: a long catch-up is still ready
        }

    @property
    def ready(self) -> bool:
        checks = self.readiness()
        return checks["database"] and checks["broker"] and checks["assigned"] and checks["consuming"]

    @property
    def caught_up(self) -> bool:
        return bool(self.lag) and not any(self.lag.values())

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll and store until ``stopping``; what was read is stored and committed first.

        Polls are gathered until ``batch_rows`` ticks or ``batch_wait_ms`` (or nothing more to
        read), then written in one transaction (writer thread) while the next ones are read and
        decoded (decoder thread). A batch's Kafka commit waits for its DuckDB commit, and writes
        keep their order.
        """
        probe = asyncio.create_task(self._probe_loop(stopping))
        loop = asyncio.get_running_loop()
        writing: asyncio.Future[Stored] | None = None  # batch N, while N+1 is read and decoded
        gathered = Gathered(self.settings.batch_rows, self.settings.batch_wait_ms / 1000)
        try:
            while not stopping.is_set():
                if self._consumer is None or self.watch.rebuild_due:
                    await self._finish(writing)  # its Kafka commit, before the client goes
                    writing = None
                    if not await self._connect(stopping):
                        break
                records = await self._poll()
                if records:
                    gathered.add(await loop.run_in_executor(self._decoder, decode_poll, records))
                if gathered.due(more=bool(records)):
                    await self._finish(writing)
                    writing = loop.run_in_executor(
                        self._writer, store_poll, self.store, self.settings.topic, gathered.take()
                    )
                elif writing is not None and (writing.done() or not records):
                    await self._finish(writing)  # written, or nothing else to do: commit it now
                    writing = None
            await self._finish(writing)
            if gathered.polls:  # read and decoded before the stop: stored, then committed
                await self._finish(
                    loop.run_in_executor(
                        self._writer, store_poll, self.store, self.settings.topic, gathered.take()
                    )
                )
        finally:
            probe.cancel()
            await self._close()
            self._decoder.shutdown(wait=True)
            self._writer.shutdown(wait=True)

    async def _connect(self, stopping: asyncio.Event) -> bool:
        if self._consumer is not None:
            metrics.RECONNECTS.inc()
            log.warning(
                "rebuilding the Kafka consumer after %.0fs without a broker", self.settings.reconnect_after_s
            )
            await self._close()
        delay = 0.5
        while not stopping.is_set():
            try:
                await self._build()
                return True
            except Exception as exc:  # any failure here means "not yet": keep serving, keep trying
                self.watch.mark_down(f"cannot reach Kafka at {self.settings.bootstrap_servers}: {exc!r}")
                await self._close()
                try:
                    await asyncio.wait_for(stopping.wait(), delay)
                except TimeoutError:
                    delay = min(delay * 2, 5.0)
        return False

    async def _build(self) -> None:
        s = self.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=s.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=max(500, s.session_timeout_ms // 6),
            # Read-ahead is memory: 16 MiB per fetch keeps a few polls in hand, as many as the
            # writer can take while it writes one batch.
            max_partition_fetch_bytes=4 * 1_048_576,
            fetch_max_bytes=16 * 1_048_576,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
            # History may start before the first producer creates the topic (common/topics.py).
            metadata_max_age_ms=NEW_TOPIC_REFRESH_MS,
        )
        self._consumer = consumer
        await bounded(consumer.start(), _CALL_TIMEOUT_S)
        consumer.subscribe([s.topic], listener=_SeekToStored(self))
        self.watch.mark_up()
        log.info("consuming %r in group %r", s.topic, s.group_id)

    async def seek_assigned(self, assigned: set[TopicPartition]) -> None:
        """On assignment: the file's offsets, or Kafka's committed ones when lower (see module doc).

        aiokafka calls this from its coordinator task while getmany may already fetch from the
        group's offsets: paused, nothing is read until every partition is where we want it
        (reading ahead would be harmless, the store drops repeats, but wasted).
        """
        assert self._consumer is not None
        self._consumer.pause(*assigned)
        try:
            await self._seek(assigned)
        finally:
            self._consumer.resume(*assigned)
        log.info("assigned partitions %s; starting at %s", sorted(self.positions), self.positions)

    async def _seek(self, assigned: set[TopicPartition]) -> None:
        assert self._consumer is not None
        loop = asyncio.get_running_loop()
        stored = await loop.run_in_executor(self._writer, self.store.stored_offsets, self.settings.topic)
        self.positions, self.lag = {}, {}
        for tp in sorted(assigned):
            committed = await bounded(self._consumer.committed(tp), _CALL_TIMEOUT_S)
            mine = stored.get(tp.partition)
            if mine is None:
                await self._consumer.seek_to_beginning(tp)
                self.positions[tp.partition] = 0
                continue
            start = mine if committed is None else min(mine, committed)
            self._consumer.seek(tp, start)
            self.positions[tp.partition] = start
        self._moved(self.positions)

    async def _poll(self) -> list[ConsumerRecord]:
        assert self._consumer is not None
        try:
            batches = await self._consumer.getmany(
                timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.max_records
            )
        except (KafkaError, ConsumerStoppedError, OSError) as exc:
            self.watch.mark_down(f"fetch failed: {exc!r}")
            await asyncio.sleep(0.2)
            return []
        records = [record for part in batches.values() for record in part]
        if records:
            self._last_ok = time.monotonic()
            self.watch.mark_up()
        return records

    async def _finish(self, writing: asyncio.Future[Stored] | None) -> None:
        """Wait for a poll's transaction, then count it and commit its offsets to Kafka."""
        if writing is not None:
            stored = await writing
            self._reporter.report(stored)
            self._moved(stored.offsets)
            await self._commit_kafka(stored.offsets)

    def _moved(self, offsets: dict[int, int]) -> None:
        self.positions.update(offsets)
        for partition, offset in offsets.items():
            metrics.POSITION.labels(str(partition)).set(offset)

    async def _commit_kafka(self, offsets: dict[int, int]) -> None:
        """After the file has them: Kafka's committed offsets only ever trail the file's."""
        assert self._consumer is not None
        tps = {TopicPartition(self.settings.topic, p): offset for p, offset in offsets.items()}
        try:
            await bounded(self._consumer.commit(tps), _CALL_TIMEOUT_S)
        except Exception as exc:  # the file's offsets are the truth; the next commit catches up
            metrics.KAFKA_COMMIT_FAILURES.inc()
            self.watch.mark_down(f"Kafka offset commit failed (the database holds the offsets): {exc!r}")

    async def _probe_loop(self, stopping: asyncio.Event) -> None:
        """Broker liveness and lag, once a second: a group consumer's poll just returns nothing
        while the broker is away, so the outage has to be looked for."""
        while not stopping.is_set():
            await asyncio.sleep(_PROBE_EVERY_S)
            consumer = self._consumer
            if consumer is None or not self.positions:
                continue
            tps = [TopicPartition(self.settings.topic, p) for p in self.positions]
            try:
                ends = await bounded(consumer.end_offsets(tps), _CALL_TIMEOUT_S)
            except Exception as exc:  # any failure: the broker is unreachable from here
                self.watch.mark_down(f"Kafka unreachable: {exc!r}")
                continue
            self.watch.mark_up()
            self._last_ok = time.monotonic()
            for tp, end in ends.items():
                if tp.partition in self.positions:
                    self.lag[tp.partition] = max(0, end - self.positions[tp.partition])
                    metrics.LAG.labels(str(tp.partition)).set(self.lag[tp.partition])
            metrics.DB_BYTES.set(self.store.size_bytes())
            # Freed decode buffers below live blocks stay in RSS until trimmed (common/malloc.py).
            await asyncio.get_running_loop().run_in_executor(self._decoder, malloc.trim)

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await close_quietly(consumer.stop(), _CALL_TIMEOUT_S, "Kafka consumer")


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, owner: HistoryConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to flush: each poll is stored and committed before the next poll starts."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.owner.seek_assigned(assigned)
