"""The page's own latency figure counts every tick once, as it arrives (client/js/arrivals.js)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser

from harness.browser import Dashboard, open_dashboard
from harness.services import Gateway, metric
from tests.support.dashboard import assert_live
from tests.support.psp import eventually

pytestmark = pytest.mark.e2e


async def _received(dashboard: Dashboard) -> int:
    received: int = await dashboard.page.evaluate("window.tickerflow.arrivals.received")
    return received


async def _applied(gateway: Gateway) -> int:
    return int(await asyncio.to_thread(metric, gateway, "gateway_ticks_total"))


async def test_every_tick_the_gateway_applies_reaches_the_figure_once(
    browser: Browser, gateway: Gateway
) -> None:
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        await assert_live(dashboard)  # the figure has a p50 and a p99
        page_before, applied_before = await _received(dashboard), await _applied(gateway)

        async def applied_200_more() -> bool:
            return await _applied(gateway) >= applied_before + 200

        await eventually(applied_200_more, timeout=20)
        window = await _applied(gateway) - applied_before

        async def all_arrived() -> bool:
            return await _received(dashboard) - page_before >= window

        await eventually(all_arrived, timeout=5)
        # None twice: the page cannot have more ticks than the gateway applied since it subscribed.
        assert await _received(dashboard) <= await _applied(gateway)
        assert await dashboard.page.evaluate("window.tickerflow.arrivals.unreadable") == 0
        stats = await dashboard.page.evaluate("window.tickerflow.stats")
        assert 0 <= stats["pageP50"] <= stats["pageP99"] < 10_000
        assert dashboard.errors == []
    finally:
        await dashboard.page.close()
