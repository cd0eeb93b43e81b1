"""Refused connections and requests: counted by reason, and said in the log at a bounded rate."""

from __future__ import annotations

import logging

from common.throttle import LogThrottle
from gateway import metrics

log = logging.getLogger(__name__)

_throttle = LogThrottle(10.0)


def refuse(reason: str, remote: str | None, detail: str) -> None:
    """Count a refused connection or request by reason (gateway_ws_refused_total) and say why.

    One line per reason per 10 s: a hostile client must not be able to flood the log.
    """
    metrics.WS_REFUSED.labels(reason).inc()
    held = _throttle.ready(reason)
    if held is not None:
        log.info("%s from %s: %s (%d more since the last line)", reason, remote, detail, held)
