"""Kafka source: every partition of the topic (no consumer group), resumable from our own offsets.

Each gateway replica reads every tick, so there is no group and no commit: the positions
we track are enough to rebuild the client after an outage aiokafka does not recover from
(aiokafka #703) and continue with no tick lost and none applied twice.

Only ``poll`` (the ingest task) creates, replaces or uses the consumer for fetching;
``refresh`` (housekeeping) only reads end offsets and asks for a rebuild, so the two
tasks never pull the client from under each other.

One Python object per record, and why it stays (issue 18): aiokafka 0.14 has no public way to
hand over raw record batches. ``AIOKafkaConsumer.getmany`` -> ``Fetcher.fetched_records`` ->
``FetchResult.getall`` iterates ``PartitionRecords._unpack_records`` (aiokafka/consumer/fetcher.py),
which walks each ``MemoryRecords`` batch (built in ``Fetcher._proc_fetch_request``) record by
record and wraps every one in ``PartitionRecords._consumer_record``: a ``ConsumerRecord`` plus
``tuple(record.headers)``. Measured on 10k JSON ticks in one v2 batch: iterating the C
``DefaultRecordBatch`` alone costs ~0.5 us a record, with the ``ConsumerRecord`` ~3 us; at the
JSON rate of ~125k ticks/s (8 us a tick) that wrapper is about a third of the per-tick time.
Getting at the batches means overriding the private ``Fetcher``/``PartitionRecords`` (the
position bookkeeping, aborted-transaction and control-batch skipping all live there), which a
pin bump could break silently; the next step, if JSON must go faster, is that override behind a
version check, or the fetch and decode in a second process (issue 18, "use the second core").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import ConsumerStoppedError, KafkaError

from common.aio import bounded, close_quietly
from common.broker_watch import BrokerWatch
from gateway.ingest.progress import Progress
from gateway.metrics import BROKER_UP, LAG, RECONNECTS
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 5.0
REFRESH_EVERY_S = 2.0  # how often the caller should ``refresh``: end offsets, partitions, liveness


class KafkaSource:
    def __init__(self, settings: GatewaySettings, share: tuple[int, int] = (0, 1)) -> None:
        self.settings = settings
        self.share = share  # (index, count): this source reads the partitions p with p % count == index
        self.progress = Progress()  # per partition: survives rebuilds of the client
        self.watch = BrokerWatch(settings.bootstrap_servers, settings.reconnect_after_s, BROKER_UP.set)
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._rebuild = False  # set by refresh, carried out by poll
        self._connecting = False
        self.rebuilds = 0  # as RECONNECTS counts them, for an ingest worker to ship (worker.py)

    @property
    def broker_up(self) -> bool:
        return self.watch.up

    @property
    def assigned(self) -> bool:
        # Not while (re)connecting: between the seek and the first end offsets a start-up was
        # "assigned" but neither up nor caught up yet (a cold broker widened that window).
        return self._consumer is not None and not self._connecting and bool(self.progress.partitions)

    @property
    def caught_up(self) -> bool:
        return self.progress.caught_up

    async def connect(self) -> None:
        """Connect and assign, retrying until it works (the broker may come up after us)."""
        delay = 0.5
        self._connecting = True
        try:
            while True:
                try:
                    await self._build()
                    return
                except Exception as exc:  # any failure here means "not yet": keep serving, keep trying
                    self._mark_down(f"cannot reach Kafka at {self.settings.bootstrap_servers}: {exc!r}")
                    await self._close_clients()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
        finally:
            self._connecting = False

    async def poll(self) -> list[ConsumerRecord]:
        """The next batch (maybe empty); rebuilds the client first when refresh asked for it."""
        if self._consumer is None or self._rebuild:
            await self._rebuild_consumer()
        assert self._consumer is not None
        try:
            batches = await self._consumer.getmany(
                timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.max_records
            )
        except (KafkaError, ConsumerStoppedError, OSError) as exc:
            self._mark_down(f"fetch failed: {exc!r}")
            await asyncio.sleep(0.2)
            return []
        records: list[ConsumerRecord] = []
        for tp, part in batches.items():
            if part:
                records.extend(part)
                self.progress.read(tp.partition, part[-1].offset + 1)
        if records:
            self._mark_up()
        return records

    def done(self, records: list[ConsumerRecord]) -> None:
        """``records`` went through the tables (applied or rejected): they count towards caught up."""
        # Offsets only grow within a partition, so the last record of each partition is its highest.
        self._log_caught_up(self.progress.applied({r.partition: r.offset for r in records}))

    async def refresh(self) -> None:
        """Periodic: end offsets (lag, broker liveness), new partitions, rebuild after a long outage."""
        if self._connecting or self._consumer is None or self._admin is None or self._rebuild:
            return  # poll is (re)connecting
        try:
            partitions = await self._partitions()
            if set(partitions) != set(self.progress.partitions):
                log.info("partitions changed: %s -> %s", sorted(self.progress.partitions), partitions)
                self._rebuild = True
                return
            ends = await bounded(self._consumer_end_offsets(), _CALL_TIMEOUT_S)
        except (TimeoutError, KafkaError, OSError, LookupError) as exc:
            self._mark_down(f"Kafka unreachable: {exc!r}")
            if self.watch.rebuild_due:
                self._rebuild = True  # aiokafka #703: it may never come back by itself
            return
        self._mark_up()
        caught_up = self.progress.ends_seen(ends)
        show_lags(self.lags())
        self._log_caught_up(caught_up)

    def lag(self) -> int:
        return self.progress.lag()

    def lags(self) -> dict[int, int]:
        """Messages behind the end, per partition."""
        return {partition: p.lag() for partition, p in self.progress.partitions.items()}

    @property
    def partition_count(self) -> int:
        return len(self.progress.partitions)

    async def stop(self) -> None:
        await self._close_clients()

    async def _build(self) -> None:
        s = self.settings
        self._admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap_servers, request_timeout_ms=5000)
        await bounded(self._admin.start(), _CALL_TIMEOUT_S)
        partitions = await self._partitions()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            max_partition_fetch_bytes=8 * 1_048_576,
            fetch_max_bytes=64 * 1_048_576,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
            connections_max_idle_ms=60_000,
        )
        await bounded(self._consumer.start(), _CALL_TIMEOUT_S)
        tps = [TopicPartition(s.topic, p) for p in partitions]
        self._consumer.assign(tps)
        await self._seek(tps)
        caught_up = self.progress.ends_seen(await bounded(self._consumer_end_offsets(), _CALL_TIMEOUT_S))
        self._mark_up()
        log.info("consuming %r: %d partitions from %s", s.topic, len(tps), self.progress.positions())
        self._log_caught_up(caught_up)

    async def _seek(self, tps: list[TopicPartition]) -> None:
        assert self._consumer is not None
        positions = self.progress.positions()
        known = {tp: positions[tp.partition] for tp in tps if tp.partition in positions}
        fresh = [tp for tp in tps if tp not in known]
        for tp, offset in known.items():
            self._consumer.seek(tp, offset)  # resume exactly where the last client stopped
        if fresh and self.progress.started:  # partitions added while we run: all of their data is new
            await self._consumer.seek_to_beginning(*fresh)
        elif fresh:
            await self._seek_start(fresh)
        for tp in tps:
            self.progress.seeked(tp.partition, await self._consumer.position(tp))

    async def _seek_start(self, tps: list[TopicPartition]) -> None:
        assert self._consumer is not None
        start = self.settings.start
        if start == "earliest" or (
            start == "replay" and not self.progress.partitions and self.settings.replay_seconds == 0
        ):
            await self._consumer.seek_to_beginning(*tps)
        elif start == "latest":
            await self._consumer.seek_to_end(*tps)
        else:
            since = int((time.time() - self.settings.replay_seconds) * 1000)
            # Ends read *before* the lookup: a partition with nothing since `since` starts there, so
            # ticks written meanwhile are read. seek_to_end resolved later and skipped them: on a
            # fresh topic, `make run` lost the first ticks of the partitions still empty at start.
            ends = await self._consumer.end_offsets(tps)
            found = await self._consumer.offsets_for_times({tp: since for tp in tps})
            for tp in tps:
                hit = found.get(tp)
                self._consumer.seek(tp, ends[tp] if hit is None else hit.offset)

    async def _partitions(self) -> list[int]:
        assert self._admin is not None
        described = await bounded(self._admin.describe_topics([self.settings.topic]), _CALL_TIMEOUT_S)
        topic = described[0]
        if topic.get("error_code") or not topic.get("partitions"):
            raise LookupError(f"topic {self.settings.topic!r} not found (error {topic.get('error_code')})")
        index, count = self.share
        mine = sorted(p["partition"] for p in topic["partitions"] if p["partition"] % count == index)
        if not mine:
            raise LookupError(
                f"topic {self.settings.topic!r} has {len(topic['partitions'])} partitions, none for ingest "
                f"worker {index + 1} of {count}: set GATEWAY_INGEST_WORKERS to at most that"
            )
        return mine

    async def _consumer_end_offsets(self) -> dict[int, int]:
        assert self._consumer is not None
        tps = [TopicPartition(self.settings.topic, p) for p in self.progress.partitions]
        ends = await self._consumer.end_offsets(tps)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def _rebuild_consumer(self) -> None:
        if self._consumer is not None:
            RECONNECTS.inc()
            self.rebuilds += 1
            log.warning("rebuilding the Kafka consumer; resuming from %s", self.progress.positions())
        self._rebuild = False
        await self._close_clients()
        await self.connect()

    async def _close_clients(self) -> None:
        consumer, self._consumer = self._consumer, None
        admin, self._admin = self._admin, None
        if consumer is not None:
            await close_quietly(consumer.stop(), _CALL_TIMEOUT_S, "Kafka consumer")
        if admin is not None:
            await close_quietly(admin.close(), _CALL_TIMEOUT_S, "Kafka admin client")

    @staticmethod
    def _log_caught_up(just_now: bool) -> None:
        if just_now:
            log.info("caught up with the topic (replay done)")

    def _mark_up(self) -> None:
        self.watch.mark_up()

    def _mark_down(self, why: str) -> None:
        self.watch.mark_down(why)


def show_lags(lags: Mapping[int, int]) -> None:
    """Per-partition lag into gateway_consumer_lag: the source's own, or an ingest worker's."""
    for partition, lag in lags.items():
        LAG.labels(str(partition)).set(lag)


async def keep_refreshed(source: KafkaSource, first_after_s: float) -> None:
    """``source.refresh()`` every REFRESH_EVERY_S, for good: a task of its own, since a refresh
    against a hung broker waits out its call timeouts."""
    delay = first_after_s
    while True:
        await asyncio.sleep(delay)
        delay = REFRESH_EVERY_S
        try:
            await source.refresh()
        except Exception:  # a bug must not end the refreshes; readiness would freeze with them
            log.exception("could not refresh the broker's end offsets")
