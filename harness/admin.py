"""Synchronous wrappers over aiokafka's admin client, usable from sync and async code alike.

Each call runs in a private thread with its own event loop, so a test running inside
pytest-asyncio's loop can still call the harness without nesting loops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

T = TypeVar("T")

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="harness-admin")


def run_sync(factory: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(factory(), timeout)

    return _POOL.submit(asyncio.run, bounded()).result()


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
    topic = NewTopic(name, partitions, replication, topic_configs=config or {})

    async def action(admin: AIOKafkaAdminClient) -> None:
        await admin.create_topics([topic])

    run_sync(lambda: _with_admin(bootstrap, action))


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
