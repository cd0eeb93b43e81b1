"""docker-compose.cluster.yml, alone and merged onto docker-compose.yml: a 3-broker KRaft Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cluster import _replication_settings
from tests.support.compose_file import (
    CLUSTER,
    cluster,
    dclint_problems,
    listeners,
    load,
    merge,
    schema_errors,
    services,
    unhealthy_dependencies,
    unknown_settings,
    unpinned_images,
)

BROKERS = ["kafka", "kafka-2", "kafka-3"]
CLIENTS = {"producer": "PRODUCER_", "gateway": "GATEWAY_", "history": "HISTORY_"}


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return services(cluster())


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in service.get("environment", {}).items()}


def _properties(broker: dict[str, Any]) -> dict[str, str]:
    """The broker's server properties, by the apache/kafka image's rule (KAFKA_LOG_DIRS -> log.dirs)."""
    env = _env(broker)
    kafka = [key for key in env if key.startswith("KAFKA_")]
    return {key.removeprefix("KAFKA_").lower().replace("_", "."): env[key] for key in kafka}


def test_merge_follows_the_compose_rules() -> None:
    base = {
        "environment": {"A": "1", "B": "1"},
        "ports": ["1:1"],
        "volumes": ["a:/data", "b:/logs"],
        "healthcheck": {"test": ["CMD", "a"], "retries": 3},
    }
    override = {
        "environment": {"B": "2"},
        "ports": ["1:1", "2:2"],
        "volumes": ["c:/data"],
        "dns": ["x"],
        "healthcheck": {"test": ["CMD", "b"]},
    }
    assert merge(base, override) == {
        "environment": {"A": "1", "B": "2"},
        "ports": ["1:1", "2:2"],
        "volumes": ["c:/data", "b:/logs"],
        "dns": ["x"],
        "healthcheck": {"test": ["CMD", "b"], "retries": 3},
    }
    assert merge({"dns": ["x"]}, {"dns": ["y"]}) == {"dns": ["x", "y"]}


def test_cluster_override_matches_the_compose_specification_schema() -> None:
    assert schema_errors(CLUSTER) == ""


def test_cluster_override_passes_dclint() -> None:
    assert dclint_problems(CLUSTER) == ""


def test_merged_cluster_matches_the_compose_specification_schema(tmp_path: Path) -> None:
    path = tmp_path / "merged.yml"
    path.write_text(yaml.safe_dump(cluster(), sort_keys=False))
    assert schema_errors(path) == ""
    bad = cluster()
    bad["services"]["kafka-2"]["healthcheck"]["retry"] = 3  # the check is not vacuous
    path.write_text(yaml.safe_dump(bad, sort_keys=False))
    assert "retry" in schema_errors(path)


@pytest.mark.parametrize("service", list(CLIENTS))
def test_every_environment_variable_is_a_real_setting(merged: dict[str, Any], service: str) -> None:
    assert unknown_settings(merged, service) == set()


def test_brokers_form_one_quorum(merged: dict[str, Any]) -> None:
    envs = [_env(merged[name]) for name in BROKERS]
    voters = ",".join(f"{env['KAFKA_NODE_ID']}@{name}:9093" for name, env in zip(BROKERS, envs, strict=True))
    assert [env["KAFKA_NODE_ID"] for env in envs] == ["1", "2", "3"]
    assert {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in envs} == {voters}
    assert {env["CLUSTER_ID"] for env in envs} == {_env(services()["kafka"])["CLUSTER_ID"]}
    assert {env["KAFKA_PROCESS_ROLES"] for env in envs} == {"broker,controller"}
    assert [merged[name]["hostname"] for name in BROKERS] == BROKERS


@pytest.mark.parametrize("service", list(CLIENTS))
def test_services_bootstrap_from_each_brokers_internal_listener(merged: dict[str, Any], service: str) -> None:
    bootstrap = _env(merged[service])[f"{CLIENTS[service]}BOOTSTRAP_SERVERS"].split(",")
    internal = [listeners(_env(merged[name])["KAFKA_ADVERTISED_LISTENERS"])["INTERNAL"] for name in BROKERS]
    assert bootstrap == internal
    assert internal == [f"{name}:19092" for name in BROKERS]


def test_each_broker_advertises_its_own_host_port(merged: dict[str, Any]) -> None:
    for name in BROKERS:
        port = listeners(_env(merged[name])["KAFKA_ADVERTISED_LISTENERS"])["HOST"].split(":")[1]
        assert merged[name]["ports"] == [f"127.0.0.1:{port}:{port}"], name
        assert listeners(_env(merged[name])["KAFKA_LISTENERS"])["HOST"] == f"0.0.0.0:{port}", name


def test_each_brokers_healthcheck_asks_that_broker(merged: dict[str, Any]) -> None:
    for name in BROKERS:
        assert f"--bootstrap-server {name}:19092 " in " ".join(merged[name]["healthcheck"]["test"]), name


def test_every_host_port_is_distinct(merged: dict[str, Any]) -> None:
    published = [port.rsplit(":", 1)[0] for service in merged.values() for port in service.get("ports", [])]
    assert len(published) == len(set(published)) == 5  # 3 brokers, gateway, client
    assert "127.0.0.1:9092" in published


def test_brokers_replicate_like_the_harness_three_node_cluster(merged: dict[str, Any]) -> None:
    expected = _replication_settings(3)  # what `KafkaCluster(nodes=3)` runs with
    assert expected["default.replication.factor"] == expected["offsets.topic.replication.factor"] == "3"
    assert expected["min.insync.replicas"] == expected["transaction.state.log.min.isr"] == "2"
    for name in BROKERS:
        properties = _properties(merged[name])
        assert {key: properties.get(key) for key in expected} == expected, name
    assert _env(merged["producer"])["PRODUCER_REPLICATION"] == "3"
    assert _env(merged["gateway"])["GATEWAY_DLQ_REPLICATION"] == "3"


@pytest.mark.parametrize("service", list(CLIENTS))
def test_services_wait_for_all_three_healthy_brokers(merged: dict[str, Any], service: str) -> None:
    assert set(BROKERS) <= set(merged[service]["depends_on"])
    assert unhealthy_dependencies(merged) == []


def test_brokers_run_the_main_files_pinned_image_with_their_own_volumes(merged: dict[str, Any]) -> None:
    assert unpinned_images(merged) == []
    assert {merged[name]["image"] for name in BROKERS} == {services()["kafka"]["image"]}
    volumes = [merged[name]["volumes"] for name in BROKERS]
    assert all(len(mounts) == 1 for mounts in volumes)  # kafka's single-node volume is replaced
    names = [mounts[0].split(":")[0] for mounts in volumes]
    assert len(set(names)) == 3
    assert set(names) <= set(load(CLUSTER)["volumes"])
