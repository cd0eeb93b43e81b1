"""The gateway against a real broker, read through real Perspective clients over WebSocket."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect

from common.codec import encode_arrow
from common.headers import CONTENT_TYPE_ARROW, make_headers
from harness.cluster import KafkaCluster
from harness.process import http_ok, wait_for
from harness.psp import connect
from harness.services import Gateway, metric, start_gateway
from tests.support.ingest import as_json
from tests.support.kafka_io import produce
from tests.support.psp import eventually, rows
from tests.support.ticks import SYMBOLS
from tests.support.ticks import numbered as tick

pytestmark = pytest.mark.integration


async def table_size(gateway: Gateway, table: str) -> int:
    async with connect(gateway.ws_url) as client:
        return len(await rows(client, table))


@pytest.fixture
def gateway(kafka_bootstrap: str, topic: str, tmp_path: Path) -> Any:
    gw = start_gateway(kafka_bootstrap, topic, tmp_path, gap_grace_ms=300)
    yield gw
    gw.process.stop()


async def test_tables_hold_exactly_the_produced_ticks(
    kafka_bootstrap: str, topic: str, gateway: Gateway
) -> None:
    ticks = [tick(n) for n in range(1, 401)]
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])

    async with connect(gateway.ws_url) as client:

        async def all_in() -> bool:
            return len(await rows(client, "ticks")) == 400

        await eventually(all_in)
        quotes = {q["symbol"]: q for q in await rows(client, "quotes")}
        stored = await rows(client, "ticks")

        async def all_in_bars() -> bool:  # written at their own cadence (GATEWAY_BARS_INTERVAL_MS)
            return sum(b["ticks"] for b in await rows(client, "bars")) == 400

        await eventually(all_in_bars)
        bars = {b["key"]: b for b in await rows(client, "bars")}

        async def counted() -> bool:
            found = await rows(client, "producers")
            return bool(found) and found[0]["ticks"] == 400

        await eventually(counted)
        producers = await rows(client, "producers")

    last = {t["symbol"]: t for t in ticks}
    for symbol, t in last.items():
        q = quotes[symbol]
        assert (q["price"], q["bid"], q["ask"], q["volume"], q["ticks"]) == (
            t["price"],
            t["bid"],
            t["ask"],
            t["volume"],
            100,
        )
        assert q["change"] == pytest.approx(t["price"] - t["open"])
        assert q["change_pct"] == pytest.approx((t["price"] - t["open"]) / t["open"] * 100)
    assert sorted(r["seq"] for r in stored) == list(range(1, 401))
    # AAA ticks at seq 4, 8, ...; a 1 s bucket holds 10 ticks of 100 ms, so AAA has seq 4 and 8 in the first.
    first = bars["AAA|1764000000000"]
    assert (first["open"], first["close"], first["high"], first["ticks"]) == (104.0, 108.0, 108.0, 2)
    assert producers[0]["producer_id"] == "p1"
    assert (producers[0]["ticks"], producers[0]["gaps"], producers[0]["duplicates"]) == (400, 0, 0)


async def test_a_gap_and_a_duplicate_are_counted_and_volume_is_not_doubled(
    kafka_bootstrap: str, topic: str, gateway: Gateway
) -> None:
    ticks = [tick(n, "gappy") for n in (1, 2, 3, 5, 6)]  # 4 is missing
    duplicate = tick(6, "gappy", volume=999_999)  # same (producer, seq): must not be applied
    await produce(kafka_bootstrap, topic, [as_json(t) for t in [*ticks, duplicate]])

    async with connect(gateway.ws_url) as client:

        async def settled() -> bool:
            found = await rows(client, "producers")
            return bool(found) and found[0]["gaps"] == 1 and found[0]["duplicates"] == 1

        await eventually(settled)
        quotes = {q["symbol"]: q for q in await rows(client, "quotes")}
    assert quotes[tick(6)["symbol"]]["volume"] == 6000


async def test_mutating_requests_are_refused_and_change_nothing(
    kafka_bootstrap: str, topic: str, gateway: Gateway
) -> None:
    await produce(kafka_bootstrap, topic, [as_json(tick(n)) for n in range(1, 41)])
    async with connect(gateway.ws_url) as bystander, connect(gateway.ws_url) as attacker:

        async def loaded() -> bool:  # ticks, then quotes: one batch updates them one after the other
            return len(await rows(bystander, "ticks")) == 40 and len(await rows(bystander, "quotes")) == 4

        await eventually(loaded)
        table = await attacker.open_table("quotes")
        attempts = [
            lambda: table.update([{"symbol": "AAA", "price": 1.0}]),
            lambda: table.replace([{"symbol": "ZZZ", "price": 1.0}]),
            lambda: table.clear(),
            lambda: table.remove(["AAA"]),
            lambda: table.delete(),
            lambda: attacker.table({"x": "integer"}, name="rogue"),
        ]
        for attempt in attempts:
            with pytest.raises(Exception, match="refused: tables are read-only"):
                await attempt()
        assert len(await rows(attacker, "quotes")) == 4  # the attacker's own connection still works
        assert sorted(q["symbol"] for q in await rows(bystander, "quotes")) == SYMBOLS
        assert "rogue" not in await bystander.get_hosted_table_names()
    refused = sum(
        metric(gateway, "gateway_ws_refused_total", reason=f"mutating_{k}")
        for k in ("table_update", "table_replace", "table_remove", "table_delete", "make_table")
    )
    assert refused == 6


async def test_wrong_origin_is_refused(kafka_bootstrap: str, topic: str, tmp_path: Path) -> None:
    gw = start_gateway(kafka_bootstrap, topic, tmp_path, allowed_origins="http://good.example")
    try:
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(HTTPRequest(gw.ws_url, headers={"Origin": "http://evil.example"}))
        assert refused.value.code == 403
        async with connect(gw.ws_url, origin="http://good.example") as client:
            assert "quotes" in await client.get_hosted_table_names()
    finally:
        gw.process.stop()


async def test_token_gateway_refuses_everything_but_a_fresh_ticket(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    gw = start_gateway(kafka_bootstrap, topic, tmp_path, token="s3cret-token-for-tests")
    try:
        for query in ("", "?ticket=forged.ticket.x", "?token=s3cret-token-for-tests"):
            with pytest.raises(HTTPClientError) as refused:
                await websocket_connect(gw.ws_url + query)
            assert refused.value.code == 401
        bad = urllib.request.Request(
            f"{gw.url}/auth/ticket", method="POST", headers={"Authorization": "Bearer no"}
        )
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(bad, timeout=5)
        assert wrong.value.code == 401
        good = urllib.request.Request(
            f"{gw.url}/auth/ticket", method="POST", headers={"Authorization": "Bearer s3cret-token-for-tests"}
        )
        with urllib.request.urlopen(good, timeout=5) as response:
            ticket = json.loads(response.read())["ticket"]
        async with connect(f"{gw.ws_url}?ticket={ticket}") as client:
            assert "quotes" in await client.get_hosted_table_names()
        with pytest.raises(HTTPClientError):  # replayed
            await websocket_connect(f"{gw.ws_url}?ticket={ticket}")
        assert http_ok(f"{gw.url}/healthz")
    finally:
        gw.process.stop()


async def test_oversized_frame_closes_the_connection(gateway: Gateway) -> None:
    ws = await websocket_connect(gateway.ws_url)
    with contextlib.suppress(WebSocketClosedError):  # the server may hang up mid-frame
        await ws.write_message(b"\x08" * 2_000_000, binary=True)
    assert await ws.read_message() is None
    with pytest.raises(WebSocketClosedError):
        await ws.write_message(b"x", binary=True)


async def test_restart_replays_to_identical_quotes(kafka_bootstrap: str, topic: str, tmp_path: Path) -> None:
    await produce(kafka_bootstrap, topic, [as_json(tick(n)) for n in range(1, 201)])
    first = start_gateway(kafka_bootstrap, topic, tmp_path, start="replay", replay_seconds=3600)
    async with connect(first.ws_url) as client:

        async def loaded() -> bool:
            return len(await rows(client, "ticks")) == 200

        await eventually(loaded)
        before = sorted((await rows(client, "quotes")), key=lambda q: q["symbol"])
    first.process.stop()
    second = start_gateway(kafka_bootstrap, topic, tmp_path, start="replay", replay_seconds=3600)
    try:
        async with connect(second.ws_url) as client:
            after = sorted((await rows(client, "quotes")), key=lambda q: q["symbol"])
        assert after == before
    finally:
        second.process.stop()


async def test_broker_outage_flips_readiness_and_loses_nothing(
    kafka: KafkaCluster, topic: str, gateway: Gateway
) -> None:
    await produce(kafka.bootstrap, topic, [as_json(tick(n)) for n in range(1, 101)])
    assert wait_for(lambda: http_ok(f"{gateway.url}/readyz"), 20)
    kafka.node(1).stop()
    assert wait_for(lambda: not http_ok(f"{gateway.url}/readyz"), 20)
    assert http_ok(f"{gateway.url}/healthz")
    kafka.restart(1)
    await produce(kafka.bootstrap, topic, [as_json(tick(n)) for n in range(101, 201)])
    assert wait_for(lambda: http_ok(f"{gateway.url}/readyz"), 40)
    async with connect(gateway.ws_url) as client:

        async def all_in() -> bool:
            return len(await rows(client, "ticks")) == 200

        await eventually(all_in, timeout=40)
        seqs = sorted(r["seq"] for r in await rows(client, "ticks"))
    assert seqs == list(range(1, 201))


async def test_metrics_parse_and_carry_the_counters(
    kafka_bootstrap: str, topic: str, gateway: Gateway
) -> None:
    await produce(kafka_bootstrap, topic, [as_json(tick(n)) for n in range(1, 11)])
    assert wait_for(lambda: metric(gateway, "gateway_ticks_total") >= 10, 20)
    with urllib.request.urlopen(f"{gateway.url}/metrics", timeout=5) as response:
        names = {f.name for f in text_string_to_metric_families(response.read().decode())}
    assert {
        "gateway_ticks",
        "gateway_decode_errors",
        "gateway_consumer_lag",
        "gateway_ws_refused",
        "gateway_ws_clients",
        "gateway_e2e_latency_seconds",
    } <= names


def test_the_engine_runs_one_thread_unless_the_setting_gives_perspectives_own_thread_per_core(
    kafka_bootstrap: str, topic: str, gateway: Gateway, tmp_path: Path
) -> None:
    assert metric(gateway, "gateway_engine_threads") == 1
    own = start_gateway(kafka_bootstrap, topic, tmp_path / "own", engine_threads=0)
    try:
        assert metric(own, "gateway_engine_threads") == (os.cpu_count() or 1)
    finally:
        own.process.stop()


def test_arrow_messages_are_ingested(kafka_bootstrap: str, topic: str, gateway: Gateway) -> None:
    import asyncio

    batch = [tick(n, "arrow") for n in range(1, 1001)]
    asyncio.run(
        produce(
            kafka_bootstrap,
            topic,
            [(b"arrow", encode_arrow(batch), make_headers(CONTENT_TYPE_ARROW, "arrow"))],
        )
    )
    assert wait_for(lambda: metric(gateway, "gateway_ticks_total") == 1000, 20)
