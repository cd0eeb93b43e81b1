"""Reconnect without a reload, and a token-protected gateway, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from harness.browser import Dashboard, open_dashboard
from harness.services import Gateway, start_gateway
from tests.support.psp import eventually

pytestmark = pytest.mark.e2e


async def _state_is(dashboard: Dashboard, state: str, timeout: float) -> None:
    async def reached() -> bool:
        return await dashboard.state() == state

    await eventually(reached, timeout=timeout, interval=0.1)


async def _has_quotes(dashboard: Dashboard) -> None:
    async def loaded() -> bool:
        return len(await dashboard.rows("quotes")) == 50

    await eventually(loaded, timeout=15)


async def test_page_reconnects_after_a_gateway_restart_without_reload(
    browser: Browser, kafka_bootstrap: str, e2e_topic: str, producer: object, tmp_path: Path
) -> None:
    gateway = start_gateway(kafka_bootstrap, e2e_topic, tmp_path)
    dashboard = await open_dashboard(browser, gateway.url)
    try:
        await _has_quotes(dashboard)
        await _state_is(dashboard, "live", 10)
        await dashboard.page.evaluate("window.__marker = 'same page'")
        before = await dashboard.config("chart")

        gateway.process.stop()
        await _state_is(dashboard, "reconnecting", 3)

        gateway = start_gateway(kafka_bootstrap, e2e_topic, tmp_path, port=gateway.port)
        await _state_is(dashboard, "live", 20)
        await _has_quotes(dashboard)
        first = {q["symbol"]: q["price"] for q in await dashboard.rows("quotes")}

        async def updating() -> bool:
            return {q["symbol"]: q["price"] for q in await dashboard.rows("quotes")} != first

        await eventually(updating, timeout=5)
        assert await dashboard.page.evaluate("window.__marker") == "same page"
        after = await dashboard.config("chart")
        assert {k: after[k] for k in ("plugin", "filter", "columns", "split_by")} == {
            k: before[k] for k in ("plugin", "filter", "columns", "split_by")
        }
    finally:
        await dashboard.page.close()
        gateway.process.stop()


@pytest.fixture
def token_gateway(kafka_bootstrap: str, e2e_topic: str, producer: object, tmp_path: Path) -> Gateway:
    return start_gateway(kafka_bootstrap, e2e_topic, tmp_path, token="s3cret-token-for-tests")


async def test_token_gateway_refuses_a_wrong_token_then_takes_the_right_one(
    browser: Browser, token_gateway: Gateway
) -> None:
    dashboard = await open_dashboard(browser, token_gateway.url + "/#token=wrong")
    try:
        await _state_is(dashboard, "refused", 10)
        await dashboard.page.wait_for_selector("#login:not([hidden])", timeout=5_000)
        notice = await dashboard.page.inner_text("#notice")
        assert "Access refused" in notice and "401" in notice
        assert await dashboard.rows("quotes") == []
        await dashboard.page.fill("#token", "s3cret-token-for-tests")
        await dashboard.page.click("#login button")
        await _has_quotes(dashboard)
        await _state_is(dashboard, "live", 10)
        assert await dashboard.page.is_hidden("#notice")
    finally:
        await dashboard.page.close()
        token_gateway.process.stop()


async def test_token_gateway_serves_the_page_that_has_the_token(
    browser: Browser, token_gateway: Gateway
) -> None:
    dashboard = await open_dashboard(browser, token_gateway.url + "/#token=s3cret-token-for-tests")
    try:
        await _has_quotes(dashboard)
        await _state_is(dashboard, "live", 10)
        assert dashboard.errors == []
    finally:
        await dashboard.page.close()
        token_gateway.process.stop()


async def test_token_gateway_without_a_token_shows_the_refusal_and_asks_for_it(
    browser: Browser, token_gateway: Gateway
) -> None:
    dashboard = await open_dashboard(browser, token_gateway.url)
    try:
        await _state_is(dashboard, "refused", 10)
        await dashboard.page.wait_for_selector("#login:not([hidden])", timeout=5_000)
        assert "requires a token" in await dashboard.page.inner_text("#notice")
        assert await dashboard.rows("quotes") == []
        await dashboard.page.fill("#token", "s3cret-token-for-tests")
        await dashboard.page.click("#login button")
        await _has_quotes(dashboard)
        await _state_is(dashboard, "live", 10)
    finally:
        await dashboard.page.close()
        token_gateway.process.stop()
