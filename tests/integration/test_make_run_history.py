"""`make run` includes history: its file under the run dir, served at /history through the gateway."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.ports import free_port
from harness.psp import connect
from tests.support.psp import eventually
from tests.support.stack import Stack, kafka_port, new_stack

pytestmark = pytest.mark.integration


async def _stored(url: str) -> int:
    async with connect(url) as client:
        table = await client.open_table("history.ticks")
        return int(await table.size())


async def test_history_fills_its_file_under_the_run_dir_and_the_gateway_serves_it(
    run_dir: Path, tmp_path: Path
) -> None:
    stack = new_stack(run_dir, tmp_path / "terminal.txt", kafka_port())
    try:
        stack.wait_live()
        assert f"history on :{stack.history_port}" in stack.terminal
        through_gateway = f"ws://127.0.0.1:{stack.gateway_port}/history"
        first = 0

        async def storing() -> bool:
            nonlocal first
            first = first or await _stored(through_gateway)
            return first > 0

        await eventually(storing, timeout=60)

        async def growing() -> bool:
            return await _stored(through_gateway) > first

        await eventually(growing, timeout=60)
        assert (run_dir / "history" / "history.duckdb").is_file()
    finally:
        stack.process.stop()


def test_a_taken_history_port_fails_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = Stack(
            tmp_path / "run", kafka_port(), free_port(), tmp_path / "terminal.txt", history_port=port
        )
        code = stack.wait_exit(30)
    assert code not in (None, 0)
    lines = stack.terminal.splitlines()
    assert len(lines) == 1, lines
    assert f"port {port} is already in use, so the history cannot listen on it" in lines[0]
    assert f"HISTORY_PORT={port + 10}" in lines[0]
