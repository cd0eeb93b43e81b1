"""RangeSet.union: any seqs in any order become the fewest sorted, disjoint ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from common.seqset import RangeSet


def _union(*groups: list[int]) -> list[tuple[int, int]]:
    ranges = RangeSet()
    for group in groups:
        ranges.union(np.array(group, dtype=np.int64))
    return ranges.ranges()


def test_a_gap_free_run_is_one_range_whatever_the_order() -> None:
    assert _union([5, 1, 3, 2, 4]) == [(1, 6)]


def test_holes_stay_holes_until_filled() -> None:
    assert _union([1, 2, 5, 9, 10]) == [(1, 3), (5, 6), (9, 11)]
    assert _union([1, 2, 5, 9, 10], [3, 4, 6, 7, 8]) == [(1, 11)]


def test_repeats_and_values_already_held_change_nothing() -> None:
    assert _union([1, 2, 3], [2, 2, 3, 1]) == [(1, 4)]


def test_values_below_and_between_existing_ranges_merge_with_their_neighbours() -> None:
    assert _union([10, 11], [20], [0, 12, 19]) == [(0, 1), (10, 13), (19, 21)]


@given(st.lists(st.lists(st.integers(0, 200), max_size=30), max_size=6))
def test_union_holds_exactly_the_values_added(groups: list[list[int]]) -> None:
    ranges = RangeSet()
    for group in groups:
        ranges.union(np.array(group, dtype=np.int64))
    added = {value for group in groups for value in group}
    probe = np.arange(-1, 202, dtype=np.int64)
    assert probe[ranges.contains(probe)].tolist() == sorted(added)
    assert len(ranges) == len(added)
    assert all(
        end < start for (_, end), (start, _) in zip(ranges.ranges(), ranges.ranges()[1:], strict=False)
    )
