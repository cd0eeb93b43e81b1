"""Time limits for every Kafka call of both services, holding even when the client swallows cancellation.

aiokafka's start, send, stop and admin calls can hang while the broker is down (aiokafka
#703, #1101), and ``asyncio.wait_for`` waits for the cancelled coroutine to finish, which
such a call may never do. Here the task is cancelled and abandoned instead, so the caller
always gets control back on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def bounded(coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
    """Await ``coroutine`` for at most ``timeout`` seconds, then raise TimeoutError."""
    task = asyncio.ensure_future(coroutine)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        # Our caller is cancelled: the call goes with it, as under wait_for. Left running, a producer's
        # send_batch still delivered its batch after the sender had stopped counting (CI: 629 ticks in
        # Kafka that the producer never reported as acknowledged).
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError(f"no answer within {timeout:.0f}s")
    if task.cancelled():  # cancelled from inside the client (aiokafka's stop does): not our caller
        raise RuntimeError("the client cancelled its own call")
    return task.result()


async def close_quietly(coroutine: Coroutine[Any, Any, Any], timeout: float, what: str) -> None:
    """Close a client within ``timeout``; a failure to close is logged, never raised."""
    try:
        await bounded(coroutine, timeout)
    except Exception as exc:  # closing is best effort: the client is dropped either way
        log.warning("%s did not close cleanly: %r", what, exc)


def _abandon(task: asyncio.Future[Any]) -> None:
    task.cancel()
    task.add_done_callback(_consume_result)  # don't warn when it ends someday


def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
