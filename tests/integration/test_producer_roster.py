"""The `producers` table shows how many symbols each producer owns and how many rebalances it saw."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from harness.psp import connect
from harness.services import start_gateway, start_producer
from tests.support.psp import eventually, rows

pytestmark = pytest.mark.integration


async def _roster(client: Any) -> dict[str, tuple[int, int]]:
    """producer_id -> (owned_symbols, rebalances)."""
    return {r["producer_id"]: (r["owned_symbols"], r["rebalances"]) for r in await rows(client, "producers")}


async def test_the_roster_splits_the_universe_and_counts_a_rebalance_when_a_producer_leaves(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producers = [start_producer(kafka_bootstrap, topic, tmp_path, producer_id=f"r{i}") for i in range(2)]
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path)
    try:
        async with connect(gateway.ws_url) as client:

            async def split() -> bool:
                owned = [o for o, _ in (await _roster(client)).values()]
                return len(owned) == 2 and sum(owned) == 50 and min(owned) > 0

            await eventually(split, timeout=60)
            before = await _roster(client)
            producers[1].signal(signal.SIGTERM)
            assert producers[1].wait(10) == 0

            async def taken_over() -> bool:
                return (await _roster(client))["r0"][0] == 50

            await eventually(taken_over, timeout=30)
            after = await _roster(client)
    finally:
        for process in producers:
            process.stop()
        gateway.process.stop()

    assert all(rebalances >= 1 for _, rebalances in before.values())
    assert after["r0"] == (50, before["r0"][1] + 1)  # one more rebalance: r1 left
