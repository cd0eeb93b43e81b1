"""The producer against a real broker: pacing, identity, shutdown, outages and formats."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord

from common.headers import CONTENT_TYPE_ARROW, header
from common.schema import FIELD_NAMES, Tick
from harness.cluster import KafkaCluster
from tests.integration.kafka_io import consume_all, decode_records, tick_count
from tests.services import ROOT, start_producer, summary

pytestmark = pytest.mark.integration


def _ticks(records: list[ConsumerRecord]) -> list[Tick]:
    return decode_records(records)


def _seqs(ticks: list[Tick], producer_id: str) -> list[int]:
    return sorted(t["seq"] for t in ticks if t["producer_id"] == producer_id)


async def _topic_ticks(bootstrap: str, topic: str, expected_ticks: int) -> list[Tick]:
    return _ticks(await consume_all(bootstrap, topic, expected_ticks, weight=tick_count))


async def test_default_pacing_sends_schema_ticks_keyed_by_symbol(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_producer(kafka_bootstrap, topic, tmp_path, producer_id="paced")
    await asyncio.sleep(5)  # the behaviour under test is the pace over wall-clock time
    assert producer.stop() == 0
    counts = summary(producer)
    records = await consume_all(kafka_bootstrap, topic, expected=counts["acked"])
    ticks = _ticks(records)

    assert len(ticks) == counts["acked"] == counts["generated"]
    assert all(r.key == t["symbol"].encode() for r, t in zip(records, ticks, strict=True))
    assert _seqs(ticks, "paced") == list(range(1, len(ticks) + 1))
    assert all(set(t) == set(FIELD_NAMES) for t in ticks)
    assert all(0 < t["bid"] < t["price"] < t["ask"] for t in ticks)
    assert all(t["low"] <= t["open"] <= t["high"] and t["low"] <= t["close"] <= t["high"] for t in ticks)
    rounds = len({t["event_time"] for t in ticks})
    assert 16 <= rounds <= 24  # ~4 rounds a second for 5 s


async def test_three_producers_have_distinct_ids_and_gap_free_sequences(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producers = [
        start_producer(kafka_bootstrap, topic, tmp_path, producer_id=f"p{i}", rate=2000) for i in range(3)
    ]
    await asyncio.sleep(3)
    for p in producers:
        assert p.stop() == 0
    acked = {f"p{i}": summary(p)["acked"] for i, p in enumerate(producers)}
    ticks = await _topic_ticks(kafka_bootstrap, topic, sum(acked.values()))

    by_producer: dict[str, list[int]] = defaultdict(list)
    for t in ticks:
        by_producer[t["producer_id"]].append(t["seq"])
    assert set(by_producer) == {"p0", "p1", "p2"}
    for pid, seqs in by_producer.items():
        assert sorted(seqs) == list(range(1, acked[pid] + 1))


async def test_sigterm_flushes_every_counted_tick(kafka_bootstrap: str, topic: str, tmp_path: Path) -> None:
    producer = start_producer(kafka_bootstrap, topic, tmp_path, producer_id="term", rate=20_000)
    await asyncio.sleep(2)
    producer.signal(signal.SIGTERM)
    assert producer.wait(5) == 0
    counts = summary(producer)
    ticks = await _topic_ticks(kafka_bootstrap, topic, counts["acked"])
    assert counts["acked"] > 10_000
    assert len(ticks) == counts["acked"] == counts["generated"]


async def test_arrow_batches_decode_to_the_expected_ticks(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_producer(
        kafka_bootstrap, topic, tmp_path, producer_id="arrow", format="arrow", rate=50_000, batch_size=1000
    )
    await asyncio.sleep(2)
    assert producer.stop() == 0
    acked = summary(producer)["acked"]
    records = await consume_all(kafka_bootstrap, topic, acked, weight=tick_count)
    assert all(header(r.headers, "content-type") == CONTENT_TYPE_ARROW for r in records)
    assert all(r.key == b"arrow" for r in records)
    assert _seqs(_ticks(records), "arrow") == list(range(1, acked + 1))


async def test_broker_outage_is_survived_with_no_gap_and_no_duplicate(
    kafka: KafkaCluster, topic: str, tmp_path: Path
) -> None:
    producer = start_producer(kafka.bootstrap, topic, tmp_path, producer_id="outage", rate=1000)
    await asyncio.sleep(1.5)
    kafka.node(1).stop()
    await asyncio.sleep(5)  # the outage itself
    assert producer.running
    kafka.restart(1)
    await asyncio.sleep(3)
    assert producer.stop() == 0
    counts = summary(producer)
    ticks = await _topic_ticks(kafka.bootstrap, topic, counts["acked"])
    seqs = _seqs(ticks, "outage")
    assert counts["acked"] > 5000
    assert len(seqs) == len(set(seqs)) == counts["acked"]
    assert seqs[-1] - len(seqs) == counts["dropped"]  # every missing seq was counted as dropped


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PRODUCER_FORMAT": "xml"}, "PRODUCER_FORMAT: Input should be 'json' or 'arrow'"),
        ({"PRODUCER_INTERVAL_MS": "-5"}, "PRODUCER_INTERVAL_MS: Input should be greater than or equal to 1"),
        ({"PRODUCER_SYMBOLS": "0"}, "PRODUCER_SYMBOLS: Input should be greater than or equal to 1"),
        ({"PRODUCER_BOOTSTRAP_SERVERS": "no-port"}, "PRODUCER_BOOTSTRAP_SERVERS: 'no-port' is not host:port"),
        ({"PRODUCER_SHARD": "3/2"}, "PRODUCER_SHARD: must be 'i/n'"),
    ],
)
def test_bad_config_exits_2_naming_the_setting(env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "producer"],
        env={"PATH": "/usr/bin", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "producer", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for name in ("PRODUCER_BOOTSTRAP_SERVERS", "PRODUCER_FORMAT", "PRODUCER_RATE", "PRODUCER_BUFFER_TICKS"):
        assert name in result.stdout


def test_unreachable_broker_at_start_exits_nonzero_after_the_timeout(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin", "PRODUCER_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PRODUCER_STARTUP_TIMEOUT_S": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "producer"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr
