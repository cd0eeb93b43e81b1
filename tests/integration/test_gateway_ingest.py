"""The ingest half against a real broker: a Pipeline in-process, its tables read through views."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

from common.codec import REASONS
from common.headers import ERROR_REASON, SOURCE, header
from common.schema import Tick
from harness.kafka import KafkaCluster
from tests.support.ingest import (
    T0,
    as_arrow,
    as_json,
    by,
    eventually,
    metric,
    poison,
    produce_until_sent,
    rows,
    running,
    tick,
)
from tests.support.kafka_io import consume_all, produce

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True, params=[0, 2], ids=["in-process", "2-workers"])
def ingest_workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every behaviour here holds with the fetch and decode in the gateway or in worker processes."""
    workers: int = request.param
    monkeypatch.setenv("GATEWAY_INGEST_WORKERS", str(workers))
    return workers


SYMBOLS = {"alpha": ["AAA", "ABC", "ACE"], "beta": ["BBB", "BCD", "BEE"]}


def market(ticks_per_producer: int = 300) -> list[Tick]:
    """Two producers, three symbols each, 10 ticks a second, prices that walk."""
    out = []
    for producer, symbols in SYMBOLS.items():
        for seq in range(1, ticks_per_producer + 1):
            price = 100.0 + (seq * 7919 % 113) / 10
            out.append(tick(producer, seq, symbols[seq % 3], price, T0 + 100 * seq, volume=10 * seq))
    return out


def last_per_symbol(ticks: list[Tick]) -> dict[str, Tick]:
    return {t["symbol"]: t for t in sorted(ticks, key=lambda t: t["event_time"])}


async def test_known_ticks_fill_ticks_quotes_and_producers(kafka_bootstrap: str, topic: str) -> None:
    ticks = market()
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: pipeline.stats.ticks_total == len(ticks), what="all ticks applied")
        await eventually(lambda: sum(r["ticks"] for r in rows(pipeline, "producers")) == len(ticks))
        applied = sorted((r["producer_id"], r["seq"]) for r in rows(pipeline, "ticks"))
        quotes = by(pipeline, "quotes", "symbol")
        producers = by(pipeline, "producers", "producer_id")
        assert pipeline.ready
    assert applied == sorted((t["producer_id"], t["seq"]) for t in ticks)
    expected = last_per_symbol(ticks)
    fields = ("price", "bid", "ask", "volume", "producer_id")
    assert {s: tuple(q[f] for f in fields) for s, q in quotes.items()} == {
        s: tuple(t[f] for f in fields) for s, t in expected.items()
    }
    assert {s: q["event_time"] for s, q in quotes.items()} == {
        s: t["event_time"] for s, t in expected.items()
    }
    assert {s: q["ticks"] for s, q in quotes.items()} == dict(Counter(t["symbol"] for t in ticks))
    assert {p: (r["ticks"], r["last_seq"], r["gaps"], r["duplicates"]) for p, r in producers.items()} == {
        "alpha": (300, 300, 0, 0),
        "beta": (300, 300, 0, 0),
    }


async def test_bars_hold_hand_checked_ohlc_and_volume(kafka_bootstrap: str, topic: str) -> None:
    second = T0 + 5_000
    hand = [
        tick("hand", 1, "HND", 50.0, second - 300, volume=1_000),  # the second before
        tick("hand", 2, "HND", 10.0, second + 100, volume=1_100),
        tick("hand", 3, "HND", 12.0, second + 200, volume=1_300),
        tick("hand", 4, "HND", 9.0, second + 300, volume=1_600),
        tick("hand", 5, "HND", 11.0, second + 900, volume=2_000),
    ]
    # Arrive out of order, in two polls' worth: open and close still follow event_time.
    await produce(kafka_bootstrap, topic, [as_json(t) for t in (hand[0], hand[3], hand[1])])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: pipeline.stats.ticks_total == 3)
        await produce(kafka_bootstrap, topic, [as_json(t) for t in (hand[4], hand[2])])
        await eventually(lambda: pipeline.stats.ticks_total == 5)
        # `bars` are written at their own cadence (GATEWAY_BARS_INTERVAL_MS), not with each batch.
        await eventually(lambda: by(pipeline, "bars", "key").get(f"HND|{second}", {}).get("ticks") == 4)
        bar = by(pipeline, "bars", "key")[f"HND|{second}"]
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (10.0, 12.0, 9.0, 11.0)
    assert (bar["volume"], bar["ticks"], bar["symbol"]) == (1_000, 4, "HND")  # 2,000 - 1,000


async def test_a_seq_gap_and_a_duplicate_count_once_and_add_no_volume(
    kafka_bootstrap: str, topic: str
) -> None:
    sent = [tick("gappy", s, "GAP", 20.0 + s, T0 + 10 * s, volume=100 * s) for s in range(1, 11) if s != 5]
    duplicate = next(t for t in sent if t["seq"] == 7)
    await produce(kafka_bootstrap, topic, [as_json(t) for t in [*sent, duplicate]])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: by(pipeline, "producers", "producer_id").get("gappy", {}).get("gaps") == 1)
        producer = by(pipeline, "producers", "producer_id")["gappy"]
        quote = by(pipeline, "quotes", "symbol")["GAP"]
        await eventually(lambda: sum(r["ticks"] for r in rows(pipeline, "bars")) == 9)
        (bar,) = rows(pipeline, "bars")
        applied = sorted(r["seq"] for r in rows(pipeline, "ticks"))
        duplicates_metric = metric("gateway_duplicate_ticks_total")
    assert (producer["ticks"], producer["gaps"], producer["duplicates"], producer["last_seq"]) == (
        9,
        1,
        1,
        10,
    )
    assert applied == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert (quote["ticks"], quote["volume"]) == (9, 1_000)
    assert (bar["ticks"], bar["volume"]) == (9, 900)  # 1,000 - 100: the first tick's trade is unseen
    assert duplicates_metric >= 1


async def test_poison_is_counted_by_reason_dead_lettered_and_good_ticks_still_applied(
    kafka_bootstrap: str, topic: str
) -> None:
    good = [tick("clean", s, f"S{s % 9}", 30.0 + s % 17, T0 + s) for s in range(1, 1001)]
    reasons, bad = zip(*(poison(i) for i in range(1000)), strict=True)
    expected = Counter(reasons)
    mixed = [m for pair in zip((as_json(t) for t in good), bad, strict=True) for m in pair]
    before = {reason: metric("gateway_decode_errors_total", reason=reason) for reason in expected}
    await produce(kafka_bootstrap, topic, mixed)
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: pipeline.stats.ticks_total == 1000 and pipeline.stats.decode_errors == 1000)
        await eventually(lambda: pipeline.dead_letters.sent == 1000, what="all dead letters sent")
        applied = sorted(r["seq"] for r in rows(pipeline, "ticks") if r["producer_id"] == "clean")
        counted = {r: metric("gateway_decode_errors_total", reason=r) - before[r] for r in expected}
    assert set(expected) == set(REASONS)
    assert applied == list(range(1, 1001))
    assert counted == dict(expected)
    letters = await consume_all(kafka_bootstrap, f"{topic}.dlq", 1000)
    assert Counter(header(r.headers, ERROR_REASON) for r in letters) == expected
    sources = {header(r.headers, SOURCE) for r in letters}
    assert len(sources) == 1000 and all(s and s.startswith(f"{topic}/") for s in sources)
    assert Counter(r.value for r in letters) == Counter(value for _, value, _ in bad)


async def test_a_restart_replays_to_identical_quotes(kafka_bootstrap: str, topic: str) -> None:
    ticks = market(200)
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    async with running(kafka_bootstrap, topic, start="replay", replay_seconds=10**9) as first:
        await eventually(lambda: first.ready and first.stats.ticks_total == len(ticks))
        before = rows(first, "quotes")
    async with running(kafka_bootstrap, topic, start="replay", replay_seconds=10**9) as second:
        await eventually(lambda: second.ready and second.stats.ticks_total == len(ticks))
        after = rows(second, "quotes")
    assert len(after) == 6
    assert after == before


async def test_arrow_messages_are_ingested_whole(kafka_bootstrap: str, topic: str) -> None:
    ticks = [tick("arrow", s, f"AR{s % 5}", 40.0 + s / 100, T0 + s, volume=s) for s in range(1, 2001)]
    await produce(kafka_bootstrap, topic, [as_arrow(ticks[:1000]), as_arrow(ticks[1000:])])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: pipeline.stats.ticks_total == 2000)
        applied = sorted(r["seq"] for r in rows(pipeline, "ticks"))
        quotes = by(pipeline, "quotes", "symbol")
    assert applied == list(range(1, 2001))
    assert {s: q["price"] for s, q in quotes.items()} == {
        s: t["price"] for s, t in last_per_symbol(ticks).items()
    }


async def test_ticks_per_update_bounds_the_ring_write_but_every_tick_is_counted(
    kafka_bootstrap: str, topic: str
) -> None:
    ticks = [tick("burst", s, f"BU{s % 4}", 50.0 + s / 100, T0 + s, volume=s) for s in range(1, 3001)]
    await produce(kafka_bootstrap, topic, [as_arrow(ticks)])  # one message: one batch of 3,000
    async with running(kafka_bootstrap, topic, ticks_per_update=500) as pipeline:
        await eventually(lambda: pipeline.stats.ticks_total == 3000)
        ringed = sorted(r["seq"] for r in rows(pipeline, "ticks"))
        quotes = by(pipeline, "quotes", "symbol")
        await eventually(lambda: sum(r["ticks"] for r in rows(pipeline, "bars")) == 3000)
        bar_ticks = sum(r["ticks"] for r in rows(pipeline, "bars"))
        await eventually(
            lambda: by(pipeline, "producers", "producer_id").get("burst", {}).get("ticks") == 3000
        )
    assert ringed == list(range(2501, 3001))
    assert sum(q["ticks"] for q in quotes.values()) == 3000
    assert {s: q["price"] for s, q in quotes.items()} == {
        s: t["price"] for s, t in last_per_symbol(ticks).items()
    }
    assert bar_ticks == 3000


async def test_ready_only_once_the_replay_is_in_the_tables(kafka_bootstrap: str, topic: str) -> None:
    ticks = market(5_000)
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: pipeline.ready, what="ready")
        applied_when_ready = pipeline.stats.ticks_total
    assert applied_when_ready == len(ticks)


async def test_start_latest_skips_what_was_there_and_is_caught_up_at_once(
    kafka_bootstrap: str, topic: str
) -> None:
    await produce(kafka_bootstrap, topic, [as_json(t) for t in market(20)])
    async with running(kafka_bootstrap, topic, start="latest") as pipeline:
        assert pipeline.readiness() == {"broker": True, "assigned": True, "caught_up": True}
        await produce(kafka_bootstrap, topic, [as_json(tick("late", 1, "LAT", 5.0, T0))])
        await eventually(lambda: pipeline.stats.ticks_total == 1)


async def test_broker_outage_flips_readiness_and_loses_or_repeats_nothing(
    kafka: KafkaCluster, topic: str
) -> None:
    first = [tick("outage", s, f"O{s % 4}", 60.0, T0 + s) for s in range(1, 301)]
    meanwhile = [tick("outage", s, f"O{s % 4}", 61.0, T0 + s) for s in range(301, 601)]
    await produce(kafka.bootstrap, topic, [as_json(t) for t in first])
    consumed_before = metric("gateway_messages_total", content_type="json")
    async with running(kafka.bootstrap, topic, reconnect_after_s=3.0) as pipeline:
        await eventually(lambda: pipeline.ready and pipeline.stats.ticks_total == 300)
        await asyncio.to_thread(kafka.node(1).stop)
        await eventually(lambda: not pipeline.readiness()["broker"], timeout=30, what="broker down")
        assert not pipeline.ready
        assert len(rows(pipeline, "ticks")) == 300  # still serving what it has
        sending = asyncio.create_task(
            produce_until_sent(kafka.bootstrap, topic, [as_json(t) for t in meanwhile])
        )
        await asyncio.sleep(5)  # longer than reconnect_after_s: the consumer is rebuilt (aiokafka #703)
        await asyncio.to_thread(kafka.restart, 1)
        await sending
        await eventually(lambda: pipeline.ready, timeout=60, what="ready again")
        await eventually(lambda: pipeline.stats.ticks_total == 600, timeout=60, what="all ticks")
        await asyncio.sleep(1)  # anything applied twice would show up by now
        applied = sorted(r["seq"] for r in rows(pipeline, "ticks"))
        duplicates = pipeline.sequence.duplicates()
    assert applied == list(range(1, 601))
    assert duplicates == 0
    assert metric("gateway_messages_total", content_type="json") - consumed_before == 600


def _until_it_takes_topics_again(kafka: KafkaCluster) -> None:
    """A broker frozen for longer than its session is fenced when it thaws, and refuses new topics
    ("All brokers are currently fenced") for a moment: the next test must not meet that."""
    deadline = time.monotonic() + 60
    while True:
        try:
            kafka.create_topic(f"thawed-{uuid.uuid4().hex[:8]}", 1, 1)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


async def test_the_gateway_row_keeps_refreshing_while_the_broker_hangs(
    kafka: KafkaCluster, topic: str
) -> None:
    """A frozen broker answers nothing, so each end-offsets call waits out its timeout; the row must
    not wait with it (the page calls a `gateway` row silent for 5 s a dead gateway)."""
    await produce(kafka.bootstrap, topic, [as_json(tick("hang", 1, "HNG", 1.0, T0))])
    async with running(kafka.bootstrap, topic, stats_interval_ms=200) as pipeline:
        await eventually(lambda: pipeline.ready and len(rows(pipeline, "gateway")) == 1)
        broker = kafka.node(1).pid
        assert broker is not None
        os.kill(broker, signal.SIGSTOP)
        try:
            changes: list[float] = []  # when the row's uptime moved
            uptime, clock = -1.0, asyncio.get_running_loop().time
            deadline = clock() + 12  # two refreshes' worth of timeouts
            while clock() < deadline:
                row = rows(pipeline, "gateway")[0]
                if row["uptime_s"] != uptime:
                    uptime = row["uptime_s"]
                    changes.append(clock())
                await asyncio.sleep(0.05)
        finally:
            os.kill(broker, signal.SIGCONT)
            await asyncio.to_thread(_until_it_takes_topics_again, kafka)
    assert max(b - a for a, b in itertools.pairwise(changes)) < 2.0
    assert row["status"] != "live"
    assert row["reason"].startswith("Kafka unreachable at "), row


async def test_partitions_added_later_are_consumed_from_their_start(
    kafka_bootstrap: str, make_topic: Any
) -> None:
    topic = make_topic(partitions=2)
    async with running(kafka_bootstrap, topic) as pipeline:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_partitions({topic: NewPartitions(total_count=4)})
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            key, value, headers = as_json(tick("new", 1, "NEW", 7.0, T0))
            await producer.send_and_wait(topic, value, key=key, headers=headers, partition=3)
        finally:
            await producer.stop()
        await eventually(lambda: pipeline.stats.ticks_total == 1, timeout=30, what="tick from partition 3")
        # Each worker's share notices on its own refresh: the others within one more.
        await eventually(lambda: pipeline.source.partition_count == 4, timeout=10, what="4 partitions")
