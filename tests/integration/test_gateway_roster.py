"""The `producers` roster against a real broker: `out_of_order` means trouble only, and a
producer that stopped shows as stale. A Pipeline in-process, its tables read through views."""

from __future__ import annotations

import asyncio
import time

import pytest

from common.schema import Tick
from tests.support.ingest import T0, as_json, by, eventually, rows, running, tick
from tests.support.kafka_io import produce

pytestmark = pytest.mark.integration

SYMBOLS = [f"S{n:02d}" for n in range(24)]  # keyed by symbol: spread over all 6 partitions


def _ticks(producer: str, seqs: list[int], at: int = T0) -> list[Tick]:
    return [tick(producer, s, SYMBOLS[s % len(SYMBOLS)], 100.0 + s, at + s) for s in seqs]


async def test_json_ticks_across_partitions_are_not_out_of_order_and_none_is_lost(
    kafka_bootstrap: str, topic: str
) -> None:
    ticks = _ticks("json", list(range(1, 1201)))
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(
            lambda: by(pipeline, "producers", "producer_id").get("json", {}).get("ticks") == 1200
        )
        roster = by(pipeline, "producers", "producer_id")["json"]
        applied = [r["seq"] for r in sorted(rows(pipeline, "ticks"), key=lambda r: r["slot"])]
    # The partitions really were read side by side: seqs reached the tables interleaved.
    assert applied != sorted(applied)
    assert sorted(applied) == list(range(1, 1201))
    assert (roster["gaps"], roster["duplicates"], roster["out_of_order"], roster["last_seq"]) == (
        0,
        0,
        0,
        1200,
    )


async def test_ticks_reordered_within_one_partition_are_out_of_order(
    kafka_bootstrap: str, topic: str
) -> None:
    seqs = [1, 2, 4, 3, 5, 7, 6]  # one key, so one partition, sent in this order
    ticks = [tick("late", s, "ONE", 100.0, T0 + s) for s in seqs]
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    async with running(kafka_bootstrap, topic) as pipeline:
        await eventually(lambda: by(pipeline, "producers", "producer_id").get("late", {}).get("ticks") == 7)
        roster = by(pipeline, "producers", "producer_id")["late"]
    assert (roster["gaps"], roster["duplicates"], roster["out_of_order"]) == (0, 0, 2)


async def test_a_producer_that_stops_turns_stale_while_the_others_stay_live(
    kafka_bootstrap: str, topic: str
) -> None:
    def now_ms() -> int:
        return int(time.time() * 1000)

    async with running(kafka_bootstrap, topic, producer_stale_s=1.5) as pipeline:

        def statuses() -> dict[str, str]:
            return {p: r["status"] for p, r in by(pipeline, "producers", "producer_id").items()}

        await produce(kafka_bootstrap, topic, [as_json(t) for t in _ticks("gone", [1, 2, 3], now_ms())])
        await eventually(lambda: statuses() == {"gone": "live"}, timeout=10)
        seq, deadline = 0, asyncio.get_running_loop().time() + 30
        while statuses().get("gone") != "stale":  # 'gone' sends nothing more; 'kept' goes on
            assert asyncio.get_running_loop().time() < deadline, statuses()
            seq += 1
            await produce(kafka_bootstrap, topic, [as_json(t) for t in _ticks("kept", [seq], now_ms())])
            await asyncio.sleep(0.2)
        assert statuses() == {"gone": "stale", "kept": "live"}
        gone = by(pipeline, "producers", "producer_id")["gone"]
    assert (gone["ticks"], gone["gaps"], gone["duplicates"]) == (3, 0, 0)
