"""`python -m history` as a process: kill -9 at random moments, SIGTERM, probes, bad configuration."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from common.aio import bounded, close_quietly
from harness.cluster import KafkaCluster
from harness.services import ROOT, History, start_history, summary
from tests.support.history import end_offsets, file_counts, query, samples, wait_stored_up_to
from tests.support.ingest import as_json, tick
from tests.support.kafka_io import partitions_of, produce
from tests.support.probe import Watched, start_watched

pytestmark = pytest.mark.integration


def _start(bootstrap: str, topic: str, tmp_path: Path) -> History:
    return start_history(bootstrap, topic, tmp_path / "history.duckdb", tmp_path)


def _stored(history: History) -> float:
    try:
        return samples(history, "history_ticks_stored_total").get("", 0.0)
    except OSError:
        return 0.0


def _wait_stored(history: History, at_least: int) -> None:
    reached = history.process.wait_for(lambda: _stored(history) >= at_least, 60, 0.05)
    assert reached, history.process.tail()


def _stop_producers(producers: list[Watched]) -> int:
    """SIGTERM (they flush), then the ticks Kafka acknowledged to them, all together."""
    for producer in producers:
        assert producer.process.stop() == 0, producer.process.tail()
    return sum(summary(producer.process)["acked"] for producer in producers)


async def test_kill_9_three_times_mid_stream_stores_every_acknowledged_tick_exactly_once(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    rng = random.Random(15)
    producers = [
        start_watched(kafka_bootstrap, topic, tmp_path, producer_id="json", rate=3000, split="false"),
        start_watched(
            kafka_bootstrap,
            topic,
            tmp_path,
            producer_id="arrow",
            rate=3000,
            split="false",
            format="arrow",
            batch_size=200,
        ),
    ]
    history = _start(kafka_bootstrap, topic, tmp_path)
    for _ in range(3):
        # A random moment: after a random number of ticks stored by this run, plus a random pause.
        _wait_stored(history, rng.randint(500, 6000))
        time.sleep(rng.uniform(0, 0.3))
        history.process.kill()
        history = _start(kafka_bootstrap, topic, tmp_path)
    acked = _stop_producers(producers)
    wait_stored_up_to(history, await end_offsets(kafka_bootstrap, topic), timeout=120)
    assert history.process.stop() == 0, history.process.tail()
    ticks, distinct = file_counts(str(history.db_path))
    per_producer = query(str(history.db_path), "SELECT count(*) = max(seq) FROM ticks GROUP BY producer_id")
    assert acked > 10_000
    assert ticks == distinct == acked
    assert per_producer == [(True,), (True,)]  # seqs 1..n of each, none missing


async def test_sigterm_finishes_the_poll_in_hand_and_kafka_offsets_match_the_file(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = start_watched(kafka_bootstrap, topic, tmp_path, producer_id="term", rate=5000, split="false")
    history = _start(kafka_bootstrap, topic, tmp_path)
    _wait_stored(history, 5000)
    started = time.monotonic()
    history.process.signal(signal.SIGTERM)
    code = history.process.wait(10)
    seconds = time.monotonic() - started
    _stop_producers([producer])
    file_offsets = dict(query(str(history.db_path), "SELECT partition_id, next_offset FROM offsets"))
    kafka_offsets = await _committed(kafka_bootstrap, topic, f"{topic}.history")
    assert code == 0
    assert seconds < 5
    assert kafka_offsets == file_offsets
    assert f"history stopped: {file_counts(str(history.db_path))[0]} ticks stored" in history.process.output()


async def test_readyz_reports_each_check_and_metrics_expose_the_history_counters(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    history = _start(kafka_bootstrap, topic, tmp_path)
    wait_stored_up_to(history, await end_offsets(kafka_bootstrap, topic))
    with urllib.request.urlopen(f"{history.url}/readyz", timeout=5) as response:
        body = json.loads(response.read())
    with urllib.request.urlopen(f"{history.url}/healthz", timeout=5) as response:
        alive = json.loads(response.read())
    names = samples(history, "history_db_bytes")
    assert history.process.stop() == 0
    assert body == {
        "ready": True,
        "database": True,
        "broker": True,
        "assigned": True,
        "consuming": True,
        "caught_up": True,
    }
    assert alive == {"status": "alive"}
    assert names[""] > 0


def test_bad_configuration_exits_2_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "history"],
        env={"PATH": "/usr/bin:/bin", "HISTORY_RETENTION_HOURS": "-1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("history: bad configuration: HISTORY_RETENTION_HOURS")
    assert len(result.stderr.strip().splitlines()) == 1


async def _committed(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await bounded(consumer.start(), 10)
        found = {}
        for tp in await partitions_of(bootstrap, topic):
            offset = await bounded(consumer.committed(tp), 10)
            if offset is not None:
                found[tp.partition] = offset
    finally:
        await close_quietly(consumer.stop(), 10, "test consumer")
    return found


async def test_a_broker_outage_is_reported_and_ridden_out_with_nothing_lost_or_doubled(
    kafka: KafkaCluster, topic: str, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    before = [tick("calm", seq, "OUT", 50.0, now + seq) for seq in range(1, 301)]
    after = [tick("calm", seq, "OUT", 51.0, now + seq) for seq in range(301, 601)]
    await produce(kafka.bootstrap, topic, [as_json(t) for t in before])
    history = start_history(
        kafka.bootstrap, topic, tmp_path / "history.duckdb", tmp_path, reconnect_after_s=5
    )
    wait_stored_up_to(history, await end_offsets(kafka.bootstrap, topic))
    kafka.node(1).stop()
    try:
        noticed = history.process.wait_for(lambda: _readyz(history).get("broker") is False, 30, 0.2)
    finally:
        kafka.restart(1)
    await produce(kafka.bootstrap, topic, [as_json(t) for t in after])
    wait_stored_up_to(history, await end_offsets(kafka.bootstrap, topic), timeout=90)
    ready_again = history.process.wait_for(lambda: _readyz(history).get("ready") is True, 30, 0.2)
    assert history.process.stop() == 0, history.process.tail()
    assert noticed
    assert ready_again
    assert file_counts(str(history.db_path)) == (600, 600)


def _readyz(history: History) -> dict[str, object]:
    try:
        with urllib.request.urlopen(f"{history.url}/readyz", timeout=2) as response:
            body: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as refused:  # 503: not ready, the body says why
        body = json.loads(refused.read())
    except OSError:
        body = {}
    return body
