"""Membership of the producers' consumer group on the control topic `<topic>.shards`.

Nothing is ever written to the control topic: its partitions only stand for shards of the
symbol universe (universe index i is in shard i % partitions), and the group's rebalances
hand them out, so any number of producers (compose replicas, other machines) split the
universe with no static index and no coordinator but Kafka's own. The sticky assignor keeps
most shards where they were when a producer joins or leaves.

aiokafka runs the (eager) rebalance protocol: before rejoining, every member gets
``on_partitions_revoked`` with all it owned and must stop publishing those symbols there;
assignments are handed out only after every live member has rejoined. That ordering is what
keeps two producers from publishing one symbol at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.errors import KafkaError

from common.aio import bounded, close_quietly
from common.topics import NEW_TOPIC_REFRESH_MS
from producer.kafka import ensure_topic
from producer.settings import ProducerSettings

log = logging.getLogger(__name__)

HEARTBEAT_MS = 500  # a peer's clean leave is noticed within this (plus the rejoin round trip)
REBALANCE_TIMEOUT_MS = 10_000  # a revoke flush takes at most FLUSH_ON_REVOKE_S
POLL_MS = 500
STOP_TIMEOUT_S = 1.0  # LeaveGroup is one request; SIGTERM must end the process within 5 s

Revoked = Callable[[], Awaitable[None]]
Assigned = Callable[[set[int], int], Awaitable[None]]  # (shards, shard count)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, member: GroupMember) -> None:
        self.member = member

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.member.on_revoked()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.member.assigned({tp.partition for tp in assigned})


class GroupMember:
    def __init__(self, settings: ProducerSettings, on_revoked: Revoked, on_assigned: Assigned) -> None:
        self.settings = settings
        self.on_revoked = on_revoked
        self._on_assigned = on_assigned
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=settings.group_id,
            client_id=f"producer-{settings.producer_id}",
            enable_auto_commit=False,
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=min(HEARTBEAT_MS, settings.session_timeout_ms // 3),
            rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
            partition_assignment_strategy=(StickyPartitionAssignor,),
            # A just-created shards topic may not be in every broker's metadata yet (common/topics.py).
            metadata_max_age_ms=NEW_TOPIC_REFRESH_MS,
        )

    async def start(self) -> None:
        """Create the control topic if missing and join the group (assignment follows later)."""
        await ensure_topic(self.settings, self.settings.shards_topic, self.settings.shards)
        await bounded(self._consumer.start(), self.settings.send_timeout_s)
        self._consumer.subscribe([self.settings.shards_topic], listener=_Listener(self))
        log.info("joining group %r on %r", self.settings.group_id, self.settings.shards_topic)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep polling: aiokafka leaves the group of a consumer that stops polling."""
        while not stop.is_set():
            try:
                await self._consumer.getmany(timeout_ms=POLL_MS)
            except KafkaError as exc:
                log.warning("group poll failed (%s): retrying", str(exc) or type(exc).__name__)
                await asyncio.sleep(POLL_MS / 1000)

    async def leave(self) -> None:
        """Leave the group at once (LeaveGroup): peers take the shards over without a timeout."""
        await close_quietly(self._consumer.stop(), STOP_TIMEOUT_S, "group member")

    async def assigned(self, shards: set[int]) -> None:
        total = self._consumer.partitions_for_topic(self.settings.shards_topic) or set()
        await self._on_assigned(shards, len(total) or self.settings.shards)
