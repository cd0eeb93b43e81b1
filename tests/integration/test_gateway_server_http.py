"""The gateway's HTTP routes (readiness, metrics, the page and the viewer bundle) and shutdown,
served for real on a loopback port, and `python -m gateway` run as users do.

Most tests run the server in this process against tables the test fills (no Kafka); the last
ones run `python -m gateway`, the very last against the harness broker.
"""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient
from tornado.websocket import WebSocketClientConnection, websocket_connect

from gateway.serve.routes import VENDOR_DIR
from harness.ports import free_port
from harness.process import http_ok
from harness.psp import connect
from harness.services import start_gateway
from tests.support.live import ask as _ask
from tests.support.live import http as _http
from tests.support.live import live_gateway, until
from tests.support.live import view_requests as _view_requests

# -- HTTP routes ---------------------------------------------------------------------------


async def test_readyz_is_503_with_the_failing_check_until_the_pipeline_is_ready() -> None:
    async with live_gateway() as gw:
        gw.readiness.checks = {"broker": True, "assigned": True, "caught_up": False}
        waiting = await _http(gw, "/readyz")
        assert (waiting.code, json.loads(waiting.body)) == (
            503,
            {"ready": False, "broker": True, "assigned": True, "caught_up": False},
        )
        gw.readiness.checks["caught_up"] = True
        ready = await _http(gw, "/readyz")
        assert (ready.code, json.loads(ready.body)["ready"]) == (200, True)


async def test_metrics_parse_and_carry_the_websocket_counters() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as client:
        await client.get_hosted_table_names()
        response = await _http(gw, "/metrics")
    assert response.code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.body.decode())}
    expected = ("gateway_ws_clients", "gateway_ws_connections", "gateway_ws_refused", "gateway_ws_frames")
    assert set(expected) | {"gateway_ws_bytes_out"} <= set(families)
    assert families["gateway_ws_bytes_out"].samples[0].value > 0


async def test_a_metrics_token_protects_metrics() -> None:
    async with live_gateway(metrics_token="scrape-secret-1") as gw:
        assert (await _http(gw, "/metrics")).code == 401
        assert (await _http(gw, "/metrics", Authorization="Bearer nope-nope-1")).code == 401
        allowed = await _http(gw, "/metrics", Authorization="Bearer scrape-secret-1")
        assert allowed.code == 200
        assert b"gateway_ws_clients" in allowed.body


async def test_the_page_and_the_viewer_bundle_are_served() -> None:
    async with live_gateway() as gw:
        page = await _http(gw, "/")
        assert page.body == (Path(gw.settings.client_dir) / "index.html").read_bytes()
        for name in ("perspective-anywidget.js", "perspective-anywidget.css"):
            bundle = await _http(gw, f"/vendor/{name}")
            assert bundle.code == 200
            assert bundle.headers["Cache-Control"] == "public, max-age=86400"
            assert len(bundle.body) == (VENDOR_DIR / name).stat().st_size
        assert (await _http(gw, "/vendor/../widget.py")).code == 404


async def test_closing_all_connections_says_going_away() -> None:
    async with live_gateway() as gw:
        ws: WebSocketClientConnection = await websocket_connect(gw.ws_url)
        await until(lambda: len(gw.connections) == 1)
        await gw.connections.close_all()
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == 1001
        assert len(gw.connections) == 0


# -- `python -m gateway` -------------------------------------------------------------------


def _clients(url: str) -> float:
    return float(_metric_families(url)["gateway_ws_clients"].samples[0].value)


def _metric_families(url: str, **headers: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/metrics", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return {f.name: f for f in text_string_to_metric_families(response.read().decode())}


async def test_the_gateway_process_without_a_broker_is_alive_not_ready_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    gateway = start_gateway(f"127.0.0.1:{free_port()}", "ticks", tmp_path, ready=False)
    try:
        ready = await AsyncHTTPClient().fetch(f"{gateway.url}/readyz", raise_error=False)
        assert (ready.code, json.loads(ready.body)["broker"]) == (503, False)
        gateway.process.signal(signal.SIGTERM)
        assert gateway.process.wait(15) == 0
    finally:
        gateway.process.kill()


async def test_clients_sharing_or_stealing_a_view_id_cannot_crash_the_gateway(tmp_path: Path) -> None:
    """Perspective aborts the process when a session closes a view another one made or deleted."""
    frames = await _view_requests()
    gateway = start_gateway(f"127.0.0.1:{free_port()}", "ticks", tmp_path, ready=False)
    try:
        sockets = [await websocket_connect(gateway.ws_url) for _ in range(3)]
        for ws in sockets:
            await _ask(ws, frames["make_view"])  # the 2nd and 3rd are refused
        await _ask(sockets[1], frames["delete"])  # refused: not its view
        for ws in sockets:
            ws.close()
        await until(lambda: not gateway.process.running or _clients(gateway.url) == 0)
        assert gateway.process.running, gateway.process.tail()
        async with connect(gateway.ws_url) as client:
            assert "quotes" in await client.get_hosted_table_names()
    finally:
        gateway.process.kill()


@pytest.mark.integration
async def test_the_gateway_process_is_ready_serves_metrics_and_exits_0_on_sigterm(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path, ready=False, metrics_token="scrape-secret-1")
    try:
        await until(lambda: http_ok(f"{gateway.url}/readyz"), timeout=60)
        families = _metric_families(gateway.url, Authorization="Bearer scrape-secret-1")
        assert {"gateway_ticks", "gateway_ws_refused", "gateway_ws_clients", "gateway_consumer_lag"} <= set(
            families
        )
        ws = await websocket_connect(gateway.ws_url)
        gateway.process.signal(signal.SIGTERM)
        assert await asyncio.wait_for(ws.read_message(), 10) is None
        assert ws.close_code == 1001  # told "going away", not cut off
        assert gateway.process.wait(15) == 0
    finally:
        gateway.process.kill()
