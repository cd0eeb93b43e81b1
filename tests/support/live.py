"""The gateway's HTTP + WebSocket server in this process, on a free loopback port, with its
real handler, routes and settings, and tables the test fills itself (no Kafka); plus the few
requests the server tests make of it (``http``, ``ask``, ``view_requests``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import perspective
from prometheus_client import REGISTRY
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection

from gateway.app import build_policy
from gateway.serve.connections import Connections
from gateway.serve.routes import make_app
from gateway.settings import GatewaySettings
from harness.ports import free_port
from tests.support.recorder import Recorder

QUOTES = [
    {"symbol": "AAA", "price": 10.0, "volume": 100},
    {"symbol": "BBB", "price": 20.0, "volume": 200},
    {"symbol": "CCC", "price": 30.0, "volume": 300},
]
QUOTES_SCHEMA = {"symbol": "string", "price": "float", "volume": "integer"}


class FakeReadiness:
    """Stands in for the Pipeline's readiness interface: readiness() and ready."""

    def __init__(self) -> None:
        self.checks = {"broker": False, "assigned": False, "caught_up": False}

    def readiness(self) -> dict[str, bool]:
        return dict(self.checks)

    @property
    def ready(self) -> bool:
        return all(self.checks.values())


class LiveGateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.server = perspective.Server()
        self.local = self.server.new_local_client()
        self.quotes = self.local.table(QUOTES_SCHEMA, index="symbol", name="quotes")
        self.quotes.update(QUOTES)
        self.readiness = FakeReadiness()
        self.connections = Connections()
        self.policy = build_policy(settings, self.server)
        self.tickets = self.policy.tickets
        app = make_app(settings, self.server, self.readiness, self.connections, self.policy)
        self.http = app.listen(settings.port, "127.0.0.1")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}/websocket"

    async def close(self) -> None:
        self.http.stop()
        await self.connections.close_all(timeout=1.0)
        await self.http.close_all_connections()


@asynccontextmanager
async def live_gateway(**settings: Any) -> AsyncIterator[LiveGateway]:
    """``async with live_gateway(token=..., max_connections=2) as gw:`` (any GatewaySettings field)."""
    config = GatewaySettings(port=free_port(), host="127.0.0.1", **settings)
    gateway = LiveGateway(config)
    try:
        yield gateway
    finally:
        await gateway.close()


def sample(name: str, **labels: str) -> float:
    """The current value of a metric in the default registry (0 if never touched)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def refused(reason: str) -> float:
    return sample("gateway_ws_refused_total", reason=reason)


async def until(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll a condition until it holds, or fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def by_symbol(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: str(r["symbol"]))


async def http(gw: LiveGateway, path: str, method: str = "GET", **headers: str) -> HTTPResponse:
    body = b"" if method == "POST" else None
    request = HTTPRequest(gw.url + path, method=method, headers=headers, body=body)
    return await AsyncHTTPClient().fetch(request, raise_error=False)


async def view_requests() -> dict[str, bytes]:
    """A real client's make-view, to-arrow and view-delete frames (replayable: the ids are its own)."""
    async with Recorder({"quotes": QUOTES_SCHEMA}) as recorder:
        view = await (await recorder.client.open_table("quotes")).view()
        make_view = recorder.sent[-1]
        await view.to_arrow()
        to_arrow = recorder.sent[-1]
        await view.delete()
        return {"make_view": make_view, "to_arrow": to_arrow, "delete": recorder.sent[-1]}


async def ask(ws: WebSocketClientConnection, message: bytes) -> bytes:
    await ws.write_message(message, binary=True)
    reply = await asyncio.wait_for(ws.read_message(), 5)
    assert isinstance(reply, bytes)
    return reply
