"""Applies one decoded, de-duplicated batch to every table: one update per table per poll."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ingest.bars import BarBook, bars_table
from gateway.ingest.tables import Tables


def _dictionary(column: pa.Array) -> pa.Array:
    """Strings dictionary-encoded: Perspective interns them anyway, and takes them ~30% faster."""
    return pc.dictionary_encode(column) if pa.types.is_string(column.type) else column


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
        columns = [pa.array(slots), *(_dictionary(c) for c in batch.columns)]
        self.tables.ticks.update(pa.Table.from_arrays(columns, names=["slot", *batch.schema.names]))

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
        price, opened = last.column("price"), last.column("open")
        change = pc.subtract(price, opened)
        columns = {
            name: last.column(name)
            for name in (
                "symbol",
                "name",
                "exchange",
                "sector",
                "price",
                "bid",
                "ask",
                "bid_size",
                "ask_size",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "event_time",
                "producer_id",
            )
        }
        columns["change"] = change
        columns["change_pct"] = pc.multiply(pc.divide(change, opened), 100.0)
        columns["ticks"] = pa.array([by_code[s] for s in last.column("symbol").to_pylist()], pa.int64())
        self.tables.quotes.update(pa.table(columns))

    def _bars(self, batch: pa.RecordBatch) -> None:
        changed, evicted = self.book.add(batch)
        if changed:
            self.tables.bars.update(bars_table(changed))
        if evicted:
            self.tables.bars.remove(evicted)
