"""Faults on the real engine: Kafka restarted, the gateway killed; then `docker compose down -v`."""

from __future__ import annotations

import pytest

from tests.support.compose_checks import assert_quiet_state_matches_kafka, tick_counts, until_async
from tests.support.compose_stand import Stand, http_json, until

pytestmark = [pytest.mark.compose, pytest.mark.timeout(600)]


async def _ticking(stand: Stand) -> None:
    """Some producer's tick count rises in the gateway's roster (seen through :8080)."""
    first = await until_async(tick_counts, 60, "the roster through :8080", stand)

    async def rising() -> bool:
        now = await tick_counts()
        return now is not None and any(now[p] > first.get(p, 0) for p in now)

    await until_async(rising, 60, "ticks flowing", stand)


async def test_after_kafka_restarts_every_acknowledged_tick_is_applied_exactly_once(single: Stand) -> None:
    single.compose("restart", "kafka", timeout=180)
    await _ticking(single)
    await assert_quiet_state_matches_kafka(single)


async def test_after_the_gateway_is_killed_and_started_every_tick_is_applied_exactly_once(
    single: Stand,
) -> None:
    single.compose("kill", "-s", "KILL", "gateway")
    single.compose("start", "gateway", timeout=120)
    until(lambda: http_json("http://127.0.0.1:8080/readyz")["ready"], 120, "gateway ready again", single)
    await _ticking(single)
    await assert_quiet_state_matches_kafka(single)


def test_down_v_leaves_no_container_network_or_volume(single: Stand) -> None:
    single.compose("down", "-v", timeout=120)
    assert single.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_the_readme_shows_every_compose_command_these_tests_ran(single: Stand) -> None:
    assert single.not_in_readme() == set()
