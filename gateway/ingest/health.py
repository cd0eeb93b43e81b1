"""The gateway's verdict for pages: `live` while ticks flow, else `stale` with the reason.

Published as the `status` and `reason` columns of the one-row `gateway` table, so a page can
show "STALE: Kafka unreachable" instead of a green LIVE over a WebSocket that merely is open.
"""

from __future__ import annotations

from dataclasses import dataclass

LIVE = "live"
STALE = "stale"


@dataclass(frozen=True)
class Inputs:
    broker_up: bool
    assigned: bool
    caught_up: bool
    since_tick_s: float | None  # seconds since the last tick was applied; None: none yet
    stale_after_s: float
    bootstrap: str


def verdict(now: Inputs) -> tuple[str, str]:
    """(status, reason): the first thing that stops data from flowing, in the order it matters."""
    if not now.broker_up:
        return STALE, f"Kafka unreachable at {now.bootstrap}"
    if not now.assigned:
        return STALE, "waiting for the topic"
    if not now.caught_up:
        return STALE, "replaying recent history"
    if now.since_tick_s is None:
        return STALE, "no ticks yet"
    if now.since_tick_s > now.stale_after_s:
        return STALE, f"no ticks for {now.since_tick_s:.0f} s"
    return LIVE, ""
