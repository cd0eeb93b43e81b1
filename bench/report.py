"""Writing a run's results: raw JSON, report.md with machine facts, and PNG plots."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import matplotlib

from gateway.settings import GatewaySettings

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    from importlib.metadata import version

    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "perspective": version("perspective-python"),
        "aiokafka": version("aiokafka"),
        "pyarrow": version("pyarrow"),
        "gateway engine threads": str(GatewaySettings.model_fields["engine_threads"].default),
        "kafka": "4.2.1 (KRaft, single node, loopback)",
    }


JSON_WORKERS = "gateway, JSON, 2 ingest workers"  # GATEWAY_INGEST_WORKERS=2, against the peer too


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def _fmt(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ingest_table(ingest: dict[str, dict[str, float]]) -> list[str]:
    naive = ingest["naive (1 update per message)"]["median"]
    lines = ["| path | ticks/s (median) | min | max | x naive |", "|---|---|---|---|---|"]
    for name, s in ingest.items():
        lines.append(
            f"| {name} | {_fmt(s['median'])} | {_fmt(s['min'])} | {_fmt(s['max'])} | "
            f"{s['median'] / naive:,.1f}x |"
        )
    return lines


def peer_lines(peer: dict[str, Any], ingest: dict[str, dict[str, float]]) -> list[str]:
    """Deephaven on the same preloaded JSON topic, and our JSON path's ratio to it (same run)."""
    lines = ["", "## Peer: Deephaven on the same JSON topic", ""]
    if not peer.get("measured"):
        return [*lines, f"Not measured: {peer.get('reason', 'unknown reason')}"]
    rate, ours = peer["ticks_per_s"], ingest["gateway, JSON"]["median"]
    workers = ingest.get(JSON_WORKERS, {}).get("median")
    with_workers = "-" if workers is None else f"{workers / rate['median']:.2f}x"
    return [
        *lines,
        "| path | ticks/s (median) | min | max | gateway JSON / this | with 2 ingest workers / this |",
        "|---|---|---|---|---|---|",
        f"| Deephaven 42.7, Kafka consumer into an append table | {_fmt(rate['median'])} | "
        f"{_fmt(rate['min'])} | {_fmt(rate['max'])} | {ours / rate['median']:.2f}x | {with_workers} |",
        "",
        f"JVM + server start-up ({peer['startup_s']['median']:.1f} s median) is not counted in its ticks/s.",
    ]


def browser_lines(browser: dict[str, Any] | None) -> list[str]:
    if browser is None:
        return []
    return [
        "",
        f"One dashboard in headless Chromium at {browser['rate']:,} ticks/s (the page's own figure, "
        f"median of {browser['windows']} 5-second windows): p50 {_fmt(browser['p50_ms'], 1)} ms, "
        f"p99 {_fmt(browser['p99_ms'], 1)} ms; connection {browser['state']}; gateway CPU "
        f"{_fmt(browser['gateway_cpu_pct'])} %, RSS {_fmt(browser['gateway_rss_mb'])} MB.",
    ]


def engine_table(engine: list[dict[str, Any]]) -> list[str]:
    """The fan-out profile: one `ticks` update's cost inside Perspective as views are added."""
    lines = [
        "",
        "## Where the fan-out time goes (one `ticks` update inside Perspective, in-process)",
        "",
        "| rows per update | views | notify-only ms | row-delta ms |",
        "|---|---|---|---|",
    ]
    cases = {(c["rows"], c["views"], c["mode"]): c["update_ms"] for c in engine}
    for rows, views in sorted({(c["rows"], c["views"]) for c in engine}):
        lines.append(
            f"| {rows:,} | {views} | {_fmt(cases.get((rows, views, 'notify')), 1)} | "
            f"{_fmt(cases.get((rows, views, 'row')), 1)} |"
        )
    return lines


def history_lines(history: dict[str, dict[str, float]], ingest: dict[str, dict[str, float]]) -> list[str]:
    """History (`python -m history`) on the same topics: ticks/s into DuckDB, file size, peak RSS."""
    if not history:
        return []
    lines = [
        "",
        "## History (the same topics into DuckDB, polls batched into row-group-sized transactions)",
        "",
        "| topic | ticks/s | x gateway (same topic) | MB per million ticks | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for name, run in history.items():
        gateway = ingest.get(f"gateway, {name}", {}).get("median", 0.0)
        ratio = f"{run['ticks_per_s'] / gateway:.2f}x" if gateway else "-"
        lines.append(
            f"| {name} | {run['ticks_per_s']:,.0f} | {ratio} | {run['db_mb_per_million']:.1f} | "
            f"{run['peak_rss_mb']:.0f} |"
        )
    return lines


def history_more_lines(results: dict[str, Any]) -> list[str]:
    """History beside the gateway, its candles' query latency and its memory on the big stream."""
    beside, queries, memory = (
        results.get(k) for k in ("history_beside", "history_queries", "history_memory")
    )
    if not (beside and queries and memory):
        return []
    alone, shared = beside["alone"]["median"], beside["with history"]["median"]
    return [
        "",
        f"- Gateway JSON ingest alone {alone:,.0f} ticks/s, with history reading the same topic "
        f"{shared:,.0f} ticks/s ({100 * (shared / alone - 1):+.1f}%; medians of {beside['alone']['runs']}, "
        "interleaved).",
        f"- One symbol's 1-minute candles over a day of {queries['ticks']:,} stored ticks, through "
        f"/history ({queries['queries']} queries): p50 {queries['p50_ms']:.1f} ms, "
        f"p99 {queries['p99_ms']:.1f} ms; "
        f"file {queries['db_mb_per_million']:.1f} MB per million ticks.",
        f"- History on the memory step's {memory['ticks']:,} ticks: {memory['ticks_per_s']:,.0f} ticks/s, "
        f"peak RSS {memory['peak_rss_mb']:.0f} MB, "
        f"file {memory['db_mb_per_million']:.1f} MB per million ticks.",
    ]


def write(out: Path, results: dict[str, Any]) -> str:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    lines = [f"# Tickerflow benchmark ({results['mode']})", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in results["machine"].items()]
    lines += [
        "",
        f"## Ingest ({results['ingest_ticks']:,} preloaded ticks, into ticks + quotes + bars + producers)",
        "",
    ]
    lines += ingest_table(results["ingest"])
    lines += peer_lines(results["peer"], results["ingest"])
    lines += history_lines(results.get("history", {}), results["ingest"])
    lines += history_more_lines(results)
    lines += [
        "",
        "## End-to-end latency (viewer sees row - event_time)",
        "",
        "| ticks/s | viewers | views | samples | p50 ms | p95 ms | p99 ms | gateway CPU % | gateway RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in results["latency"]:
        views = "shared" if case.get("shared", True) else "per client"
        lines.append(
            f"| {case['rate']:,} | {case['viewers']} | {views} | "
            f"{case['samples']:,} | {_fmt(case['p50_ms'], 1)} | {_fmt(case['p95_ms'], 1)} | "
            f"{_fmt(case['p99_ms'], 1)} | {_fmt(case['gateway_cpu_pct'])} | {_fmt(case['gateway_rss_mb'])} |"
        )
    lines += browser_lines(results.get("browser"))
    lines += engine_table(results["engine"])
    mem = results["memory"]
    lines += [
        "",
        f"## Memory ({mem['ticks']:,} ticks through the gateway)",
        "",
        f"Peak RSS {mem['peak_rss_mb']:.0f} MB, final {mem['final_rss_mb']:.0f} MB. ![rss](memory.png)",
        "",
        "## Producer scaling (acknowledged ticks/s into Kafka)",
        "",
        "| producers | format | ticks/s |",
        "|---|---|---|",
    ]
    lines += [f"| {s['producers']} | {s['format']} | {s['ticks_per_s']:,.0f} |" for s in results["scaling"]]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report)
    _plots(out, results)
    return report


def _plots(out: Path, results: dict[str, Any]) -> None:
    mem = results["memory"]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(mem["times_s"], mem["rss_mb"], label="gateway RSS (MB)")
    ax2 = ax.twinx()
    ax2.plot(mem["times_s"], [a / 1e6 for a in mem["applied"]], color="tab:orange", label="ticks applied (M)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("RSS MB")
    ax2.set_ylabel("million ticks")
    ax.set_title("Gateway memory while ticks stream through")
    fig.tight_layout()
    fig.savefig(out / "memory.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(results["ingest"])
    ax.barh(names, [results["ingest"][n]["median"] for n in names])
    ax.set_xscale("log")
    ax.set_xlabel("ticks/s (log)")
    ax.set_title("Ingest throughput")
    fig.tight_layout()
    fig.savefig(out / "ingest.png")
    plt.close(fig)
