"""docker-compose.yml and the Dockerfiles, checked without a Docker engine."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.compose.compose_file import (
    COMPOSE,
    ROOT,
    SETTINGS,
    client_variables,
    dockerfile_has_healthcheck,
    load,
    services,
    setting_names,
)

DOCKERFILES = ["producer/Dockerfile", "gateway/Dockerfile", "client/Dockerfile"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_compose_file_matches_the_compose_specification_schema() -> None:
    result = _run(
        str(ROOT / ".venv/bin/check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_passes_dclint() -> None:
    result = _run(str(ROOT / "tools/node_modules/.bin/dclint"), str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile: str) -> None:
    result = _run(str(ROOT / ".venv/bin/hadolint"), "--failure-threshold", "info", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", ["producer", "gateway"])
def test_every_environment_variable_is_a_real_setting(service: str) -> None:
    env = set(services()[service].get("environment", {}))
    assert env - setting_names(SETTINGS[service]) == set()


def test_client_environment_matches_its_nginx_template() -> None:
    image_defaults = set(re.findall(r"(CLIENT_[A-Z_]+)=", (ROOT / "client/Dockerfile").read_text()))
    assert set(services()["client"]["environment"]) <= client_variables()
    assert client_variables() <= set(services()["client"]["environment"]) | image_defaults


def test_every_image_is_pinned() -> None:
    for name, service in services().items():
        image = service.get("image")
        if image:
            assert re.match(r".+:\d+\.\d+\.\d+", image), f"{name}: {image} is not pinned to a version"
    for dockerfile in DOCKERFILES:
        for base in re.findall(r"^FROM (\S+)", (ROOT / dockerfile).read_text(), re.M):
            assert re.search(r":\d+\.\d+\.\d+", base), f"{dockerfile}: {base} is not pinned"


def test_producer_is_scalable() -> None:
    producer = services()["producer"]
    assert "container_name" not in producer
    assert "ports" not in producer
    assert "PRODUCER_PRODUCER_ID" not in producer.get("environment", {})  # hostname-pid differs per replica


def test_every_depends_on_waits_for_an_existing_healthcheck() -> None:
    all_services = services()
    for name, service in all_services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"
            target = all_services[dependency]
            assert "healthcheck" in target or dockerfile_has_healthcheck(target), dependency


def test_services_use_kafkas_advertised_internal_listener() -> None:
    kafka_env = services()["kafka"]["environment"]
    advertised = dict(item.split("://") for item in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert services()["producer"]["environment"]["PRODUCER_BOOTSTRAP_SERVERS"] == advertised["INTERNAL"]
    assert services()["gateway"]["environment"]["GATEWAY_BOOTSTRAP_SERVERS"] == advertised["INTERNAL"]
    assert advertised["HOST"] == "localhost:9092"


def test_kafka_image_is_the_harness_version() -> None:
    pom = (ROOT / "kafka/pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version is not None
    assert services()["kafka"]["image"] == f"apache/kafka:{version.group(1)}"


def test_kafka_keeps_its_data_in_a_named_volume() -> None:
    volume = services()["kafka"]["volumes"][0].split(":")[0]
    assert volume in load()["volumes"]
