"""One ingest worker process: fetch and decode a share of the partitions, ship the ticks to the tables.

The tables, the sequence tracker and the WebSocket clients stay in the gateway process
(gateway/ingest/workers.py starts these workers and receives from them). Here runs what costs
per record: aiokafka's unpacking of every ``ConsumerRecord`` and the decode into Arrow, for the
partitions ``p % count == index`` (a ``KafkaSource`` restricted to that share, with its own
reconnects and rebuilds). In process that work was ~80% of the JSON ingest time on the one core
the GIL allows (issue 18); two workers put it on both cores.

Each poll becomes one ``Shipment``: the decoded batch and this worker's status *after* the batch
counts as applied. The gateway takes shipments in order and applies a batch before it reads the
status behind it, so "caught up" still means "the replay is in the tables".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import pyarrow

from common import collector, malloc
from common.codec.routing import Decoded, decode_records
from common.runtime import configure_logging
from gateway.ingest.source import REFRESH_EVERY_S, KafkaSource, keep_refreshed
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

STATUS_EVERY_S = 0.25  # while no ticks come, how often the gateway hears from a worker anyway
TRIM_EVERY_S = 5.0  # as the gateway's housekeeping


@dataclass(frozen=True)
class WorkerStatus:
    broker_up: bool = False
    assigned: bool = False
    caught_up: bool = False
    # Per partition of its share, as gateway_consumer_lag (a worker's own registry is not served).
    lags: Mapping[int, int] = field(default_factory=dict)

    @property
    def lag(self) -> int:
        return sum(self.lags.values())

    @property
    def partitions(self) -> int:
        return len(self.lags)


@dataclass(frozen=True)
class Shipment:
    index: int  # which worker
    status: WorkerStatus
    decoded: Decoded | None  # None: a status only
    applied: dict[int, int]  # next offset per partition, once the tables take this
    # Consumer rebuilds since the worker's previous shipment, for gateway_kafka_reconnects: each is
    # added once when taken, whether the worker lives on or has died and been started again.
    rebuilt: int

    @property
    def messages(self) -> int:
        """Kafka messages in it, good and bad (0: a status only)."""
        d = self.decoded
        return 0 if d is None else d.json_messages + d.arrow_messages + len(d.bad)


def applied_offsets(source: KafkaSource) -> dict[int, int]:
    return {partition: p.applied for partition, p in source.progress.partitions.items()}


def status_of(source: KafkaSource) -> WorkerStatus:
    return WorkerStatus(source.broker_up, source.assigned, source.caught_up, source.lags())


def main(settings: GatewaySettings, index: int, count: int, pipe: Connection, resume: dict[int, int]) -> None:
    """The worker process's entry point (multiprocessing, spawn); ``resume``: where a worker
    that died had got to, per partition."""
    malloc.tune()  # as the gateway's: the same Arrow buffers stream through here
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the gateway stops us
    configure_logging(settings.log_level)
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())  # as the gateway: freed decode buffers go back
    collector.tune()
    with contextlib.suppress(BrokenPipeError, EOFError, ConnectionResetError):
        # The read-ahead bound is the gateway's: shared out, so N workers hold what one process did.
        share = settings.model_copy(update={"max_records": max(1, settings.max_records // count)})
        asyncio.run(_run(share, index, count, pipe, resume))


async def _run(
    settings: GatewaySettings, index: int, count: int, pipe: Connection, resume: dict[int, int]
) -> None:
    source = KafkaSource(settings, (index, count))
    for partition, offset in resume.items():
        source.progress.seeked(partition, offset)  # read on from there, as a rebuilt client does
    parent = os.getppid()
    refreshing = asyncio.create_task(keep_refreshed(source, REFRESH_EVERY_S), name="ingest-worker-refresh")
    loop = asyncio.get_running_loop()
    sending: asyncio.Future[None] | None = None
    last_status = last_trim = 0.0
    rebuilds_shipped = 0
    log.info("ingest worker %d of %d (pid %d) started", index + 1, count, os.getpid())
    try:
        while os.getppid() == parent:  # the gateway went away without a word: so do we
            records = await source.poll()
            decoded = decode_records(records) if records else None
            if records:
                source.done(records)  # shipped: the status below counts them as applied
            elif time.monotonic() - last_status < STATUS_EVERY_S:
                continue
            last_status = time.monotonic()
            if last_status - last_trim >= TRIM_EVERY_S:
                last_trim = last_status
                malloc.trim()  # freed fetch and decode buffers back to the system, as the gateway does
            if sending is not None:
                await sending  # one shipment on its way at a time; the next poll ran meanwhile
            rebuilt, rebuilds_shipped = source.rebuilds - rebuilds_shipped, source.rebuilds
            shipment = Shipment(index, status_of(source), decoded, applied_offsets(source), rebuilt)
            sending = loop.run_in_executor(None, pipe.send, shipment)
        if sending is not None:
            await sending
    finally:
        refreshing.cancel()
        await source.stop()
