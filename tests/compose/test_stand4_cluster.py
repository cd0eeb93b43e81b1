"""docker-compose.cluster.yml on the real engine: the leader of partition 0 killed and restarted."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.compose.conftest import start
from tests.support.compose_checks import assert_quiet_state_matches_kafka, tick_counts, until_async
from tests.support.compose_engine import Engine
from tests.support.compose_stand import CLUSTER, Stand, until

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]
BOOTSTRAP = "localhost:9092,localhost:9094,localhost:9096"
SERVICE = {1: "kafka", 2: "kafka-2", 3: "kafka-3"}  # KAFKA_NODE_ID -> service
FLOWING_WITHIN = 30.0


@pytest.fixture(scope="module")
def cluster(engine: Engine) -> Iterator[Stand]:
    stand = Stand(engine, CLUSTER)
    try:
        # three JVMs form a quorum before anything else starts: slower than one on a busy machine
        start(stand, "up", "-d", "--build", "--wait", within=420)
        yield stand
    finally:
        stand.down()


def _leader_of_partition_0() -> int | None:
    result = subprocess.run(
        ["kcat", "-b", BOOTSTRAP, "-L", "-t", "ticks", "-J"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    [topic] = json.loads(result.stdout)["topics"]
    leader: int = next(p["leader"] for p in topic["partitions"] if p["partition"] == 0)
    return leader if leader in SERVICE else None


async def _flowing(stand: Stand, within: float) -> None:
    first = await until_async(tick_counts, within, "the roster", stand)

    async def rising() -> bool:
        now = await tick_counts()
        return now is not None and any(now[p] > first.get(p, 0) for p in now)

    await until_async(rising, within, "ticks flowing", stand)


async def test_ticks_flow_within_30s_of_killing_the_leader_of_partition_0(cluster: Stand) -> None:
    await _flowing(cluster, 60)
    leader = until(_leader_of_partition_0, 30, "a leader for partition 0", cluster)
    cluster.compose("kill", SERVICE[leader], record=False)  # the README names one leader as an example
    killed = time.monotonic()
    until(lambda: _leader_of_partition_0() not in (None, leader), FLOWING_WITHIN, "a new leader", cluster)
    _next_tick_in_partition_0(FLOWING_WITHIN - (time.monotonic() - killed))
    await _flowing(cluster, FLOWING_WITHIN)
    cluster.compose("start", SERVICE[leader], timeout=120, record=False)
    until(lambda: _healthy(cluster, SERVICE[leader]), 120, f"{SERVICE[leader]} healthy again", cluster)
    await assert_quiet_state_matches_kafka(cluster, BOOTSTRAP)


def _next_tick_in_partition_0(within: float) -> None:
    """kcat waits at the end of partition 0 for one new tick (so: one produced after the kill)."""
    try:
        subprocess.run(
            ["kcat", "-b", BOOTSTRAP, "-C", "-t", "ticks", "-p", "0", "-o", "end", "-c", "1", "-q"],
            capture_output=True,
            timeout=max(within, 1),
            check=True,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no new tick in partition 0 within {FLOWING_WITHIN:.0f}s of the kill") from None


def _healthy(stand: Stand, service: str) -> bool:
    return [c["Health"] for c in stand.containers(service)] == ["healthy"]


def test_down_v_of_the_cluster_leaves_nothing(cluster: Stand) -> None:
    cluster.compose("down", "-v", timeout=120)
    assert cluster.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_the_readme_shows_every_cluster_command_these_tests_ran(cluster: Stand) -> None:
    assert cluster.not_in_readme() == set()
