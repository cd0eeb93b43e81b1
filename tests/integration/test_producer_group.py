"""Elastic producers against a real broker: N producers split the universe through a consumer group.

Producers tick every 100 ms here so that each symbol's walk is dense enough to see a handover.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from harness.process import ManagedProcess
from harness.services import start_producer
from tests.support.tape import (
    Seen,
    longest_overlap_ms,
    now_ms,
    publishers,
    read_tape,
    relative_steps,
    seq_holes,
    settle,
)

pytestmark = pytest.mark.integration

UNIVERSE = 50
INTERVAL_MS = 100
KILL_BOUND_S = 10.0
LEAVE_BOUND_S = 2.0


def _start(bootstrap: str, topic: str, log_dir: Path, name: str) -> ManagedProcess:
    return start_producer(bootstrap, topic, log_dir, producer_id=name, interval_ms=INTERVAL_MS)


async def _settled(
    bootstrap: str, topic: str, log_dir: Path, names: list[str]
) -> tuple[list[ManagedProcess], int]:
    """Start the producers and wait until they split the universe; returns them and that moment."""
    producers = [_start(bootstrap, topic, log_dir, name) for name in names]
    try:
        return producers, await settle(bootstrap, topic, UNIVERSE, len(names))
    except BaseException:
        _stop_all(producers)
        raise


def _stop_all(processes: list[ManagedProcess]) -> None:
    for process in processes:
        process.signal(signal.SIGTERM)
    for process in processes:
        code = process.wait(10)
        if code is None:
            process.kill9()
        assert code == 0, process.tail()


def _first_after(tape: list[Seen], symbols: set[str], since: int, by: set[str]) -> dict[str, int]:
    """Symbol -> event time of its first tick after ``since`` by one of the producers ``by``."""
    first: dict[str, int] = {}
    for s in tape:
        if s.symbol in symbols and s.time >= since and s.producer in by:
            first.setdefault(s.symbol, s.time)
    return first


async def test_three_producers_publish_each_symbol_once_and_cover_the_universe(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producers, settled = await _settled(kafka_bootstrap, topic, tmp_path, ["p0", "p1", "p2"])
    try:
        await asyncio.sleep(10.5)
        window = publishers(await read_tape(kafka_bootstrap, topic), settled, settled + 10_000)
    finally:
        _stop_all(producers)
    tape = await read_tape(kafka_bootstrap, topic)

    assert len(window) == UNIVERSE
    assert all(len(by) == 1 for by in window.values()), {s: by for s, by in window.items() if len(by) > 1}
    assert set().union(*window.values()) == {"p0", "p1", "p2"}
    assert longest_overlap_ms(tape) <= INTERVAL_MS  # never two publishers longer than a tick interval
    assert all(holes == 0 for holes in seq_holes(tape).values())


async def test_a_killed_producers_symbols_are_taken_over_within_10s_continuing_their_walk(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producers, settled = await _settled(kafka_bootstrap, topic, tmp_path, ["k0", "k1", "k2"])
    try:
        before = await read_tape(kafka_bootstrap, topic)
        orphans = {s for s, by in publishers(before, settled).items() if by == {"k0"}}
        killed_at = now_ms()
        producers[0].kill9()
        await settle(kafka_bootstrap, topic, UNIVERSE, 2, timeout=30)
    finally:
        _stop_all(producers[1:])
    tape = await read_tape(kafka_bootstrap, topic)
    taken = _first_after(tape, orphans, killed_at, by={"k1", "k2"})
    within, across = relative_steps(tape)

    assert orphans and set(taken) == orphans
    assert max(taken.values()) - killed_at <= KILL_BOUND_S * 1000
    assert across <= within  # no handover step beyond the walk's own steps: no restart from the seed


async def test_scaling_1_to_5_to_2_keeps_one_publisher_per_symbol_and_every_seq(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    first = _start(kafka_bootstrap, topic, tmp_path, "s0")
    producers = [first]
    try:
        await settle(kafka_bootstrap, topic, UNIVERSE, 1)
        producers += [_start(kafka_bootstrap, topic, tmp_path, f"s{i}") for i in range(1, 5)]
        settled = await settle(kafka_bootstrap, topic, UNIVERSE, 5)
        leaving = producers[2:]
        split = publishers(await read_tape(kafka_bootstrap, topic), settled)
        moved = {symbol for symbol, by in split.items() if by & {"s2", "s3", "s4"}}
        left_at = now_ms()
        _stop_all(leaving)
        await settle(kafka_bootstrap, topic, UNIVERSE, 2, timeout=30)
    finally:
        _stop_all(producers[:2])
    tape = await read_tape(kafka_bootstrap, topic)
    taken = _first_after(tape, moved, left_at, by={"s0", "s1"})

    assert moved and set(taken) == moved
    assert max(taken.values()) - left_at <= LEAVE_BOUND_S * 1000
    assert longest_overlap_ms(tape) <= INTERVAL_MS
    assert seq_holes(tape) == {f"s{i}": 0 for i in range(5)}


async def test_a_restart_continues_each_walk_from_its_last_tick_in_kafka(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    producer = _start(kafka_bootstrap, topic, tmp_path, "r1")
    await settle(kafka_bootstrap, topic, UNIVERSE, 1)
    await asyncio.sleep(5)  # let the walk wander from the seed's prices
    assert producer.stop() == 0
    stopped = now_ms()
    time.sleep(0.5)
    restarted = _start(kafka_bootstrap, topic, tmp_path, "r2")
    try:
        await settle(kafka_bootstrap, topic, UNIVERSE, 1)
    finally:
        assert restarted.stop() == 0
    tape = await read_tape(kafka_bootstrap, topic)
    last_before = {s.symbol: s.price for s in tape if s.producer == "r1"}
    first_after: dict[str, float] = {}
    for s in tape:
        if s.producer == "r2" and s.time > stopped:
            first_after.setdefault(s.symbol, s.price)
    within, across = relative_steps(tape)

    assert set(first_after) == set(last_before)
    assert across <= within
    assert max(abs(first_after[s] / last_before[s] - 1) for s in last_before) <= within


async def test_arrow_producers_batch_only_their_own_symbols_and_continue_across_a_handover(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    def arrow(name: str) -> ManagedProcess:
        return start_producer(
            kafka_bootstrap, topic, tmp_path, producer_id=name, interval_ms=INTERVAL_MS, format="arrow"
        )

    producers = [arrow("a0"), arrow("a1")]
    try:
        await settle(kafka_bootstrap, topic, UNIVERSE, 2)
        _stop_all(producers[1:])
        await settle(kafka_bootstrap, topic, UNIVERSE, 1, timeout=30)
    finally:
        _stop_all(producers[:1])
    tape = await read_tape(kafka_bootstrap, topic)
    within, across = relative_steps(tape)

    assert longest_overlap_ms(tape) <= INTERVAL_MS
    assert 0 < across <= within  # a1's symbols went to a0 and went on from a1's last prices
    assert seq_holes(tape) == {"a0": 0, "a1": 0}
