"""Applies one decoded, de-duplicated batch to every table: one update per table per poll."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ingest.bars import BarBook
from gateway.ingest.tables import Tables, bar_rows, quote_rows, tick_rows


class TableWriter:
    def __init__(self, tables: Tables, ticks_limit: int, bars_limit: int) -> None:
        self.tables = tables
        self.ticks_limit = ticks_limit
        self.book = BarBook(bars_limit)
        self.next_slot = 0
        self.symbol_ticks: dict[str, int] = {}

    def apply(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._ticks(batch)
        self._quotes(batch)
        self._bars(batch)

    def _ticks(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows > self.ticks_limit:  # only the newest fit in the ring anyway
            batch = batch.slice(batch.num_rows - self.ticks_limit)
        slots = (np.arange(batch.num_rows, dtype=np.int64) + self.next_slot) % self.ticks_limit
        self.next_slot = int((self.next_slot + batch.num_rows) % self.ticks_limit)
        self.tables.ticks.update(tick_rows(batch, slots))

    def _quotes(self, batch: pa.RecordBatch) -> None:
        """Only the last tick per symbol matters for the board; counts come from all of them."""
        encoded = pc.dictionary_encode(batch.column("symbol"))
        codes = encoded.indices.to_numpy()
        symbols = encoded.dictionary.to_pylist()
        counts = np.bincount(codes, minlength=len(symbols))
        _, first_from_end = np.unique(codes[::-1], return_index=True)
        last = batch.take(pa.array(len(codes) - 1 - first_from_end))
        totals = []
        for symbol, count in zip(symbols, counts.tolist(), strict=True):
            self.symbol_ticks[symbol] = self.symbol_ticks.get(symbol, 0) + count
            totals.append(self.symbol_ticks[symbol])
        by_code = dict(zip(symbols, totals, strict=True))
        ticks = [by_code[s] for s in last.column("symbol").to_pylist()]
        self.tables.quotes.update(quote_rows(last, ticks))

    def _bars(self, batch: pa.RecordBatch) -> None:
        changed, evicted = self.book.add(batch)
        if changed:
            self.tables.bars.update(bar_rows(changed))
        if evicted:
            self.tables.bars.remove(evicted)
