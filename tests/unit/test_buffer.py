"""The producer's bounded buffer: FIFO, bounded in ticks, sheds the oldest and counts them."""

from __future__ import annotations

import itertools

from producer.buffer import Outgoing, TickBuffer

_ids = itertools.count()


def _msgs(*ticks: int) -> list[Outgoing]:
    """Distinct messages of 10 bytes each, carrying the given tick counts."""
    return [Outgoing(b"k", f"{next(_ids):010d}".encode(), n) for n in ticks]


def test_take_returns_the_oldest_first() -> None:
    buffer = TickBuffer(100)
    messages = _msgs(1, 1, 1)
    buffer.offer(messages)
    assert buffer.take(max_bytes=1000) == messages
    assert buffer.ticks == 0 and len(buffer) == 0


def test_take_stops_at_the_byte_budget_but_always_takes_one() -> None:
    buffer = TickBuffer(100)
    buffer.offer(_msgs(1, 1, 1))  # 10 bytes each
    assert len(buffer.take(max_bytes=15)) == 2
    assert len(buffer.take(max_bytes=0)) == 1


def test_a_full_buffer_sheds_its_oldest_ticks_and_reports_how_many() -> None:
    buffer = TickBuffer(3)
    assert buffer.offer(_msgs(1, 1, 1)) == 0
    newest = _msgs(1, 1)
    assert buffer.offer(newest) == 2
    assert buffer.ticks == 3
    assert buffer.take(1000)[-2:] == newest


def test_batches_are_shed_whole_and_the_newest_is_always_kept() -> None:
    buffer = TickBuffer(100)
    assert buffer.offer(_msgs(60, 60)) == 60
    assert buffer.offer(_msgs(500)) == 60  # alone over capacity, but an Arrow batch is indivisible
    assert buffer.ticks == 500 and len(buffer) == 1


def test_given_back_messages_go_first_in_their_order() -> None:
    buffer = TickBuffer(100)
    first, later = _msgs(1, 1), _msgs(1)
    buffer.offer(later)
    assert buffer.give_back(first) == 0
    assert buffer.take(1000) == [*first, *later]
    assert buffer.ticks == 0


def test_given_back_messages_are_the_oldest_so_they_are_shed_first() -> None:
    buffer = TickBuffer(2)
    returned, newer = _msgs(1, 1), _msgs(1, 1)
    buffer.offer(newer)
    assert buffer.give_back(returned) == 2
    assert buffer.take(1000) == newer
