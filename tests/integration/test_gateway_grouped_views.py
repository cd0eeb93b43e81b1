"""Pages that pivot a table before its first rows: the gateway still takes the rows and answers.

Perspective 5.5.1 deadlocks on the first write into an empty table that has as many grouped
views as its engine has threads (gateway/ingest/first_write.py says why). `bars` is empty
until its first write, so pages that reconnect to a restarted gateway make exactly that.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.process import http_ok, wait_for
from harness.psp import connect
from harness.services import metric, start_gateway
from tests.support.ingest import as_json
from tests.support.kafka_io import produce
from tests.support.psp import eventually
from tests.support.ticks import numbered as tick

pytestmark = pytest.mark.integration

CANDLES = {"group_by": ["bucket"], "columns": ["open", "close", "high", "low"]}  # the page's view


@pytest.mark.parametrize("engine_threads", [0, 1], ids=["a thread per core", "one thread"])
async def test_the_first_bars_reach_more_grouped_views_than_the_engine_has_threads(
    kafka_bootstrap: str, topic: str, tmp_path: Path, engine_threads: int
) -> None:
    gateway = start_gateway(kafka_bootstrap, topic, tmp_path, engine_threads=engine_threads)
    pages = 2 * (engine_threads or os.cpu_count() or 1) + 2  # all pool threads wait, in any order
    try:
        async with AsyncExitStack() as stack:
            views = []
            for _ in range(pages):
                client = await stack.enter_async_context(connect(gateway.ws_url))
                bars = await client.open_table("bars")
                views.append(await bars.view(**CANDLES))
            assert await bars.size() == 0

            await produce(kafka_bootstrap, topic, [as_json(tick(n)) for n in range(1, 201)])

            counted = wait_for(lambda: metric(gateway, "gateway_ticks_total") == 200, 30)
            assert counted, gateway.process.tail(20)
            for view in views:  # `bars` are written at their own cadence: a poll, not a read

                async def candles(view: Any = view) -> bool:
                    return await asyncio.wait_for(view.num_rows(), 10) > 1  # the total row, then buckets

                await eventually(candles)
            assert http_ok(f"{gateway.url}/healthz")
    finally:
        gateway.process.stop()
