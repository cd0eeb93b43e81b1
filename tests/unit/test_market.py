"""The market model: seeded universes and a random walk that keeps quotes sane (property tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from producer.market import SECTORS, Market, stamp, universe

seeds = st.integers(0, 2**31)
sizes = st.integers(1, 60)


def _walk(seed: int, symbols: int, rounds: int) -> list[dict[str, np.ndarray]]:
    market = Market(universe(symbols, seed), seed)
    owned = np.arange(symbols)
    return [market.ticks(int(market.rng.integers(1, 3 * symbols)), owned) for _ in range(rounds)]


def test_same_seed_gives_the_same_universe() -> None:
    assert universe(50, seed=7) == universe(50, seed=7)
    assert universe(50, seed=7) != universe(50, seed=8)


def test_symbols_are_unique_and_short() -> None:
    symbols = [c.symbol for c in universe(500, seed=1)]
    assert len(set(symbols)) == 500
    assert all(3 <= len(s) <= 4 and s.isalpha() and s.isupper() for s in symbols)


def test_companies_have_names_sectors_and_exchanges() -> None:
    companies = universe(50, seed=3)
    assert all(c.name and c.exchange for c in companies)
    assert {c.sector for c in companies} <= set(SECTORS)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, symbols=sizes, rounds=st.integers(1, 40))
def test_prices_stay_positive_inside_a_realistic_spread(seed: int, symbols: int, rounds: int) -> None:
    for ticks in _walk(seed, symbols, rounds):
        price, bid, ask = ticks["price"], ticks["bid"], ticks["ask"]
        assert (bid > 0).all()
        assert (bid < price).all() and (price < ask).all()
        assert ((ask - bid) / price < 0.01).all()  # under 1%: basis points, as on a real book
        assert (ticks["bid_size"] > 0).all() and (ticks["ask_size"] > 0).all()


@settings(max_examples=40, deadline=None)
@given(seed=seeds, symbols=sizes, rounds=st.integers(1, 40))
def test_day_ohlc_brackets_open_and_close(seed: int, symbols: int, rounds: int) -> None:
    for ticks in _walk(seed, symbols, rounds):
        low, high = ticks["low"], ticks["high"]
        assert (low <= ticks["open"]).all() and (ticks["open"] <= high).all()
        assert (low <= ticks["close"]).all() and (ticks["close"] <= high).all()
        assert (ticks["close"] == ticks["price"]).all()


@settings(max_examples=25, deadline=None)
@given(seed=seeds, symbols=sizes, rounds=st.integers(1, 30))
def test_ohlc_and_volume_follow_each_symbols_history(seed: int, symbols: int, rounds: int) -> None:
    history: dict[str, list[float]] = {}
    opens: dict[str, float] = {}
    volumes: dict[str, int] = {}
    for ticks in _walk(seed, symbols, rounds):
        for i, symbol in enumerate(ticks["symbol"]):
            prices = history.setdefault(symbol, [])
            prices.append(float(ticks["price"][i]))
            assert opens.setdefault(symbol, float(ticks["open"][i])) == ticks["open"][i]  # open is fixed
            assert ticks["high"][i] == max([*prices, opens[symbol]])
            assert ticks["low"][i] == min([*prices, opens[symbol]])
            assert ticks["volume"][i] > volumes.get(symbol, 0)  # cumulative: every tick trades
            volumes[symbol] = int(ticks["volume"][i])


@settings(max_examples=20, deadline=None)
@given(seed=seeds, symbols=sizes)
def test_same_seed_gives_the_same_walk(seed: int, symbols: int) -> None:
    first, second = _walk(seed, symbols, 5), _walk(seed, symbols, 5)
    for a, b in zip(first, second, strict=True):
        assert all(np.array_equal(a[key], b[key]) for key in a)


@settings(max_examples=30, deadline=None)
@given(symbols=sizes, count=st.integers(1, 500))
def test_a_batch_ticks_each_symbol_evenly(symbols: int, count: int) -> None:
    market = Market(universe(symbols, 1), 1)
    ticks = market.ticks(count, np.arange(symbols))
    _, per_symbol = np.unique(ticks["symbol"], return_counts=True)
    assert len(ticks["symbol"]) == count
    assert per_symbol.max() == -(-count // symbols)  # rounds without repeats: ceil(count / symbols)
    assert per_symbol.max() - per_symbol.min() <= 1


def test_stamp_numbers_ticks_consecutively_with_one_creation_time() -> None:
    market = Market(universe(10, 3), 3)
    ticks = stamp(market.ticks(25, np.arange(10)), "p1", first_seq=101)
    assert ticks["seq"].tolist() == list(range(101, 126))
    assert set(ticks["producer_id"]) == {"p1"}
    assert len(set(ticks["event_time"].tolist())) == 1
    assert ticks["event_time"][0] > 1_600_000_000_000  # epoch milliseconds
