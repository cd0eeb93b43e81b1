"""Clients that ask for the same view share one: Perspective computes it once per update, and
every client still sees exactly what it would with a view of its own (real 5.5.1 clients,
the gateway's real server and handler, tables filled by the test)."""

from __future__ import annotations

from typing import Any

import perspective
import pyarrow as pa
import pytest

from harness.psp import connect
from tests.support.live import LiveGateway, live_gateway, sample, until


def _shared() -> tuple[float, float]:
    return sample("gateway_shared_views"), sample("gateway_shared_view_users")


def _rows(delta: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pa.ipc.open_stream(pa.py_buffer(delta)).read_all().to_pylist()
    return rows


class Deltas:
    """Row deltas one subscription received, decoded."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, port_id: int, delta: bytes | None = None) -> None:
        if delta is not None:
            self.rows.extend(_rows(delta))


async def _quote_view(client: Any, **config: Any) -> Any:
    return await (await client.open_table("quotes")).view(**config)


def _tick(gw: LiveGateway, price: float) -> None:
    gw.quotes.update([{"symbol": "AAA", "price": price, "volume": 1}])


async def test_two_clients_asking_for_the_same_view_share_one() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        view_a = await _quote_view(a, columns=["symbol", "price"], sort=[["symbol", "asc"]])
        view_b = await _quote_view(b, columns=["symbol", "price"], sort=[["symbol", "asc"]])
        assert _shared() == (1, 2)
        expected = [{"symbol": s, "price": p} for s, p in (("AAA", 10.0), ("BBB", 20.0), ("CCC", 30.0))]
        assert await view_a.to_records() == expected
        assert await view_b.to_records() == expected


async def test_the_same_view_with_aggregates_is_shared_whatever_order_its_client_sent_them() -> None:
    """As every `<perspective-viewer>` view is: an aggregate per column, encoded in HashMap order."""
    config = {
        "columns": ["symbol", "price", "volume"],
        "aggregates": {"symbol": "count", "price": "avg", "volume": "sum"},
        "expressions": {"twice": '"price" * 2', "one": "1"},
    }
    async with (
        live_gateway() as gw,
        connect(gw.ws_url) as a,
        connect(gw.ws_url) as b,
        connect(gw.ws_url) as c,
        connect(gw.ws_url) as d,
    ):
        views = [await _quote_view(client, **config) for client in (a, b, c, d)]
        assert _shared() == (1, 4)
        assert len({str(await view.to_records()) for view in views}) == 1


async def test_views_with_different_configs_are_not_shared() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        await _quote_view(a, columns=["symbol", "price"])
        await _quote_view(b, columns=["symbol", "volume"])
        assert _shared() == (2, 2)


async def test_every_sharer_receives_each_row_delta() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        deltas = [Deltas(), Deltas()]
        for client, received in zip((a, b), deltas, strict=True):
            await (await _quote_view(client, columns=["symbol", "price"])).on_update(received, mode="row")
        _tick(gw, 11.5)
        await until(lambda: all(d.rows for d in deltas))
        assert deltas[0].rows == deltas[1].rows == [{"symbol": "AAA", "price": 11.5}]


async def test_one_client_deleting_its_view_leaves_the_other_updating() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        view_a = await _quote_view(a, columns=["price"])
        view_b = await _quote_view(b, columns=["price"])
        received = Deltas()
        await view_b.on_update(received, mode="row")
        await view_a.delete()
        assert _shared() == (1, 1)
        _tick(gw, 12.0)
        await until(lambda: received.rows == [{"price": 12.0}])
        await view_b.delete()
        assert _shared() == (0, 0)


async def test_removing_an_update_callback_stops_only_that_client() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        kept, removed = Deltas(), Deltas()
        await (await _quote_view(a, columns=["price"])).on_update(kept, mode="row")
        view_b = await _quote_view(b, columns=["price"])
        await view_b.remove_update(await view_b.on_update(removed, mode="row"))
        _tick(gw, 13.0)
        await until(lambda: kept.rows == [{"price": 13.0}])
        _tick(gw, 14.0)
        await until(lambda: kept.rows[-1] == {"price": 14.0})
        assert removed.rows == []


async def test_on_delete_fires_when_a_client_deletes_its_shared_view() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        await _quote_view(a, columns=["price"])
        view_b = await _quote_view(b, columns=["price"])
        deleted: list[bool] = []
        await view_b.on_delete(lambda: deleted.append(True))
        await view_b.delete()
        await until(lambda: deleted == [True])
        assert _shared() == (1, 1)


async def test_a_closed_connection_releases_its_shared_views() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as b:
        async with connect(gw.ws_url) as a:
            await _quote_view(a, columns=["price"])
            await _quote_view(a, columns=["volume"])
            await _quote_view(b, columns=["price"])
            assert _shared() == (2, 3)
        await until(lambda: _shared() == (1, 1))


async def test_group_by_views_stay_with_their_client() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a:
        view = await _quote_view(a, group_by=["symbol"], columns=["volume"])
        assert _shared() == (0, 0)
        records = await view.to_records()
        assert records[0] == {"__ROW_PATH__": [], "volume": 600}


async def test_a_bad_view_is_refused_and_leaves_nothing_shared() -> None:
    async with live_gateway() as gw, connect(gw.ws_url) as a:
        with pytest.raises(perspective.PerspectiveError, match="nosuchcolumn"):
            await _quote_view(a, columns=["nosuchcolumn"])
        assert _shared() == (0, 0)
        assert await (await _quote_view(a, columns=["price"])).num_rows() == 3


async def test_sharing_can_be_turned_off() -> None:
    async with live_gateway(share_views=False) as gw, connect(gw.ws_url) as a, connect(gw.ws_url) as b:
        before = _shared()
        for client in (a, b):
            assert await (await _quote_view(client, columns=["price"])).num_rows() == 3
        assert _shared() == before
