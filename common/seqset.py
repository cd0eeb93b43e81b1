"""A set of integers stored as sorted, disjoint half-open ranges [start, end).

Holes in a producer's sequence are runs, so ranges keep them small however long they are,
and membership of a whole batch of seqs is one ``searchsorted``. The gateway keeps holes in
them (``add`` above the top, ``discard``); history keeps every seq it stored (``union``): a
producer's gap-free seqs are one range, however many millions of ticks.
"""

from __future__ import annotations

import bisect

import numpy as np


class RangeSet:
    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def __len__(self) -> int:
        return sum(end - start for start, end in zip(self.starts, self.ends, strict=True))

    def __bool__(self) -> bool:
        return bool(self.starts)

    def add(self, start: int, end: int) -> None:
        """Add [start, end), which must lie above every range already held (holes come in order)."""
        if end <= start:
            return
        if self.ends and start <= self.ends[-1]:
            self.ends[-1] = max(self.ends[-1], end)
            return
        self.starts.append(start)
        self.ends.append(end)

    def union(self, values: np.ndarray) -> None:
        """Add every value of ``values`` (any order, repeats allowed), merging touching ranges."""
        if not len(values):
            return
        if not bool((values[1:] > values[:-1]).all()):  # in order is the common case: no sort then
            values = np.unique(values)
        breaks = np.flatnonzero(np.diff(values) != 1) + 1
        starts = np.concatenate((self.starts, values[np.r_[0, breaks]])).astype(np.int64)
        ends = np.concatenate((self.ends, values[np.r_[breaks - 1, len(values) - 1]] + 1)).astype(np.int64)
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], np.maximum.accumulate(ends[order])
        # A range starts afresh where it begins past every end before it (touching ranges merge).
        fresh = np.r_[True, starts[1:] > ends[:-1]]
        last = np.r_[np.flatnonzero(fresh)[1:] - 1, len(starts) - 1]
        self.starts = starts[fresh].tolist()
        self.ends = ends[last].tolist()

    def ranges(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))

    def contains(self, values: np.ndarray) -> np.ndarray:
        if not self.starts or not len(values):
            return np.zeros(len(values), dtype=bool)
        starts = np.asarray(self.starts, dtype=np.int64)
        ends = np.asarray(self.ends, dtype=np.int64)
        index = np.searchsorted(starts, values, side="right") - 1
        inside = index >= 0
        inside[inside] &= values[inside] < ends[index[inside]]
        return inside

    def discard(self, value: int) -> None:
        index = bisect.bisect_right(self.starts, value) - 1
        if index < 0 or value >= self.ends[index]:
            return
        start, end = self.starts[index], self.ends[index]
        del self.starts[index], self.ends[index]
        for piece_start, piece_end in ((value + 1, end), (start, value)):
            if piece_end > piece_start:
                self.starts.insert(index, piece_start)
                self.ends.insert(index, piece_end)
