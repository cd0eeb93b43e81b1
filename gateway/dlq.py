"""Dead letters: bad messages copied, untouched, to a topic with the reason in headers."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from common.errors import DecodeError
from common.headers import ERROR_DETAIL, ERROR_REASON, SOURCE
from gateway.metrics import DLQ, DLQ_FAILURES

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(self, bootstrap: str, topic: str, replication: int = 1) -> None:
        self.replication = replication
        self.topic = topic
        self._producer: AIOKafkaProducer | None = None
        self._bootstrap = bootstrap
        self.sent = 0

    async def start(self) -> None:
        if not self.topic:
            return
        await self._ensure_topic()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            request_timeout_ms=60_000,
        )
        await asyncio.wait_for(self._producer.start(), 10)

    async def _ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        try:
            await asyncio.wait_for(admin.start(), 10)
            if self.topic not in await asyncio.wait_for(admin.list_topics(), 10):
                await admin.create_topics([NewTopic(self.topic, 1, self.replication)])
                log.info("created dead-letter topic %r", self.topic)
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    async def send(self, bad: list[tuple[ConsumerRecord, DecodeError]]) -> None:
        if self._producer is None or not bad:
            return
        futures = []
        try:
            for record, error in bad:
                headers = [
                    *(record.headers or ()),
                    (ERROR_REASON, error.reason.encode()),
                    (ERROR_DETAIL, error.detail.encode()[:512]),
                    (SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
                ]
                futures.append(
                    await asyncio.wait_for(
                        self._producer.send(self.topic, record.value, key=record.key, headers=headers), 10
                    )
                )
            await asyncio.wait_for(asyncio.gather(*futures), 30)
        except (TimeoutError, KafkaError) as exc:
            DLQ_FAILURES.inc(len(bad))
            log.error("could not dead-letter %d messages to %r: %r", len(bad), self.topic, exc)
            return
        self.sent += len(bad)
        DLQ.inc(len(bad))

    async def stop(self) -> None:
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), 5)
            except (TimeoutError, KafkaError):
                log.warning("dead-letter producer did not stop cleanly")
            self._producer = None
