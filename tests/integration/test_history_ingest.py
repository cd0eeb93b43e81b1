"""`python -m history` against a real broker and a real DuckDB file: what Kafka holds, stored once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from harness.services import History, start_history
from tests.support.history import end_offsets, file_counts, query, rewind_group, samples, wait_stored_up_to
from tests.support.ingest import as_arrow, as_json, poison, tick
from tests.support.kafka_io import produce

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000)


def _start(bootstrap: str, topic: str, tmp_path: Path, **settings: object) -> History:
    return start_history(bootstrap, topic, tmp_path / "history.duckdb", tmp_path, **settings)


async def _stored_then_stopped(history: History, bootstrap: str, topic: str) -> None:
    """Wait until the file holds everything Kafka has now, then SIGTERM (exit 0)."""
    wait_stored_up_to(history, await end_offsets(bootstrap, topic))
    assert history.process.stop() == 0, history.process.tail()


async def test_a_message_sent_twice_and_ticks_repeated_across_formats_are_stored_once(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    ticks = [tick("dup", seq, "DUP", 10.0 + seq, NOW + seq) for seq in range(1, 101)]
    twice = as_json(ticks[41])
    await produce(kafka_bootstrap, topic, [*(as_json(t) for t in ticks), twice, twice])
    await produce(kafka_bootstrap, topic, [as_arrow(ticks[:50])])  # the same ticks again, as Arrow
    history = _start(kafka_bootstrap, topic, tmp_path)
    await _stored_then_stopped(history, kafka_bootstrap, topic)
    assert file_counts(str(history.db_path)) == (100, 100)
    assert query(str(history.db_path), "SELECT min(seq), max(seq) FROM ticks") == [(1, 100)]


async def test_malformed_messages_are_counted_and_the_good_ticks_around_them_stored(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    good = [tick("good", seq, "GUD", 20.0, NOW + seq) for seq in range(1, 41)]
    bad = [poison(index) for index in range(16)]
    history = _start(kafka_bootstrap, topic, tmp_path)
    # Good, bad, good on every partition's way: the bad ones sit between good ones.
    await produce(kafka_bootstrap, topic, [as_json(t) for t in good[:20]])
    await produce(kafka_bootstrap, topic, [message for _, message in bad])
    await produce(kafka_bootstrap, topic, [as_json(t) for t in good[20:]])
    wait_stored_up_to(history, await end_offsets(kafka_bootstrap, topic))
    rejected = samples(history, "history_rejected_messages_total")
    assert history.process.running
    assert history.process.stop() == 0
    assert rejected == dict(Counter(reason for reason, _ in bad))
    assert file_counts(str(history.db_path)) == (40, 40)
    assert "rejected message at" in history.process.output()


async def test_a_replay_from_the_start_of_the_topic_stores_nothing_twice(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    ticks = [tick(f"p{seq % 3}", seq, "RPL", 30.0, NOW + seq) for seq in range(1, 601)]
    await produce(kafka_bootstrap, topic, [as_json(t) for t in ticks])
    first = _start(kafka_bootstrap, topic, tmp_path)
    await _stored_then_stopped(first, kafka_bootstrap, topic)
    await rewind_group(kafka_bootstrap, topic, f"{topic}.history")
    replay = _start(kafka_bootstrap, topic, tmp_path)
    wait_stored_up_to(replay, await end_offsets(kafka_bootstrap, topic))
    duplicates = samples(replay, "history_duplicates_skipped_total")[""]
    stored = samples(replay, "history_ticks_stored_total")[""]
    assert replay.process.stop() == 0
    assert (duplicates, stored) == (600, 0)  # every tick read again, none stored again
    assert file_counts(str(replay.db_path)) == (600, 600)


async def test_retention_prunes_ticks_older_than_it_and_keeps_the_rest(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    day_ms = 24 * 3_600_000
    old = [tick("old", seq, "OLD", 40.0, NOW - 2 * day_ms + seq) for seq in range(1, 301)]
    new = [tick("new", seq, "NEW", 41.0, NOW + seq) for seq in range(1, 201)]
    await produce(kafka_bootstrap, topic, [as_arrow(old), as_arrow(new)])
    history = _start(kafka_bootstrap, topic, tmp_path, retention_hours=24, prune_interval_s=0.3)
    wait_stored_up_to(history, await end_offsets(kafka_bootstrap, topic))
    pruned = history.process.wait_for(
        lambda: samples(history, "history_rows_pruned_total").get("") == 300, 30, 0.1
    )
    assert pruned, history.process.tail()
    assert history.process.stop() == 0
    assert query(str(history.db_path), "SELECT producer_id, count(*) FROM ticks GROUP BY ALL") == [
        ("new", 200)
    ]
    assert "pruned 300 ticks older than 24.0 h" in history.process.output()
