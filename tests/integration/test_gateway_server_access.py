"""The gateway's HTTP + WebSocket server, served for real on a loopback port and read by real
Perspective 5.5.1 clients: who may connect and how much — the page's origin, the connection,
frame and backlog limits, and tickets.

The server runs in this process against tables the test fills (no Kafka).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from harness.psp import connect
from tests.support.live import QUOTES, LiveGateway, live_gateway, refused, sample, until
from tests.support.live import by_symbol as _by_symbol
from tests.support.live import http as _http
from tests.support.psp import rows
from tests.support.rawws import frame, handshake
from tests.support.recorder import Recorder

TOKEN = "correct-horse-battery-staple"


async def _refused_upgrade(url: str, **headers: str) -> int:
    """The HTTP status a WebSocket upgrade is refused with (fails if it is accepted)."""
    with pytest.raises(HTTPClientError) as refusal:
        await websocket_connect(HTTPRequest(url, headers=headers))
    return refusal.value.code


async def _ticket(gw: LiveGateway) -> str:
    response = await _http(gw, "/auth/ticket", "POST", Authorization=f"Bearer {TOKEN}")
    assert response.code == 200
    ticket: str = json.loads(response.body)["ticket"]
    return ticket


# -- origin, limits ------------------------------------------------------------------------


async def test_a_page_from_another_origin_is_refused() -> None:
    async with live_gateway(allowed_origins="http://good.example, https://also.example") as gw:
        before = refused("bad_origin")
        assert await _refused_upgrade(gw.ws_url, Origin="http://evil.example") == 403
        assert refused("bad_origin") == before + 1
        async with connect(gw.ws_url, origin="https://also.example") as client:
            assert await client.get_hosted_table_names() == ["quotes"]


async def test_connections_over_the_cap_are_refused_with_503_before_the_upgrade() -> None:
    async with live_gateway(max_connections=2) as gw:
        before = refused("too_many_connections")
        first = await websocket_connect(gw.ws_url)
        await websocket_connect(gw.ws_url)
        assert await _refused_upgrade(gw.ws_url) == 503
        assert refused("too_many_connections") == before + 1
        first.close()
        await until(lambda: len(gw.connections) == 1)
        await websocket_connect(gw.ws_url)  # the freed slot is usable again


async def test_the_clients_count_follows_open_websockets() -> None:
    async with live_gateway() as gw:
        sockets = [await websocket_connect(gw.ws_url) for _ in range(3)]
        await until(lambda: len(gw.connections) == 3)
        assert sample("gateway_ws_clients") == 3
        sockets[0].close()
        await until(lambda: len(gw.connections) == 2)
        assert sample("gateway_ws_clients") == 2


async def test_an_oversized_frame_closes_the_connection() -> None:
    async with live_gateway(max_frame_bytes=2048) as gw:
        before = refused("oversized_frame")
        ws = await websocket_connect(gw.ws_url)
        await ws.write_message(b"\x08" * 4096, binary=True)
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == 1009
        assert refused("oversized_frame") == before + 1
        async with connect(gw.ws_url) as client:  # the next client is fine
            assert len(await rows(client, "quotes")) == 3


async def test_a_client_that_never_reads_is_cut_off_and_others_carry_on() -> None:
    schema = {"n": "integer", "a": "float", "b": "float", "c": "float"}
    async with Recorder({"big": schema}) as recorder:
        view = await (await recorder.client.open_table("big")).view()
        await view.to_arrow()
        subscribe, snapshot = recorder.sent[:-1], recorder.sent[-1]
    async with live_gateway(max_pending_bytes=65_536) as gw:
        gw.local.table(schema, name="big").update(
            {"n": list(range(20_000)), "a": [0.5] * 20_000, "b": [1.5] * 20_000, "c": [2.5] * 20_000}
        )
        before = refused("slow_client")
        # A blocking socket, so off the loop the server runs on.
        sock = await asyncio.to_thread(handshake, "127.0.0.1", gw.settings.port)
        requests = b"".join(frame(r) for r in [*subscribe, *[snapshot] * 60])  # ~20 MB of replies, unread
        await asyncio.to_thread(sock.sendall, requests)
        await until(lambda: refused("slow_client") == before + 1, timeout=20)
        async with connect(gw.ws_url) as client:
            assert len(await rows(client, "quotes")) == 3
        sock.close()


# -- tickets -------------------------------------------------------------------------------


async def test_with_a_token_a_client_without_a_ticket_sees_no_table() -> None:
    async with live_gateway(token=TOKEN) as gw:
        before = refused("missing_ticket")
        with pytest.raises(HTTPClientError) as refusal:
            await websocket_connect(gw.ws_url)
        assert refusal.value.code == 401
        assert refusal.value.response is not None
        assert b"quotes" not in refusal.value.response.body
        assert refused("missing_ticket") == before + 1


async def test_a_fresh_ticket_opens_the_websocket_once() -> None:
    async with live_gateway(token=TOKEN) as gw:
        ticket = await _ticket(gw)
        async with connect(f"{gw.ws_url}?ticket={ticket}") as client:
            assert _by_symbol(await rows(client, "quotes")) == QUOTES
        before = refused("replayed_ticket")
        assert await _refused_upgrade(f"{gw.ws_url}?ticket={ticket}") == 401
        assert refused("replayed_ticket") == before + 1


async def test_a_stale_ticket_is_refused() -> None:
    async with live_gateway(token=TOKEN) as gw:
        stale = gw.tickets.issue(now=time.time() - 60)  # correctly signed, expired 30 s ago
        before = refused("stale_ticket")
        assert await _refused_upgrade(f"{gw.ws_url}?ticket={stale}") == 401
        assert refused("stale_ticket") == before + 1


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda t: "9" + t, "bad_ticket"),  # a later expiry, the old signature
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad_ticket"),
        (lambda t: "not-a-ticket", "malformed_ticket"),
        (lambda t: "²" + t, "malformed_ticket"),  # a Unicode digit must not reach int()
        (lambda t: "1" * 5000 + t, "malformed_ticket"),
    ],
)
async def test_a_forged_ticket_is_refused(forge: Callable[[str], str], reason: str) -> None:
    async with live_gateway(token=TOKEN) as gw:
        before = refused(reason)
        url = f"{gw.ws_url}?ticket={quote(forge(await _ticket(gw)), safe='')}"
        assert await _refused_upgrade(url) == 401
        assert refused(reason) == before + 1


@pytest.mark.parametrize("query", [f"?token={TOKEN}", f"?ticket={TOKEN}", f"?x={TOKEN}&ticket=VALID"])
async def test_the_secret_in_the_websocket_url_is_refused(query: str) -> None:
    async with live_gateway(token=TOKEN) as gw:
        before = refused("token_in_query")
        url = gw.ws_url + query.replace("VALID", await _ticket(gw))
        assert await _refused_upgrade(url) == 401
        assert refused("token_in_query") == before + 1


@pytest.mark.parametrize(
    "header", ["", "Bearer wrong-token-123", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer é"]
)
async def test_a_wrong_token_gets_no_ticket(header: str) -> None:
    async with live_gateway(token=TOKEN) as gw:
        before = refused("wrong_token")
        response = await _http(gw, "/auth/ticket", "POST", Authorization=header)
        assert response.code == 401
        assert "ticket" not in json.loads(response.body)
        assert refused("wrong_token") == before + 1


async def test_without_a_token_the_websocket_is_open_and_no_tickets_are_issued() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as client:
        assert await client.get_hosted_table_names() == ["quotes"]
        assert (await _http(gw, "/auth/ticket", "POST", Authorization=f"Bearer {TOKEN}")).code == 404
        assert json.loads((await _http(gw, "/config.json")).body)["auth"] is False


async def test_the_page_config_says_auth_is_on_and_healthz_stays_open() -> None:
    async with live_gateway(token=TOKEN) as gw:
        assert json.loads((await _http(gw, "/config.json")).body) == {"auth": True, "websocket": "/websocket"}
        health = await _http(gw, "/healthz")
        assert (health.code, json.loads(health.body)) == (200, {"status": "alive"})
