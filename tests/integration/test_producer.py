"""`python -m producer` against a real broker: pacing, identity, shutdown, outages, formats, config."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord

from common.codec import decode_arrow
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, header
from common.schema import FIELD_NAMES, SCHEMA_VERSION, Tick
from harness.cluster import KafkaCluster
from harness.process import ManagedProcess
from harness.services import ROOT, start_producer, summary
from tests.support.kafka_io import consume_all, decode_records, tick_count
from tests.support.probe import read_metrics, start_watched

pytestmark = pytest.mark.integration

SHUTDOWN_LIMIT_S = 5.0


def _seqs(ticks: list[Tick], producer_id: str) -> list[int]:
    return sorted(t["seq"] for t in ticks if t["producer_id"] == producer_id)


async def _topic_ticks(bootstrap: str, topic: str, expected_ticks: int) -> list[Tick]:
    records = await consume_all(bootstrap, topic, expected_ticks, weight=tick_count)
    return decode_records(records)


def _sigterm(process: ManagedProcess) -> tuple[int | None, float]:
    """Send SIGTERM; return the exit code and how long the process took to exit."""
    started = time.monotonic()
    process.signal(signal.SIGTERM)
    code = process.wait(SHUTDOWN_LIMIT_S + 5)
    return code, time.monotonic() - started


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "producer", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


async def test_default_pacing_sends_schema_ticks_keyed_by_symbol_about_4_rounds_a_second(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_producer(kafka_bootstrap, topic, tmp_path, producer_id="paced")
    await asyncio.sleep(5)  # the behaviour under test is the pace over wall-clock time
    assert producer.stop() == 0
    counts = summary(producer)
    records = await consume_all(kafka_bootstrap, topic, expected=counts["acked"])
    ticks = decode_records(records)

    assert len(ticks) == counts["acked"] == counts["generated"] > 0
    assert all(r.key == t["symbol"].encode() for r, t in zip(records, ticks, strict=True))
    assert all(header(r.headers, "content-type") == CONTENT_TYPE_JSON for r in records)
    assert all(header(r.headers, "schema-version") == str(SCHEMA_VERSION) for r in records)
    assert all(header(r.headers, "producer-id") == "paced" for r in records)
    assert _seqs(ticks, "paced") == list(range(1, len(ticks) + 1))
    assert all(set(t) == set(FIELD_NAMES) for t in ticks)
    assert all(0 < t["bid"] < t["price"] < t["ask"] for t in ticks)
    assert all(t["low"] <= min(t["open"], t["close"]) for t in ticks)
    assert all(max(t["open"], t["close"]) <= t["high"] for t in ticks)
    assert len({t["symbol"] for t in ticks}) == 50
    rounds = len({t["event_time"] for t in ticks})
    assert 16 <= rounds <= 24  # ~4 rounds a second for 5 s


async def test_three_producers_have_distinct_ids_and_gap_free_sequences(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producers = [
        start_watched(kafka_bootstrap, topic, tmp_path, producer_id=f"p{i}", rate=2000) for i in range(3)
    ]
    for p in producers:
        p.wait_acked(3000)
    for p in producers:
        assert p.process.stop() == 0
    acked = {f"p{i}": summary(p.process)["acked"] for i, p in enumerate(producers)}
    ticks = await _topic_ticks(kafka_bootstrap, topic, sum(acked.values()))

    assert {t["producer_id"] for t in ticks} == {"p0", "p1", "p2"}
    for pid, count in acked.items():
        assert _seqs(ticks, pid) == list(range(1, count + 1))  # gap-free, no duplicate, nothing missing
    assert len(ticks) == sum(acked.values())


async def test_sigterm_after_n_ticks_flushes_so_the_topic_holds_exactly_the_acked_count(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_watched(kafka_bootstrap, topic, tmp_path, producer_id="term", rate=20_000)
    producer.wait_acked(20_000)

    code, seconds = _sigterm(producer.process)
    counts = summary(producer.process)
    ticks = await _topic_ticks(kafka_bootstrap, topic, counts["acked"])

    assert code == 0
    assert seconds < SHUTDOWN_LIMIT_S
    assert counts["acked"] == counts["generated"] == counts["sent"]
    assert counts["unsent"] == counts["dropped"] == 0
    assert len(ticks) == counts["acked"]
    assert _seqs(ticks, "term") == list(range(1, counts["acked"] + 1))


async def test_metrics_endpoint_exposes_the_counters(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_watched(kafka_bootstrap, topic, tmp_path, producer_id="metrics", rate=5000)
    producer.wait_acked(1000)
    names = (
        "producer_ticks_generated_total",
        "producer_ticks_sent_total",
        "producer_ticks_acked_total",
        "producer_ticks_dropped_total",
        "producer_send_errors_total",
        "producer_buffer_depth_ticks",
    )
    values = read_metrics(producer.metrics_port)  # one snapshot: the counters move meanwhile
    assert producer.process.stop() == 0

    assert set(names) <= set(values)
    assert values["producer_ticks_generated_total"] >= values["producer_ticks_sent_total"]
    assert values["producer_ticks_sent_total"] >= values["producer_ticks_acked_total"] >= 1000
    assert values["producer_ticks_dropped_total"] == values["producer_send_errors_total"] == 0
    assert values["producer_buffer_depth_ticks"] >= 0


async def test_arrow_batches_decode_to_the_expected_ticks(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_watched(
        kafka_bootstrap, topic, tmp_path, producer_id="arrow", format="arrow", rate=50_000, batch_size=1000
    )
    producer.wait_acked(50_000)
    assert producer.process.stop() == 0
    acked = summary(producer.process)["acked"]
    records: list[ConsumerRecord] = await consume_all(kafka_bootstrap, topic, acked, weight=tick_count)
    ticks = decode_records(records)

    assert all(header(r.headers, "content-type") == CONTENT_TYPE_ARROW for r in records)
    assert all(r.key == b"arrow" for r in records)
    assert all(1 <= decode_arrow(r.value).num_rows <= 1000 for r in records)
    assert sum(decode_arrow(r.value).num_rows for r in records) == acked
    assert _seqs(ticks, "arrow") == list(range(1, acked + 1))
    assert all(0 < t["bid"] < t["price"] < t["ask"] for t in ticks)
    volumes: dict[str, int] = {}
    for t in sorted(ticks, key=lambda t: t["seq"]):  # cumulative volume never falls, per symbol
        assert t["volume"] >= volumes.get(t["symbol"], 0)
        volumes[t["symbol"]] = t["volume"]


async def test_broker_stopped_5s_then_restarted_loses_only_the_counted_drops_and_duplicates_nothing(
    kafka: KafkaCluster, topic: str, tmp_path: Path
) -> None:
    # A buffer of 2 s of ticks, so a 5 s outage must shed some and the accounting is exercised.
    producer = start_watched(
        kafka.bootstrap, topic, tmp_path, producer_id="outage", rate=1000, buffer_ticks=2000, send_timeout_s=1
    )
    producer.wait_acked(1000)
    kafka.node(1).stop()
    outage_ends = time.monotonic() + 5
    try:
        producer.wait_log("buffer full", timeout=15)
        await asyncio.sleep(max(0.0, outage_ends - time.monotonic()))  # the outage lasts 5 s
        assert producer.process.running
    finally:
        kafka.restart(1)
    producer.wait_log("Kafka accepts sends again", timeout=30)
    before = producer.acked()
    producer.wait_acked(before + 2000)  # resumed, with fresh ticks
    assert producer.process.stop() == 0
    counts = summary(producer.process)
    ticks = await _topic_ticks(kafka.bootstrap, topic, counts["acked"])
    seqs = _seqs(ticks, "outage")
    missing = set(range(1, seqs[-1] + 1)) - set(seqs)

    assert counts["dropped"] > 0
    assert len(seqs) == len(set(seqs)) == counts["acked"]  # idempotence: no duplicate seq
    assert len(missing) == counts["dropped"]  # every gap is a counted drop, and only those
    assert counts["unsent"] == 0


async def test_sigterm_while_the_broker_is_down_exits_0_within_5s(
    kafka: KafkaCluster, topic: str, tmp_path: Path
) -> None:
    producer = start_watched(kafka.bootstrap, topic, tmp_path, producer_id="down", rate=2000)
    producer.wait_acked(1000)
    kafka.node(1).stop()
    try:
        producer.wait_log("Kafka send failed", timeout=15)
        code, seconds = _sigterm(producer.process)
    finally:
        kafka.restart(1)
    counts = summary(producer.process)

    assert code == 0
    assert seconds < SHUTDOWN_LIMIT_S
    assert counts["unsent"] > 0  # reported, not silently lost
    assert counts["acked"] + counts["dropped"] + counts["unsent"] == counts["generated"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PRODUCER_FORMAT": "xml"}, "PRODUCER_FORMAT: Input should be 'json' or 'arrow'"),
        ({"PRODUCER_INTERVAL_MS": "-5"}, "PRODUCER_INTERVAL_MS: Input should be greater than or equal to 1"),
        ({"PRODUCER_SYMBOLS": "0"}, "PRODUCER_SYMBOLS: Input should be greater than or equal to 1"),
        ({"PRODUCER_BOOTSTRAP_SERVERS": "no-port"}, "PRODUCER_BOOTSTRAP_SERVERS: 'no-port' is not host:port"),
        ({"PRODUCER_COMPRESSION": "snappy"}, "PRODUCER_COMPRESSION: Input should be 'lz4', 'zstd' or 'none'"),
        ({"PRODUCER_SHARD": "3/2"}, "PRODUCER_SHARD: must be 'i/n'"),
        ({"PRODUCER_SYMBOL_LIST": "NOSUCH"}, "PRODUCER_SYMBOL_LIST/PRODUCER_SHARD select no symbol"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_setting(env: dict[str, str], message: str) -> None:
    result = _run(env, timeout=30)

    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_help_lists_every_setting_with_its_default() -> None:
    from producer.settings import ProducerSettings

    result = _run({}, "--help", timeout=30)

    assert result.returncode == 0
    for name in ProducerSettings.model_fields:
        assert f"PRODUCER_{name.upper()}" in result.stdout
    assert "default 250" in result.stdout  # PRODUCER_INTERVAL_MS


def test_unreachable_broker_at_start_exits_1_only_after_the_startup_timeout() -> None:
    started = time.monotonic()
    result = _run({"PRODUCER_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PRODUCER_STARTUP_TIMEOUT_S": "3"})
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert elapsed >= 3
    assert "retrying in" in result.stderr  # the backoff is visible while it retries
    assert "unreachable for 3s (PRODUCER_STARTUP_TIMEOUT_S)" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_while_waiting_for_kafka_exits_0_promptly(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PRODUCER_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PYTHONUNBUFFERED": "1"}
    producer = ManagedProcess([sys.executable, "-m", "producer"], tmp_path / "waiting.log", env, ROOT).start()
    assert producer.wait_for_output("retrying in", 30), producer.tail()

    code, seconds = _sigterm(producer)

    assert code == 0
    assert seconds < SHUTDOWN_LIMIT_S
    assert summary(producer)["generated"] == 0
