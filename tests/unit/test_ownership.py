"""Shards of the universe, owning nothing during a rebalance, and finding a symbol's newest tick."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from common.codec import encode_arrow, encode_json
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from common.schema import Tick
from producer.continuity import Last, _take_newest
from producer.generator import Generator, build_market
from producer.metrics import Tally
from producer.ownership import shard_members
from producer.settings import ProducerSettings
from tests.support.ticks import SAMPLE


def tick(seq: int, **fields: object) -> Tick:
    return {**SAMPLE, "seq": seq, "close": fields.get("price", SAMPLE["price"]), **fields}  # type: ignore[typeddict-item]


def test_shards_split_the_universe_evenly_without_overlap() -> None:
    parts = [shard_members(50, {s for s in range(24) if s % 3 == i}, 24) for i in range(3)]

    assert sorted(np.concatenate(parts).tolist()) == list(range(50))
    assert sorted(len(p) for p in parts) in ([16, 17, 17], [16, 16, 18])


def test_a_producer_that_owns_nothing_makes_nothing() -> None:
    settings = ProducerSettings(producer_id="idle")
    market, _ = build_market(settings)
    generator = Generator(settings, market, np.empty(0, dtype=np.int64), Tally())

    assert generator.make(100) == [] and generator.paced_round() == []
    assert generator.next_seq == 1  # no seq is used up, so none is missing later


def _record(offset: int, ticks: list[Tick], arrow: bool) -> SimpleNamespace:
    kind = CONTENT_TYPE_ARROW if arrow else CONTENT_TYPE_JSON
    value = encode_arrow(ticks) if arrow else encode_json(ticks[0])
    return SimpleNamespace(offset=offset, value=value, headers=make_headers(kind, "p"))


def test_the_newest_tick_wins_by_event_time_whatever_the_read_order() -> None:
    old = tick(1, symbol="AAA", price=101.0, event_time=1_764_050_000_000)
    new = tick(2, symbol="AAA", price=101.5, event_time=1_764_050_001_000)
    other = tick(3, symbol="BBB", price=101.1, event_time=1_764_050_002_000)
    found: Last = {}

    seen = _take_newest([_record(7, [new, other], arrow=True)], {"AAA"}, found)
    _take_newest([_record(9, [old], arrow=False)], {"AAA"}, found)

    assert seen == {"AAA"} and set(found) == {"AAA"}
    assert found["AAA"][1]["price"] == 101.5
