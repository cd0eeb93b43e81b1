"""GATEWAY_INGEST_WORKERS against a real broker: what only worker processes can do wrong.

Every ingest behaviour is also run with two workers (tests/integration/test_gateway_ingest.py).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import psutil
import pytest

from gateway.metrics import LAG
from tests.support.ingest import T0, as_json, eventually, metric, rows, running, tick
from tests.support.kafka_io import produce

pytestmark = pytest.mark.integration


async def test_a_killed_worker_is_started_again_and_no_tick_is_lost_or_applied_twice(
    kafka_bootstrap: str, topic: str
) -> None:
    first = [tick("w", s, f"W{s % 6}", 10.0, T0 + s) for s in range(1, 301)]
    then = [tick("w", s, f"W{s % 6}", 11.0, T0 + s) for s in range(301, 601)]
    await produce(kafka_bootstrap, topic, [as_json(t) for t in first])
    restarts = metric("gateway_ingest_worker_restarts_total")
    async with running(kafka_bootstrap, topic, ingest_workers=2) as pipeline:
        await eventually(lambda: pipeline.ready and pipeline.stats.ticks_total == 300)
        pool = pipeline.source
        victim = pool.pids[0]
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        await eventually(lambda: pool.pids[0] not in (None, victim), timeout=30, what="worker 1 again")
        await produce(kafka_bootstrap, topic, [as_json(t) for t in then])
        await eventually(lambda: pipeline.stats.ticks_total == 600, timeout=30, what="all 600 ticks")
        await eventually(lambda: pipeline.ready, timeout=30, what="ready again")
        applied = sorted(r["seq"] for r in rows(pipeline, "ticks"))
        duplicates = pipeline.sequence.duplicates()
    assert applied == list(range(1, 601))
    assert duplicates == 0
    assert metric("gateway_ingest_worker_restarts_total") - restarts == 1


async def test_the_workers_partition_lags_are_the_gateways_lag_metric(
    kafka_bootstrap: str, topic: str
) -> None:
    for partition in range(6):  # the topic's partitions; whatever set them before, now a sentinel
        LAG.labels(str(partition)).set(-1)
    await produce(
        kafka_bootstrap, topic, [as_json(tick("l", s, f"L{s % 6}", 1.0, T0 + s)) for s in range(1, 61)]
    )
    async with running(kafka_bootstrap, topic, ingest_workers=2) as pipeline:
        await eventually(lambda: pipeline.ready and pipeline.stats.ticks_total == 60)
        lags = {p: metric("gateway_consumer_lag", partition=str(p)) for p in range(6)}
    assert lags == dict.fromkeys(range(6), 0.0)  # from the workers: no source runs in this process


async def test_stopping_the_gateway_leaves_no_worker_behind(kafka_bootstrap: str, topic: str) -> None:
    async with running(kafka_bootstrap, topic, ingest_workers=3) as pipeline:
        await eventually(lambda: pipeline.ready, what="ready")
        pids = [pid for pid in pipeline.source.pids if pid is not None]
        assert len(pids) == 3
    assert [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"] == []


async def test_more_workers_than_partitions_says_which_setting_to_lower(
    kafka_bootstrap: str, make_topic: Callable[..., str], capfd: pytest.CaptureFixture[str]
) -> None:
    topic = make_topic(partitions=2)
    said: list[str] = []

    def told() -> bool:
        said.append(capfd.readouterr().err)  # the workers log to the stderr they share with us
        return "none for ingest worker 3 of 3: set GATEWAY_INGEST_WORKERS to at most that" in "".join(said)

    async with running(kafka_bootstrap, topic, ingest_workers=3) as pipeline:
        await eventually(lambda: pipeline.source.partition_count == 2, what="the two partitions")
        await eventually(told, what="the third worker's reason")
        assert not pipeline.ready  # the third worker has no partition: never "assigned"
