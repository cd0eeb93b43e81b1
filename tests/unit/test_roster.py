"""The gateway's roster: symbols owned and rebalances per producer, from message headers."""

from __future__ import annotations

from common.headers import CONTENT_TYPE_JSON, make_headers, roster_headers
from gateway.ingest.roster import Roster


def _headers(producer: str, owned: int, rebalances: int) -> tuple[tuple[str, bytes], ...]:
    return tuple(make_headers(CONTENT_TYPE_JSON, producer) + roster_headers(owned, rebalances))


def test_each_producer_shows_what_its_headers_say() -> None:
    roster = Roster()
    roster.note([_headers("a", 17, 2), _headers("b", 33, 1)])

    assert roster.columns(["a", "b"]) == {"owned_symbols": [17, 33], "rebalances": [2, 1]}


def test_within_a_poll_the_set_with_most_rebalances_is_the_newest() -> None:
    roster = Roster()
    roster.note([_headers("a", 25, 3), _headers("a", 50, 2)])

    assert roster.columns(["a"]) == {"owned_symbols": [25], "rebalances": [3]}


def test_a_later_poll_wins_even_with_fewer_rebalances_as_after_a_restart() -> None:
    roster = Roster()
    roster.note([_headers("a", 25, 7)])
    roster.note([_headers("a", 50, 1)])

    assert roster.columns(["a"]) == {"owned_symbols": [50], "rebalances": [1]}


def test_producers_without_roster_headers_or_with_garbage_show_null() -> None:
    roster = Roster()
    garbage = (*make_headers(CONTENT_TYPE_JSON, "c"), ("owned-symbols", b"x1"), ("rebalances", b"2"))
    roster.note([tuple(make_headers(CONTENT_TYPE_JSON, "b")), garbage, None])

    assert roster.columns(["b", "c"]) == {"owned_symbols": [None, None], "rebalances": [None, None]}
