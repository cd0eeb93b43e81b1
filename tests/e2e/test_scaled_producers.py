"""Three producers behind the dashboard: the selected symbol's price line comes from one of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from harness.browser import Dashboard, open_dashboard
from harness.process import ManagedProcess
from harness.services import Gateway, start_producer
from tests.support.psp import eventually
from tests.support.tape import settle

pytestmark = pytest.mark.e2e
SYMBOLS = 50
LINE_S = 5  # seconds of the price line looked at once the producers have split the universe


@pytest.fixture(scope="module")
def producer(
    kafka_bootstrap: str, e2e_topic: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ManagedProcess]]:
    """Three producers instead of the conftest's one (the `gateway` fixture starts after them)."""
    log_dir: Path = tmp_path_factory.mktemp("producers")
    processes = [start_producer(kafka_bootstrap, e2e_topic, log_dir, producer_id=f"e{i}") for i in range(3)]
    yield processes
    for process in processes:
        process.stop()


async def _line_since(dashboard: Dashboard, since_ms: int) -> list[dict[str, Any]]:
    """The chart's own table and filter, with the producer of each point since ``since_ms``."""
    points: list[dict[str, Any]] = await dashboard.page.evaluate(
        """async (since) => {
            const viewer = window.tickerflow.viewers.chart;
            const config = await viewer.save();
            const table = await viewer.getTable();
            const view = await table.view({ filter: config.filter, columns: ["producer_id", "event_time"] });
            const rows = await view.to_json();
            await view.delete();
            return rows.filter((row) => row.event_time >= since);
        }""",
        since_ms,
    )
    return points


async def test_the_selected_symbols_price_line_has_one_publisher(
    browser: Browser, gateway: Gateway, kafka_bootstrap: str, e2e_topic: str
) -> None:
    settled = await settle(kafka_bootstrap, e2e_topic, SYMBOLS, 3)
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        roster: list[dict[str, Any]] = []

        async def three_owners() -> bool:
            roster[:] = await dashboard.rows("producers")
            return sum(r.get("owned_symbols") or 0 for r in roster) == SYMBOLS and len(roster) == 3

        await eventually(three_owners, timeout=30)
        points: list[dict[str, Any]] = []

        async def line_filled() -> bool:
            points[:] = await _line_since(dashboard, settled)
            span = max((p["event_time"] for p in points), default=settled) - settled
            return span >= LINE_S * 1000

        await eventually(line_filled, timeout=LINE_S + 20)
        symbol = (await dashboard.config("chart"))["filter"][0][2]
    finally:
        await dashboard.page.close()

    assert symbol and len({p["producer_id"] for p in points}) == 1
    assert all(0 < r["owned_symbols"] < SYMBOLS for r in roster)
