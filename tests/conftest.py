"""Shared fixtures: one real single-node Kafka for the whole run, a fresh topic per test.

- ``kafka``: session-scoped :class:`KafkaCluster` (1 node, free loopback ports, temp dir), started on
  first use and always stopped (finally + atexit + PR_SET_PDEATHSIG if pytest itself is killed).
- ``kafka_bootstrap``: its ``"127.0.0.1:PORT"``.
- ``topic``: a fresh 6-partition topic ``t-<test>-<uuid8>``; ``make_topic(partitions=6, replication=1,
  config=None)`` makes more.
- ``kafka_cluster3``: a module-scoped 3-node cluster (RF 3, min ISR 2) for fault tests.
- ``db``: a fresh history DuckDB file holding the seeded ticks of tests/support/history_live.py,
  wrapped so every statement run on it is recorded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.kafka import KafkaCluster

if TYPE_CHECKING:  # imported in the fixture: only the history tests need DuckDB loaded
    from tests.support.history_live import Recording


def _report(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _started(request: pytest.FixtureRequest, nodes: int) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(nodes=nodes)
    try:
        cluster.start()
        _report(
            request.config,
            f"\nkafka: {nodes} node(s) ready at {cluster.bootstrap} in {cluster.start_seconds:.1f}s",
        )
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest) -> Iterator[KafkaCluster]:
    yield from _started(request, 1)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: KafkaCluster) -> str:
    return kafka.bootstrap


def _topic_name(request: pytest.FixtureRequest) -> str:
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")
    return f"t-{test}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_topic(kafka: KafkaCluster, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Create a uniquely named topic: ``make_topic(partitions=6, replication=1, config=None)``."""

    def make(partitions: int = 6, replication: int = 1, config: dict[str, str] | None = None) -> str:
        return kafka.create_topic(_topic_name(request), partitions, replication, config)

    return make


@pytest.fixture
def topic(make_topic: Callable[..., str]) -> str:
    """A fresh 6-partition topic for this test."""
    return make_topic()


@pytest.fixture(scope="module")
def kafka_cluster3(request: pytest.FixtureRequest) -> Iterator[KafkaCluster]:
    """A 3-node KRaft cluster (default RF 3, min ISR 2, 3 s session timeout), for fault tests."""
    yield from _started(request, 3)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Recording]:
    """A fresh history file of seeded ticks; every statement run on it is recorded."""
    from tests.support.history_live import Recording, open_db

    connection = open_db(tmp_path / "history.duckdb")
    yield Recording(connection)
    connection.close()
