"""The Tornado rules history serves: ``/history`` (WebSocket), ``/auth/ticket``, ``/config.json``.

The socket is the gateway's TableSocket with history's caps and counters, its policy the
gateway's RequestPolicy (tickets, connection cap, mutations refused, views owned by their
connection), and its server the validating DuckDB one. The service's app (history/app.py)
adds /healthz, /readyz and /metrics and mounts these rules.
"""

from __future__ import annotations

from typing import Any

import duckdb
import tornado.web

from gateway.serve.auth import TicketBook
from gateway.serve.auth_throttle import FailureThrottle
from gateway.serve.connections import Connections
from gateway.serve.http import Config, Ticket
from gateway.serve.limits import ServeLimits
from gateway.serve.policy import RequestPolicy
from gateway.serve.socket import TableSocket
from gateway.serve.view_owners import ViewOwners
from history.serve.metrics import SERVE
from history.serve.session import HistoryServer
from history.settings import HistorySettings

Rule = tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]
# Ticket guessing: the gateway's defaults (GATEWAY_AUTH_*), fixed here.
_AUTH_MAX_FAILURES, _AUTH_WINDOW_S, _AUTH_BACKOFF_MAX_S = 10, 60.0, 300.0


def history_server(rules: list[Rule]) -> HistoryServer:
    """The server behind ``/history`` in ``history_routes``'s rules (to ``join()`` it at shutdown)."""
    server = rules[0][2]["server"]
    assert isinstance(server, HistoryServer)
    return server


def history_routes(
    settings: HistorySettings,
    connection: duckdb.DuckDBPyConnection,
    connections: Connections | None = None,
) -> list[Rule]:
    """The rules. At shutdown: ``connections.close_all()``, then ``history_server(rules).join()``,
    then close the database."""
    server = HistoryServer(connection, settings.max_view_rows, SERVE)
    tickets = TicketBook(settings.token)
    throttle = FailureThrottle(_AUTH_MAX_FAILURES, _AUTH_WINDOW_S, _AUTH_BACKOFF_MAX_S)
    cap = settings.max_connections
    policy = RequestPolicy(tickets, throttle, cap, server.table_names, ViewOwners(), shared=None)
    limits = ServeLimits(
        allowed_origins=settings.allowed_origins,
        max_frame_bytes=settings.max_frame_bytes,
        max_pending_bytes=settings.max_pending_bytes,
        max_connections=settings.max_connections,
        origins_setting="HISTORY_ALLOWED_ORIGINS",
    )
    socket = {
        "server": server,
        "limits": limits,
        "connections": Connections() if connections is None else connections,
        "policy": policy,
        "metrics": SERVE,
    }
    return [
        (r"/history", TableSocket, socket),
        (r"/config.json", Config, {"tickets": tickets, "websocket": "/history"}),
        (r"/auth/ticket", Ticket, {"tickets": tickets, "throttle": throttle, "metrics": SERVE}),
    ]
