"""Messages the producer builds: JSON a tick each keyed by symbol, Arrow batches keyed by producer id."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from common.codec import decode_arrow
from common.schema import FIELD_NAMES
from producer.generator import Generator, SelectionError, build_market, owned_indices
from producer.metrics import Tally
from producer.settings import ProducerSettings
from tests.support.wire import batch_to_ticks, decode_json


def _generator(**overrides: object) -> Generator:
    settings = ProducerSettings(producer_id="gen", **overrides)  # type: ignore[arg-type]
    market, owned = build_market(settings)
    return Generator(settings, market, owned, Tally())


def test_json_is_one_valid_tick_per_message_keyed_by_symbol() -> None:
    messages = _generator().make(120)
    ticks = [decode_json(m.value) for m in messages]
    assert len(messages) == 120 and all(m.ticks == 1 for m in messages)
    assert [m.key for m in messages] == [t["symbol"].encode() for t in ticks]
    assert list(orjson.loads(messages[0].value)) == list(FIELD_NAMES)
    assert [t["seq"] for t in ticks] == list(range(1, 121))


def test_arrow_is_batches_of_batch_size_keyed_by_producer_id() -> None:
    messages = _generator(format="arrow", batch_size=100).make(250)
    batches = [decode_arrow(m.value) for m in messages]
    assert [b.num_rows for b in batches] == [m.ticks for m in messages] == [100, 100, 50]
    assert {m.key for m in messages} == {b"gen"}
    seqs = [t["seq"] for b in batches for t in batch_to_ticks(b)]
    assert seqs == list(range(1, 251))


def test_seq_continues_across_calls_and_the_tally_counts_every_tick() -> None:
    generator = _generator()
    first, second = generator.make(10), generator.make(5)
    assert decode_json(second[0].value)["seq"] == 11
    assert generator.tally.generated == len(first) + len(second) == 15


def test_a_paced_round_ticks_a_subset_of_symbols_once_each() -> None:
    generator = _generator()
    symbols = [m.key for m in generator.paced_round()]
    assert 1 <= len(symbols) <= 50
    assert len(set(symbols)) == len(symbols)


def test_shards_split_the_universe_without_overlap() -> None:
    market, _ = build_market(ProducerSettings())
    parts = [owned_indices(market, ProducerSettings(shard=f"{i}/3")) for i in range(3)]
    assert sorted(np.concatenate(parts).tolist()) == list(range(50))


def test_symbol_list_narrows_the_universe() -> None:
    market, _ = build_market(ProducerSettings())
    wanted = [str(s) for s in market.symbols[:2]]
    owned = owned_indices(market, ProducerSettings(symbol_list=",".join(wanted).lower()))
    assert [market.symbols[i] for i in owned] == wanted


def test_a_selection_of_no_symbol_is_a_configuration_error() -> None:
    with pytest.raises(SelectionError, match="PRODUCER_SYMBOL_LIST"):
        build_market(ProducerSettings(symbol_list="NOSUCH"))
