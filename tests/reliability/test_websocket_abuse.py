"""Hostile WebSocket clients: the gateway stays responsive, bounded and unchanged for everyone else."""

from __future__ import annotations

import asyncio
import random
import socket
import statistics
import time
from pathlib import Path
from typing import Any

import perspective
import psutil
import pytest
from tornado.websocket import websocket_connect

from harness.psp import connect
from harness.services import Gateway, metric, start_gateway
from tests.support.ingest import as_json
from tests.support.kafka_io import produce
from tests.support.psp import eventually, rows
from tests.support.rawws import frame, handshake
from tests.support.ticks import numbered as tick

pytestmark = pytest.mark.integration


async def _round_trip_ms(client: Any, samples: int = 20) -> float:
    table = await client.open_table("quotes")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await table.size()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _subscription_requests() -> list[bytes]:
    """The bytes a real client sends to watch `ticks`: replayable on any connection (ids are client-side)."""
    server = perspective.Server()
    server.new_local_client().table({"symbol": "string"}, name="ticks")
    sent: list[bytes] = []
    loop = asyncio.get_running_loop()

    def reply(message: bytes) -> None:
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(client.handle_response(message)))

    session = server.new_session(reply)

    async def send(message: bytes) -> None:
        sent.append(bytes(message))
        session.handle_request(message)

    client = perspective.AsyncClient(send)
    view = await (await client.open_table("ticks")).view()
    await view.on_update(lambda *args: None, mode="row")
    await view.to_arrow()
    return sent + [sent[-1]] * 20  # the snapshot request again: a client asking and never reading


@pytest.fixture
def gateway(kafka_bootstrap: str, topic: str, tmp_path: Path) -> Any:
    gw = start_gateway(kafka_bootstrap, topic, tmp_path, max_pending_bytes=65_536, max_connections=2000)
    yield gw
    gw.process.stop()


async def test_gateway_survives_hostile_clients(kafka_bootstrap: str, topic: str, gateway: Gateway) -> None:
    await produce(kafka_bootstrap, topic, [as_json(tick(n)) for n in range(1, 2001)])
    rss = psutil.Process(gateway.process.pid)
    async with connect(gateway.ws_url) as good:

        async def loaded() -> bool:
            return len(await rows(good, "ticks")) == 2000

        await eventually(loaded)
        quotes_before = await rows(good, "quotes")
        before_ms = await _round_trip_ms(good)
        rss_before = rss.memory_info().rss

        # 1. random and malformed frames on one connection
        rng = random.Random(7)
        raw = handshake("127.0.0.1", gateway.port)
        for _ in range(200):
            raw.sendall(frame(rng.randbytes(rng.randint(0, 300))))
        # 2. a table that does not exist
        with pytest.raises(perspective.PerspectiveError, match="no_such_table"):
            await good.open_table("no_such_table")
        # 3. 500 idle connections, 4. 50 that subscribe and never read, 5. rapid connect/disconnect
        idle = [await websocket_connect(gateway.ws_url) for _ in range(500)]
        subscription = await _subscription_requests()
        slow: list[socket.socket] = []
        for _ in range(50):
            sock = handshake("127.0.0.1", gateway.port)
            for request in subscription:
                sock.sendall(frame(request))
            slow.append(sock)
        for _ in range(200):
            (await websocket_connect(gateway.ws_url)).close()
        await produce(
            kafka_bootstrap, topic, [as_json(tick(n)) for n in range(2001, 12_001)]
        )  # traffic to push

        during_ms = await _round_trip_ms(good)

        async def slow_ones_dropped() -> bool:
            return metric(gateway, "gateway_ws_refused_total", reason="slow_client") >= 1

        await eventually(slow_ones_dropped, timeout=30)
        assert metric(gateway, "gateway_ws_refused_total", reason="malformed_request") >= 100

        async def everything() -> bool:  # the well-behaved client still sees every tick
            return len(await rows(good, "ticks")) == 12_000

        await eventually(everything, timeout=30)
        quotes_after = await rows(good, "quotes")
        growth_mb = (rss.memory_info().rss - rss_before) / 1_048_576
        for sock in [*slow, raw]:
            sock.close()
        for conn in idle:
            conn.close()

    assert gateway.process.running
    assert during_ms < max(20 * before_ms, 250), (before_ms, during_ms)
    assert growth_mb < 300
    assert {q["symbol"] for q in quotes_after} == {q["symbol"] for q in quotes_before}
    print(f"round trip before {before_ms:.1f} ms, during {during_ms:.1f} ms, RSS growth {growth_mb:.0f} MB")
