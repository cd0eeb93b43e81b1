"""`docker compose up -d --build --scale producer=3 --wait` on a real engine: up, visible, lean."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request

import pytest
from playwright.async_api import Browser

from common.schema import FIELD_NAMES
from common.security import SECURITY_HEADERS as HEADERS
from harness.browser import open_dashboard
from tests.compose.conftest import HEALTHY_WITHIN, UP
from tests.support.compose_checks import DEV_TOOLS, tick_counts, until_async
from tests.support.compose_stand import Stand, http_json
from tests.support.dashboard import assert_live

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1200)]
SERVICE_IMAGES = ["tickerflow-gateway", "tickerflow-producer", "tickerflow-client", "tickerflow-history"]
VENV_LIMIT_MB = 350


def test_every_service_is_healthy_within_120s_of_the_images_being_built(single: Stand) -> None:
    assert single.timings[" ".join(UP)] <= HEALTHY_WITHIN
    states = {c["Name"]: (c["State"], c["Health"]) for c in single.containers()}
    assert len(states) == 7  # kafka, gateway, client, history, 3 producers
    assert set(states.values()) == {("running", "healthy")}, states


def test_readyz_through_8080_and_8081_says_ready(single: Stand) -> None:
    for port in (8080, 8081):
        assert http_json(f"http://127.0.0.1:{port}/readyz")["ready"] is True


async def test_a_host_perspective_client_sees_three_producers_with_rising_tick_counts(single: Stand) -> None:
    first = await until_async(lambda: tick_counts(3), 60, "3 producers in the roster", single)
    await asyncio.sleep(2)
    later = await tick_counts(3)
    assert later is not None and later.keys() == first.keys()
    assert all(later[producer] > first[producer] for producer in first), (first, later)


def test_kcat_on_localhost_9092_reads_a_tick_carrying_every_schema_field(single: Stand) -> None:
    result = subprocess.run(
        ["kcat", "-b", "localhost:9092", "-C", "-t", "ticks", "-o", "-1", "-c", "1", "-e", "-J", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    message = json.loads(result.stdout.splitlines()[0])
    tick = json.loads(message["payload"])
    assert set(tick) == set(FIELD_NAMES)
    assert dict(zip(message["headers"][::2], message["headers"][1::2], strict=True))["content-type"] == (
        "application/json"
    )


@pytest.mark.parametrize("port", [8080, 8081])
async def test_the_dashboard_is_live_in_chromium_with_no_console_error(
    single: Stand, browser: Browser, port: int
) -> None:
    dashboard = await open_dashboard(browser, f"http://127.0.0.1:{port}/")
    try:
        await assert_live(dashboard)  # also: no console error, so no Content-Security-Policy violation
    finally:
        await dashboard.page.close()


def test_the_nginx_client_sends_the_security_headers_on_every_response(single: Stand) -> None:
    for path in ("/", "/js/app.js", "/vendor/perspective-anywidget.js", "/config.json", "/no-such-page"):
        request = urllib.request.Request(f"http://127.0.0.1:8081{path}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                headers = response.headers
        except urllib.error.HTTPError as error:
            headers = error.headers
        assert {name: headers.get_all(name) for name in HEADERS} == {
            name: [value] for name, value in HEADERS.items()
        }, path


@pytest.mark.parametrize("image", SERVICE_IMAGES[:2])
def test_service_images_hold_the_runtime_only(single: Stand, image: str) -> None:
    listing = single.engine.docker(
        "run",
        "--rm",
        "--entrypoint",
        "python",
        image,
        "-c",
        "import importlib.metadata as m; "
        "print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))",
    ).stdout.split()
    assert "tickerflow" in listing and "perspective-python" in listing
    assert sorted(DEV_TOOLS & set(listing)) == []


def test_the_gateway_python_environment_is_at_most_350_mb(single: Stand) -> None:
    out = single.engine.docker(
        "run", "--rm", "--entrypoint", "du", "tickerflow-gateway", "-sm", "/opt/venv"
    ).stdout
    assert int(out.split()[0]) <= VENV_LIMIT_MB


@pytest.mark.parametrize("image", SERVICE_IMAGES)
def test_service_images_run_as_non_root_with_a_healthcheck(single: Stand, image: str) -> None:
    config = json.loads(single.engine.docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    assert config["User"] not in ("", "0", "root")
    assert config["Healthcheck"]["Test"][0] == "CMD"
