"""Refused connections and requests: counted by reason, and said in the log at a bounded rate."""

from __future__ import annotations

import logging

from prometheus_client import Counter

from common.throttle import LogThrottle

log = logging.getLogger(__name__)


class Refusals:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter  # labelled by reason, e.g. gateway_ws_refused_total{reason=...}
        self._throttle = LogThrottle(10.0)

    def __call__(self, reason: str, remote: str | None, detail: str) -> None:
        """Count a refused connection or request by reason and say why.

        One line per reason per 10 s: a hostile client must not be able to flood the log.
        """
        self.counter.labels(reason).inc()
        held = self._throttle.ready(reason)
        if held is not None:
            log.info("%s from %s: %s (%d more since the last line)", reason, remote, detail, held)
