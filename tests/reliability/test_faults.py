"""Faults with nothing lost: broker kills in a 3-node cluster, and a gateway killed mid-stream."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import KafkaCluster
from harness.process import ManagedProcess
from harness.psp import connect
from harness.services import start_gateway, start_producer, summary
from tests.support.kafka_io import consume_all, decode_records, tick_count
from tests.support.psp import eventually, rows

pytestmark = pytest.mark.integration


def _stop_and_count(producers: list[ManagedProcess]) -> dict[str, int]:
    acked = {}
    for p in producers:
        p.signal(signal.SIGTERM)
        assert p.wait(10) == 0
        counts = summary(p)
        assert counts["dropped"] == 0
        acked[p.log_path.stem] = counts["acked"]
    return acked


def _print_tails(*processes: ManagedProcess) -> None:
    for process in processes:
        print(f"--- {process.log_path.name} ---\n{process.tail(40)}")


async def _ids(client: Any) -> Counter[tuple[str, int]]:
    """(producer_id, seq) of every row in `ticks`, fetched as two columns (rows of dicts are slow)."""
    table = await client.open_table("ticks")
    view = await table.view(columns=["producer_id", "seq"])
    columns = await view.to_columns()
    await view.delete()
    return Counter(zip(columns["producer_id"], columns["seq"], strict=True))


async def test_leader_and_controller_kills_lose_and_duplicate_nothing(
    kafka_cluster3: KafkaCluster, tmp_path: Path
) -> None:
    cluster = kafka_cluster3
    topic = cluster.create_topic("faults", 6, 3, {"min.insync.replicas": "2"})
    cluster.wait_in_sync(topic)
    # The ring holds every tick here (ticks_per_update too), so it can prove none is lost or doubled.
    gateway = start_gateway(
        cluster.bootstrap, topic, tmp_path, ticks_limit=500_000, ticks_per_update=500_000, dlq_replication=3
    )
    producers = [
        start_producer(cluster.bootstrap, topic, tmp_path, producer_id=f"f{i}", rate=300, replication=3)
        for i in range(3)
    ]
    try:
        await asyncio.sleep(3)
        leader = cluster.leader_of(topic, 0)
        cluster.node(leader).kill()  # kill -9 a partition leader mid-run
        await asyncio.sleep(4)
        cluster.restart(leader)
        cluster.wait_in_sync(topic, 90)
        controller = cluster.controller_id()
        cluster.node(controller).kill()  # then the active controller
        await asyncio.sleep(4)
        cluster.restart(controller)
        cluster.wait_in_sync(topic, 90)
        await asyncio.sleep(2)
        acked = _stop_and_count(producers)
        total = sum(acked.values())

        async with connect(gateway.ws_url) as client:
            ticks = await client.open_table("ticks")

            async def all_applied() -> bool:
                return int(await asyncio.wait_for(ticks.size(), 10)) >= total

            await eventually(all_applied, timeout=60)
            stored = await asyncio.wait_for(_ids(client), 30)
            roster = {p["producer_id"]: p for p in await rows(client, "producers")}
        assert gateway.process.running
    except BaseException:
        _print_tails(gateway.process, *producers)  # the why of a failure lives in the services' logs
        raise
    finally:
        for p in producers:
            p.stop()
        gateway.process.stop()

    for producer_id, count in acked.items():
        expected = {(producer_id, seq) for seq in range(1, count + 1)}
        assert expected <= set(stored), (
            f"{producer_id}: {len(expected - set(stored))} acknowledged ticks missing"
        )
        assert roster[producer_id]["gaps"] == 0
    assert max(stored.values()) == 1  # exactly once
    in_topic = decode_records(
        await consume_all(cluster.bootstrap, topic, total, weight=tick_count, timeout=60)
    )
    assert Counter((t["producer_id"], t["seq"]) for t in in_topic).most_common(1)[0][1] == 1


async def test_gateway_killed_under_load_replays_to_the_last_tick_per_symbol(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_producer(kafka_bootstrap, topic, tmp_path, producer_id="crash", rate=2000)
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path, start="replay")
    await asyncio.sleep(3)
    gateway.process.kill()  # kill -9 while ticks stream in
    await asyncio.sleep(1)
    producer.stop()
    acked = summary(producer)["acked"]
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path, start="replay", port=gateway.port)
    try:
        records = await consume_all(kafka_bootstrap, topic, acked)
        last = {
            t["symbol"]: t for t in decode_records(sorted(records, key=lambda r: (r.partition, r.offset)))
        }
        expected = {symbol: (t["price"], t["volume"]) for symbol, t in last.items()}
        async with connect(gateway.ws_url) as client:
            # The quote board, not the ticks ring: the ring takes only a batch's newest
            # GATEWAY_TICKS_PER_UPDATE rows, so a replay in big batches never fills it to `acked`.
            async def replayed() -> bool:
                quotes = {q["symbol"]: (q["price"], q["volume"]) for q in await rows(client, "quotes")}
                return quotes == expected

            await eventually(replayed, timeout=60)
    finally:
        gateway.process.stop()
