"""One `<perspective-viewer>` dashboard in headless Debian Chromium at a producer rate: the page's own
end-to-end latency (now - event_time of every `ticks` row as it reaches the page, client/js/arrivals.js)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from bench.stack import Sampler, gateway, producer
from harness.browser import CHROMIUM, FLAGS, open_dashboard
from harness.cluster import KafkaCluster

WARMUP_S = 5.0  # the page loads the viewer bundle and binds its viewers first


async def _page_figures(url: str, seconds: float, sampler: Sampler) -> dict[str, Any]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            dashboard = await open_dashboard(browser, url)
            await asyncio.sleep(WARMUP_S)
            p50s: list[float] = []
            p99s: list[float] = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                sampler.sample()
                stats = await dashboard.page.evaluate("window.tickerflow.stats")
                if stats.get("pageP50") is not None:  # each figure covers the page's last 5 s
                    p50s.append(float(stats["pageP50"]))
                    p99s.append(float(stats["pageP99"]))
            state = await dashboard.state()
        finally:
            await browser.close()
    return {
        "state": state,
        "windows": len(p50s),
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": statistics.median(p99s) if p99s else None,
        "page_errors": dashboard.errors[:5],
    }


def run_browser(kafka: KafkaCluster, rate: int, seconds: float, log_dir: Path) -> dict[str, Any]:
    topic = kafka.create_topic(f"browser-{rate}-{uuid.uuid4().hex[:6]}", 6, 1)
    gw = gateway(kafka.bootstrap, topic, log_dir, start="latest")
    fmt = "arrow" if rate > 20_000 else "json"
    prod = producer(
        kafka.bootstrap,
        topic,
        log_dir,
        producer_id=f"browser{rate}",
        rate=rate,
        format=fmt,
        batch_size=max(rate // 100, 1),
    )
    sampler = Sampler(gw.process.pid)
    try:
        figures = asyncio.run(_page_figures(gw.url, seconds, sampler))
    finally:
        prod.stop()
        gw.process.stop()
    return {
        "rate": rate,
        **figures,
        "gateway_cpu_pct": statistics.mean(sampler.cpu) if sampler.cpu else None,
        "gateway_rss_mb": max(sampler.rss_mb) if sampler.rss_mb else None,
    }
