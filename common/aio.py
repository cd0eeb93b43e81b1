"""Time limits that hold even when the awaited client code swallows cancellation.

``asyncio.wait_for`` waits for the cancelled coroutine to finish, and a Kafka client
stuck on a dead broker may never finish (aiokafka #703, #1101). Here the task is
cancelled and abandoned instead, so the caller always gets control back on time.
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
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        task.add_done_callback(_consume_result)  # abandoned: don't warn when it ends someday
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


def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
