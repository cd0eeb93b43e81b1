"""Synchronous wrappers over aiokafka's admin client, usable from sync and async code alike.

Each call runs in a private thread with its own event loop, so a test running inside
pytest-asyncio's loop can still call the harness without nesting loops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient

from common.aio import bounded
from common.topics import ensure_topic

T = TypeVar("T")

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="harness-admin")


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30.0) -> T:
    async def within() -> T:
        return await bounded(factory(), timeout)

    return _POOL.submit(asyncio.run, within()).result()


async def _with_admin(bootstrap: str, action: Callable[[AIOKafkaAdminClient], Awaitable[T]]) -> T:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        return await action(admin)
    finally:
        await admin.close()


def describe_cluster(bootstrap: str, timeout: float = 10.0) -> dict[str, Any]:
    async def action(admin: AIOKafkaAdminClient) -> dict[str, Any]:
        result: dict[str, Any] = await admin.describe_cluster()
        return result

    return run_sync(lambda: _with_admin(bootstrap, action), timeout)


def create_topic(
    bootstrap: str, name: str, partitions: int, replication: int, config: dict[str, str] | None = None
) -> None:
    run_sync(lambda: ensure_topic(bootstrap, name, partitions, replication, 10.0, config))


def describe_topic(bootstrap: str, name: str) -> list[dict[str, Any]]:
    """Partitions of ``name``: dicts with partition, leader, replicas, isr."""

    async def action(admin: AIOKafkaAdminClient) -> list[dict[str, Any]]:
        described = await admin.describe_topics([name])
        topic = described[0]
        if topic.get("error_code"):
            raise LookupError(f"topic {name!r}: error code {topic['error_code']}")
        partitions: list[dict[str, Any]] = [
            {
                "partition": p["partition"],
                "leader": p["leader"],
                "replicas": list(p["replicas"]),
                "isr": list(p["isr"]),
            }
            for p in topic["partitions"]
        ]
        return sorted(partitions, key=lambda p: p["partition"])

    return run_sync(lambda: _with_admin(bootstrap, action))
