"""The page under `make run` says what is true: STALE with the reason while Kafka is away, LIVE after."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from harness.browser import Dashboard, open_dashboard
from tests.support.psp import eventually
from tests.support.stack import Stack, kafka_cli, new_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Stack]:
    stack = new_stack(tmp_path / "run", tmp_path / "terminal.txt")
    try:
        stack.wait_live()
        yield stack
    finally:
        stack.process.stop(10)
        kafka_cli("down", stack.run_dir)


async def _shows(dashboard: Dashboard, state: str, timeout: float) -> str:
    """Wait for the badge's state; its text as rendered (the pill is upper-case)."""

    async def reached() -> bool:
        return (await dashboard.state()) == state

    await eventually(reached, timeout=timeout, interval=0.1)
    text: str = await dashboard.page.inner_text("#conn")
    return text


async def test_the_badge_is_stale_with_the_reason_while_kafka_is_down_then_live(
    browser: Browser, running: Stack
) -> None:
    dashboard = await open_dashboard(browser, running.url)
    try:
        await _shows(dashboard, "live", 30)
        assert kafka_cli("down", running.run_dir).returncode == 0

        assert (await _shows(dashboard, "stale", 10)).startswith("STALE: ")
        reason = await dashboard.page.evaluate("window.tickerflow.stats.reason")
        assert reason.startswith(("Kafka unreachable at 127.0.0.1:", "no ticks for ")), reason

        back = time.monotonic()
        assert kafka_cli("up", running.run_dir, running.kafka_port).returncode == 0
        await _shows(dashboard, "live", 30 + (time.monotonic() - back))
        assert dashboard.errors == []
    finally:
        await dashboard.page.close()


async def test_price_axes_format_prices_to_their_four_decimals(browser: Browser, running: Stack) -> None:
    dashboard = await open_dashboard(browser, running.url)
    try:
        await _shows(dashboard, "live", 30)
        chart = (await dashboard.config("chart"))["columns_config"]
        bars = (await dashboard.config("bars"))["columns_config"]
        for column in (chart["price"], *(bars[c] for c in ("open", "high", "low", "close"))):
            assert column["number_format"]["minimumFractionDigits"] == 2
            assert column["number_format"]["maximumFractionDigits"] == 4
    finally:
        await dashboard.page.close()
