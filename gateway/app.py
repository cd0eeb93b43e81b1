"""The gateway process: pipeline + Tornado server, stopped cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import perspective
from tornado.httpserver import HTTPServer

from common.runtime import install_stop_signals
from gateway.auth import TicketBook
from gateway.handler import Connections
from gateway.pipeline import Pipeline
from gateway.server import make_app
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 64 * 1024  # the only request bodies are ticket requests, and they are empty


async def run(settings: GatewaySettings) -> int:
    # Before anything else, so an early SIGTERM is a clean stop too.
    stop = install_stop_signals(asyncio.get_running_loop(), lambda: None)
    server = perspective.Server()
    connections = Connections()
    pipeline = Pipeline(settings, server, clients=lambda: len(connections))
    tickets = TicketBook(settings.token)
    app = make_app(settings, server, pipeline, connections, tickets)
    try:
        http = app.listen(settings.port, settings.host, max_body_size=_MAX_BODY_BYTES)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return 1
    log.info(
        "gateway listening on http://%s:%d (auth %s)",
        settings.host,
        settings.port,
        "on" if tickets.enabled else "off",
    )
    await pipeline.start()
    await stop.wait()
    await _shutdown(http, connections, pipeline)
    log.info("gateway stopped")
    return 0


async def _shutdown(http: HTTPServer, connections: Connections, pipeline: Pipeline) -> None:
    http.stop()  # no new connections
    await connections.close_all()  # 1001 "going away": pages show it and reconnect
    await pipeline.stop()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(http.close_all_connections(), 3)
