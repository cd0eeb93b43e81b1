"""The nginx client's /history: the container's own config (rendered by envsubst, run under
Debian's nginx) in front of a real history server, read by a real Perspective client."""

from __future__ import annotations

from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from harness.ports import free_port
from harness.psp import connect
from tests.support.history_live import SYMBOLS, TICKS_PER_SYMBOL, Recording, live_history
from tests.support.nginx_client import nginx_client


@pytest.fixture
def html(tmp_path: Path) -> Path:
    root = tmp_path / "html"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>page</title>")
    return root


async def test_the_nginx_client_proxies_history_websockets(db: Recording, html: Path, tmp_path: Path) -> None:
    gateway_down = f"http://127.0.0.1:{free_port()}"
    async with live_history(db) as history:
        with nginx_client(html, tmp_path, gateway_down, history.url) as port:
            async with connect(f"ws://127.0.0.1:{port}/history") as client:
                table = await client.open_table("history.ticks")
                view = await table.view(columns=["price"], group_by=["symbol"], aggregates={"price": "count"})
                counts = await view.to_columns()
    assert counts["price"] == [len(SYMBOLS) * TICKS_PER_SYMBOL, *[TICKS_PER_SYMBOL] * len(SYMBOLS)]


async def test_with_history_down_the_nginx_client_answers_502_and_keeps_serving_the_page(
    html: Path, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with nginx_client(html, tmp_path, down, down) as port:
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(f"ws://127.0.0.1:{port}/history")
        assert refused.value.code == 502
