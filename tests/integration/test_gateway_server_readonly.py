"""The gateway's WebSocket server, served for real on a loopback port and read by real Perspective
5.5.1 clients: reading tables, read-only refusals (mutating, smuggled, malformed and text frames),
and one connection's views being its own.

The server runs in this process against tables the test fills (no Kafka).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import perspective
import pytest
from tornado.websocket import websocket_connect

from gateway.serve.protocol import MAKE_VIEW, error_response, read_head
from harness.psp import connect
from tests.support.frames import field, request
from tests.support.live import QUOTES, QUOTES_SCHEMA, LiveGateway, live_gateway, refused, sample, until
from tests.support.live import ask as _ask
from tests.support.live import by_symbol as _by_symbol
from tests.support.live import view_requests as _view_requests
from tests.support.psp import rows
from tests.support.recorder import Recorder

Attempt = Callable[[Any, Any], Awaitable[Any]]


def _server_rows(gw: LiveGateway) -> list[dict[str, Any]]:
    view = gw.quotes.view()
    try:
        return _by_symbol(view.to_records())
    finally:
        view.delete()


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
        assert len(gw.policy.views) == 0
        assert b"refused" not in await _ask(ws, frames["make_view"])
        ws.close()
        await until(lambda: len(gw.policy.views) == 0)  # released when the connection goes
