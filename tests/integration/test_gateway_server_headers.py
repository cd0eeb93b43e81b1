"""Every HTTP response of the gateway carries the security headers of common/security.py: pages,
static files, the bundle, probes, metrics, tickets, errors, 404s and WebSocket upgrades.

The server runs for real in this process on a loopback port (no Kafka needed for headers).
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from tornado.httputil import HTTPHeaders

from common.security import SECURITY_HEADERS
from tests.support.live import http, live_gateway

pytestmark = pytest.mark.integration

TOKEN = "a-token-of-sixteen-or-more"

ROUTES = [  # (method, path, extra headers, expected status)
    ("GET", "/", {}, 200),
    ("GET", "/index.html", {}, 200),
    ("GET", "/js/app.js", {}, 200),
    ("GET", "/style.css", {}, 200),
    ("GET", "/vendor/perspective-anywidget.js", {}, 200),
    ("GET", "/vendor/perspective-anywidget.css", {}, 200),
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 503),
    ("GET", "/metrics", {}, 401),
    ("GET", "/metrics", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("GET", "/config.json", {}, 200),
    ("POST", "/auth/ticket", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("POST", "/auth/ticket", {"Authorization": "Bearer wrong"}, 401),
    ("GET", "/no-such-page.html", {}, 404),
    ("GET", "/../../etc/passwd", {}, 403),
    ("POST", "/healthz", {}, 405),
    ("GET", "/websocket", {}, 401),  # no ticket: refused before the upgrade
]


def _missing(headers: HTTPHeaders) -> dict[str, str | None]:
    return {name: headers.get(name) for name, value in SECURITY_HEADERS.items() if headers.get(name) != value}


@pytest.mark.parametrize(("method", "path", "extra", "status"), ROUTES, ids=lambda v: str(v))
async def test_every_route_carries_the_security_headers(
    method: str, path: str, extra: dict[str, str], status: int
) -> None:
    async with live_gateway(token=TOKEN, metrics_token=TOKEN) as gw:
        response = await http(gw, path, method, **extra)
        assert response.code == status
        assert _missing(response.headers) == {}


async def test_a_not_modified_static_file_still_carries_them() -> None:
    async with live_gateway() as gw:
        first = await http(gw, "/js/app.js")
        again = await http(gw, "/js/app.js", **{"If-None-Match": first.headers["Etag"]})
        assert again.code == 304
        assert _missing(again.headers) == {}


def _upgrade(port: int) -> HTTPHeaders:
    """The raw 101 response of a WebSocket upgrade (a real client hides it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            assert chunk, f"closed during the handshake: {response!r}"
            response += chunk
    head = response.split(b"\r\n\r\n", 1)[0].decode()
    status, _, rest = head.partition("\r\n")
    assert " 101 " in status, status
    return HTTPHeaders.parse(rest + "\r\n")


async def test_an_accepted_websocket_upgrade_carries_them() -> None:
    async with live_gateway() as gw:
        headers = await asyncio.to_thread(_upgrade, gw.settings.port)
        assert _missing(headers) == {}


def test_the_policy_allows_what_the_page_needs_and_no_framing() -> None:
    csp = dict(d.split(" ", 1) for d in SECURITY_HEADERS["Content-Security-Policy"].split("; "))
    assert csp["frame-ancestors"] == "'none'"
    assert "'wasm-unsafe-eval'" in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"].split()
    assert csp["connect-src"] == "'self'"
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
