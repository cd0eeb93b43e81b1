"""The dashboard in a real browser: live data, charts, and the same page behind nginx."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from common.security import SECURITY_HEADERS
from gateway.serve.routes import VENDOR_DIR
from harness.browser import open_dashboard
from harness.ports import free_port
from harness.services import ROOT, Gateway, metric
from tests.support.dashboard import SYMBOLS, assert_live
from tests.support.nginx_client import nginx_client
from tests.support.psp import eventually

pytestmark = pytest.mark.e2e


async def test_dashboard_shows_live_quotes_and_charts(browser: Browser, gateway: Gateway) -> None:
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        await assert_live(dashboard)
        await asyncio.sleep(6)  # let the chart and 1 s bars fill before the picture is taken
        (ROOT / "docs").mkdir(exist_ok=True)
        await dashboard.page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
    finally:
        await dashboard.page.close()


async def test_the_page_works_under_its_security_headers(browser: Browser, gateway: Gateway) -> None:
    """The gateway's CSP is enforced by Chromium, and the live page trips none of it."""
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        assert {k.lower(): v for k, v in SECURITY_HEADERS.items()}.items() <= dashboard.headers.items()
        await assert_live(dashboard)  # fails on any console error or CSP violation
        roster = await dashboard.rows("producers")
        assert [(r["producer_id"], r["status"]) for r in roster] == [("e2e", "live")]
        # Enforced, not just sent: an inline script is refused, and that is recorded.
        await dashboard.page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.body.append(s); }"
        )

        async def refused() -> bool:
            return any(v.startswith("script-src") for v in await dashboard.csp_violations())

        await eventually(refused, timeout=5)
        assert await dashboard.page.evaluate("window.__ran ?? 0") == 0
    finally:
        await dashboard.page.close()


async def _shared_views(gateway: Gateway) -> tuple[float, float]:
    """(gateway_shared_views, gateway_shared_view_users) from the gateway's /metrics."""
    views = await asyncio.to_thread(metric, gateway, "gateway_shared_views")
    users = await asyncio.to_thread(metric, gateway, "gateway_shared_view_users")
    return views, users


async def _settled(gateway: Gateway) -> tuple[float, float]:
    """The shared-view figures once a page has made all its views (the same for a second)."""
    last = await _shared_views(gateway)
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(1.0)
        now = await _shared_views(gateway)
        if now == last and now[1] > 0:
            return now
        last = now
    raise AssertionError(f"shared views never settled: {last}")


async def test_two_dashboards_share_every_view_they_have_in_common(
    browser: Browser, gateway: Gateway
) -> None:
    """Each viewer's view has an aggregate per column, encoded in a different order by each page."""
    first = await open_dashboard(browser, gateway.url)
    second = None
    try:
        await assert_live(first)
        views, users = await _settled(gateway)
        assert views == users  # one page: every view it shares is its own
        second = await open_dashboard(browser, gateway.url)
        await assert_live(second)
        assert await _settled(gateway) == (views, 2 * users)
    finally:
        await first.page.close()
        if second is not None:
            await second.page.close()


async def test_clicking_a_symbol_filters_chart_and_bars(browser: Browser, gateway: Gateway) -> None:
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        await assert_live(dashboard)
        cell = dashboard.page.locator(
            "perspective-viewer[data-name=quotes] regular-table tbody tr:nth-child(6) td"
        ).first
        symbol = (await cell.inner_text()).strip()
        assert symbol in {q["symbol"] for q in await dashboard.rows("quotes")}
        await cell.click()  # a real click on the datagrid: its perspective-click event links the views

        async def filtered() -> bool:
            chart, bars = await dashboard.config("chart"), await dashboard.config("bars")
            return chart["filter"] == [["symbol", "==", symbol]] == bars["filter"]

        await eventually(filtered, timeout=5)
        assert {r.get("symbol", symbol) for r in await dashboard.rows("bars")} <= {symbol}
    finally:
        await dashboard.page.close()


async def test_layouts_persist_across_reloads_and_reset(browser: Browser, gateway: Gateway) -> None:
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        await assert_live(dashboard)
        await dashboard.page.evaluate(
            "window.tickerflow.viewers.quotes.restore({sort: [['change_pct', 'desc']]})"
        )

        async def stored() -> bool:
            text = await dashboard.page.evaluate("localStorage.getItem('tickerflow.layout.quotes')")
            return bool(text) and json.loads(text)["sort"] == [["change_pct", "desc"]]

        await eventually(stored, timeout=5)
        await dashboard.page.reload()

        async def restored() -> bool:
            rows = await dashboard.rows("quotes")
            return len(rows) == SYMBOLS and (await dashboard.config("quotes"))["sort"] == [
                ["change_pct", "desc"]
            ]

        await eventually(restored, timeout=15)
        await dashboard.page.click("#reset")

        async def reset() -> bool:
            return (await dashboard.config("quotes"))["sort"] == [["symbol", "asc"]]

        await eventually(reset, timeout=5)
        assert dashboard.errors == []
    finally:
        await dashboard.page.close()


@pytest.fixture
def nginx(gateway: Gateway, tmp_path: Path) -> Iterator[str]:
    """Debian's nginx with the container's config, rendered by envsubst as the image does."""
    html = tmp_path / "html"
    shutil.copytree(ROOT / "client", html)
    (html / "vendor").mkdir()
    for name in ("perspective-anywidget.js", "perspective-anywidget.css"):
        shutil.copy(VENDOR_DIR / name, html / "vendor" / name)
    # Nothing listens at the history address: the live page must not need it.
    down = f"http://127.0.0.1:{free_port()}"
    with nginx_client(html, tmp_path, gateway.url, down) as port:
        yield f"http://127.0.0.1:{port}/"


async def test_the_static_nginx_client_works_the_same(browser: Browser, nginx: str) -> None:
    dashboard = await open_dashboard(browser, nginx)
    try:
        await assert_live(dashboard)
    finally:
        await dashboard.page.close()
