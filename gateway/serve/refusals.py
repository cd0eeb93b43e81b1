"""Refused connections and requests: counted by reason, and said in the log at a bounded rate."""

from __future__ import annotations

import logging
import time

from gateway import metrics

log = logging.getLogger(__name__)

_LOG_EVERY_S = 10.0
_last_logged: dict[str, float] = {}
_unlogged: dict[str, int] = {}


def refuse(reason: str, remote: str | None, detail: str) -> None:
    """Count a refused connection or request by reason (gateway_ws_refused_total) and say why.

    One line per reason per 10 s: a hostile client must not be able to flood the log.
    """
    metrics.WS_REFUSED.labels(reason).inc()
    now = time.monotonic()
    if now - _last_logged.get(reason, -_LOG_EVERY_S) < _LOG_EVERY_S:
        _unlogged[reason] = _unlogged.get(reason, 0) + 1
        return
    _last_logged[reason] = now
    log.info("%s from %s: %s (%d more since the last line)", reason, remote, detail, _unlogged.pop(reason, 0))
