"""The gateway process: pipeline + Tornado server, stopped cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import logging

import perspective

from common.runtime import install_stop_signals
from gateway.auth import TicketBook
from gateway.handler import Connections
from gateway.pipeline import Pipeline
from gateway.server import make_app
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


async def run(settings: GatewaySettings) -> int:
    server = perspective.Server()
    connections = Connections()
    pipeline = Pipeline(settings, server, clients=lambda: len(connections))
    tickets = TicketBook(settings.token)
    app = make_app(settings, server, pipeline, connections, tickets)
    http = app.listen(settings.port, settings.host, max_body_size=64 * 1024)
    stop = install_stop_signals(asyncio.get_running_loop(), lambda: None)
    log.info(
        "gateway listening on http://%s:%d (auth %s)",
        settings.host,
        settings.port,
        "on" if tickets.enabled else "off",
    )
    await pipeline.start()
    await stop.wait()
    http.stop()
    connections.close_all()
    await pipeline.stop()
    await asyncio.wait_for(http.close_all_connections(), 3)
    log.info("gateway stopped")
    return 0
