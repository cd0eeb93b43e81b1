"""History in the compose stack: healthy beside the rest, served at /history on 8080 and 8081, and
its DuckDB file on the `history-data` volume, so a restart neither loses nor repeats a tick."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from harness.psp import connect
from tests.support.compose_checks import kafka_messages, until_async
from tests.support.compose_stand import Stand, http_json, until

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]


async def stored_ticks(port: int = 8080) -> Counter[tuple[str, int]]:
    """Every (producer_id, seq) history holds, read through the page's own route."""
    async with connect(f"ws://127.0.0.1:{port}/history") as client:
        table = await client.open_table("history.ticks")
        view = await table.view(columns=["producer_id", "seq"])
        try:
            columns: dict[str, list[Any]] = await view.to_columns()
        finally:
            await view.delete()
    return Counter(zip(columns["producer_id"], columns["seq"], strict=True))


def kafka_ticks() -> Counter[tuple[str, int]]:
    ticks = (json.loads(message["payload"]) for message in kafka_messages())
    return Counter((tick["producer_id"], tick["seq"]) for tick in ticks)


def history_healthy(stand: Stand) -> bool:
    return any(c["Health"] == "healthy" for c in stand.containers("history"))


@pytest.mark.parametrize("port", [8080, 8081])
async def test_history_serves_growing_ticks_through_the_gateway_and_the_client(
    single: Stand, port: int
) -> None:
    first = await until_async(lambda: _total(port), 120, f"ticks in history through :{port}", single)

    async def grown() -> bool:
        return await _total(port) > first

    await until_async(grown, 60, "history growing", single)


async def _total(port: int) -> int:
    return sum((await stored_ticks(port)).values())


def test_the_gateway_image_has_no_duckdb_and_the_history_image_has(single: Stand) -> None:
    probe = ["run", "--rm", "--entrypoint", "python"]
    without = single.engine.docker(*probe, "tickerflow-gateway", "-c", "import duckdb", check=False)
    assert without.returncode != 0 and "No module named 'duckdb'" in without.stderr
    version = "import duckdb; print(duckdb.__version__)"
    found = single.engine.docker(*probe, "tickerflow-history", "-c", version)
    assert found.stdout.strip() == "2.0.1"


async def test_after_docker_compose_restart_history_every_tick_in_kafka_is_stored_exactly_once(
    single: Stand,
) -> None:
    before = await until_async(lambda: _total(8080), 120, "ticks in history", single)
    single.compose("restart", "history", timeout=120)
    until(lambda: history_healthy(single), 120, "history healthy again", single)
    until(lambda: http_json("http://127.0.0.1:8080/readyz")["ready"], 60, "gateway ready", single)
    single.compose("pause", "producer")  # paused, not stopped: a restarted producer reuses its id
    try:
        kafka = kafka_ticks()

        async def caught_up() -> bool:
            return set(await stored_ticks()) >= set(kafka)

        await until_async(caught_up, 120, "history holding every tick in Kafka", single)
        stored = await stored_ticks()
    finally:
        single.compose("unpause", "producer")
    assert sum(stored.values()) >= before
    assert [tick for tick, count in stored.items() if count > 1] == []  # no duplicate
    assert set(stored) == set(kafka)  # no gap, nothing invented
