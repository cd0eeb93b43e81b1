"""The market model: seeded universes and a random walk that keeps quotes sane."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from producer.market import Market, stamp, universe
from producer.settings import ProducerSettings


def test_same_seed_gives_the_same_universe() -> None:
    assert universe(50, seed=7) == universe(50, seed=7)
    assert universe(50, seed=7) != universe(50, seed=8)


def test_symbols_are_unique_and_short() -> None:
    symbols = [c.symbol for c in universe(500, seed=1)]
    assert len(set(symbols)) == 500
    assert all(3 <= len(s) <= 4 and s.isalpha() and s.isupper() for s in symbols)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), symbols=st.integers(1, 60), rounds=st.integers(1, 40))
def test_random_walk_keeps_spread_positivity_and_ohlc(seed: int, symbols: int, rounds: int) -> None:
    market = Market(universe(symbols, seed), seed)
    owned = np.arange(symbols)
    for _ in range(rounds):
        ticks = market.ticks(int(market.rng.integers(1, 3 * symbols)), owned)
        price, bid, ask = ticks["price"], ticks["bid"], ticks["ask"]
        assert (price > 0).all() and (bid > 0).all()
        assert (bid < price).all() and (price < ask).all()
        assert (ticks["low"] <= ticks["open"]).all() and (ticks["open"] <= ticks["high"]).all()
        assert (ticks["low"] <= ticks["close"]).all() and (ticks["close"] <= ticks["high"]).all()
        assert (ticks["bid_size"] > 0).all() and (ticks["ask_size"] > 0).all()


def test_volume_is_cumulative_per_symbol() -> None:
    market = Market(universe(5, 3), 3)
    first = market.step(np.arange(5))["volume"]
    second = market.step(np.arange(5))["volume"]
    assert (second > first).all()


def test_stamp_numbers_ticks_consecutively() -> None:
    market = Market(universe(10, 3), 3)
    ticks = stamp(market.ticks(25, np.arange(10)), "p1", first_seq=101)
    assert ticks["seq"].tolist() == list(range(101, 126))
    assert set(ticks["producer_id"]) == {"p1"}


def test_shard_selects_a_slice() -> None:
    settings_ = ProducerSettings(shard="1/3")
    assert settings_.shard_of() == (1, 3)
