"""Per-run service logs: each run writes fresh files (earlier runs rotated to NAME.1.log ...)."""

from __future__ import annotations

from pathlib import Path

KEEP = 5  # runs kept per service: NAME.log (this run), NAME.1.log (the one before) ... NAME.4.log


def _numbered(path: Path, number: int) -> Path:
    return path.with_name(f"{path.stem}.{number}{path.suffix}")


def fresh(path: Path, keep: int = KEEP) -> Path:
    """Move ``path`` to NAME.1.log (older ones up by one, the oldest dropped): this run starts empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _numbered(path, keep - 1).unlink(missing_ok=True)
    for number in range(keep - 2, 0, -1):
        older = _numbered(path, number)
        if older.exists():
            older.replace(_numbered(path, number + 1))
    if path.exists():
        path.replace(_numbered(path, 1))
    return path


class Follower:
    """The complete lines a file gained since the last call (like ``tail -f`` from the file's start)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        return [line.decode(errors="replace") for line in complete]


def last_lines(path: Path, count: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-count:]
    except FileNotFoundError:
        return []


def reason(path: Path) -> str | None:
    """The last ERROR or CRITICAL line of a service log: usually why it exited."""
    found = [line for line in last_lines(path, 200) if " ERROR " in line or " CRITICAL " in line]
    return found[-1] if found else None
