"""docker-compose.yml and the Dockerfiles, checked without a Docker engine."""

from __future__ import annotations

import re

import pytest

from common.security import SECURITY_HEADERS as HEADERS
from tests.support.compose_file import (
    COMPOSE,
    ROOT,
    client_variables,
    dclint_problems,
    listeners,
    load,
    run,
    schema_errors,
    services,
    unhealthy_dependencies,
    unknown_settings,
    unpinned_images,
)

DOCKERFILES = ["Dockerfile", "client/Dockerfile"]


def test_compose_file_matches_the_compose_specification_schema() -> None:
    assert schema_errors(COMPOSE) == ""


def test_compose_file_passes_dclint() -> None:
    assert dclint_problems(COMPOSE) == ""


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile: str) -> None:
    result = run(str(ROOT / ".venv/bin/hadolint"), "--failure-threshold", "info", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", ["producer", "gateway", "history"])
def test_every_environment_variable_is_a_real_setting(service: str) -> None:
    assert unknown_settings(services(), service) == set()


def test_client_environment_matches_its_nginx_template() -> None:
    image_defaults = set(re.findall(r"(CLIENT_[A-Z_]+)=", (ROOT / "client/Dockerfile").read_text()))
    assert set(services()["client"]["environment"]) <= client_variables()
    assert client_variables() <= set(services()["client"]["environment"]) | image_defaults


def test_every_image_is_pinned() -> None:
    assert unpinned_images(services()) == []
    for dockerfile in DOCKERFILES:
        text = (ROOT / dockerfile).read_text()
        stages = set(re.findall(r"^FROM \S+ AS (\S+)", text, re.M))
        for base in set(re.findall(r"^FROM (\S+)", text, re.M)) - stages:
            assert re.search(r":\d+\.\d+\.\d+", base), f"{dockerfile}: {base} is not pinned"


def test_producer_is_scalable() -> None:
    producer = services()["producer"]
    assert "container_name" not in producer
    assert "ports" not in producer
    assert "PRODUCER_PRODUCER_ID" not in producer.get("environment", {})  # hostname-pid differs per replica


def test_every_depends_on_waits_for_an_existing_healthcheck() -> None:
    assert unhealthy_dependencies(services()) == []


def test_services_use_kafkas_advertised_internal_listener() -> None:
    advertised = listeners(services()["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"])
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


def test_the_nginx_client_sets_the_shared_security_headers() -> None:
    template = (ROOT / "client/nginx/default.conf.template").read_text()
    set_there = dict(re.findall(r'^ +add_header ([\w-]+) "([^"]*)" always;$', template, re.M))
    assert set_there == HEADERS
