"""Hypothesis strategies and a sample tick for codec and model tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from common.schema import MAX_STRING_LENGTH, Tick

SAMPLE: Tick = {
    "symbol": "ACME",
    "name": "Acme Corp",
    "exchange": "NYSE",
    "sector": "Industrials",
    "price": 101.25,
    "bid": 101.2,
    "ask": 101.3,
    "bid_size": 300,
    "ask_size": 500,
    "volume": 120_000,
    "open": 100.0,
    "high": 102.0,
    "low": 99.5,
    "close": 101.25,
    "event_time": 1_764_050_000_123,
    "producer_id": "host-1",
    "seq": 42,
}


def _text(field: str, min_size: int = 1) -> st.SearchStrategy[str]:
    return st.text(min_size=min_size, max_size=MAX_STRING_LENGTH[field])


_price = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
_count = st.integers(min_value=0, max_value=2**53)

ticks: st.SearchStrategy[Tick] = st.fixed_dictionaries(
    {
        "symbol": _text("symbol"),
        "name": _text("name", 0),
        "exchange": _text("exchange"),
        "sector": _text("sector", 0),
        "price": _price,
        "bid": _price,
        "ask": _price,
        "bid_size": _count,
        "ask_size": _count,
        "volume": _count,
        "open": _price,
        "high": _price,
        "low": _price,
        "close": _price,
        "event_time": st.integers(min_value=1, max_value=4_102_444_800_000),
        "producer_id": _text("producer_id"),
        "seq": _count,
    }
)  # type: ignore[assignment]


SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]


def numbered(seq: int, producer: str = "p1", **changes: Any) -> Tick:
    """Tick number ``seq`` of ``producer``: symbols cycle, prices and times rise with seq."""
    symbol = SYMBOLS[seq % len(SYMBOLS)]
    price = 100.0 + seq
    base: Tick = {
        **SAMPLE,
        "symbol": symbol,
        "seq": seq,
        "producer_id": producer,
        "price": price,
        "bid": price - 0.05,
        "ask": price + 0.05,
        "volume": 1000 * seq,
        "close": price,
        "high": price + 1,
        "low": 99.0,
        "event_time": 1_764_000_000_000 + 100 * seq,
    }
    return {**base, **changes}  # type: ignore[typeddict-item]
