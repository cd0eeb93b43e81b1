"""The Kafka harness runs a real broker and cluster, and the codecs survive a trip through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common.codec import encode_arrow, encode_json
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.schema import Tick
from harness import node as node_module
from harness.kafka import HarnessError, KafkaCluster
from harness.ports import free_ports
from harness.process import ManagedProcess, wait_for
from tests.support.kafka_io import Message, consume_all, partitions_of, produce
from tests.support.ticks import SAMPLE
from tests.support.wire import batch_to_ticks, decode_message

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _tick(seq: int) -> Tick:
    symbol = f"S{seq % 50:02d}"
    price = 100.0 + seq % 97
    return {**SAMPLE, "symbol": symbol, "seq": seq, "price": price, "bid": price - 0.01, "ask": price + 0.01}


def _kcat(*args: str) -> str:
    out = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout


def _kcat_count(bootstrap: str, topic: str) -> int:
    out = _kcat("-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\\n")
    return len(out.split())


def test_broker_answers_metadata_with_the_topic_partitions(
    kafka: KafkaCluster, make_topic: Callable[..., str]
) -> None:
    name = make_topic(partitions=4)
    assert [p["partition"] for p in kafka.describe(name)] == [0, 1, 2, 3]
    metadata = json.loads(_kcat("-b", kafka.bootstrap, "-L", "-J", "-t", name))
    assert [b["id"] for b in metadata["brokers"]] == [1]
    assert len(metadata["topics"][0]["partitions"]) == 4
    assert kafka.controller_id() == 1
    assert kafka.leader_of(name, 0) == 1


async def test_aiokafka_and_kcat_agree_on_plain_messages(kafka_bootstrap: str, topic: str) -> None:
    """Idempotent acks=all producer, assign()+getmany, end_offsets, offsets_for_times on Kafka 4.2."""
    before_ms = int(time.time() * 1000) - 1
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for n in range(600):
            await producer.send(topic, f"m{n}".encode(), key=f"k{n % 17}".encode())
        await producer.flush()
        assert len(await producer.partitions_for(topic)) == 6  # a coroutine in aiokafka 0.14
    finally:
        await producer.stop()

    partitions = await partitions_of(kafka_bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        assert sum(ends.values()) == 600
        by_time = await consumer.offsets_for_times(dict.fromkeys(partitions, before_ms))
        assert {tp: o.offset for tp, o in by_time.items() if o is not None} == dict.fromkeys(
            (tp for tp in partitions if ends[tp] > 0), 0
        )
        future = await consumer.offsets_for_times(dict.fromkeys(partitions, before_ms + 3_600_000))
        assert all(o is None for o in future.values())
    finally:
        await consumer.stop()

    records = await consume_all(kafka_bootstrap, topic, expected=600)
    assert sorted(r.value for r in records) == sorted(f"m{n}".encode() for n in range(600))
    assert _kcat_count(kafka_bootstrap, topic) == 600


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
    cluster = kafka_cluster3
    assert len(cluster.bootstrap.split(",")) == 3
    topic = cluster.create_topic("replicated", 6, 3, {"min.insync.replicas": "2"})
    cluster.wait_in_sync(topic)
    assert all(sorted(p["replicas"]) == [1, 2, 3] for p in cluster.describe(topic))

    cluster.node(2).stop()  # graceful: controlled shutdown
    assert not cluster.node(2).is_running
    cluster.restart(2)
    cluster.wait_in_sync(topic)

    victim = cluster.leader_of(topic, 0)
    cluster.node(victim).kill()  # kill -9
    assert not cluster.node(victim).is_running
    assert wait_for(lambda: cluster.leader_of(topic, 0) != victim, 30, 0.2)
    cluster.restart(victim)
    cluster.wait_in_sync(topic)

    controller = cluster.controller_id()
    cluster.node(controller).kill()
    assert wait_for(lambda: cluster.controller_id() != controller, 30, 0.2)
    cluster.restart(controller)
    cluster.wait_in_sync(topic)
    assert "Kafka Server started" in cluster.node(controller).server_log.read_text()


def test_a_busy_port_gives_one_clear_error(kafka: KafkaCluster) -> None:
    busy_port = kafka.nodes[0].port
    with pytest.raises(HarnessError, match=f"port {busy_port} is already in use"):
        KafkaCluster(nodes=1, port=busy_port).start()


def test_a_broker_that_crashes_on_start_reports_its_log_tail() -> None:
    cluster = KafkaCluster(nodes=1, start_timeout=60)
    node = cluster.nodes[0]
    # Storage formats fine, but the broker cannot bind its listener (TEST-NET address, not ours).
    node._overrides["listeners"] = (
        f"PLAINTEXT://192.0.2.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}"
    )
    try:
        with pytest.raises(HarnessError) as caught:
            cluster.start()
        message = str(caught.value)
        first, _, tail = message.partition("\n")
        assert first.startswith(f"kafka node 1 on port {node.port} exited during startup: ")
        assert "192.0.2.1" in first and "root cause: java.net.BindException" in first
        assert first.endswith("; log tail:") and "ERROR" in tail and "\tat " not in tail
        assert not node.is_running
    finally:
        cluster.stop()


def test_storage_of_another_node_fails_at_format_with_the_reason() -> None:
    cluster = KafkaCluster(nodes=1)
    node = cluster.nodes[0]
    node.format()
    meta = node.data_dir / "data" / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=99"))
    try:
        with pytest.raises(HarnessError, match=r"^kafka storage format failed for node 1: .*(99|node)"):
            cluster.start()
    finally:
        cluster.stop()


def test_a_bad_config_fails_at_format_with_one_line() -> None:
    cluster = KafkaCluster(nodes=1)
    cluster.nodes[0]._overrides["log.dirs"] = "/proc/forbidden/kafka"
    try:
        with pytest.raises(HarnessError, match=r"^kafka storage format failed for node 1: .+"):
            cluster.start()
    finally:
        cluster.stop()


def test_missing_java_or_jars_say_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HarnessError, match="java not found"):
        node_module.java()
    monkeypatch.undo()
    monkeypatch.setattr(node_module, "LIBS", tmp_path)
    with pytest.raises(HarnessError, match="make setup"):
        node_module.java()


def test_cli_up_reuses_status_and_down(tmp_path: Path) -> None:
    port = free_ports(1)[0]
    directory = tmp_path / "kafka"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "harness", *args, "--dir", str(directory)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)

    try:
        up = cli("up", "--port", str(port))
        assert up.returncode == 0, up.stderr
        assert f"\nkafka ready at 127.0.0.1:{port} (started in" in up.stdout
        pid = int((directory / "node-1" / "pid").read_text().split()[0])
        os.kill(pid, 0)  # the broker outlived the command
        assert psutil.Process(pid).ppid() != os.getpid()  # and is nobody's child here: never our zombie
        again = cli("up", "--port", str(port))
        assert again.stdout.startswith(f"kafka ready at 127.0.0.1:{port} (already running, pid {pid}")
        assert cli("status").returncode == 0
        other = cli("up", "--port", str(port + 7))
        assert other.returncode == 2 and f"already runs on port {port}" in other.stderr
    finally:
        started = time.monotonic()
        down = cli("down")
    assert time.monotonic() - started <= 10
    assert down.returncode == 0 and "kafka stopped in" in down.stdout, down.stderr
    assert cli("status").returncode == 1
    assert cli("down").stdout.strip() == "kafka is not running"


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a kill -9 of the Python parent takes its managed children with it."""
    script = (
        "import sys, time; from pathlib import Path; from harness.process import ManagedProcess;"
        f"p = ManagedProcess(['sleep', '300'], Path({str(tmp_path / 'sleep.log')!r})).start();"
        "print(p.pid, flush=True); time.sleep(300)"
    )
    parent = ManagedProcess([sys.executable, "-c", script], tmp_path / "parent.log", cwd=ROOT).start()
    try:
        assert wait_for(lambda: parent.output().strip().isdigit(), 20)
        child = int(parent.output())
        os.kill(child, 0)
        parent.kill9()
        assert wait_for(lambda: not _alive(child), 10)
    finally:
        parent.stop(1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
