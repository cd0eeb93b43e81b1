"""The gateway's /history proxy, with a real gateway server and a real history server (real
DuckDB file) on loopback ports, read by a real Perspective client through the gateway's port.
"""

from __future__ import annotations

import asyncio
import json

import perspective
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.websocket import websocket_connect

from harness.ports import free_port
from harness.psp import connect
from tests.support.history_live import SYMBOLS, TICKS_PER_SYMBOL, Recording, live_history
from tests.support.live import live_gateway, refused
from tests.support.psp import rows

TOKEN = "shared-secret-0123456789"


async def test_a_client_reads_history_through_the_gateway_port(db: Recording) -> None:
    async with live_history(db) as history, live_gateway(history_url=history.ws_url) as gw:
        async with connect(gw.url.replace("http", "ws") + "/history") as client:
            bars = await client.open_table("history.bars_1m")
            view = await bars.view(columns=["ticks"], group_by=["symbol"], aggregates={"ticks": "sum"})
            columns = await view.to_columns()
        assert columns["__ROW_PATH__"] == [[], *[[s] for s in sorted(SYMBOLS)]]
        assert columns["ticks"] == [len(SYMBOLS) * TICKS_PER_SYMBOL, *[TICKS_PER_SYMBOL] * len(SYMBOLS)]


async def test_through_the_proxy_history_still_refuses_mutations(db: Recording) -> None:
    async with (
        live_history(db) as history,
        live_gateway(history_url=history.ws_url) as gw,
        connect(gw.url.replace("http", "ws") + "/history") as client,
    ):
        table = await client.open_table("history.ticks")
        with pytest.raises(perspective.PerspectiveError, match="table_update refused"):
            await asyncio.wait_for(table.update([{"symbol": "ZZZ"}]), 5)
        assert await table.size() == len(SYMBOLS) * TICKS_PER_SYMBOL


async def test_with_history_down_the_client_is_told_why_and_the_live_socket_keeps_working() -> None:
    down = f"ws://127.0.0.1:{free_port()}/history"  # nothing listens there
    async with live_gateway(history_url=down) as gw:
        before = refused("history_unavailable")
        ws = await websocket_connect(gw.url.replace("http", "ws") + "/history")
        assert await asyncio.wait_for(ws.read_message(), 10) is None
        assert (ws.close_code, ws.close_reason) == (1013, "history unavailable")
        assert refused("history_unavailable") == before + 1
        async with connect(gw.ws_url) as client:
            assert len(await rows(client, "quotes")) == 3


async def test_when_history_goes_away_the_proxied_client_is_closed_with_1013(db: Recording) -> None:
    async with live_history(db) as history, live_gateway(history_url=history.ws_url) as gw:
        ws = await websocket_connect(gw.url.replace("http", "ws") + "/history")
        await history.close()
        assert await asyncio.wait_for(ws.read_message(), 10) is None
        assert (ws.close_code, ws.close_reason) == (1013, "history unavailable")


async def test_with_a_shared_token_a_gateway_ticket_opens_history_through_the_proxy(db: Recording) -> None:
    async with (
        live_history(db, token=TOKEN) as history,
        live_gateway(history_url=history.ws_url, token=TOKEN) as gw,
    ):
        url = gw.url.replace("http", "ws") + "/history"
        with pytest.raises(HTTPClientError) as refused_upgrade:
            await websocket_connect(url)
        assert refused_upgrade.value.code == 401  # the gateway checks its own ticket first
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        response = await AsyncHTTPClient().fetch(
            gw.url + "/auth/ticket", method="POST", body=b"", headers=bearer
        )
        async with connect(f"{url}?ticket={json.loads(response.body)['ticket']}") as client:
            assert sorted(await client.get_hosted_table_names()) == ["history.bars_1m", "history.ticks"]
