"""Failed ticket requests per address: free up to the limit, then blocks that double, bounded memory."""

from __future__ import annotations

from gateway.serve.auth_throttle import FailureThrottle


def _throttle(max_addresses: int = 100) -> FailureThrottle:
    return FailureThrottle(max_failures=3, window_s=60.0, max_backoff_s=8.0, max_addresses=max_addresses)


def test_failures_up_to_the_limit_do_not_block() -> None:
    throttle = _throttle()
    assert [throttle.failed("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert throttle.retry_after("a", now=0.0) == 0.0


def test_each_failure_past_the_limit_doubles_the_block_up_to_the_cap() -> None:
    throttle = _throttle()
    blocks = [throttle.failed("a", now=10.0 * n) for n in range(8)]
    assert blocks == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_a_blocked_address_waits_and_others_do_not() -> None:
    throttle = _throttle()
    for _ in range(5):
        throttle.failed("a", now=100.0)  # the 4th blocks for 1 s, the 5th for 2 s
    assert throttle.retry_after("a", now=100.5) == 1.5
    assert throttle.retry_after("a", now=102.0) == 0.0
    assert throttle.retry_after("b", now=100.5) == 0.0


def test_a_success_clears_the_address() -> None:
    throttle = _throttle()
    for _ in range(4):
        throttle.failed("a", now=0.0)
    throttle.succeeded("a")
    assert throttle.failed("a", now=0.0) == 0.0


def test_an_address_quiet_for_the_window_starts_afresh() -> None:
    throttle = _throttle()
    for _ in range(5):
        throttle.failed("a", now=0.0)  # blocked until 2.0
    throttle.failed("b", now=63.0)  # 'a' quiet since its block ended at 2.0 -> forgotten
    assert throttle.failed("a", now=64.0) == 0.0


def test_the_table_never_holds_more_than_its_cap() -> None:
    throttle = _throttle(max_addresses=50)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", now=1.0)
    assert len(throttle) == 50
