"""The producer process: connect, then generate at the configured pace into the sender until told to stop."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from common.aio import bounded
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.runtime import install_stop_signals
from producer.continuity import TailReader
from producer.generator import Generator
from producer.group import GroupMember
from producer.kafka import StartupError, connect, stop_producer
from producer.market import Market
from producer.metrics import Tally, serve
from producer.ownership import Ownership
from producer.pacing import paced, rated, report
from producer.sender import Sender
from producer.settings import ProducerSettings

log = logging.getLogger(__name__)

# SIGTERM must end the process within 5 s: 2.5 s to flush, 1 s for aiokafka's stop, slack for exit.
FLUSH_BUDGET_S = 2.5

__all__ = ["Generator", "run"]


async def run(settings: ProducerSettings, market: Market, owned: np.ndarray) -> int:
    """Exit code: 0 after a stop signal, 1 if Kafka never came up or a task crashed."""
    tally = Tally()
    stop = install_stop_signals(asyncio.get_running_loop(), lambda: None)
    serve(settings.metrics_port)
    log.info(
        "producer %s: %s, format %s, %s",
        settings.producer_id,
        f"symbols from group {settings.group_id!r}" if settings.grouped else f"{len(owned)} symbols",
        settings.format,
        f"{settings.rate} ticks/s" if settings.rate else f"every {settings.interval_ms} ms",
    )
    try:
        producer = await connect(settings, stop)
    except StartupError as exc:
        log.error("%s", exc)
        return 1
    if producer is None:
        log.info("producer stopped: %s", tally.summary())
        return 0
    generator = Generator(settings, market, np.empty(0, dtype=np.int64), tally)
    try:
        return await _produce(settings, generator, owned, producer, stop)
    finally:
        await stop_producer(producer)  # may still deliver acks: log the counts after it
        log.info("producer stopped: %s", tally.summary())


async def _produce(
    settings: ProducerSettings,
    generator: Generator,
    owned: np.ndarray,
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
) -> int:
    content_type = CONTENT_TYPE_ARROW if settings.format == "arrow" else CONTENT_TYPE_JSON
    headers = make_headers(content_type, settings.producer_id)
    sender = Sender(settings, generator.tally, headers, producer)
    reader = TailReader(settings.bootstrap_servers, settings.topic, settings.send_timeout_s)
    ownership = Ownership(generator, sender, reader, headers)
    member = GroupMember(settings, ownership.revoked, ownership.assigned) if settings.grouped else None
    pace = rated if settings.rate else paced
    tasks = [asyncio.create_task(sender.run())]
    try:
        try:
            await _take_part(settings, producer, reader, ownership, member, owned)
        except (TimeoutError, KafkaError, OSError) as exc:
            log.error("could not start publishing: %s", str(exc) or type(exc).__name__)
            return 1
        if member is not None:
            tasks.append(asyncio.create_task(member.run(stop)))
        tasks.append(asyncio.create_task(pace(generator, sender, stop)))
        tasks.append(asyncio.create_task(report(generator.tally, sender, stop)))
        return await _until_stopped(tasks, stop)
    finally:
        stop.set()
        await sender.close(FLUSH_BUDGET_S)
        await _cancel(tasks)
        # After the flush: the next owner reads our last ticks back. Both bounded, side by side.
        await asyncio.gather(reader.stop(), *([member.leave()] if member else []))


async def _take_part(
    settings: ProducerSettings,
    producer: AIOKafkaProducer,
    reader: TailReader,
    ownership: Ownership,
    member: GroupMember | None,
    owned: np.ndarray,
) -> None:
    """Continue a static selection from Kafka's last ticks, or join the group (which does it per shard)."""
    ownership.partitions = await bounded(producer.partitions_for(settings.topic), settings.send_timeout_s)
    await reader.start()
    if member is None:
        await ownership.start_static(owned)
    else:
        await member.start()


async def _until_stopped(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> int:
    stopping = asyncio.create_task(stop.wait())
    # A task that ends before the stop signal is a bug: stop cleanly and say so, don't hang.
    await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    crashed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    for task in crashed:
        log.error("producer task failed", exc_info=task.exception())
    return 1 if crashed else 0


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
