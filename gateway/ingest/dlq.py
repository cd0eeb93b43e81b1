"""Dead letters: bad messages copied, untouched, to a topic with the reason in headers.

Sending runs in its own task behind a bounded queue, so a slow or absent broker never
stalls ingest; the producer (and the topic) are set up lazily and retried after failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from common.aio import bounded, close_quietly
from common.codec import DecodeError
from common.codec.routing import Bad
from common.headers import ERROR_DETAIL, ERROR_REASON, SOURCE
from common.throttle import LogThrottle
from common.topics import ensure_topic
from gateway.metrics import DLQ, DLQ_FAILURES

log = logging.getLogger(__name__)

QUEUE_LIMIT = 100_000  # messages waiting to be dead-lettered before new ones are dropped
_TIMEOUT_S = 10.0
_RETRY_S = 2.0


def dead_letter_headers(record: ConsumerRecord, error: DecodeError) -> list[tuple[str, bytes]]:
    return [
        *(record.headers or ()),
        (ERROR_REASON, error.reason.encode()),
        (ERROR_DETAIL, error.detail.encode()[:512]),
        (SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
    ]


class DeadLetters:
    def __init__(self, bootstrap: str, topic: str, replication: int = 1) -> None:
        self.topic = topic
        self.replication = replication
        self.sent = 0
        self.failed = 0
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._queue: asyncio.Queue[tuple[ConsumerRecord, DecodeError]] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self._throttle = LogThrottle(10.0)  # a flood must not flood the log

    def submit(self, bad: Bad) -> None:
        """Queue ``bad`` for the dead-letter topic (never blocks; drops and counts when full)."""
        if not self.topic:
            return
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="dead-letters")
        for item in bad:
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                self._fail(1, "dead-letter queue full")

    async def stop(self, timeout: float = 5.0) -> None:
        """Flush what is queued (bounded by ``timeout``), then close the producer."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 1000:
                batch.append(self._queue.get_nowait())
            try:
                await self._send(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _send(self, batch: Bad) -> None:
        for attempt in range(3):
            try:
                await bounded(self._send_once(batch), _TIMEOUT_S)
            except (TimeoutError, KafkaError, OSError) as exc:
                await self._close()
                if attempt == 2:
                    self._fail(len(batch), f"cannot dead-letter to {self.topic!r}: {exc!r}")
                    return
                await asyncio.sleep(_RETRY_S)
            else:
                self.sent += len(batch)
                DLQ.inc(len(batch))
                return

    async def _send_once(self, batch: Bad) -> None:
        producer = await self._ready_producer()
        futures = [
            await producer.send(
                self.topic, record.value, key=record.key, headers=dead_letter_headers(record, error)
            )
            for record, error in batch
        ]
        await asyncio.gather(*futures)

    async def _ready_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            await self._ensure_topic()
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=20
            )
            await bounded(producer.start(), _TIMEOUT_S)
            self._producer = producer
        return self._producer

    async def _ensure_topic(self) -> None:
        if await ensure_topic(self._bootstrap, self.topic, 1, self.replication, _TIMEOUT_S):
            log.info("created dead-letter topic %r", self.topic)

    async def _close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:  # aiokafka #1101: stop() can hang while the broker is down
            await close_quietly(producer.stop(), _TIMEOUT_S / 2, "dead-letter producer")

    def _fail(self, count: int, why: str) -> None:
        self.failed += count
        DLQ_FAILURES.inc(count)
        if self._throttle.ready() is not None:
            log.error("%s (%d dead letters lost so far)", why, self.failed)
