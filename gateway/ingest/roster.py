"""Per producer: how many symbols it owns and how many rebalances it went through.

Producers say so in the `owned-symbols` and `rebalances` headers of every message. Only the
distinct header sets of a poll are looked at (a handful, whatever the tick rate), so this
costs nothing per tick. Within a poll a producer's set with the most rebalances is its newest;
a later poll always wins (a restarted producer counts from 1 again).
"""

from __future__ import annotations

from collections.abc import Iterable

from common.headers import OWNED_SYMBOLS, PRODUCER_ID, REBALANCES, Headers, header


class Roster:
    def __init__(self) -> None:
        self.owned: dict[str, int] = {}
        self.rebalances: dict[str, int] = {}

    def note(self, header_sets: Iterable[Headers | None]) -> None:
        newest: dict[str, tuple[int, int]] = {}  # producer -> (rebalances, owned) in this poll
        for headers in header_sets:
            producer = header(headers, PRODUCER_ID)
            owned, rebalances = header(headers, OWNED_SYMBOLS) or "", header(headers, REBALANCES) or ""
            if producer and owned.isdigit() and rebalances.isdigit():
                entry = (int(rebalances), int(owned))
                newest[producer] = max(newest.get(producer, entry), entry)
        for producer, (count, symbols) in newest.items():
            self.rebalances[producer], self.owned[producer] = count, symbols

    def columns(self, producers: list[str]) -> dict[str, list[int | None]]:
        """The roster columns of the `producers` table (null for producers that send no roster)."""
        return {
            "owned_symbols": [self.owned.get(p) for p in producers],
            "rebalances": [self.rebalances.get(p) for p in producers],
        }
