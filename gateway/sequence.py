"""Per-producer sequence tracking: drop duplicates, count gaps and out-of-order arrivals.

JSON ticks are keyed by symbol, so one producer's ticks reach us over several partitions
and interleave out of order. A contiguous watermark plus the set of seqs seen above it
tells a duplicate from a late tick; a hole that outlives the grace period is a gap.
Work is per producer per batch with numpy, never per tick in Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EMPTY = np.empty(0, dtype=np.int64)


@dataclass
class ProducerState:
    watermark: int  # every seq <= watermark has been applied (or declared a gap)
    pending: np.ndarray = field(default_factory=lambda: _EMPTY)  # sorted seqs seen above the watermark
    missing: set[int] = field(default_factory=set)  # declared gaps; a late arrival still counts once
    floor: int = 0  # the first watermark: we joined the stream here, earlier seqs may trail in
    early: set[int] = field(default_factory=set)  # seqs at or below the floor already applied
    stalled_since: float | None = None
    ticks: int = 0
    duplicates: int = 0
    gaps: int = 0
    out_of_order: int = 0
    last_seq: int = 0
    last_seen_ms: int = 0


class SequenceTracker:
    def __init__(self, gap_grace_s: float = 2.0, max_missing: int = 100_000) -> None:
        self.producers: dict[str, ProducerState] = {}
        self.gap_grace_s = gap_grace_s
        self.max_missing = max_missing

    def admit(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Return ``batch`` without duplicates, updating every producer's counters."""
        if batch.num_rows == 0:
            return batch
        encoded = pc.dictionary_encode(batch.column("producer_id"))
        codes = encoded.indices.to_numpy()
        seqs = batch.column("seq").to_numpy()
        times = batch.column("event_time").cast(pa.int64()).to_numpy()
        keep = np.ones(batch.num_rows, dtype=bool)
        for code, producer_id in enumerate(encoded.dictionary.to_pylist()):
            rows = np.flatnonzero(codes == code)
            keep[rows] = self._admit_one(producer_id, seqs[rows], int(times[rows].max()))
        return batch if keep.all() else batch.filter(pa.array(keep))

    def expire(self, now: float | None = None) -> None:
        """Declare holes older than the grace period as gaps (call periodically)."""
        now = time.monotonic() if now is None else now
        for state in self.producers.values():
            if (
                len(state.pending)
                and state.stalled_since is not None
                and now - state.stalled_since >= self.gap_grace_s
            ):
                first = int(state.pending[0])
                hole = range(state.watermark + 1, first)
                state.gaps += len(hole)
                if len(state.missing) + len(hole) <= self.max_missing:
                    state.missing.update(hole)
                state.watermark = first - 1
                self._advance(state, now)

    def _admit_one(self, producer_id: str, seqs: np.ndarray, last_time: int) -> np.ndarray:
        state = self.producers.get(producer_id)
        if state is None:
            start = int(seqs.min()) - 1
            state = self.producers[producer_id] = ProducerState(watermark=start, floor=start)
        keep = np.ones(len(seqs), dtype=bool)
        late = seqs <= state.watermark
        if late.any():
            keep[late] = [self._late_ok(state, int(s)) for s in seqs[late]]
        _, first = np.unique(seqs, return_index=True)
        unique = np.zeros(len(seqs), dtype=bool)
        unique[first] = True
        keep &= unique & ~np.isin(seqs, state.pending)
        fresh = seqs[keep & ~late]
        state.duplicates += int(len(seqs) - keep.sum())
        state.out_of_order += int((seqs[keep] < max(state.last_seq, 0)).sum())
        state.ticks += int(keep.sum())
        state.last_seq = max(state.last_seq, int(seqs.max()))
        state.last_seen_ms = max(state.last_seen_ms, last_time)
        if len(fresh):
            state.pending = np.union1d(state.pending, fresh)
            self._advance(state, time.monotonic())
        return keep

    def _late_ok(self, state: ProducerState, seq: int) -> bool:
        """A seq at or below the watermark: a filled gap or a trailing early tick, else a duplicate."""
        if seq in state.missing:
            state.missing.discard(seq)
            state.gaps -= 1
            return True
        if seq <= state.floor and seq not in state.early and len(state.early) < self.max_missing:
            state.early.add(seq)
            return True
        return False

    @staticmethod
    def _advance(state: ProducerState, now: float) -> None:
        pending = state.pending
        expected = np.arange(state.watermark + 1, state.watermark + 1 + len(pending))
        run = len(pending) if np.array_equal(pending, expected) else int(np.argmin(pending == expected))
        if run:
            state.watermark = int(pending[run - 1])
            state.pending = pending[run:]
        if not len(state.pending):
            state.stalled_since = None
        elif run or state.stalled_since is None:
            state.stalled_since = now  # a new hole, or progress past the old one: restart the clock
