"""Per-partition progress: caught up means the tables hold what each partition held at start."""

from __future__ import annotations

from gateway.ingest.progress import PartitionState, Progress


def _started(ends: dict[int, int], positions: dict[int, int]) -> Progress:
    progress = Progress()
    for partition, position in positions.items():
        progress.seeked(partition, position)
    progress.ends_seen(ends)
    return progress


def test_reading_the_replay_is_not_enough_it_must_be_applied() -> None:
    progress = _started({0: 10, 1: 5}, {0: 0, 1: 0})
    progress.read(0, 10)
    progress.read(1, 5)
    assert not progress.caught_up
    assert progress.applied({0: 9}) is False
    assert progress.partitions[0].state is PartitionState.LIVE
    assert progress.partitions[1].state is PartitionState.REPLAYING
    assert progress.applied({1: 4}) is True
    assert progress.caught_up


def test_starting_at_the_end_is_caught_up_at_once() -> None:
    progress = _started({0: 7, 1: 3}, {0: 7, 1: 3})
    assert progress.caught_up


def test_caught_up_stays_when_new_data_arrives() -> None:
    progress = _started({0: 2}, {0: 2})
    progress.ends_seen({0: 50})
    assert progress.caught_up
    assert progress.lag() == 48


def test_a_partition_found_after_the_start_holds_only_new_data() -> None:
    progress = _started({0: 4}, {0: 0})
    progress.seeked(1, 0)
    assert progress.partitions[1].state is PartitionState.LIVE
    assert progress.partitions[1].target is None
    progress.applied({0: 3})
    assert progress.caught_up


def test_a_resume_keeps_what_was_applied() -> None:
    progress = _started({0: 10}, {0: 0})
    progress.read(0, 6)
    progress.applied({0: 5})
    progress.seeked(0, 6)  # the client was rebuilt and seeks back to where it stopped
    assert progress.partitions[0].applied == 6
    assert progress.positions() == {0: 6}


def test_lag_is_what_is_left_to_read() -> None:
    progress = _started({0: 10, 1: 4}, {0: 3, 1: 4})
    assert progress.lag() == 7
