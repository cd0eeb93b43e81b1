"""The shared log throttle: one line per kind per period, with how many were held back."""

from __future__ import annotations

from common.throttle import LogThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_event_of_each_kind_is_logged_at_once() -> None:
    throttle = LogThrottle(10.0, Clock())
    assert throttle.ready("bad_json") == 0
    assert throttle.ready("wrong_type") == 0


def test_repeats_within_the_period_are_held_back_and_counted_into_the_next_line() -> None:
    clock = Clock()
    throttle = LogThrottle(10.0, clock)
    assert throttle.ready("k") == 0
    clock.now += 9.9
    assert [throttle.ready("k") for _ in range(3)] == [None, None, None]
    clock.now += 0.1
    assert throttle.ready("k") == 3
    assert throttle.ready("k") is None
