"""A real Apache Kafka (KRaft) cluster of one or three nodes on loopback, for tests and humans."""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from harness import admin
from harness.errors import HarnessError
from harness.node import KafkaNode, NodeSpec
from harness.ports import free_ports
from harness.process import wait_for

log = logging.getLogger(__name__)


def new_cluster_id() -> str:
    # Like Kafka's Uuid.randomUuid: never starting with '-', which a command line reads as a flag.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _replication_settings(nodes: int) -> dict[str, str]:
    replicas = str(min(nodes, 3))
    min_isr = str(2 if nodes >= 3 else 1)
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
    }


class KafkaCluster:
    """``with KafkaCluster(nodes=3) as cluster: cluster.bootstrap`` — stopped on exit, always."""

    def __init__(
        self,
        nodes: int = 1,
        workdir: Path | None = None,
        port: int | None = None,
        start_timeout: float = 90.0,
        detached: bool = False,
    ) -> None:
        if nodes < 1:
            raise HarnessError("a cluster needs at least one node")
        self._own_dir = workdir is None
        self.root = Path(tempfile.mkdtemp(prefix="kafka-")) if workdir is None else workdir
        self.start_timeout = start_timeout
        ports = free_ports(2 * nodes)
        if port is not None:  # a fixed address for humans: 9092, controller on 9093
            ports[0], ports[1] = port, port + 1
        specs = [NodeSpec(i + 1, ports[2 * i], ports[2 * i + 1]) for i in range(nodes)]
        voters = ",".join(f"{s.node_id}@127.0.0.1:{s.controller_port}" for s in specs)
        cluster_id = self._cluster_id()
        overrides = _replication_settings(nodes)
        self.nodes = [KafkaNode(s, voters, self.root, cluster_id, overrides, detached) for s in specs]
        self.start_seconds = 0.0

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def start(self) -> str:
        started = time.monotonic()
        for node in self.nodes:
            node.format()
        for node in self.nodes:
            node.start()
        try:
            for node in self.nodes:
                node.wait_listening(self.start_timeout)
            self.wait_ready(self.start_timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        log.info(
            "kafka (%d node(s)) ready at %s in %.1fs", len(self.nodes), self.bootstrap, self.start_seconds
        )
        return self.bootstrap

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every running node answers metadata and is registered as a broker."""
        wanted = {node.node_id for node in self.nodes if node.running}
        if not wait_for(lambda: self._brokers() >= wanted, timeout, 0.2):
            reasons = "; ".join(f"node {n.node_id}: {r}" for n in self.nodes if (r := n.failure_reason()))
            tails = "\n".join(n.server_log_tail(8) for n in self.nodes)
            raise HarnessError(
                f"kafka brokers {sorted(wanted)} did not answer metadata in {timeout:.0f}s"
                f"{': ' + reasons if reasons else ''}; log tail:\n{tails}"
            )

    def restart(self, node_id: int) -> None:
        node = self.node(node_id)
        node.start()
        node.wait_listening(self.start_timeout)
        self.wait_ready(self.start_timeout)

    def stop(self) -> None:
        # All at once: a lone survivor's controlled shutdown waits for a quorum that is gone.
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.stop(timeout=10)
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_topic(
        self, name: str, partitions: int = 6, replication: int = 1, config: dict[str, str] | None = None
    ) -> str:
        admin.create_topic(self.live_bootstrap(), name, partitions, replication, config)
        wait_for(lambda: len(self._partitions_or_empty(name)) == partitions, 30, 0.1)
        return name

    def describe(self, topic: str, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Partitions of ``topic`` (partition, leader, replicas, isr), sorted by partition.

        Retried until ``timeout``: right after a node dies, the client may still pick it for the request.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                return admin.describe_topic(self.live_bootstrap(), topic)
            except LookupError:
                raise
            except Exception as exc:
                if time.monotonic() >= deadline:
                    raise HarnessError(f"describe {topic!r} failed for {timeout:.0f}s: {exc!r}") from exc
                log.debug("describe %s: %r, retrying", topic, exc)
                time.sleep(0.2)

    def wait_in_sync(self, topic: str, timeout: float = 60.0) -> None:
        def in_sync() -> bool:
            parts = self._partitions_or_empty(topic)
            return bool(parts) and all(sorted(p["isr"]) == sorted(p["replicas"]) for p in parts)

        if not wait_for(in_sync, timeout, 0.2):
            raise HarnessError(
                f"topic {topic!r} not in sync after {timeout:.0f}s: {self._partitions_or_empty(topic)}"
            )

    def leader_of(self, topic: str, partition: int) -> int:
        return int(self.describe(topic)[partition]["leader"])

    def controller_id(self, timeout: float = 30.0) -> int:
        """The active KRaft controller (the metadata quorum's leader).

        Read from the nodes' ``__cluster_metadata-0/quorum-state`` (highest leader epoch wins):
        in KRaft, the controller id in a Metadata response is just some broker, not the quorum leader.
        """
        found: list[int] = []

        def leader() -> bool:
            states = [s for s in (n.quorum_state() for n in self.nodes if n.running) if s]
            best = max(states, key=lambda s: int(s.get("leaderEpoch", -1)), default=None)
            if best is not None and int(best.get("leaderId", -1)) >= 0:
                found.append(int(best["leaderId"]))
                return True
            return False

        if not wait_for(leader, timeout, 0.1):
            raise HarnessError(f"no KRaft quorum leader among running nodes after {timeout:.0f}s")
        return found[-1]

    def live_bootstrap(self) -> str:
        live = [node.bootstrap for node in self.nodes if node.running]
        return ",".join(live) or self.bootstrap

    def _brokers(self) -> set[int]:
        try:
            cluster = admin.describe_cluster(self.live_bootstrap(), timeout=5)
        except Exception:
            return set()
        return {int(b["node_id"]) for b in cluster.get("brokers", [])}

    def _partitions_or_empty(self, topic: str) -> list[dict[str, Any]]:
        try:
            return self.describe(topic, timeout=0)
        except Exception:
            return []

    def _cluster_id(self) -> str:
        marker = self.root / "cluster-id"
        if marker.exists():
            return marker.read_text().strip()
        self.root.mkdir(parents=True, exist_ok=True)
        cluster_id = new_cluster_id()
        marker.write_text(cluster_id)
        return cluster_id

    def __enter__(self) -> KafkaCluster:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
