"""10,000 poison messages through a live gateway: all counted by reason, all dead-lettered
byte for byte, and every good tick around them applied exactly once with its values."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from common.codec import REASONS
from common.headers import ERROR_REASON, SOURCE, header
from common.schema import Tick
from harness.process import wait_for
from harness.psp import connect
from harness.services import metric, start_gateway
from tests.support.ingest import as_arrow, as_json, poison, tick
from tests.support.kafka_io import Message, consume_all, produce
from tests.support.psp import eventually, rows

pytestmark = pytest.mark.integration

POISON = 10_000
GOOD_JSON = 10_000
ARROW_BATCHES, ARROW_ROWS = 20, 100
T0 = 1_764_000_000_000


def _good() -> tuple[list[Tick], list[Tick]]:
    json_ticks = [tick("clean", s, f"S{s % 13}", 30.0 + s % 17, T0 + s) for s in range(1, GOOD_JSON + 1)]
    arrow_ticks = [
        tick("bulk", s, f"B{s % 7}", 50.0 + s % 11, T0 + s) for s in range(1, ARROW_BATCHES * ARROW_ROWS + 1)
    ]
    return json_ticks, arrow_ticks


def _interleave(json_ticks: list[Tick], arrow_ticks: list[Tick], bad: list[Message]) -> list[Message]:
    """good, poison, good, poison ... with a good Arrow batch every 500 messages."""
    batches = [as_arrow(arrow_ticks[i : i + ARROW_ROWS]) for i in range(0, len(arrow_ticks), ARROW_ROWS)]
    mixed: list[Message] = []
    for n, (good, evil) in enumerate(zip((as_json(t) for t in json_ticks), bad, strict=True)):
        mixed += [good, evil]
        if n % 500 == 0 and batches:
            mixed.append(batches.pop(0))
    return mixed + batches


async def test_ten_thousand_poison_messages_are_counted_dead_lettered_and_lose_no_good_tick(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    json_ticks, arrow_ticks = _good()
    reasons, bad = zip(*(poison(i) for i in range(POISON)), strict=True)
    await produce(kafka_bootstrap, topic, _interleave(json_ticks, arrow_ticks, list(bad)))
    good_total = len(json_ticks) + len(arrow_ticks)

    # The ring holds every tick here (ticks_per_update too), so it can prove none is lost or doubled.
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path, ticks_limit=50_000, ticks_per_update=50_000)
    try:
        async with connect(gateway.ws_url) as client:
            ticks = await client.open_table("ticks")

            async def all_good_in() -> bool:
                return int(await asyncio.wait_for(ticks.size(), 10)) >= good_total

            await eventually(all_good_in, timeout=90)
            view = await ticks.view(columns=["producer_id", "seq", "price"])
            stored = await view.to_columns()
            await view.delete()
            quotes = {q["symbol"]: q for q in await rows(client, "quotes")}
        assert wait_for(lambda: metric(gateway, "gateway_dlq_messages_total") == POISON, 60)
        counted = {r: metric(gateway, "gateway_decode_errors_total", reason=r) for r in set(reasons)}
        assert gateway.process.running
    finally:
        gateway.process.stop()

    applied = Counter(zip(stored["producer_id"], stored["seq"], stored["price"], strict=True))
    sent = Counter((t["producer_id"], t["seq"], t["price"]) for t in json_ticks + arrow_ticks)
    assert applied == sent  # every good tick once, with its own price, and nothing else
    last = {t["symbol"]: t["price"] for t in json_ticks + arrow_ticks}  # a symbol's ticks keep their order
    assert {symbol: q["price"] for symbol, q in quotes.items()} == last
    assert set(reasons) == set(REASONS)  # every reason the codecs know
    assert counted == dict(Counter(reasons))

    letters = await consume_all(kafka_bootstrap, f"{topic}.dlq", POISON, timeout=60)
    assert Counter(header(r.headers, ERROR_REASON) for r in letters) == Counter(reasons)
    assert len({header(r.headers, SOURCE) for r in letters}) == POISON  # one letter per poison, no repeats
    assert Counter(r.value for r in letters) == Counter(value for _, value, _ in bad)
