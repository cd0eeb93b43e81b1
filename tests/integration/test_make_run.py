"""`make run` (python -m harness.stack) tells the truth: live only when live, a dead service named."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from harness.ports import free_port
from harness.process import wait_for
from harness.runlogs import last_lines
from tests.support.stack import LIVE, Stack, kafka_port, new_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kafka(run_dir: Path) -> int:
    return kafka_port()


def test_a_taken_gateway_port_fails_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = Stack(tmp_path / "run", kafka_port(), port, tmp_path / "terminal.txt")
        code = stack.wait_exit(30)
    assert code not in (None, 0)
    lines = stack.terminal.splitlines()
    assert len(lines) == 1, lines
    assert f"port {port} is already in use" in lines[0] and f"GATEWAY_PORT={port + 10}" in lines[0]
    assert LIVE not in stack.terminal
    assert not (tmp_path / "run" / "kafka").exists()  # checked before anything started


def test_not_live_in_time_names_the_check_that_stayed_false(
    run_dir: Path, kafka: int, tmp_path: Path
) -> None:
    stack = Stack(run_dir, kafka, free_port(), tmp_path / "terminal.txt", live_timeout=0.1)
    assert stack.wait_exit(120) == 1
    # which gateway check is pending at 0.1 s depends on how fast it started: answering, or reaching Kafka
    assert "error: not live after 0s: still waiting for gateway to " in stack.terminal
    assert LIVE not in stack.terminal


def test_a_killed_producer_is_named_and_the_run_fails(run_dir: Path, kafka: int, tmp_path: Path) -> None:
    stack = new_stack(run_dir, tmp_path / "terminal.txt", kafka)
    stack.wait_live()
    stack.service("producer").kill()  # kill -9

    code = stack.wait_exit(30)
    assert code == 1
    assert "error: producer-0 was killed by SIGKILL" in stack.terminal
    assert f"last lines of {run_dir / 'logs' / 'producer-0.log'}:" in stack.terminal
    assert "stopping the rest: gateway" in stack.terminal


def test_a_second_run_shows_only_its_own_lines_and_a_killed_gateway_is_named(
    run_dir: Path, kafka: int, tmp_path: Path
) -> None:
    first = new_stack(run_dir, tmp_path / "first.txt", kafka)
    first.wait_live()
    assert wait_for(lambda: "producer.pacing: rate" in first.terminal, 30)
    first.process.signal(signal.SIGINT)  # Ctrl-C: the one clean exit
    assert first.wait_exit(30) == 0
    first_lines = {line for line in first.terminal.splitlines() if " | " in line}

    second = new_stack(run_dir, tmp_path / "second.txt", kafka)
    second.wait_live()
    assert wait_for(lambda: "producer.pacing: rate" in second.terminal, 30)
    shown = {line for line in second.terminal.splitlines() if " | " in line}
    assert shown and not shown & first_lines
    assert last_lines(run_dir / "logs" / "producer-0.1.log", 1)  # the first run's log, rotated

    second.service("gateway").kill()
    assert second.wait_exit(30) == 1
    assert "error: gateway was killed by SIGKILL" in second.terminal
    assert "stopping the rest: history, producer-0" in second.terminal
