"""A real Chromium, and a live stack (real broker, producer, gateway) per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from harness.browser import CHROMIUM, FLAGS
from harness.process import ManagedProcess
from harness.services import Gateway, start_gateway, start_producer


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
def e2e_topic(kafka: object, request: pytest.FixtureRequest) -> str:
    from harness.cluster import KafkaCluster

    assert isinstance(kafka, KafkaCluster)
    return kafka.create_topic(f"e2e-{request.module.__name__.rsplit('.', 1)[-1]}", 6, 1)


@pytest.fixture(scope="module")
def producer(
    kafka_bootstrap: str, e2e_topic: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagedProcess]:
    process = start_producer(
        kafka_bootstrap, e2e_topic, tmp_path_factory.mktemp("producer"), producer_id="e2e"
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def gateway(
    kafka_bootstrap: str, e2e_topic: str, producer: ManagedProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gw = start_gateway(kafka_bootstrap, e2e_topic, tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.process.stop()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path
