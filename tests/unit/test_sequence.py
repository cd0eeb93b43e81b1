"""Sequence tracking: duplicates dropped and counted, gaps counted after the grace period."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from common.codec import decode_arrow, encode_arrow
from common.seqset import RangeSet
from gateway.ingest.sequence import RESTART_MARGIN_MS, SequenceTracker
from tests.support.ticks import SAMPLE

T0 = SAMPLE["event_time"]


def _batch(seqs: list[int], producer: str = "p", time_ms: int | None = None) -> pa.RecordBatch:
    ticks = [
        {**SAMPLE, "seq": s, "producer_id": producer, "event_time": T0 + s if time_ms is None else time_ms}
        for s in seqs
    ]
    return decode_arrow(encode_arrow(ticks))


def _admitted(
    tracker: SequenceTracker, seqs: list[int], producer: str = "p", time_ms: int | None = None
) -> list[int]:
    batch, _ = tracker.admit(_batch(seqs, producer, time_ms))
    seq_column: list[int] = batch.column("seq").to_pylist()
    return seq_column


def test_in_order_stream_is_admitted_whole() -> None:
    tracker = SequenceTracker()
    assert _admitted(tracker, [1, 2, 3]) == [1, 2, 3]
    assert _admitted(tracker, [4, 5]) == [4, 5]
    state = tracker.producers["p"]
    assert (state.watermark, state.ticks, state.duplicates, state.gaps, state.last_seq) == (5, 5, 0, 0, 5)


def test_duplicates_within_and_across_batches_are_dropped_and_counted() -> None:
    tracker = SequenceTracker()
    _admitted(tracker, [1, 2, 3])
    batch, counts = tracker.admit(_batch([3, 4, 4, 2]))
    assert batch.column("seq").to_pylist() == [4]
    assert (counts.duplicates, tracker.producers["p"].duplicates, tracker.duplicates()) == (3, 3, 3)


def test_a_duplicate_of_a_tick_still_above_a_hole_is_dropped() -> None:
    tracker = SequenceTracker(gap_grace_s=60)
    _admitted(tracker, [1, 2, 5])
    assert _admitted(tracker, [5, 6]) == [6]
    assert tracker.producers["p"].duplicates == 1


def test_out_of_order_arrivals_are_counted_but_are_not_gaps_or_duplicates() -> None:
    tracker = SequenceTracker(gap_grace_s=60)
    assert _admitted(tracker, [1, 2, 5, 6]) == [1, 2, 5, 6]
    assert _admitted(tracker, [4, 3]) == [4, 3]
    tracker.expire()
    state = tracker.producers["p"]
    assert (state.watermark, state.gaps, state.duplicates, state.out_of_order) == (6, 0, 0, 2)


def test_out_of_order_within_one_batch_counts_each_late_tick() -> None:
    tracker = SequenceTracker()
    _, counts = tracker.admit(_batch([1, 3, 2, 5, 4, 6]))
    assert counts.out_of_order == 2  # 2 after 3, 4 after 5


def test_a_hole_is_no_gap_before_the_grace_period_ends() -> None:
    tracker = SequenceTracker(gap_grace_s=60)
    _admitted(tracker, [1, 2, 5])
    assert tracker.expire() == 0
    assert tracker.producers["p"].gaps == 0


def test_a_hole_older_than_the_grace_period_is_one_gap_per_missing_seq() -> None:
    tracker = SequenceTracker(gap_grace_s=0)
    _admitted(tracker, [1, 2, 5])
    assert tracker.expire() == 2
    assert tracker.producers["p"].gaps == 2
    assert tracker.producers["p"].watermark == 5


def test_a_gap_filled_late_is_applied_once_and_no_longer_counted() -> None:
    tracker = SequenceTracker(gap_grace_s=0)
    _admitted(tracker, [1, 2, 5])
    tracker.expire()
    assert _admitted(tracker, [3, 3]) == [3]
    assert (tracker.producers["p"].gaps, tracker.producers["p"].duplicates) == (1, 1)
    assert _admitted(tracker, [3]) == []


def test_ticks_trailing_in_behind_the_first_seen_are_accepted_once() -> None:
    tracker = SequenceTracker()
    assert _admitted(tracker, [5, 6]) == [5, 6]
    assert _admitted(tracker, [2, 1, 2]) == [2, 1]
    assert _admitted(tracker, [1]) == []
    assert tracker.producers["p"].duplicates == 2


def test_a_long_hole_filled_late_keeps_every_tick_exactly_once() -> None:
    tracker = SequenceTracker(gap_grace_s=0)
    _admitted(tracker, [1, *range(200_002, 200_010)])
    tracker.expire()
    assert tracker.producers["p"].gaps == 200_000
    late = list(range(2, 200_002, 1000))
    assert _admitted(tracker, late + late[:3]) == late
    assert tracker.producers["p"].gaps == 200_000 - len(late)


def test_a_producer_that_restarts_from_seq_1_is_not_taken_for_duplicates() -> None:
    tracker = SequenceTracker()
    _admitted(tracker, [1, 2, 3, 4])
    later = T0 + 4 + RESTART_MARGIN_MS + 1
    assert _admitted(tracker, [1, 2], time_ms=later) == [1, 2]
    state = tracker.producers["p"]
    assert (state.restarts, state.duplicates, state.ticks, state.watermark) == (1, 0, 6, 2)


def test_producers_are_tracked_independently() -> None:
    tracker = SequenceTracker()
    _admitted(tracker, [1, 2], "a")
    batch, _ = tracker.admit(
        pa.Table.from_batches([_batch([1, 2], "b"), _batch([3], "a"), _batch([2], "b")])
        .combine_chunks()
        .to_batches()[0]
    )
    assert list(
        zip(batch.column("producer_id").to_pylist(), batch.column("seq").to_pylist(), strict=True)
    ) == [
        ("b", 1),
        ("b", 2),
        ("a", 3),
    ]
    assert (
        tracker.producers["a"].ticks,
        tracker.producers["b"].ticks,
        tracker.producers["b"].duplicates,
    ) == (3, 2, 1)


def test_range_set_membership_and_removal() -> None:
    ranges = RangeSet()
    ranges.add(3, 6)
    ranges.add(10, 12)
    assert ranges.contains(np.array([2, 3, 5, 6, 10, 11, 12])).tolist() == [0, 1, 1, 0, 1, 1, 0]
    ranges.discard(4)
    assert (ranges.starts, ranges.ends, len(ranges)) == ([3, 5, 10], [4, 6, 12], 4)


def _partitioned(seqs_and_partitions: list[tuple[int, int]]) -> tuple[pa.RecordBatch, np.ndarray]:
    batch = _batch([s for s, _ in seqs_and_partitions])
    return batch, np.array([p for _, p in seqs_and_partitions], dtype=np.int32)


def test_interleaving_across_partitions_is_not_out_of_order() -> None:
    """JSON ticks keyed by symbol: each partition in order, read side by side."""
    tracker = SequenceTracker()
    _, counts = tracker.admit(*_partitioned([(2, 1), (4, 1), (1, 0), (3, 0), (6, 1), (5, 0)]))
    state = tracker.producers["p"]
    assert (counts.out_of_order, state.out_of_order, state.duplicates, state.watermark) == (0, 0, 0, 6)


def test_a_late_seq_within_one_partition_is_out_of_order_even_across_batches() -> None:
    tracker = SequenceTracker()
    late = [
        tracker.admit(*_partitioned(batch))[1].out_of_order for batch in ([(1, 0), (3, 0), (2, 1)], [(5, 0)])
    ]
    _, counts = tracker.admit(*_partitioned([(4, 0)]))  # partition 0 had 5 already
    assert (late, counts.out_of_order) == ([0, 0], 1)


def test_a_redelivered_seq_is_a_duplicate_not_out_of_order() -> None:
    tracker = SequenceTracker()
    tracker.admit(*_partitioned([(1, 0), (2, 0), (3, 1)]))
    batch, counts = tracker.admit(*_partitioned([(2, 0)]))
    assert (batch.num_rows, counts.duplicates, counts.out_of_order) == (0, 1, 0)
