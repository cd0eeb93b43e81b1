"""`make kafka-down` / `make kafka-up` beside a running `make run`: quick, and nothing lost."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.process import wait_for
from harness.psp import connect
from tests.support.psp import eventually, rows
from tests.support.stack import kafka_cli, new_stack

pytestmark = pytest.mark.integration


def _ready(url: str) -> bool | None:
    """/readyz's verdict, None if the gateway does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(json.loads(response.read())["ready"])
    except urllib.error.HTTPError:
        return False
    except OSError:
        return None


async def _producers(ws_url: str) -> list[dict[str, Any]]:
    async with connect(ws_url) as client:
        return await rows(client, "producers")


async def _has_producer(ws_url: str) -> bool:
    return len(await _producers(ws_url)) == 1


def _timed(command: str, run_dir: Path, port: int | None = None) -> float:
    started = time.monotonic()
    result = kafka_cli(command, run_dir, port)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aiokafka" not in result.stdout + result.stderr  # probes stay quiet
    return time.monotonic() - started


async def test_kafka_restarts_beside_a_running_stack_and_no_tick_is_lost(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    stack = new_stack(run_dir, tmp_path / "terminal.txt")
    ws_url = f"ws://127.0.0.1:{stack.gateway_port}/websocket"
    try:
        stack.wait_live()
        await eventually(lambda: _has_producer(ws_url), timeout=10)
        before = (await _producers(ws_url))[0]["ticks"]

        assert _timed("down", run_dir) <= 10
        assert wait_for(lambda: _ready(stack.url) is False, 20, 0.2)
        assert wait_for(lambda: "not live any more: waiting for gateway to reach Kafka" in stack.terminal, 10)

        assert _timed("up", run_dir, stack.kafka_port) <= 30
        assert wait_for(lambda: _ready(stack.url) is True, 60, 0.2), stack.terminal[-3000:]
        assert wait_for(lambda: "\nlive again" in stack.terminal, 10)

        async def whole() -> bool:
            (producer,) = await _producers(ws_url)
            seen.append(producer)
            # every seq from 1 to the newest arrived exactly once, and none is counted missing
            return producer["ticks"] > before + 500 and producer["ticks"] == producer["last_seq"]

        seen: list[dict[str, Any]] = []
        try:
            await eventually(whole, timeout=60, interval=0.5)
        except AssertionError as failed:
            raise AssertionError(f"producers row: {seen[-1]}") from failed
        assert seen[-1]["gaps"] == 0 and seen[-1]["duplicates"] == 0, seen[-1]
    finally:
        stack.process.stop(10)
        kafka_cli("down", run_dir)
