"""Guessing the token at POST /auth/ticket: a few 401s, then 429s with a Retry-After that grows,
counted in /metrics and logged at most a line per reason per 10 s (a real server in this process)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from tornado.httpclient import HTTPResponse

from tests.support.live import LiveGateway, http, live_gateway, refused, sample

pytestmark = pytest.mark.integration

TOKEN = "correct-horse-battery-staple"


async def _guess(gw: LiveGateway, token: str = "wrong-guess-0000") -> HTTPResponse:
    return await http(gw, "/auth/ticket", "POST", Authorization=f"Bearer {token}")


async def test_failures_past_the_limit_get_429_with_a_doubling_retry_after() -> None:
    async with live_gateway(token=TOKEN, auth_max_failures=3) as gw:
        blocks = sample("gateway_auth_blocks_total")
        assert [(await _guess(gw)).code for _ in range(3)] == [401, 401, 401]
        first = await _guess(gw)
        assert (first.code, first.headers["Retry-After"]) == (429, "1")
        assert json.loads(first.body) == {"error": "too many failed attempts", "retry_after_s": 1}
        await asyncio.sleep(1.1)  # the block's own length: nothing else to poll
        second = await _guess(gw)
        assert (second.code, second.headers["Retry-After"]) == (429, "2")
        assert sample("gateway_auth_blocks_total") == blocks + 2


async def test_while_blocked_even_the_right_token_waits_and_then_clears_the_count() -> None:
    async with live_gateway(token=TOKEN, auth_max_failures=1) as gw:
        throttled = refused("auth_throttled")
        assert [(await _guess(gw)).code for _ in range(2)] == [401, 429]
        blocked = await _guess(gw, TOKEN)
        assert blocked.code == 429 and "ticket" not in json.loads(blocked.body)
        assert refused("auth_throttled") == throttled + 1
        await asyncio.sleep(float(blocked.headers["Retry-After"]) + 0.1)
        assert (await _guess(gw, TOKEN)).code == 200
        assert (await _guess(gw)).code == 401  # the count started over


async def test_a_flood_of_guesses_is_mostly_429_and_a_few_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway")
    async with live_gateway(token=TOKEN) as gw:
        codes = [(await _guess(gw, f"guess-{n:012d}")).code for n in range(300)]
        assert codes == [401] * gw.settings.auth_max_failures + [429] * (300 - gw.settings.auth_max_failures)
    lines = [r for r in caplog.records if r.name.startswith("gateway")]
    assert len(lines) <= 2, [r.getMessage() for r in lines]  # one per reason per 10 s at most
