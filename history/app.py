"""The history process, the one place that builds and wires its parts; stopped cleanly on SIGTERM.

HTTP: /healthz, /readyz and /metrics from the gateway's serve wing (imported, not copied), plus
history/serve's ``/history`` WebSocket, ``/auth/ticket`` and ``/config.json``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import duckdb
import tornado.web

from common.runtime import install_stop_signals
from gateway.serve.connections import Connections
from gateway.serve.http import Health, Metrics, Readiness, Ready
from history.consumer import HistoryConsumer
from history.retention import Pruner
from history.serve.routes import history_routes, history_server
from history.settings import HistorySettings
from history.store import HistoryStore

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 64 * 1024
Routes = list[Any]  # Tornado rules: (pattern, handler[, kwargs])


def make_app(
    settings: HistorySettings, readiness: Readiness, extra_routes: Routes
) -> tornado.web.Application:
    return tornado.web.Application(
        [
            *extra_routes,
            (r"/healthz", Health),
            (r"/readyz", Ready, {"pipeline": readiness}),
            (r"/metrics", Metrics, {"token": settings.metrics_token, "setting": "HISTORY_METRICS_TOKEN"}),
        ],
        websocket_max_message_size=settings.max_frame_bytes,
        log_function=_quiet,
    )


async def run(settings: HistorySettings) -> int:
    stopping = install_stop_signals(asyncio.get_running_loop(), lambda: None)
    try:
        store = HistoryStore(settings.db_path, settings.memory_limit_mb, settings.threads)
    except (duckdb.Error, OSError) as error:
        log.error("cannot open the history database %s: %s", settings.db_path, error)
        return 1
    consumer = HistoryConsumer(settings, store)
    pruner = Pruner(store, settings.retention_hours, settings.prune_interval_s)
    connections = Connections()
    rules = history_routes(settings, store.connection, connections)
    app = make_app(settings, consumer, rules)
    try:
        http = app.listen(settings.port, settings.host, max_body_size=_MAX_BODY_BYTES)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        store.close()
        return 1
    log.info("history listening on http://%s:%d, database %s", settings.host, settings.port, store.path)
    tasks = [asyncio.create_task(consumer.run(stopping)), asyncio.create_task(pruner.run(stopping))]
    waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    stopping.set()  # a part that ended on an error takes the others down: a supervisor restarts us
    http.stop()
    await connections.close_all()  # 1001 "going away": the History panel says so and retries
    # The poll in hand is stored and committed, then the consumer leaves the group.
    failures = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if r is not None]
    for failure in failures:
        log.error("history stopping on an error: %r", failure, exc_info=failure)
    history_server(rules).join()  # its workers drop their views before the database closes
    stored = store.count()
    store.close()
    log.info("history stopped: %d ticks stored", stored)
    return 1 if failures else 0


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """Probes every few seconds would drown the log: only errors are logged."""
    status = handler.get_status()
    if status >= 500 and status != 503:
        log.warning("%d %s %s", status, handler.request.method, handler.request.uri)
