"""The gateway's HTTP + WebSocket server, served for real on a loopback port and read by real
Perspective 5.5.1 clients: read-only tables, origin, tickets, limits, health, metrics, shutdown.

Most tests run the server in this process against tables the test fills (no Kafka); the last
ones run `python -m gateway` against the harness broker, as users do.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import perspective
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from gateway.protocol import MAKE_VIEW, error_response, read_head
from gateway.server import VENDOR_DIR
from harness.ports import free_port
from harness.process import http_ok
from tests.gateway_server.frames import field, request
from tests.gateway_server.live import QUOTES, QUOTES_SCHEMA, LiveGateway, live_gateway, refused, sample, until
from tests.gateway_server.recorder import Recorder
from tests.psp import connect, rows
from tests.reliability.rawws import frame, handshake
from tests.services import start_gateway

TOKEN = "correct-horse-battery-staple"
Attempt = Callable[[Any, Any], Awaitable[Any]]


def _by_symbol(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: str(r["symbol"]))


def _server_rows(gw: LiveGateway) -> list[dict[str, Any]]:
    view = gw.quotes.view()
    try:
        return _by_symbol(view.to_records())
    finally:
        view.delete()


async def _http(gw: LiveGateway, path: str, method: str = "GET", **headers: str) -> HTTPResponse:
    body = b"" if method == "POST" else None
    request = HTTPRequest(gw.url + path, method=method, headers=headers, body=body)
    return await AsyncHTTPClient().fetch(request, raise_error=False)


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


# -- reading -------------------------------------------------------------------------------


async def test_a_client_opens_a_table_and_reads_its_rows() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as client:
        assert await client.get_hosted_table_names() == ["quotes"]
        assert _by_symbol(await rows(client, "quotes")) == QUOTES


async def test_a_client_sees_updates_made_on_the_server() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as client:
        view = await (await client.open_table("quotes")).view()
        gw.quotes.update([{"symbol": "AAA", "price": 11.5, "volume": 150}])
        records = _by_symbol(await view.to_records())
        assert records[0] == {"symbol": "AAA", "price": 11.5, "volume": 150}


# -- read-only -----------------------------------------------------------------------------


async def _update(client: Any, table: Any) -> Any:
    return await table.update([{"symbol": "AAA", "price": 1.0, "volume": 1}])


async def _replace(client: Any, table: Any) -> Any:
    return await table.replace([{"symbol": "ZZZ", "price": 1.0, "volume": 1}])


async def _clear(client: Any, table: Any) -> Any:
    return await table.clear()


async def _remove(client: Any, table: Any) -> Any:
    return await table.remove(["AAA"])


async def _delete(client: Any, table: Any) -> Any:
    return await table.delete()


async def _make_table(client: Any, table: Any) -> Any:
    return await client.table({"x": "integer"}, name="rogue")


async def _join(client: Any, table: Any) -> Any:
    return await client.join("quotes", "quotes", "symbol")


MUTATIONS: list[tuple[str, Attempt]] = [
    ("table_update", _update),
    ("table_replace", _replace),
    ("table_replace", _clear),
    ("table_remove", _remove),
    ("table_delete", _delete),
    ("make_table", _make_table),
    ("make_join_table", _join),
]


@pytest.mark.parametrize(("kind", "attempt"), MUTATIONS, ids=[a.__name__.strip("_") for _, a in MUTATIONS])
async def test_a_mutating_request_is_refused_with_an_error_and_changes_nothing(
    kind: str, attempt: Attempt
) -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as bystander, connect(gw.ws_url) as attacker:
        watched = await (await bystander.open_table("quotes")).view()
        updates: list[int] = []
        await watched.on_update(lambda *_: updates.append(1))
        before = refused(f"mutating_{kind}")
        table = await attacker.open_table("quotes")

        with pytest.raises(perspective.PerspectiveError, match=f"{kind} refused: tables are read-only"):
            await asyncio.wait_for(attempt(attacker, table), 5)  # an error reply, not a hang

        assert refused(f"mutating_{kind}") == before + 1
        assert _server_rows(gw) == QUOTES
        assert gw.local.get_hosted_table_names() == ["quotes"]
        assert await table.size() == 3  # the attacker's own connection still works
        gw.quotes.update([{"symbol": "DDD", "price": 40.0, "volume": 400}])
        await until(lambda: len(updates) == 1)  # and the bystander still gets live updates
        assert len(await rows(bystander, "quotes")) == 4


async def test_an_update_smuggled_behind_a_harmless_request_is_refused() -> None:
    """Protobuf lets the last member of a oneof win: `size` then `update` would be an update."""
    async with Recorder({"quotes": QUOTES_SCHEMA}) as recorder:
        update = await recorder.last_request(_recorded_update)
    kind_at = update.index(b"\x12\x06quotes") + 8
    smuggled = update[:kind_at] + b"\x42\x00" + update[kind_at:]
    async with live_gateway() as gw:
        before = refused("malformed_request")
        ws = await websocket_connect(gw.ws_url)
        await ws.write_message(smuggled, binary=True)
        await until(lambda: refused("malformed_request") == before + 1)
        ws.close()
        assert _server_rows(gw) == QUOTES


async def _recorded_update(client: Any) -> Any:
    return await _update(client, await client.open_table("quotes"))


async def test_the_refusal_reply_answers_the_requests_own_id() -> None:
    async with Recorder({"quotes": QUOTES_SCHEMA}) as recorder:
        update = await recorder.last_request(_recorded_update)
    head = read_head(update)
    assert head is not None
    async with live_gateway() as gw:
        ws = await websocket_connect(gw.ws_url)
        await ws.write_message(update, binary=True)
        reply = await asyncio.wait_for(ws.read_message(), 5)
        ws.close()
    assert reply == error_response(head.msg_id, "quotes", "table_update refused: tables are read-only")


async def test_random_and_malformed_frames_are_refused_counted_and_serving_goes_on() -> None:
    rng = random.Random(5)
    frames = [b"", b"\xff" * 11, *(rng.randbytes(rng.randint(1, 300)) for _ in range(300))]
    malformed = sum(read_head(f) is None for f in frames)
    async with live_gateway() as gw:
        before, frames_before = refused("malformed_request"), sample("gateway_ws_frames_total")
        ws = await websocket_connect(gw.ws_url)
        for garbage in frames:
            await ws.write_message(garbage, binary=True)
        await ws.write_message("text, not protobuf")
        await until(lambda: sample("gateway_ws_frames_total") == frames_before + len(frames) + 1)
        assert refused("malformed_request") == before + malformed
        assert malformed > 250
        async with connect(gw.ws_url) as client:
            assert _by_symbol(await rows(client, "quotes")) == QUOTES
        assert _server_rows(gw) == QUOTES
        ws.close()


async def test_a_text_frame_is_refused() -> None:
    async with live_gateway() as gw:
        before = refused("text_frame")
        ws = await websocket_connect(gw.ws_url)
        await ws.write_message("{}")
        await until(lambda: refused("text_frame") == before + 1)
        ws.close()


# -- views: one connection's views are its own ---------------------------------------------


async def _view_requests() -> dict[str, bytes]:
    """A real client's make-view, to-arrow and view-delete frames (replayable: the ids are its own)."""
    async with Recorder({"quotes": QUOTES_SCHEMA}) as recorder:
        view = await (await recorder.client.open_table("quotes")).view()
        make_view = recorder.sent[-1]
        await view.to_arrow()
        to_arrow = recorder.sent[-1]
        await view.delete()
        return {"make_view": make_view, "to_arrow": to_arrow, "delete": recorder.sent[-1]}


async def _ask(ws: WebSocketClientConnection, message: bytes) -> bytes:
    await ws.write_message(message, binary=True)
    reply = await asyncio.wait_for(ws.read_message(), 5)
    assert isinstance(reply, bytes)
    return reply


async def test_a_view_id_already_in_use_is_refused() -> None:
    frames = await _view_requests()
    async with live_gateway() as gw:
        first, second = await websocket_connect(gw.ws_url), await websocket_connect(gw.ws_url)
        before = refused("view_id_in_use")
        assert b"refused" not in await _ask(first, frames["make_view"])
        assert b"view refused: view id in use" in await _ask(second, frames["make_view"])
        assert refused("view_id_in_use") == before + 1
        first.close()
        second.close()


async def test_a_request_on_another_connections_view_is_refused() -> None:
    frames = await _view_requests()
    async with live_gateway() as gw:
        owner, other = await websocket_connect(gw.ws_url), await websocket_connect(gw.ws_url)
        await _ask(owner, frames["make_view"])
        before = refused("foreign_view")
        for request_name in ("to_arrow", "delete"):
            assert b"belongs to another connection" in await _ask(other, frames[request_name])
        assert refused("foreign_view") == before + 2
        assert b"refused" not in await _ask(owner, frames["to_arrow"])  # the owner's view is intact
        owner.close()
        other.close()


async def test_a_view_named_like_a_table_is_refused() -> None:
    make_view = request(1, "quotes", MAKE_VIEW, field(1, 2, b"quotes"))
    async with live_gateway() as gw, connect(gw.ws_url) as client:
        ws = await websocket_connect(gw.ws_url)
        assert b"view id in use" in await _ask(ws, make_view)
        assert len(await rows(client, "quotes")) == 3  # "quotes" still means the table for everyone
        ws.close()


async def test_a_deleted_view_id_can_be_used_again() -> None:
    frames = await _view_requests()
    async with live_gateway() as gw:
        ws = await websocket_connect(gw.ws_url)
        await _ask(ws, frames["make_view"])
        await _ask(ws, frames["delete"])
        assert len(gw.connections.views) == 0
        assert b"refused" not in await _ask(ws, frames["make_view"])
        ws.close()
        await until(lambda: len(gw.connections.views) == 0)  # released when the connection goes


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
