"""Headless Debian Chromium (never a downloaded browser) and a page that records its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, ConsoleMessage, Page
from playwright.async_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Every Content-Security-Policy violation of the page and its workers, kept where tests read it.
_RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"}`));
"""


@dataclass
class Dashboard:
    page: Page
    errors: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # of the page's own response

    async def csp_violations(self) -> list[str]:
        violations: list[str] = await self.page.evaluate("window.__cspViolations ?? []")
        return violations

    async def state(self) -> str:
        value: str = await self.page.evaluate("document.getElementById('status').dataset.state")
        return value

    async def rows(self, viewer: str) -> list[dict[str, Any]]:
        """The viewer's current rows; [] while it is still loading (the viewer throws until then)."""
        try:
            return await self._rows(viewer)
        except PlaywrightError:
            return []

    async def _rows(self, viewer: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await self.page.evaluate(
            "async (name) => { const v = window.tickerflow.viewers[name];"
            " const view = await v.getView(); return await view.to_json(); }",
            viewer,
        )
        return records

    async def config(self, viewer: str) -> dict[str, Any]:
        saved: dict[str, Any] = await self.page.evaluate(
            "async (name) => await window.tickerflow.viewers[name].save()", viewer
        )
        return saved


async def open_dashboard(browser: Browser, url: str) -> Dashboard:
    page = await browser.new_page(viewport={"width": 1600, "height": 1000})
    dashboard = Dashboard(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            dashboard.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: dashboard.errors.append(str(error)))
    await page.add_init_script(_RECORD_CSP)
    response = await page.goto(url)
    dashboard.headers = await response.all_headers() if response is not None else {}
    return dashboard
