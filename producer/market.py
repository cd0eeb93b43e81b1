"""A seeded universe of companies whose prices follow a geometric random walk.

State lives in numpy arrays and a round of ticks is computed for many symbols at once,
which is what lets one producer generate 100k+ ticks/s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from faker import Faker

SECTORS = (
    "Technology",
    "Financials",
    "Healthcare",
    "Energy",
    "Industrials",
    "Consumer",
    "Utilities",
    "Materials",
    "Telecom",
    "Real Estate",
)
EXCHANGES = ("NYSE", "NASDAQ", "LSE", "XETRA", "TSE", "HKEX")

Columns = dict[str, Any]


@dataclass(frozen=True)
class Company:
    symbol: str
    name: str
    sector: str
    exchange: str


def universe(count: int, seed: int) -> list[Company]:
    """The same ``count`` companies for the same ``seed``, with unique symbols."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    companies: list[Company] = []
    taken: set[str] = set()
    while len(companies) < count:
        name = fake.company()
        symbol = _symbol(name, taken, rng)
        taken.add(symbol)
        companies.append(
            Company(
                symbol,
                name[:128],
                SECTORS[int(rng.integers(len(SECTORS)))],
                EXCHANGES[int(rng.integers(len(EXCHANGES)))],
            )
        )
    return companies


def _symbol(name: str, taken: set[str], rng: np.random.Generator) -> str:
    letters = "".join(ch for ch in name.upper() if "A" <= ch <= "Z")
    for length in (3, 4):
        candidate = letters[:length]
        if len(candidate) == length and candidate not in taken:
            return candidate
    while True:
        candidate = "".join(chr(int(c)) for c in rng.integers(65, 91, size=4))
        if candidate not in taken:
            return candidate


class Market:
    """Per-symbol price state; ``round(idx)`` moves the given symbols one tick each."""

    def __init__(self, companies: list[Company], seed: int) -> None:
        self.companies = companies
        self.rng = np.random.default_rng(seed + 1)
        n = len(companies)
        self.symbols = np.array([c.symbol for c in companies], dtype=object)
        self.names = np.array([c.name for c in companies], dtype=object)
        self.sectors = np.array([c.sector for c in companies], dtype=object)
        self.exchanges = np.array([c.exchange for c in companies], dtype=object)
        self.price = np.round(np.exp(self.rng.uniform(np.log(5), np.log(800), n)), 2)
        self.sigma = self.rng.uniform(0.0002, 0.002, n)  # per-tick volatility, differs by symbol
        self.spread_bps = self.rng.uniform(1.0, 8.0, n)
        self.open = self.price.copy()
        self.high = self.price.copy()
        self.low = self.price.copy()
        self.volume = np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.companies)

    def step(self, idx: np.ndarray) -> Columns:
        """Advance the symbols at ``idx`` (no repeats) and return their ticks as columns."""
        shocks = self.rng.standard_normal(len(idx))
        sigma = self.sigma[idx]
        price = self.price[idx] * np.exp(sigma * shocks - 0.5 * sigma * sigma)
        price = np.maximum(np.round(price, 4), 0.01)
        self.price[idx] = price
        self.high[idx] = np.maximum(self.high[idx], price)
        self.low[idx] = np.minimum(self.low[idx], price)
        half = np.maximum(price * self.spread_bps[idx] / 20_000, 0.0001)
        trade = self.rng.integers(1, 20, len(idx)) * 100
        self.volume[idx] += trade
        return {
            "symbol": self.symbols[idx],
            "name": self.names[idx],
            "exchange": self.exchanges[idx],
            "sector": self.sectors[idx],
            "price": price,
            "bid": np.round(price - half, 4),
            "ask": np.round(price + half, 4),
            "bid_size": self.rng.integers(1, 50, len(idx)) * 100,
            "ask_size": self.rng.integers(1, 50, len(idx)) * 100,
            "volume": self.volume[idx].copy(),
            "open": self.open[idx],
            "high": self.high[idx],
            "low": self.low[idx],
            "close": price,
        }

    def resume(self, idx: int, last: Columns) -> None:
        """Continue symbol ``idx`` from its last published tick (a handover or a restart)."""
        self.price[idx] = float(last["price"])
        self.open[idx] = float(last["open"])
        self.high[idx] = float(last["high"])
        self.low[idx] = float(last["low"])
        self.volume[idx] = int(last["volume"])

    def ticks(self, count: int, owned: np.ndarray) -> Columns:
        """``count`` ticks spread over the ``owned`` symbols, in rounds without repeats."""
        rounds: list[Columns] = []
        remaining = count
        while remaining > 0:
            take = min(remaining, len(owned))
            rounds.append(self.step(self.rng.choice(owned, size=take, replace=False)))
            remaining -= take
        return concat(rounds)


def concat(parts: list[Columns]) -> Columns:
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def stamp(columns: Columns, producer_id: str, first_seq: int) -> Columns:
    """Add identity and creation time: the fields the market does not know."""
    n = len(columns["price"])
    columns["event_time"] = np.full(n, int(time.time() * 1000), dtype=np.int64)
    columns["producer_id"] = np.full(n, producer_id, dtype=object)
    columns["seq"] = np.arange(first_seq, first_seq + n, dtype=np.int64)
    return columns
