"""Applies one decoded, de-duplicated batch to every table: one update per table per poll.

What the `ticks` ring holds at high rates: the newest ``ticks_per_update`` rows of each batch.
The ring is the blotter, a list a person reads; `quotes`, `bars` and the counters are the
figures, and they see every tick. Writing into a full ring is the engine's wall: Perspective
5.5.1 takes ~2.5 us a row there (100k rows: ~250 ms on this machine), 85% of a big batch's
apply, while everything else of that batch (decode, de-duplication, quotes, bars) is ~15%.
A 20k ring holds 20 ms at 1M ticks/s, and a blotter shows its newest few dozen rows:
rows written only to be overwritten within milliseconds reach no eye. So a
batch bigger than the cap (a burst, a replay, or >~100k ticks/s; at 10k ticks/s a poll
brings a few hundred) writes only its newest rows, and the ring keeps a bounded rate of the
newest ticks instead of every tick (the default 10,000 rows is still 250 screens a batch).
Measured A/B, same process tree, interleaved, 1M preloaded ticks, 3 pairs (issue 18): Arrow
10k/msg 250k -> 514k ticks/s (2.05x), Arrow 1k/msg 345k -> 732k ticks/s (2.12x); one 200k-row
batch applies in 68 ms instead of 359 ms.

`bars` are per-second candles, so they are folded and written at their own cadence
(``bars_every_s``, GATEWAY_BARS_INTERVAL_MS) from the ticks held since the last write, instead
of once per batch. At 10k JSON ticks/s a batch is a few hundred ticks and ~40-90 come a second;
each fold + update of `bars` cost 1.2-1.7 ms of the tables thread whatever its size (in-process,
370-row batches: ticks 1.6, quotes 1.3, bars 1.6 ms), so once per batch it was ~10% of a core.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ingest.bars import BarBook
from gateway.ingest.tables import Tables, bar_rows, quote_rows, tick_rows

BAR_COLUMNS = ["symbol", "price", "volume", "event_time"]  # all a bar is folded from
# Held ticks past this fold at once whatever the cadence: a memory bound (~12 MB of 4 columns).
BARS_HELD_MAX = 400_000


class TableWriter:
    def __init__(
        self,
        tables: Tables,
        ticks_limit: int,
        bars_limit: int,
        ticks_per_update: int | None = None,
        bars_every_s: float = 0.0,
    ) -> None:
        self.tables = tables
        self.ticks_limit = ticks_limit
        # Rows of one batch written to the ring: never more than it holds, nor than the cap.
        self.ticks_written = min(ticks_limit, ticks_per_update or ticks_limit)
        self.book = BarBook(bars_limit)
        self.next_slot = 0
        self.symbol_ticks: dict[str, int] = {}
        self.bars_every_s = bars_every_s
        self._held: list[pa.RecordBatch] = []  # ticks not yet folded into `bars`
        self._held_rows = 0
        self._bars_at = time.monotonic()  # of the last `bars` write

    def apply(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._ticks(batch)
        self._quotes(batch)
        self._held.append(batch.select(BAR_COLUMNS))
        self._held_rows += batch.num_rows
        self.flush_bars(force=self._held_rows >= BARS_HELD_MAX)

    def flush_bars(self, force: bool = False) -> None:
        """Fold the held ticks into `bars` if the cadence is due (or ``force``); the pipeline also
        calls this between batches, so the last ticks of a burst reach `bars` within a cadence."""
        if not self._held or not (force or time.monotonic() - self._bars_at >= self.bars_every_s):
            return
        held, self._held, self._held_rows = self._held, [], 0
        self._bars_at = time.monotonic()
        self._bars(pa.Table.from_batches(held))

    def _ticks(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows > self.ticks_written:  # only the newest are seen (module docstring)
            batch = batch.slice(batch.num_rows - self.ticks_written)
        slots = (np.arange(batch.num_rows, dtype=np.int64) + self.next_slot) % self.ticks_limit
        self.next_slot = int((self.next_slot + batch.num_rows) % self.ticks_limit)
        self.tables.ticks.update(tick_rows(batch, slots))

    def _quotes(self, batch: pa.RecordBatch) -> None:
        """Only the last tick per symbol matters for the board; counts come from all of them."""
        encoded = pc.dictionary_encode(batch.column("symbol"))
        codes = encoded.indices.to_numpy()
        symbols = encoded.dictionary.to_pylist()
        counts = np.bincount(codes, minlength=len(symbols))
        # Last row of each symbol in one O(n) pass: np.unique sorted all n codes for this, 5.5-6.5 ms
        # of a 120k-row batch (14% of its apply, py-spy) against 0.2 ms here (27x; 3x at 200 rows).
        last_row = np.zeros(len(symbols), dtype=np.int64)
        np.maximum.at(last_row, codes, np.arange(len(codes)))
        last = batch.take(pa.array(last_row[counts > 0]))  # a dictionary may hold unused symbols
        totals = []
        for symbol, count in zip(symbols, counts.tolist(), strict=True):
            self.symbol_ticks[symbol] = self.symbol_ticks.get(symbol, 0) + count
            totals.append(self.symbol_ticks[symbol])
        by_code = dict(zip(symbols, totals, strict=True))
        ticks = [by_code[s] for s in last.column("symbol").to_pylist()]
        self.tables.quotes.update(quote_rows(last, ticks))

    def _bars(self, batch: pa.Table) -> None:
        changed, evicted = self.book.add(batch)
        if changed:
            self.tables.bars.update(bar_rows(changed))
        if evicted:
            self.tables.bars.remove(evicted)
