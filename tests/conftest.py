"""Shared fixtures: one real single-node Kafka for the whole run, a fresh topic per test."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest

from harness.cluster import KafkaCluster


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(nodes=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: KafkaCluster) -> str:
    return kafka.bootstrap


def _topic_name(request: pytest.FixtureRequest) -> str:
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")
    return f"t-{test}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_topic(kafka: KafkaCluster, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Create a uniquely named topic: ``make_topic(partitions=6, replication=1)``."""

    def make(partitions: int = 6, replication: int = 1, config: dict[str, str] | None = None) -> str:
        return kafka.create_topic(_topic_name(request), partitions, replication, config)

    return make


@pytest.fixture
def topic(make_topic: Callable[..., str]) -> str:
    """A fresh 6-partition topic for this test."""
    return make_topic()


@pytest.fixture(scope="module")
def kafka_cluster3() -> Iterator[KafkaCluster]:
    """A 3-node KRaft cluster (RF 3 available, min ISR 2 set per topic), for fault tests."""
    cluster = KafkaCluster(nodes=3)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
