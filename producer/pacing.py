"""When ticks are made: paced rounds (the default), a target rate for load, and the rate log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from producer.generator import Generator
from producer.metrics import Tally
from producer.sender import Sender

log = logging.getLogger(__name__)

RATE_STEP_S = 0.01
REPORT_EVERY_S = 5.0


async def paced(generator: Generator, sender: Sender, stop: asyncio.Event) -> None:
    """Every PRODUCER_INTERVAL_MS a random subset of symbols ticks, on a drift-free schedule."""
    interval = generator.settings.interval_ms / 1000
    next_round = time.monotonic()
    while not stop.is_set():
        sender.offer(generator.paced_round())
        next_round += interval
        await sleep_until(next_round, stop)


async def rated(generator: Generator, sender: Sender, stop: asyncio.Event) -> None:
    """Aim at PRODUCER_RATE ticks/s; when a reachable Kafka takes less, fall behind rather than pile up.

    While Kafka acknowledges, generation pauses whenever the buffer holds more than ~0.2 s of
    ticks: the achieved rate is then what Kafka takes, and the buffer stays free for an outage.
    While Kafka is away, generation goes on at the full rate into the buffer, which sheds
    its oldest ticks (counted), as a live feed would.
    """
    rate = generator.settings.rate
    backlog_cap = max(4 * generator.settings.batch_size, rate // 5)
    step_cap = max(rate // 20, 1)  # after a stall, catch up by at most 50 ms worth per step
    last = time.monotonic()
    owed = 0.0
    while not stop.is_set():
        now = time.monotonic()
        owed = min(owed + (now - last) * rate, step_cap)
        last = now
        kafka_slow = sender.delivering and sender.buffered_ticks >= backlog_cap
        if owed >= 1 and not kafka_slow:
            sender.offer(generator.make(int(owed)))
            owed -= int(owed)
        await sleep_until(now + RATE_STEP_S, stop)


async def report(tally: Tally, sender: Sender, stop: asyncio.Event) -> None:
    """Log the acknowledged rate every few seconds."""
    last_acked, last_time = 0, time.monotonic()
    while not stop.is_set():
        await sleep_until(time.monotonic() + REPORT_EVERY_S, stop)
        now = time.monotonic()
        log.info(
            "rate %.0f ticks/s acked; %s buffered=%d",
            (tally.acked - last_acked) / (now - last_time),
            tally.summary(),
            sender.buffered_ticks,
        )
        last_acked, last_time = tally.acked, now


async def sleep_until(when: float, stop: asyncio.Event) -> None:
    """Sleep until the monotonic time ``when``, waking early if ``stop`` is set."""
    delay = when - time.monotonic()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
