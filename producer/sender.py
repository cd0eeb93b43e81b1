"""Delivery to Kafka through a bounded buffer that survives broker outages.

Messages wait in a deque until aiokafka accepts them; while the broker is away the
deque grows up to ``buffer_ticks`` and then sheds its oldest ticks (counted), so the
producer never blocks forever and never loses a tick it did not count.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from producer.metrics import BUFFERED, Tally
from producer.settings import ProducerSettings

log = logging.getLogger(__name__)

SEND_CHUNK = 2000  # messages handed to aiokafka per timeout scope


class StartupError(Exception):
    """Kafka stayed unreachable for the whole startup timeout."""


@dataclass(frozen=True)
class Outgoing:
    key: bytes
    value: bytes
    ticks: int


class Sender:
    def __init__(self, settings: ProducerSettings, tally: Tally, headers: list[tuple[str, bytes]]) -> None:
        self.settings = settings
        self.tally = tally
        self.headers = headers
        self.buffer: deque[Outgoing] = deque()
        self.buffered_ticks = 0
        self.inflight_ticks = 0
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._last_warning = 0.0

    async def connect(self) -> None:
        """Start the Kafka producer and make sure the topic exists, retrying with backoff."""
        deadline = time.monotonic() + self.settings.startup_timeout_s
        delay = 0.5
        while True:
            try:
                await self._ensure_topic()
                self._producer = self._new_producer()
                await asyncio.wait_for(self._producer.start(), self.settings.send_timeout_s)
                log.info(
                    "connected to Kafka at %s, topic %r", self.settings.bootstrap_servers, self.settings.topic
                )
                return
            except (TimeoutError, KafkaError, OSError) as exc:
                await self._discard_producer()
                if time.monotonic() + delay > deadline:
                    raise StartupError(
                        f"Kafka at {self.settings.bootstrap_servers} unreachable for "
                        f"{self.settings.startup_timeout_s:.0f}s: {exc!r}"
                    ) from None
                log.warning(
                    "Kafka at %s unreachable (%s): retrying in %.1fs",
                    self.settings.bootstrap_servers,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def offer(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self.buffer.append(message)
            self.buffered_ticks += message.ticks
        self._shed()
        BUFFERED.set(self.buffered_ticks)
        self._wake.set()

    async def run(self) -> None:
        assert self._producer is not None, "connect() first"
        while not (self._closing and not self.buffer):
            if not self.buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not await self._send_some(SEND_CHUNK):
                await asyncio.sleep(0.2)
            BUFFERED.set(self.buffered_ticks)

    async def close(self, timeout: float) -> None:
        """Flush what is buffered and in flight within ``timeout``, then stop the client."""
        self._closing = True
        self._wake.set()
        deadline = time.monotonic() + timeout
        while (self.buffer or self.inflight_ticks) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self._discard_producer()

    async def _send_some(self, limit: int) -> bool:
        """Hand up to ``limit`` buffered messages to aiokafka under one timeout (cheaper than one each)."""
        assert self._producer is not None
        message: Outgoing | None = None
        try:
            async with asyncio.timeout(self.settings.send_timeout_s):
                for _ in range(min(limit, len(self.buffer))):
                    message = self.buffer.popleft()
                    self.buffered_ticks -= message.ticks
                    future = await self._producer.send(
                        self.settings.topic, message.value, key=message.key, headers=self.headers
                    )
                    self.inflight_ticks += message.ticks
                    future.add_done_callback(functools.partial(self._delivered, message))
                    message = None
        except (KafkaError, TimeoutError) as exc:
            if message is not None:  # not accepted by aiokafka: keep it first in line
                self.buffer.appendleft(message)
                self.buffered_ticks += message.ticks
            self.tally.add_error()
            self._warn(f"Kafka send failed ({type(exc).__name__}); {self.buffered_ticks} ticks buffered")
            return False
        return True

    def _delivered(self, message: Outgoing, done: asyncio.Future[object]) -> None:
        self.inflight_ticks -= message.ticks
        if not done.cancelled() and done.exception() is None:
            self.tally.add_acked(message.ticks)
            return
        # Not acknowledged: send it again rather than lose it (the gateway drops any duplicate).
        self.tally.add_error()
        self.buffer.appendleft(message)
        self.buffered_ticks += message.ticks
        self._shed()
        self._wake.set()

    def _shed(self) -> None:
        dropped = 0
        while self.buffered_ticks > self.settings.buffer_ticks and len(self.buffer) > 1:
            oldest = self.buffer.popleft()
            self.buffered_ticks -= oldest.ticks
            dropped += oldest.ticks
        if dropped:
            self.tally.add_dropped(dropped)
            self._warn(
                f"buffer full ({self.settings.buffer_ticks} ticks): dropped {dropped} oldest ticks, "
                f"{self.tally.dropped} in total"
            )

    def _warn(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 2.0:
            self._last_warning = now
            log.warning("%s", text)

    def _new_producer(self) -> AIOKafkaProducer:
        s = self.settings
        return AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=f"producer-{s.producer_id}",
            enable_idempotence=True,
            acks="all",
            linger_ms=s.linger_ms,
            max_batch_size=s.max_batch_bytes,
            max_request_size=max(s.max_batch_bytes, 1_048_576) * 4,
            compression_type=None if s.compression == "none" else s.compression,
            request_timeout_ms=120_000,
            retry_backoff_ms=200,
        )

    async def _ensure_topic(self) -> None:
        s = self.settings
        admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap_servers, request_timeout_ms=5000)
        try:
            await asyncio.wait_for(admin.start(), s.send_timeout_s)
            if s.topic not in await asyncio.wait_for(admin.list_topics(), s.send_timeout_s):
                await admin.create_topics([NewTopic(s.topic, s.partitions, s.replication)])
                log.info(
                    "created topic %r (%d partitions, replication %d)", s.topic, s.partitions, s.replication
                )
        except TopicAlreadyExistsError:
            pass  # another producer won the race: fine
        finally:
            await admin.close()

    async def _discard_producer(self) -> None:
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), 1.0)
            except (TimeoutError, KafkaError, OSError) as exc:
                log.warning("Kafka producer did not stop cleanly: %r", exc)
            self._producer = None
