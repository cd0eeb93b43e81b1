"""Per-producer sequence tracking: drop duplicates, count gaps and out-of-order arrivals.

JSON ticks are keyed by symbol, so one producer's ticks reach us over several partitions
and interleave out of order. That interleaving is normal; out of order is only counted
within one partition, where Kafka keeps the producer's order, so a non-zero count means
trouble (e.g. retries reordering a producer's sends).

Per producer we keep a contiguous watermark (every seq at or below it is settled) plus the
sorted seqs seen above it; a hole that outlives the grace period becomes a gap. Seqs below
the first one we saw (we joined mid-stream) and declared gaps are kept as ranges, so a late
tick is still applied exactly once, however late.
Work is per producer per batch with numpy, never per tick in Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.seqset import RangeSet

_EMPTY = np.empty(0, dtype=np.int64)
# A tick we consider already applied but stamped this much later than anything seen from its
# producer is no redelivery (those keep their event_time): the producer restarted from seq 1.
RESTART_MARGIN_MS = 1000


@dataclass
class ProducerState:
    watermark: int  # every seq <= watermark is applied, unknown (before we joined) or a gap
    pending: np.ndarray = field(default_factory=lambda: _EMPTY)  # sorted seqs applied above it
    unknown: RangeSet = field(default_factory=RangeSet)  # below where we joined: may trail in once
    missing: RangeSet = field(default_factory=RangeSet)  # declared gaps: a late arrival still counts
    stalled_since: float | None = None
    ticks: int = 0
    duplicates: int = 0
    gaps: int = 0
    out_of_order: int = 0
    restarts: int = 0
    last_seq: int = -1
    last_seen_ms: int = 0
    partition_last: dict[int, int] = field(default_factory=dict)  # highest applied seq per partition


@dataclass
class Admitted:
    """What one batch did to the counters (for the metrics)."""

    duplicates: int = 0
    out_of_order: int = 0


class SequenceTracker:
    def __init__(self, gap_grace_s: float = 5.0) -> None:
        self.producers: dict[str, ProducerState] = {}
        self.gap_grace_s = gap_grace_s

    def admit(
        self, batch: pa.RecordBatch, partitions: np.ndarray | None = None
    ) -> tuple[pa.RecordBatch, Admitted]:
        """``batch`` without its duplicates (arrival order kept), and what changed.

        ``partitions`` holds each row's Kafka partition; without it all rows count as one.
        """
        result = Admitted()
        if batch.num_rows == 0:
            return batch, result
        if partitions is None:
            partitions = np.zeros(batch.num_rows, dtype=np.int32)
        encoded = pc.dictionary_encode(batch.column("producer_id"))
        codes = encoded.indices.to_numpy()
        seqs = batch.column("seq").to_numpy()
        times = batch.column("event_time").cast(pa.int64()).to_numpy()
        keep = np.ones(batch.num_rows, dtype=bool)
        for producer_id, rows in _rows_by_producer(codes, encoded.dictionary.to_pylist()):
            keep[rows] = self._admit_one(str(producer_id), seqs[rows], times[rows], partitions[rows], result)
        admitted = batch if keep.all() else batch.filter(pa.array(keep))
        return admitted, result

    def gaps(self) -> int:
        return sum(state.gaps for state in self.producers.values())

    def duplicates(self) -> int:
        return sum(state.duplicates for state in self.producers.values())

    def expire(self, now: float | None = None) -> int:
        """Declare holes older than the grace period gaps; returns how many seqs became gaps."""
        now = time.monotonic() if now is None else now
        declared = 0
        for state in self.producers.values():
            stalled = state.stalled_since is not None and now - state.stalled_since >= self.gap_grace_s
            if len(state.pending) and stalled:
                first = int(state.pending[0])
                state.missing.add(state.watermark + 1, first)
                declared += first - state.watermark - 1
                state.gaps += first - state.watermark - 1
                state.watermark = first - 1
                _advance(state, now)
        return declared

    def _admit_one(
        self, producer_id: str, seqs: np.ndarray, times: np.ndarray, partitions: np.ndarray, result: Admitted
    ) -> np.ndarray:
        state = self.producers.get(producer_id)
        if state is None or _restarted(state, seqs, times):
            state = self._join(producer_id, state, int(seqs.min()))
        keep = _first_occurrences(seqs)
        settled = seqs <= state.watermark
        in_gap = state.missing.contains(seqs)
        keep &= ~(settled & ~(in_gap | state.unknown.contains(seqs)))
        if len(state.pending):
            keep &= ~_in_sorted(state.pending, seqs)
        for row in np.flatnonzero(keep & settled).tolist():  # rare: ticks trailing in behind the watermark
            if in_gap[row]:
                state.missing.discard(int(seqs[row]))
                state.gaps -= 1
            else:
                state.unknown.discard(int(seqs[row]))
        applied = seqs[keep]
        state.duplicates += len(seqs) - len(applied)
        result.duplicates += len(seqs) - len(applied)
        late = _out_of_order_by_partition(state, applied, partitions[keep])
        state.out_of_order += late
        result.out_of_order += late
        state.ticks += len(applied)
        state.last_seq = max(state.last_seq, int(seqs.max()))
        state.last_seen_ms = max(state.last_seen_ms, int(times.max()))
        fresh = seqs[keep & ~settled]
        if len(fresh):
            state.pending = _merge_sorted(state.pending, fresh)
            _advance(state, time.monotonic())
        return keep

    def _join(self, producer_id: str, previous: ProducerState | None, first_seq: int) -> ProducerState:
        state = ProducerState(watermark=first_seq - 1)
        state.unknown.add(0, first_seq)
        if previous is not None:  # a restart: the counters go on, the sequence starts over
            state.ticks, state.duplicates, state.gaps = previous.ticks, previous.duplicates, previous.gaps
            state.out_of_order, state.restarts = previous.out_of_order, previous.restarts + 1
        self.producers[producer_id] = state
        return state


def _rows_by_producer(codes: np.ndarray, producers: list[str]) -> list[tuple[str, np.ndarray]]:
    """Row indices of each producer, in arrival order."""
    if len(producers) == 1:
        return [(producers[0], np.arange(len(codes)))]
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(producers)))[:-1]
    return list(zip(producers, np.split(order, bounds), strict=True))


def _restarted(state: ProducerState, seqs: np.ndarray, times: np.ndarray) -> bool:
    below = seqs <= max(state.watermark, state.last_seq)
    return bool(below.any() and times[below].min() > state.last_seen_ms + RESTART_MARGIN_MS)


def _first_occurrences(seqs: np.ndarray) -> np.ndarray:
    if len(seqs) < 2 or bool((seqs[1:] > seqs[:-1]).all()):  # the common case: one producer, in order
        return np.ones(len(seqs), dtype=bool)
    _, first = np.unique(seqs, return_index=True)
    unique = np.zeros(len(seqs), dtype=bool)
    unique[first] = True
    return unique


def _in_sorted(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_values``: a binary search each, no sort of the big side.

    While a replay reads partitions unevenly, ``pending`` holds up to millions of seqs; sorting
    it again for every batch (np.isin, np.union1d) was a third of the JSON ingest time.
    """
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    found: np.ndarray = sorted_values[at] == values
    return found


def _merge_sorted(sorted_values: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """``sorted_values`` with ``fresh`` (none of them already in it) inserted in order: one copy."""
    fresh = np.sort(fresh)
    merged: np.ndarray = np.insert(sorted_values, np.searchsorted(sorted_values, fresh), fresh)
    return merged


def _out_of_order_by_partition(state: ProducerState, applied: np.ndarray, partitions: np.ndarray) -> int:
    """Late ticks within each partition; remembers each partition's highest applied seq."""
    late = 0
    present = np.unique(partitions)
    for partition in present.tolist():
        seqs = applied if len(present) == 1 else applied[partitions == partition]
        highest = state.partition_last.get(partition, -1)
        late += _out_of_order(seqs, highest)
        state.partition_last[partition] = max(highest, int(seqs.max()))
    return late


def _out_of_order(applied: np.ndarray, highest_before: int) -> int:
    """Ticks that arrived after a higher seq of the same producer in one partition (late, not lost)."""
    if not len(applied):
        return 0
    running = np.maximum.accumulate(np.concatenate(([highest_before], applied)))[:-1]
    return int((applied < running).sum())


def _advance(state: ProducerState, now: float) -> None:
    """Move the watermark over the contiguous run at the bottom of ``pending``."""
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
