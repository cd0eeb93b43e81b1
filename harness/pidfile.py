"""A pid that names one process: recorded with its start time, so a reused pid or a zombie reads as dead.

``os.kill(pid, 0)`` succeeds on a zombie and on whatever process got the pid later; /proc does not lie:
``/proc/<pid>/stat`` has the state (``Z`` zombie, ``X`` dead) and the start time in clock ticks since boot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessId:
    pid: int
    start: int | None  # None: a pid file from before start times were recorded


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of ``pid``, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])  # field 3 = state, field 22 = starttime


def identify(pid: int) -> ProcessId | None:
    """``pid`` with its start time, or None if it is already gone."""
    stat = _stat(pid)
    return None if stat is None or stat[0] in "ZX" else ProcessId(pid, stat[1])


def alive(process: ProcessId) -> bool:
    """True only for the very process recorded: not a zombie, not a later process with the same pid."""
    stat = _stat(process.pid)
    if stat is None or stat[0] in "ZX":
        return False
    return process.start is None or stat[1] == process.start


def write(path: Path, process: ProcessId) -> None:
    path.write_text(f"{process.pid} {process.start if process.start is not None else ''}".strip() + "\n")


def read(path: Path) -> ProcessId | None:
    try:
        fields = path.read_text().split()
        return ProcessId(int(fields[0]), int(fields[1]) if len(fields) > 1 else None)
    except (FileNotFoundError, ValueError, IndexError):
        return None


def running(path: Path) -> ProcessId | None:
    """The process recorded in ``path``, if it is still that process and alive."""
    process = read(path)
    return process if process is not None and alive(process) else None
