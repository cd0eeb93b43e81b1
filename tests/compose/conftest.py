"""The real-engine fixtures: a provisioned private Docker engine, the single-broker stack, Chromium.

Package-scoped, so the engine stops as soon as the compose tests are done, before the rest of a
``make test`` run. ``engine``: Debian's docker.io, our own dockerd under .run/docker/, the Compose CLI
and the stand-in images; always stopped (finalizer, atexit, SIGTERM). ``single``: the README's
``docker compose up -d --build --scale producer=3 --wait`` after a timed ``docker compose build``;
``docker compose down -v`` at the end whatever happened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import browser  # noqa: F401 - the same headless Chromium fixture
from tests.support.compose_engine import Engine
from tests.support.compose_stand import HOST_PORTS, SINGLE, Stand, busy_ports

UP = ("up", "-d", "--build", "--scale", "producer=3", "--wait")
HEALTHY_WITHIN = 120.0


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


@pytest.fixture(scope="package")
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    started = time.monotonic()
    docker = Engine()
    docker.guard()
    try:
        docker.provision()
        _say(
            request.config,
            f"\ndocker: engine, compose CLI and stand-ins ready in {time.monotonic() - started:.0f}s",
        )
        yield docker
    finally:
        docker.stop()


def start(stand: Stand, *up: str, within: float = HEALTHY_WITHIN + 60) -> None:
    """Clear what an interrupted run left, check the host ports, build (timed), then ``up``."""
    stand.down()
    busy = busy_ports(HOST_PORTS[stand.files])
    assert not busy, (
        f"host port(s) {busy} are in use: the compose files publish them on 127.0.0.1; "
        "stop whatever listens there (make run? another compose stack?) and run again"
    )
    stand.compose("build", timeout=900, record=False)
    stand.compose(*up, timeout=within)


@pytest.fixture(scope="package")
def single(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Stand]:
    stand = Stand(engine, SINGLE)
    try:
        start(stand, *UP)
        _say(
            request.config,
            f"\ncompose: build {stand.timings['build']:.0f}s, "
            f"up to healthy {stand.timings[' '.join(UP)]:.0f}s",
        )
        yield stand
    finally:
        stand.down()
