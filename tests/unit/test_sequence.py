"""Sequence tracking: duplicates dropped and counted, gaps counted after the grace period."""

from __future__ import annotations

import pyarrow as pa

from common.codec import decode_arrow, encode_arrow
from gateway.sequence import SequenceTracker
from tests.unit.ticks import SAMPLE


def _batch(seqs: list[int], producer: str = "p") -> pa.RecordBatch:
    return decode_arrow(encode_arrow([{**SAMPLE, "seq": s, "producer_id": producer} for s in seqs]))


def _admitted(tracker: SequenceTracker, seqs: list[int], producer: str = "p") -> list[int]:
    seq_column: list[int] = tracker.admit(_batch(seqs, producer)).column("seq").to_pylist()
    return seq_column


def test_in_order_stream_is_admitted_whole() -> None:
    tracker = SequenceTracker()
    assert _admitted(tracker, [1, 2, 3]) == [1, 2, 3]
    assert _admitted(tracker, [4, 5]) == [4, 5]
    state = tracker.producers["p"]
    assert (state.watermark, state.ticks, state.duplicates, state.gaps) == (5, 5, 0, 0)


def test_duplicates_within_and_across_batches_are_dropped_and_counted() -> None:
    tracker = SequenceTracker()
    _admitted(tracker, [1, 2, 3])
    assert _admitted(tracker, [3, 4, 4, 2]) == [4]
    assert tracker.producers["p"].duplicates == 3


def test_out_of_order_is_not_a_gap_or_a_duplicate() -> None:
    tracker = SequenceTracker(gap_grace_s=60)
    assert _admitted(tracker, [1, 2, 5, 6]) == [1, 2, 5, 6]
    assert _admitted(tracker, [4, 3]) == [4, 3]
    tracker.expire()
    state = tracker.producers["p"]
    assert (state.watermark, state.gaps, state.duplicates, state.out_of_order) == (6, 0, 0, 2)


def test_hole_older_than_the_grace_period_is_one_gap_per_missing_seq() -> None:
    tracker = SequenceTracker(gap_grace_s=0)
    _admitted(tracker, [1, 2, 5])
    tracker.expire()
    assert tracker.producers["p"].gaps == 2
    assert _admitted(tracker, [3]) == [3]  # late but not lost: the gap closes
    assert tracker.producers["p"].gaps == 1


def test_ticks_trailing_in_behind_the_first_seen_are_accepted_once() -> None:
    tracker = SequenceTracker()
    assert _admitted(tracker, [5, 6]) == [5, 6]
    assert _admitted(tracker, [2, 1, 2]) == [2, 1]
    assert tracker.producers["p"].duplicates == 1


def test_producers_are_tracked_independently() -> None:
    tracker = SequenceTracker()
    _admitted(tracker, [1, 2], "a")
    assert _admitted(tracker, [1, 2], "b") == [1, 2]
    assert set(tracker.producers) == {"a", "b"}
