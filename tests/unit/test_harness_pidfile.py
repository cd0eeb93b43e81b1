"""A recorded pid is alive only while it is the same, running process: not a zombie, not a reused pid."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness import pidfile
from harness.process import wait_for


def test_a_running_process_is_alive_and_survives_a_round_trip_through_the_file(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        recorded = pidfile.identify(child.pid)
        assert recorded is not None and recorded.start is not None
        pidfile.write(tmp_path / "pid", recorded)
        assert pidfile.running(tmp_path / "pid") == recorded
    finally:
        child.kill()
        child.wait()


def test_a_zombie_reads_as_dead() -> None:
    child = subprocess.Popen(["true"])
    recorded = pidfile.ProcessId(child.pid, None)
    try:
        # not reaped yet: /proc still lists it, in state Z, and kill(pid, 0) would succeed
        assert wait_for(lambda: Path(f"/proc/{child.pid}/stat").read_text().split()[2] == "Z", 10)
        assert not pidfile.alive(recorded)
    finally:
        child.wait()


def test_a_pid_reused_by_another_process_reads_as_dead(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        real = pidfile.identify(child.pid)
        assert real is not None and real.start is not None
        (tmp_path / "pid").write_text(f"{child.pid} {real.start - 1}\n")  # recorded for an earlier process
        assert pidfile.running(tmp_path / "pid") is None
    finally:
        child.kill()
        child.wait()


def test_a_missing_or_garbled_file_is_no_process(tmp_path: Path) -> None:
    assert pidfile.running(tmp_path / "absent") is None
    (tmp_path / "pid").write_text("not a pid")
    assert pidfile.running(tmp_path / "pid") is None
