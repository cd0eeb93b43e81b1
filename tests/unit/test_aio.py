"""common.aio.bounded: a time limit on a Kafka call that holds, and goes with its caller."""

from __future__ import annotations

import asyncio

import pytest

from common.aio import bounded


async def test_a_call_that_answers_in_time_gives_its_result() -> None:
    async def answer() -> int:
        return 42

    assert await bounded(answer(), 1.0) == 42


async def test_a_call_that_never_answers_raises_timeout_and_is_cancelled() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        await bounded(hang(), 0.05)
    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert started.is_set()


async def test_cancelling_the_caller_cancels_the_call_too() -> None:
    started = asyncio.Event()
    finished = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow_send() -> None:
        started.set()
        try:
            await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finished.set()  # would be a batch delivered that nobody counts

    caller = asyncio.create_task(bounded(slow_send(), 5.0))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait_for(cancelled.wait(), 1.0)
    await asyncio.sleep(0.3)
    assert not finished.is_set()
