"""Is the Kafka broker reachable, since when not, and when to rebuild the client: shared by the
gateway's source and history's consumer.

aiokafka may never recover from a whole-cluster outage by itself (aiokafka #703): a service that
has not reached the broker for ``rebuild_after_s`` drops its client and builds a new one. Outages
fail every poll, so the log says it once per 10 s; the gauge says it always.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from common.throttle import LogThrottle

log = logging.getLogger(__name__)


class BrokerWatch:
    def __init__(
        self, bootstrap: str, rebuild_after_s: float, gauge: Callable[[float], None] = lambda _: None
    ) -> None:
        self.bootstrap = bootstrap
        self.rebuild_after_s = rebuild_after_s
        self.up = False
        self._gauge = gauge
        self._down_since: float | None = None
        self._throttle = LogThrottle(10.0)

    def mark_up(self) -> None:
        if not self.up:
            log.info("Kafka reachable at %s", self.bootstrap)
        self.up = True
        self._down_since = None
        self._gauge(1)

    def mark_down(self, why: str) -> None:
        self.up = False
        self._gauge(0)
        if self._down_since is None:
            self._down_since = time.monotonic()
        if self._throttle.ready() is not None:
            log.warning("%s", why)

    @property
    def rebuild_due(self) -> bool:
        """Down for longer than ``rebuild_after_s``: the client may never come back by itself."""
        return self._down_since is not None and time.monotonic() - self._down_since > self.rebuild_after_s
