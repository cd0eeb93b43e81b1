"""The producer process: generate ticks at the configured pace, encode, hand to the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import numpy as np
import orjson

from common.codec import encode_columns
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.runtime import install_stop_signals
from common.schema import FIELD_NAMES
from producer.market import Columns, Market, stamp, universe
from producer.metrics import Tally, serve
from producer.sender import Outgoing, Sender, StartupError
from producer.settings import ProducerSettings

log = logging.getLogger(__name__)

PACED_TICK_PROBABILITY = 0.6  # share of symbols that tick in one paced round
RATE_STEP_S = 0.01
REPORT_EVERY_S = 5.0
SHUTDOWN_BUDGET_S = 4.0  # SIGTERM to exit within 5 s


def owned_indices(market: Market, settings: ProducerSettings) -> np.ndarray:
    index, count = settings.shard_of()
    chosen = [i for i in range(len(market)) if i % count == index]
    wanted = set(settings.owned_symbols())
    if wanted:
        chosen = [i for i in chosen if market.symbols[i] in wanted]
    if not chosen:
        raise ValueError("PRODUCER_SYMBOL_LIST/PRODUCER_SHARD select no symbol of the universe")
    return np.array(chosen)


class Generator:
    """Turns market rounds into Kafka messages of the configured format."""

    def __init__(self, settings: ProducerSettings, market: Market, owned: np.ndarray, tally: Tally) -> None:
        self.settings = settings
        self.market = market
        self.owned = owned
        self.tally = tally
        self.next_seq = 1

    def make(self, count: int) -> list[Outgoing]:
        if count <= 0:
            return []
        columns = stamp(self.market.ticks(count, self.owned), self.settings.producer_id, self.next_seq)
        self.next_seq += count
        self.tally.add_generated(count)
        return self._arrow(columns, count) if self.settings.format == "arrow" else self._json(columns)

    def paced_round(self) -> list[Outgoing]:
        count = int(self.market.rng.binomial(len(self.owned), PACED_TICK_PROBABILITY)) or 1
        return self.make(count)

    def _json(self, columns: Columns) -> list[Outgoing]:
        lists = [columns[name].tolist() for name in FIELD_NAMES]
        return [
            Outgoing(row[0].encode(), orjson.dumps(dict(zip(FIELD_NAMES, row, strict=True))), 1)
            for row in zip(*lists, strict=True)
        ]

    def _arrow(self, columns: Columns, count: int) -> list[Outgoing]:
        key = self.settings.producer_id.encode()
        size = self.settings.batch_size
        return [
            Outgoing(
                key,
                encode_columns({k: v[start : start + size] for k, v in columns.items()}),
                min(size, count - start),
            )
            for start in range(0, count, size)
        ]


async def paced(generator: Generator, sender: Sender, stop: asyncio.Event) -> None:
    interval = generator.settings.interval_ms / 1000
    next_round = time.monotonic()
    while not stop.is_set():
        sender.offer(generator.paced_round())
        next_round += interval
        await _sleep_until(next_round, stop)


async def rated(generator: Generator, sender: Sender, stop: asyncio.Event) -> None:
    """Aim at PRODUCER_RATE; when Kafka takes less, fall behind (logged) rather than pile up."""
    rate = generator.settings.rate
    backlog_cap = max(4 * generator.settings.batch_size, rate // 5)
    step_cap = max(rate // 20, 1)
    last = time.monotonic()
    owed = 0.0
    while not stop.is_set():
        now = time.monotonic()
        owed = min(owed + (now - last) * rate, step_cap)
        last = now
        if sender.buffered_ticks < backlog_cap and owed >= 1:
            sender.offer(generator.make(int(owed)))
            owed -= int(owed)
        await _sleep_until(now + RATE_STEP_S, stop)


async def report(tally: Tally, sender: Sender, stop: asyncio.Event) -> None:
    last_acked, last_time = 0, time.monotonic()
    while not stop.is_set():
        await _sleep_until(time.monotonic() + REPORT_EVERY_S, stop)
        now = time.monotonic()
        log.info(
            "rate %.0f ticks/s acked; generated=%d acked=%d dropped=%d buffered=%d",
            (tally.acked - last_acked) / (now - last_time),
            tally.generated,
            tally.acked,
            tally.dropped,
            sender.buffered_ticks,
        )
        last_acked, last_time = tally.acked, now


async def _sleep_until(when: float, stop: asyncio.Event) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def run(settings: ProducerSettings) -> int:
    market = Market(universe(settings.symbols, settings.seed), settings.seed)
    owned = owned_indices(market, settings)
    tally = Tally()
    content_type = CONTENT_TYPE_ARROW if settings.format == "arrow" else CONTENT_TYPE_JSON
    sender = Sender(settings, tally, make_headers(content_type, settings.producer_id))
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
        await sender.connect()
    except StartupError as exc:
        log.error("%s", exc)
        return 1
    generator = Generator(settings, market, owned, tally)
    pace = rated if settings.rate else paced
    tasks = [
        asyncio.create_task(c)
        for c in (sender.run(), pace(generator, sender, stop), report(tally, sender, stop))
    ]
    await stop.wait()
    await sender.close(SHUTDOWN_BUDGET_S)
    for task in tasks:
        task.cancel()
    log.info(
        "producer stopped: generated=%d acked=%d dropped=%d unsent=%d send_errors=%d",
        tally.generated,
        tally.acked,
        tally.dropped,
        tally.generated - tally.acked - tally.dropped,
        tally.send_errors,
    )
    return 0
