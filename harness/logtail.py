"""Make a Kafka server.log readable in one error message: the first ERROR and its root cause."""

from __future__ import annotations

import re

_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")
_ERROR = re.compile(r"^\[[^\]]+\] (ERROR|FATAL) ")


def _no_frames(lines: list[str]) -> list[str]:
    return [line for line in lines if line.strip() and not _FRAME.match(line)]


def first_error(text: str) -> str | None:
    """``"<first ERROR message> (root cause: <deepest Caused by>)"``, or None if nothing failed."""
    lines = _no_frames(text.splitlines())
    for index, line in enumerate(lines):
        if not _ERROR.match(line):
            continue
        message = re.sub(r" \([\w.$]+\)$", "", _ERROR.sub("", line).strip())  # drop "(logger)"
        chain: list[str] = []
        for following in lines[index + 1 :]:
            if following.startswith("["):  # the next log record
                break
            chain.append(following.removeprefix("Caused by: ").strip())
        if not chain:
            return message
        if len(chain) == 1:
            return f"{message}: {chain[0]}"
        return f"{message}: {chain[0]} (root cause: {chain[-1]})"
    return None


def excerpt(text: str, lines: int = 15) -> str:
    """From the first ERROR on (stack frames dropped), or the last ``lines`` if nothing failed."""
    kept = _no_frames(text.splitlines())
    start = next((i for i, line in enumerate(kept) if _ERROR.match(line)), None)
    chosen = kept[-lines:] if start is None else kept[start : start + lines]
    return "\n".join(chosen)
