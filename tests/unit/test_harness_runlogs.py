"""Each `make run` writes fresh logs; earlier runs are kept, rotated, and never shown again."""

from __future__ import annotations

from pathlib import Path

from harness.runlogs import Follower, fresh, reason


def test_fresh_rotates_earlier_runs_and_keeps_five(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "gateway.log"
    for run in range(7):
        fresh(log).write_text(f"run {run}\n")
    assert log.read_text() == "run 6\n"
    kept = {p.name: p.read_text() for p in log.parent.iterdir()}
    assert kept == {
        "gateway.log": "run 6\n",
        "gateway.1.log": "run 5\n",
        "gateway.2.log": "run 4\n",
        "gateway.3.log": "run 3\n",
        "gateway.4.log": "run 2\n",
    }


def test_the_follower_hands_out_complete_lines_once(tmp_path: Path) -> None:
    log = tmp_path / "producer-0.log"
    follower = Follower(log)
    assert follower.lines() == []
    with open(log, "a") as file:
        file.write("one\ntw")
        file.flush()
        assert follower.lines() == ["one"]
        file.write("o\n")
    assert follower.lines() == ["two"]
    assert follower.lines() == []


def test_the_reason_is_the_last_error_line(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    log.write_text(
        "2026-12-03 07:00:00,000 INFO gateway.app: starting\n"
        "2026-12-03 07:00:00,001 ERROR gateway.app: cannot listen on 0.0.0.0:8080: Address in use\n"
        "2026-12-03 07:00:00,002 INFO gateway.app: bye\n"
    )
    assert (
        reason(log)
        == "2026-12-03 07:00:00,001 ERROR gateway.app: cannot listen on 0.0.0.0:8080: Address in use"
    )
    assert reason(tmp_path / "absent.log") is None
