"""Reading a table through a real Perspective client, and polling until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def rows(client: Any, table: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every row of ``table``; a gateway that stops answering fails the test here, by name."""

    async def fetch() -> list[dict[str, Any]]:
        handle = await client.open_table(table)
        view = await handle.view()
        try:
            records: list[dict[str, Any]] = await view.to_records()
            return records
        finally:
            await view.delete()

    try:
        return await asyncio.wait_for(fetch(), timeout)
    except TimeoutError:
        raise AssertionError(f"no answer for the rows of {table!r} within {timeout}s") from None


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, interval: float = 0.2
) -> None:
    """Poll an async predicate until true, or fail with the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
