"""The hand-off between the Kafka reader and the table worker: everything read is applied,
in order, at most `limit` per update, and the reader waits while `limit` records wait."""

from __future__ import annotations

import asyncio

from gateway.ingest.inbox import Inbox


async def test_take_waits_for_records_and_returns_all_read_so_far() -> None:
    inbox: Inbox[int] = Inbox(limit=10, max_bytes=1000, size=lambda _: 1)
    taking = asyncio.create_task(inbox.take())
    await asyncio.sleep(0)
    assert not taking.done()
    inbox.put([1, 2])
    inbox.put([3])
    assert await taking == [1, 2, 3]


async def test_an_empty_poll_does_not_wake_the_worker() -> None:
    inbox: Inbox[int] = Inbox(limit=10, max_bytes=1000, size=lambda _: 1)
    inbox.put([])
    taking = asyncio.create_task(inbox.take())
    await asyncio.sleep(0)
    assert not taking.done()
    taking.cancel()


async def test_one_take_is_at_most_limit_records_and_the_rest_follow_in_order() -> None:
    inbox: Inbox[int] = Inbox(limit=3, max_bytes=1000, size=lambda _: 1)
    inbox.put([1, 2, 3, 4, 5])
    assert await inbox.take() == [1, 2, 3]
    assert await inbox.take() == [4, 5]


async def test_the_reader_waits_while_limit_records_wait() -> None:
    inbox: Inbox[int] = Inbox(limit=3, max_bytes=1000, size=lambda _: 1)
    inbox.put([1, 2, 3])
    waiting = asyncio.create_task(inbox.room())
    await asyncio.sleep(0)
    assert not waiting.done()
    await inbox.take()
    await asyncio.wait_for(waiting, 1)


async def test_bytes_bound_the_backlog_and_each_take_as_well_as_the_count() -> None:
    inbox: Inbox[int] = Inbox(limit=100, max_bytes=10, size=lambda n: n)
    inbox.put([4, 4, 4])  # 12 bytes waiting: over the limit
    waiting = asyncio.create_task(inbox.room())
    await asyncio.sleep(0)
    assert not waiting.done()
    assert await inbox.take() == [4, 4]
    await asyncio.wait_for(waiting, 1)
    assert await inbox.take() == [4]


async def test_a_record_bigger_than_the_byte_bound_still_goes_through_alone() -> None:
    inbox: Inbox[int] = Inbox(limit=100, max_bytes=10, size=lambda n: n)
    inbox.put([50, 1])
    assert await inbox.take() == [50]
    assert await inbox.take() == [1]
