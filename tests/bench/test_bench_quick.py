"""`make bench-quick` runs in CI so the benchmark code never rots: it must finish, against a real
broker, and write a report whose every figure is present and sane. Speed is never asserted here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.services import ROOT

QUICK_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench-quick")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"bench --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return out, results


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_it_writes_the_report_the_raw_json_and_the_plots(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    assert {"results.json", "report.md", "ingest.png", "memory.png"} <= {p.name for p in out.iterdir()}
    report = (out / "report.md").read_text()
    for section in (
        "Machine",
        "Ingest",
        "Peer",
        "History",
        "End-to-end latency",
        "Memory",
        "Producer scaling",
    ):
        assert f"## {section}" in report


def test_every_ingest_path_has_a_positive_median_within_its_range(run: tuple[Path, dict[str, Any]]) -> None:
    ingest = run[1]["ingest"]
    assert set(ingest) == {
        "naive (1 update per message)",
        "gateway, JSON",
        "gateway, JSON, 2 ingest workers",
        "gateway, Arrow 1k/msg",
        "gateway, Arrow 10k/msg",
        "gateway, Arrow 10k/msg, 2 ingest workers",
    }
    for figures in ingest.values():
        assert _positive(figures["median"])
        assert figures["min"] <= figures["median"] <= figures["max"]


def test_history_wrote_both_topics_and_reported_size_and_memory(run: tuple[Path, dict[str, Any]]) -> None:
    history = run[1]["history"]
    assert set(history) == {"JSON", "Arrow 1k/msg"}
    for figures in history.values():
        assert all(_positive(figures[k]) for k in ("ticks_per_s", "db_mb_per_million", "peak_rss_mb"))
    assert "## History" in (run[0] / "report.md").read_text()


def test_every_latency_case_collected_ordered_percentiles(run: tuple[Path, dict[str, Any]]) -> None:
    cases = run[1]["latency"]
    assert {(c["rate"], c["viewers"], c["shared"]) for c in cases} == {
        (1000, 1, True),
        (1000, 10, True),
        (1000, 10, False),
    }
    for case in cases:
        assert case["samples"] > 0
        assert 0 < case["p50_ms"] <= case["p95_ms"] <= case["p99_ms"]


def test_the_browser_dashboard_reported_its_own_latency(run: tuple[Path, dict[str, Any]]) -> None:
    browser = run[1]["browser"]
    assert browser["state"] == "live"
    assert browser["windows"] > 0 and 0 < browser["p50_ms"] <= browser["p99_ms"]


def test_memory_and_producer_scaling_were_measured(run: tuple[Path, dict[str, Any]]) -> None:
    results = run[1]
    assert results["memory"]["peak_rss_mb"] >= results["memory"]["final_rss_mb"] > 0
    assert all(_positive(s["ticks_per_s"]) for s in results["scaling"])


def test_the_peer_says_why_it_was_not_run(run: tuple[Path, dict[str, Any]]) -> None:
    peer = run[1]["peer"]
    assert peer["measured"] is False and "--quick" in peer["reason"]
