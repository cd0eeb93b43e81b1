"""Creating a Kafka topic unless it exists: the producer's ticks, the gateway's dead letters,
the harness's test topics, all through this one function; and how soon a subscriber sees a
topic created after it subscribed."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from common.aio import bounded, close_quietly

_CLOSE_TIMEOUT_S = 1.0

# metadata_max_age_ms of a group consumer that may subscribe before its topic exists (or before
# every broker's metadata has it): aiokafka sees such a topic only at its next refresh, 5 minutes
# by default. Found in CI: history, started beside the first producer, stayed unhealthy in compose
# and `make run` never went live; in the 3-broker compose the producers' group assigned none of a
# just-created `ticks.shards` ("publishing 0 of 24 shards") and no producer published.
NEW_TOPIC_REFRESH_MS = 3000


class TopicError(KafkaError):  # type: ignore[misc]  # aiokafka is untyped
    """The broker answered CreateTopics with an error (e.g. replication above the broker count)."""


async def ensure_topic(
    bootstrap: str,
    name: str,
    partitions: int,
    replication: int,
    timeout: float,
    config: dict[str, str] | None = None,
) -> bool:
    """Create ``name`` unless it exists; True when this call created it.

    Every call is bounded by ``timeout``; another client creating it first is fine.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await bounded(admin.start(), timeout)
        if name in await bounded(admin.list_topics(), timeout):
            return False
        topic = NewTopic(name, partitions, replication, topic_configs=config or {})
        return _created(await bounded(admin.create_topics([topic]), timeout), name)
    except TopicAlreadyExistsError:
        return False  # another client won the race
    finally:
        await close_quietly(admin.close(), _CLOSE_TIMEOUT_S, "Kafka admin client")


def _created(response: Any, name: str) -> bool:
    """CreateTopics reports per-topic errors in the response instead of raising them."""
    created = False
    for entry in response.topic_errors:
        code = int(entry[1])
        if code == 0:
            created = True
        elif for_code(code) is not TopicAlreadyExistsError:
            message = entry[2] if len(entry) > 2 and entry[2] else for_code(code).__name__
            raise TopicError(f"cannot create topic {name!r}: {message}")
    return created
