"""The gateway process: where the ingest and serve wings meet, and the one place that builds
and wires every collaborator; stopped cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import perspective
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from common.runtime import install_stop_signals
from gateway import metrics
from gateway.ingest.dlq import DeadLetters
from gateway.ingest.pipeline import IngestParts, Pipeline
from gateway.ingest.roster import Roster
from gateway.ingest.sequence import SequenceTracker
from gateway.ingest.source import KafkaSource
from gateway.ingest.stats import LiveStats
from gateway.ingest.tables import create_tables
from gateway.ingest.workers import WorkerPool
from gateway.ingest.writer import TableWriter
from gateway.serve.auth import TicketBook
from gateway.serve.auth_throttle import FailureThrottle
from gateway.serve.connections import Connections
from gateway.serve.policy import RequestPolicy
from gateway.serve.routes import make_app
from gateway.serve.shared_views import SharedViews
from gateway.serve.view_owners import ViewOwners
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 64 * 1024  # the only request bodies are ticket requests, and they are empty


def build_pipeline(
    settings: GatewaySettings, server: Any, clients: Callable[[], int] = lambda: 0
) -> Pipeline:
    """The ingest wing: Kafka source, dead letters, tables and their writer, sequence, stats."""
    tables = create_tables(server.new_local_client())
    parts = IngestParts(
        source=WorkerPool(settings) if settings.ingest_workers else KafkaSource(settings),
        dead_letters=DeadLetters(settings.bootstrap_servers, settings.dlq_topic, settings.dlq_replication),
        tables=tables,
        writer=TableWriter(
            tables,
            settings.ticks_limit,
            settings.bars_limit,
            settings.ticks_per_update,
            settings.bars_interval_ms / 1000,
        ),
        sequence=SequenceTracker(settings.gap_grace_ms / 1000),
        roster=Roster(),
        stats=LiveStats(),
    )
    return Pipeline(settings, parts, clients)


def build_policy(settings: GatewaySettings, server: Any) -> RequestPolicy:
    """The serve wing's request policy: tickets, caps, view owners and (if on) shared views.

    Call on the event loop: shared views answer clients on it.
    """
    views = ViewOwners()
    shared = SharedViews(server, IOLoop.current(), views) if settings.share_views else None
    local = server.new_local_client()  # lists the hosted tables: no view may be named like one
    throttle = FailureThrottle(
        settings.auth_max_failures, settings.auth_window_s, settings.auth_backoff_max_s
    )
    return RequestPolicy(
        TicketBook(settings.token),
        throttle,
        settings.max_connections,
        local.get_hosted_table_names,
        views,
        shared,
    )


def new_server(settings: GatewaySettings) -> perspective.Server:
    """The Perspective server, its engine sized first (GATEWAY_ENGINE_THREADS: why, there)."""
    if settings.engine_threads:
        perspective.set_num_cpus(settings.engine_threads)
    metrics.ENGINE_THREADS.set(perspective.num_cpus())
    return perspective.Server()


async def run(settings: GatewaySettings) -> int:
    # Before anything else, so an early SIGTERM is a clean stop too.
    stop = install_stop_signals(asyncio.get_running_loop(), lambda: None)
    server = new_server(settings)
    connections = Connections()
    pipeline = build_pipeline(settings, server, clients=lambda: len(connections))
    policy = build_policy(settings, server)
    app = make_app(settings, server, pipeline, connections, policy)
    try:
        http = app.listen(settings.port, settings.host, max_body_size=_MAX_BODY_BYTES)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return 1
    log.info(
        "gateway listening on http://%s:%d (auth %s)",
        settings.host,
        settings.port,
        "on" if policy.tickets.enabled else "off",
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
