"""The gateway's `status`/`reason`: live only while ticks flow, otherwise the first thing in the way."""

from __future__ import annotations

from dataclasses import replace

from gateway.ingest.health import LIVE, STALE, Inputs, verdict

FLOWING = Inputs(
    broker_up=True, assigned=True, caught_up=True, since_tick_s=0.3, stale_after_s=5, bootstrap="k:9092"
)


def test_ticks_flowing_is_live_with_no_reason() -> None:
    assert verdict(FLOWING) == (LIVE, "")


def test_an_unreachable_broker_is_stale_and_named_first() -> None:
    assert verdict(replace(FLOWING, broker_up=False, since_tick_s=30)) == (
        STALE,
        "Kafka unreachable at k:9092",
    )


def test_no_tick_for_longer_than_the_limit_is_stale_with_the_age() -> None:
    assert verdict(replace(FLOWING, since_tick_s=12.4)) == (STALE, "no ticks for 12 s")


def test_before_the_first_tick_and_during_replay_it_is_not_live() -> None:
    assert verdict(replace(FLOWING, since_tick_s=None)) == (STALE, "no ticks yet")
    assert verdict(replace(FLOWING, caught_up=False)) == (STALE, "replaying recent history")
    assert verdict(replace(FLOWING, assigned=False)) == (STALE, "waiting for the topic")
