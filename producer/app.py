"""The producer process: connect, then generate at the configured pace into the sender until told to stop."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from aiokafka import AIOKafkaProducer

from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.runtime import install_stop_signals
from producer.generator import Generator
from producer.kafka import StartupError, connect, stop_producer
from producer.market import Market
from producer.metrics import Tally, serve
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
        "producer %s: %d symbols, format %s, %s",
        settings.producer_id,
        len(owned),
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
    try:
        return await _produce(settings, Generator(settings, market, owned, tally), producer, stop)
    finally:
        await stop_producer(producer)  # may still deliver acks: log the counts after it
        log.info("producer stopped: %s", tally.summary())


async def _produce(
    settings: ProducerSettings, generator: Generator, producer: AIOKafkaProducer, stop: asyncio.Event
) -> int:
    content_type = CONTENT_TYPE_ARROW if settings.format == "arrow" else CONTENT_TYPE_JSON
    sender = Sender(settings, generator.tally, make_headers(content_type, settings.producer_id), producer)
    pace = rated if settings.rate else paced
    tasks = [
        asyncio.create_task(sender.run()),
        asyncio.create_task(pace(generator, sender, stop)),
        asyncio.create_task(report(generator.tally, sender, stop)),
    ]
    stopping = asyncio.create_task(stop.wait())
    # A task that ends before the stop signal is a bug: stop cleanly and say so, don't hang.
    await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await sender.close(FLUSH_BUDGET_S)
    crashed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    for task in [*tasks, stopping]:
        task.cancel()
    await asyncio.gather(*tasks, stopping, return_exceptions=True)
    for task in crashed:
        log.error("producer task failed", exc_info=task.exception())
    return 1 if crashed else 0
