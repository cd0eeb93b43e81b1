"""Shared views are keyed on a ViewConfig whose map entries are put in one order: perspective
5.5.1 encodes `expressions` and `aggregates` from a HashMap, so the same view comes in many byte
orders, while the order of columns, sort and filter is part of what a view means."""

from __future__ import annotations

from typing import Any

import perspective

from gateway.serve.protocol import MAKE_VIEW, config_key, groups_rows, make_view_parts, read_head

AGGREGATES = {"price": "avg", "volume": "sum", "symbol": "count", "doubled": "max"}
EXPRESSIONS = {"doubled": '"price" * 2', "one": "1", "two": "2"}


def encodings(tries: int = 12, **config: Any) -> set[bytes]:
    """The distinct ViewConfig bytes a real perspective-python client sends for ``config``."""
    server = perspective.Server()
    sent: list[bytes] = []
    session = server.new_session(lambda response: client.handle_response(response))

    def send(message: bytes) -> None:
        head = read_head(message)
        if head is not None and head.kind == MAKE_VIEW:
            sent.append((make_view_parts(message, head) or ("", b""))[1])
        session.handle_request(message)

    client = perspective.Client(send)
    table = client.table({"symbol": "string", "price": "float", "volume": "integer"}, name="q")
    for _ in range(tries):
        table.view(**config).delete()
    return set(sent)


def test_one_view_config_has_one_key_whatever_order_its_maps_came_in() -> None:
    seen = encodings(columns=["symbol", "price", "doubled"], expressions=EXPRESSIONS, aggregates=AGGREGATES)
    assert len(seen) > 1  # the client's own encoding varies: the reason for the key
    assert len({config_key(config) for config in seen}) == 1


def test_a_different_aggregate_is_a_different_view() -> None:
    (plain,) = {config_key(c) for c in encodings(columns=["price"], aggregates={"price": "avg"})}
    (other,) = {config_key(c) for c in encodings(columns=["price"], aggregates={"price": "sum"})}
    assert plain != other


def test_the_order_of_columns_and_sorts_still_tells_views_apart() -> None:
    keys = {
        config_key(c)
        for config in (
            {"columns": ["symbol", "price"], "sort": [["symbol", "asc"], ["price", "desc"]]},
            {"columns": ["price", "symbol"], "sort": [["symbol", "asc"], ["price", "desc"]]},
            {"columns": ["symbol", "price"], "sort": [["price", "desc"], ["symbol", "asc"]]},
        )
        for c in encodings(tries=2, **config)
    }
    assert len(keys) == 3


def test_a_config_without_maps_keeps_its_bytes() -> None:
    (config,) = encodings(tries=2, columns=["symbol", "price"], sort=[["symbol", "asc"]])
    assert config_key(config) == config


def test_unreadable_bytes_are_their_own_key_and_never_shared() -> None:
    for garbage in (b"\x3a\xff", b"\xff" * 11, b"\x0b"):
        assert config_key(garbage) == garbage
        assert groups_rows(garbage)
