"""History's /history WebSocket, served for real on a loopback port over a real DuckDB file and
read by real Perspective 5.5.1 clients: the right candles and ticks come back; mutations and
injection attempts (column names, filters, sort, expressions, view names) are refused with an
error reply and nothing executed; the serve wing's protections hold (tickets, origin, caps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import perspective
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from gateway.serve.protocol import MAKE_VIEW, SERVER_ERROR, make_view_parts, read_head
from harness.psp import connect
from history.serve.handler import HistoryHandler, hosted_schemas
from tests.support.frames import field, request
from tests.support.history_live import (
    SYMBOLS,
    T0_MS,
    TICKS_PER_SYMBOL,
    Recording,
    history_refused,
    live_history,
)
from tests.support.live import until
from tests.support.rawws import frame, handshake

Attempt = Callable[[Any], Awaitable[Any]]


def _canary(db: Recording) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = db.execute("SELECT answer FROM history.canary").fetchall()
    return rows


# -- reading -------------------------------------------------------------------------------


async def test_a_client_sees_exactly_the_hosted_tables(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        assert sorted(await client.get_hosted_table_names()) == ["history.bars_1m", "history.ticks"]
        with pytest.raises(perspective.PerspectiveError):
            await (await client.open_table("history.canary")).view(columns=["answer"])


async def test_one_symbols_minute_candles_come_back_grouped_and_filtered(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        bars = await client.open_table("history.bars_1m")
        view = await bars.view(
            columns=["open", "close", "volume", "ticks"],
            group_by=["symbol"],
            # first/last over SQL groups take any row's: prices here only rise, so min/max it is.
            aggregates={"open": "min", "close": "max", "volume": "sum", "ticks": "sum"},
            filter=[["symbol", "==", "O'Q"]],
        )
        # O'Q (the third symbol) trades at 300 + s at second s, its day volume is 10 s: each
        # minute's volume is its rise, 590, three times.
        assert await view.to_columns() == {
            "__ROW_PATH__": [[], ["O'Q"]],
            "open": [300.0, 300.0],
            "close": [479.0, 479.0],
            "volume": [1770.0, 1770.0],
            "ticks": [180.0, 180.0],
        }


async def test_ungrouped_candles_come_in_symbol_and_minute_order(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        view = await (await client.open_table("history.bars_1m")).view(
            columns=["symbol", "minute", "open", "close"], filter=[["symbol", "==", "AAA"]]
        )
        assert await view.to_columns() == {
            "symbol": ["AAA"] * 3,
            "minute": [T0_MS, T0_MS + 60_000, T0_MS + 120_000],
            "open": [100.0, 160.0, 220.0],
            "close": [159.0, 219.0, 279.0],
        }


async def test_ticks_filter_by_time_given_as_epoch_ms(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        view = await (await client.open_table("history.ticks")).view(
            columns=["symbol", "price"], filter=[["event_time", ">=", T0_MS + 1000 * (TICKS_PER_SYMBOL - 1)]]
        )
        assert sorted((r["symbol"], r["price"]) for r in await view.to_records()) == [
            ("AAA", 279.0),
            ("BBB", 379.0),
            ("O'Q", 479.0),
        ]


async def test_every_query_runs_on_a_session_thread_not_the_ioloop(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        db.threads.clear()  # the hosted schemas were read at start, on the main thread
        view = await (await client.open_table("history.ticks")).view(columns=["price"], group_by=["symbol"])
        assert len(await view.to_records()) == len(SYMBOLS) + 1
        assert db.threads and all(name.startswith("history-session") for name in db.threads)


async def test_closing_a_connection_drops_its_views(db: Recording) -> None:
    async with live_history(db) as history:
        async with connect(history.ws_url) as client:
            await (await client.open_table("history.ticks")).view(columns=["price"])
            assert "CREATE TEMP TABLE psp_view_1" in db.statements[-2]
        await until(lambda: db.statements[-1] == "DROP TABLE IF EXISTS psp_view_1")


# -- read-only -----------------------------------------------------------------------------

MUTATIONS: list[tuple[str, Attempt]] = [
    ("table_update", lambda table: table.update([{"symbol": "ZZZ"}])),
    ("table_replace", lambda table: table.replace([{"symbol": "ZZZ"}])),
    ("table_replace", lambda table: table.clear()),
    ("table_remove", lambda table: table.remove(["AAA"])),
    ("table_delete", lambda table: table.delete()),
]


@pytest.mark.parametrize(
    ("kind", "attempt"), MUTATIONS, ids=["update", "replace", "clear", "remove", "delete"]
)
async def test_a_mutation_is_refused_with_an_error_and_runs_no_sql(
    db: Recording, kind: str, attempt: Attempt
) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        table = await client.open_table("history.ticks")
        before, ran = history_refused(f"mutating_{kind}"), len(db.statements)
        with pytest.raises(perspective.PerspectiveError, match=f"{kind} refused: tables are read-only"):
            await asyncio.wait_for(attempt(table), 5)
        assert history_refused(f"mutating_{kind}") == before + 1
        assert len(db.statements) == ran
        assert await table.size() == len(SYMBOLS) * TICKS_PER_SYMBOL


async def test_making_a_table_is_refused(db: Recording) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        with pytest.raises(perspective.PerspectiveError, match="make_table refused"):
            await asyncio.wait_for(client.table({"x": "integer"}, name="rogue"), 5)
        assert "rogue" not in await client.get_hosted_table_names()


# -- injection -----------------------------------------------------------------------------

_DROP = "DROP TABLE history.canary"
INJECTIONS: list[tuple[str, dict[str, Any]]] = [
    ("unknown_column", {"columns": ['price" FROM history.canary; DROP TABLE history.canary; --']}),
    ("unknown_column", {"columns": ["price"], "group_by": ['symbol"); DROP TABLE history.canary; --']}),
    ("unknown_column", {"columns": ["price"], "sort": [["price; DROP TABLE history.canary", "asc"]]}),
    ("bad_filter_value", {"columns": ["price"], "filter": [["price", "==", "1; DROP TABLE history.canary"]]}),
    (
        "bad_filter_value",
        {"columns": ["price"], "filter": [["event_time", ">", "1'); DROP TABLE history.canary"]]},
    ),
    (
        "expressions_refused",
        {"columns": ["e"], "expressions": {"e": '"price"); DROP TABLE history.canary; --'}},
    ),
]


@pytest.mark.parametrize(("reason", "config"), INJECTIONS, ids=[str(i) for i in range(len(INJECTIONS))])
async def test_an_injection_through_a_view_config_is_refused_with_nothing_executed(
    db: Recording, reason: str, config: dict[str, Any]
) -> None:
    async with live_history(db) as history, connect(history.ws_url) as client:
        table = await client.open_table("history.ticks")
        before, ran = history_refused(reason), len(db.statements)
        with pytest.raises(perspective.PerspectiveError, match="refused: "):
            await asyncio.wait_for(table.view(**config), 5)
        assert history_refused(reason) == before + 1
        assert db.statements[ran:] == []
        assert _canary(db) == [(42,)]
        view = await table.view(columns=["price"], group_by=["symbol"])  # the connection still works
        assert len(await view.to_records()) == len(SYMBOLS) + 1


async def _make_view_frame(url: str) -> bytes:
    """The make-view frame a real client sends for ``history.ticks`` (read off its socket)."""
    return (await _view_frames(url))[0]


async def _view_frames(url: str) -> tuple[bytes, bytes]:
    """A real client's make-view and to-arrow frames for all of ``history.ticks``."""
    ws = await websocket_connect(url)
    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        sent.append(bytes(message))
        await ws.write_message(bytes(message), binary=True)

    client = perspective.AsyncClient(send)
    pump = asyncio.ensure_future(_pump(ws, client))
    view = await (await client.open_table("history.ticks")).view()
    await view.to_arrow()
    pump.cancel()
    ws.close()
    make_view = next(m for m in sent if (head := read_head(m)) is not None and head.kind == MAKE_VIEW)
    return make_view, sent[-1]


async def _pump(ws: Any, client: Any) -> None:
    while (message := await ws.read_message()) is not None:
        await client.handle_response(message)


@pytest.mark.parametrize("name", ["v; DROP TABLE history.canary; --", 'v"', "history.ticks", "x" * 200])
async def test_a_hostile_view_name_is_refused_with_nothing_executed(db: Recording, name: str) -> None:
    async with live_history(db) as history:
        recorded = await _make_view_frame(history.ws_url)
        await until(lambda: "DROP TABLE IF EXISTS psp_view_1" in db.statements)  # the recorder has gone
        head = read_head(recorded)
        assert head is not None
        parts = make_view_parts(recorded, head)
        assert parts is not None
        hostile = request(
            head.msg_id, head.entity_id, MAKE_VIEW, field(1, 2, name.encode()) + field(2, 2, parts[1])
        )
        ws = await websocket_connect(history.ws_url)
        ran = len(db.statements)
        await ws.write_message(hostile, binary=True)
        reply = await asyncio.wait_for(ws.read_message(), 5)
        assert isinstance(reply, bytes)
        answer = read_head(reply)
        assert answer is not None and answer.kind == SERVER_ERROR and answer.msg_id == head.msg_id
        assert b"refused" in reply
        assert db.statements[ran:] == []
        assert _canary(db) == [(42,)]


# -- size ----------------------------------------------------------------------------------


async def test_a_view_over_the_row_cap_is_counted_and_refused_before_it_is_stored(db: Recording) -> None:
    async with live_history(db, max_view_rows=100) as history, connect(history.ws_url) as client:
        table = await client.open_table("history.ticks")
        before, ran = history_refused("view_too_large"), len(db.statements)
        with pytest.raises(perspective.PerspectiveError, match="540 rows \\(cap 100\\)"):
            await table.view(columns=["symbol", "price"])
        assert history_refused("view_too_large") == before + 1
        assert [s.split(" (")[0] for s in db.statements[ran:]] == ["SELECT count(*) FROM"]
        narrowed = await table.view(columns=["price"], filter=[["symbol", "==", "AAA"], ["seq", "<", 10]])
        assert await narrowed.num_rows() == 10


async def test_a_connections_views_together_hold_at_most_twice_the_row_cap(db: Recording) -> None:
    async with live_history(db, max_view_rows=200) as history, connect(history.ws_url) as client:
        table = await client.open_table("history.ticks")
        one_symbol = {"columns": ["price"], "filter": [["symbol", "==", "AAA"]]}  # 180 rows each
        first, _ = await table.view(**one_symbol), await table.view(**one_symbol)
        with pytest.raises(perspective.PerspectiveError, match="already hold 360 rows"):
            await table.view(**one_symbol)
        await first.delete()
        assert await (await table.view(**one_symbol)).num_rows() == TICKS_PER_SYMBOL


def test_the_features_offered_to_viewers_leave_out_expressions_and_windows(db: Recording) -> None:
    handler = HistoryHandler(db.cursor(), hosted_schemas(db._connection), max_view_rows=10)
    features = handler.get_features()
    assert features["expressions"] is False and "window_aggregates" not in features
    assert "string_agg" not in features["aggregates"]["string"]
    assert features["filter_ops"]["float"] == sorted(
        ["==", "!=", ">", ">=", "<", "<=", "is null", "is not null"]
    )


# -- access --------------------------------------------------------------------------------


async def _upgrade_status(url: str, **headers: str) -> int:
    try:
        await websocket_connect(HTTPRequest(url, headers=headers))
    except HTTPClientError as error:
        return error.code
    return 101


async def test_with_a_token_the_socket_needs_a_fresh_ticket_from_auth_ticket(db: Recording) -> None:
    token = "history-secret-0123456789"
    async with live_history(db, token=token) as history:
        assert await _upgrade_status(history.ws_url) == 401
        config = await AsyncHTTPClient().fetch(history.url + "/config.json")
        assert json.loads(config.body) == {"auth": True, "websocket": "/history"}
        response = await AsyncHTTPClient().fetch(
            history.url + "/auth/ticket",
            method="POST",
            body=b"",
            headers={"Authorization": f"Bearer {token}"},
        )
        ticket = json.loads(response.body)["ticket"]
        async with connect(f"{history.ws_url}?ticket={ticket}") as client:
            assert len(await client.get_hosted_table_names()) == 2
        assert await _upgrade_status(f"{history.ws_url}?ticket={ticket}") == 401  # used up


async def test_another_origin_and_connections_over_the_cap_are_refused(db: Recording) -> None:
    async with live_history(db, allowed_origins="http://good.example", max_connections=1) as history:
        assert await _upgrade_status(history.ws_url, Origin="http://evil.example") == 403
        async with connect(history.ws_url, origin="http://good.example"):
            before = history_refused("too_many_connections")
            assert await _upgrade_status(history.ws_url, Origin="http://good.example") == 503
            assert history_refused("too_many_connections") == before + 1


async def test_an_oversized_frame_closes_the_connection(db: Recording) -> None:
    async with live_history(db, max_frame_bytes=2048) as history:
        ws = await websocket_connect(history.ws_url)
        await ws.write_message(b"\x08" * 4096, binary=True)
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == 1009


async def test_a_client_that_never_reads_is_cut_off_and_others_carry_on(db: Recording) -> None:
    async with live_history(db, max_pending_bytes=65_536) as history:
        make_view, to_arrow = await _view_frames(history.ws_url)
        await until(lambda: "DROP TABLE IF EXISTS psp_view_1" in db.statements)  # the recorder has gone
        before = history_refused("slow_client")
        sock = await asyncio.to_thread(handshake, "127.0.0.1", history.settings.port, "/history")
        await asyncio.to_thread(sock.sendall, frame(make_view))
        deadline = asyncio.get_running_loop().time() + 20
        while history_refused("slow_client") == before:  # ~90 kB a reply, none read
            assert asyncio.get_running_loop().time() < deadline, "never cut off"
            with contextlib.suppress(OSError):
                await asyncio.to_thread(sock.sendall, frame(to_arrow) * 20)
            await asyncio.sleep(0.05)
        sock.close()
        async with connect(history.ws_url) as client:
            assert len(await client.get_hosted_table_names()) == 2
