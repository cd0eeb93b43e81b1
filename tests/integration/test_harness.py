"""The Kafka harness runs a real broker and cluster, and the codecs survive a trip through it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest

from common.codec import batch_to_ticks, decode_message, encode_arrow, encode_json
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.schema import Tick
from harness.cluster import KafkaCluster
from harness.errors import HarnessError
from tests.integration.kafka_io import Message, consume_all, produce
from tests.unit.ticks import SAMPLE

pytestmark = pytest.mark.integration


def _tick(seq: int) -> Tick:
    symbol = f"S{seq % 50:02d}"
    price = 100.0 + seq % 97
    return {**SAMPLE, "symbol": symbol, "seq": seq, "price": price, "bid": price - 0.01, "ask": price + 0.01}


def _kcat_count(bootstrap: str, topic: str) -> int:
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\\n"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return len(out.stdout.split())


def test_broker_answers_metadata_with_the_topic_partitions(
    kafka: KafkaCluster, make_topic: Callable[..., str]
) -> None:
    name = make_topic(partitions=4)
    assert [p["partition"] for p in kafka.describe(name)] == [0, 1, 2, 3]
    listing = subprocess.run(
        ["kcat", "-b", kafka.bootstrap, "-L", "-J", "-t", name],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    metadata = json.loads(listing.stdout)
    assert len(metadata["topics"][0]["partitions"]) == 4


async def test_json_and_arrow_ticks_round_trip_through_kafka(kafka_bootstrap: str, topic: str) -> None:
    json_ticks = [_tick(n) for n in range(10_000)]
    arrow_batches = [[_tick(10_000 + b * 1000 + n) for n in range(1000)] for b in range(10)]
    messages: list[Message] = [
        (t["symbol"].encode(), encode_json(t), make_headers(CONTENT_TYPE_JSON, "p1")) for t in json_ticks
    ]
    messages += [
        (b"p1", encode_arrow(batch), make_headers(CONTENT_TYPE_ARROW, "p1")) for batch in arrow_batches
    ]
    await produce(kafka_bootstrap, topic, messages)

    records = await consume_all(kafka_bootstrap, topic, expected=len(messages))
    received = [t for r in records for t in batch_to_ticks(decode_message(r.value, r.headers))]

    expected = json_ticks + [t for batch in arrow_batches for t in batch]
    assert len(records) == 10_010
    assert sorted(received, key=lambda t: t["seq"]) == expected
    assert _kcat_count(kafka_bootstrap, topic) == 10_010


def test_three_node_cluster_resyncs_after_a_stop_and_a_kill(kafka_cluster3: KafkaCluster) -> None:
    topic = kafka_cluster3.create_topic("replicated", 6, 3, {"min.insync.replicas": "2"})
    kafka_cluster3.wait_in_sync(topic)
    assert all(sorted(p["replicas"]) == [1, 2, 3] for p in kafka_cluster3.describe(topic))

    kafka_cluster3.node(2).stop()
    kafka_cluster3.restart(2)
    kafka_cluster3.wait_in_sync(topic)

    kafka_cluster3.node(3).kill()
    assert not kafka_cluster3.node(3).running
    kafka_cluster3.restart(3)
    kafka_cluster3.wait_in_sync(topic)
    assert kafka_cluster3.controller_id() in {1, 2, 3}


def test_a_broker_that_cannot_start_gives_one_clear_error(kafka: KafkaCluster) -> None:
    busy_port = int(kafka.bootstrap.split(":")[1])
    with pytest.raises(HarnessError, match=f"port {busy_port} is already in use"):
        KafkaCluster(nodes=1, port=busy_port).start()


def test_a_broker_that_crashes_on_start_reports_its_log_tail(tmp_path: object) -> None:
    cluster = KafkaCluster(nodes=1, start_timeout=20)
    node = cluster.nodes[0]
    node._overrides["log.dirs"] = "/proc/forbidden/kafka"  # storage format must refuse this
    with pytest.raises(HarnessError) as caught:
        cluster.start()
    assert "node 1" in str(caught.value)
    cluster.stop()
