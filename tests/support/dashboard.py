"""What a live dashboard looks like in the browser: every symbol, moving prices, a chart, LIVE."""

from __future__ import annotations

from harness.browser import Dashboard
from tests.support.psp import eventually

SYMBOLS = 50


async def assert_live(dashboard: Dashboard) -> None:
    async def every_symbol() -> bool:
        return len(await dashboard.rows("quotes")) == SYMBOLS

    await eventually(every_symbol, timeout=5 + 10)  # 5 s once the page is up; page load itself takes a few
    before = {q["symbol"]: q["price"] for q in await dashboard.rows("quotes")}

    async def prices_moved() -> bool:
        now = {q["symbol"]: q["price"] for q in await dashboard.rows("quotes")}
        return now != before

    await eventually(prices_moved, timeout=2)

    async def chart_drawn() -> bool:
        return len(await dashboard.rows("chart")) > 0 and await dashboard.page.evaluate(
            "!!window.tickerflow.viewers.chart.querySelector('*') || "
            "!!window.tickerflow.viewers.chart.shadowRoot"
        )

    await eventually(chart_drawn, timeout=5)

    async def live() -> bool:
        return await dashboard.state() == "live"

    await eventually(live, timeout=5)

    async def measured() -> bool:
        stats = await dashboard.page.evaluate("window.tickerflow.stats")
        return (
            stats["pageP50"] is not None
            and stats["pageP99"] >= stats["pageP50"]
            and stats["rate"] > 0
            and stats["gatewayP50"] is not None
        )

    await eventually(measured, timeout=5)
    assert await dashboard.page.get_attribute("#staleness", "data-level") == "ok"
    assert dashboard.errors == []
    assert await dashboard.csp_violations() == []
