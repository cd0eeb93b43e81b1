"""Turn market rounds into Kafka messages: JSON (a tick each, key = symbol) or Arrow batches.

Ticks are generated column-wise by the market model; Arrow mode encodes those columns
directly (no per-tick Python object), JSON mode makes one object per tick because that is
the wire format.
"""

from __future__ import annotations

import numpy as np
import orjson

from common.codec import encode_columns
from common.schema import FIELD_NAMES
from producer.buffer import Outgoing
from producer.market import Columns, Market, stamp, universe
from producer.metrics import Tally
from producer.settings import ProducerSettings

PACED_TICK_PROBABILITY = 0.6  # share of the owned symbols that tick in one paced round


class SelectionError(ValueError):
    """PRODUCER_SYMBOL_LIST and PRODUCER_SHARD are each valid but select nothing together."""


def build_market(settings: ProducerSettings) -> tuple[Market, np.ndarray]:
    """The seeded universe and the indices this producer owns (SelectionError if none)."""
    market = Market(universe(settings.symbols, settings.seed), settings.seed)
    return market, owned_indices(market, settings)


def owned_indices(market: Market, settings: ProducerSettings) -> np.ndarray:
    """The universe indices this producer ticks: its shard, narrowed by its symbol list."""
    index, count = settings.shard_of()
    chosen = [i for i in range(len(market)) if i % count == index]
    wanted = set(settings.owned_symbols())
    if wanted:
        chosen = [i for i in chosen if market.symbols[i] in wanted]
    if not chosen:
        raise SelectionError("PRODUCER_SYMBOL_LIST/PRODUCER_SHARD select no symbol of the universe")
    return np.array(chosen)


class Generator:
    """Numbers ticks from seq 1 upwards, gap-free, in the order they are generated."""

    def __init__(self, settings: ProducerSettings, market: Market, owned: np.ndarray, tally: Tally) -> None:
        self.settings = settings
        self.market = market
        self.owned = owned
        self.tally = tally
        self.next_seq = 1
        self._arrow_key = settings.producer_id.encode()

    def make(self, count: int) -> list[Outgoing]:
        if count <= 0 or not len(self.owned):  # owning nothing (e.g. during a rebalance) makes nothing
            return []
        columns = stamp(self.market.ticks(count, self.owned), self.settings.producer_id, self.next_seq)
        self.next_seq += count
        self.tally.add_generated(count)
        return self._arrow(columns, count) if self.settings.format == "arrow" else self._json(columns)

    def paced_round(self) -> list[Outgoing]:
        """A random subset of the owned symbols (at least one), one tick each."""
        if not len(self.owned):
            return []
        count = int(self.market.rng.binomial(len(self.owned), PACED_TICK_PROBABILITY)) or 1
        return self.make(count)

    def _json(self, columns: Columns) -> list[Outgoing]:
        # tolist() turns numpy scalars into Python ones, which orjson writes natively.
        rows = zip(*(columns[name].tolist() for name in FIELD_NAMES), strict=True)
        dumps = orjson.dumps
        return [Outgoing(row[0].encode(), dumps(dict(zip(FIELD_NAMES, row, strict=True))), 1) for row in rows]

    def _arrow(self, columns: Columns, count: int) -> list[Outgoing]:
        size = self.settings.batch_size
        return [
            Outgoing(
                self._arrow_key,
                encode_columns({k: v[start : start + size] for k, v in columns.items()}),
                min(size, count - start),
            )
            for start in range(0, count, size)
        ]
