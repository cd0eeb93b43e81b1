"""The harness's Kafka API in one import: ``from harness.kafka import KafkaCluster, KafkaNode, HarnessError``.

``KafkaCluster(nodes=1 | 3, workdir=None, port=None)`` runs real Apache Kafka (KRaft, combined
broker+controller JVMs) from the jars in ``kafka/.libs`` on free loopback ports; ``KafkaNode`` is one
of its JVMs (stop / kill -9 / restart). The implementation lives in :mod:`harness.cluster`,
:mod:`harness.node` and :mod:`harness.admin`.
"""

from harness.cluster import KafkaCluster, new_cluster_id
from harness.errors import HarnessError
from harness.node import KafkaNode, NodeSpec

__all__ = ["HarnessError", "KafkaCluster", "KafkaNode", "NodeSpec", "new_cluster_id"]
