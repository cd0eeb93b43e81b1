"""The hardened Perspective WebSocket: read-only tables, origin and auth checks, bounded memory.

Modelled on perspective.handlers.tornado.PerspectiveTornadoHandler (whose check_origin
always says yes and which lets any client update or delete a table).
"""

from __future__ import annotations

import logging
from typing import Any

from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from gateway import metrics
from gateway.auth import TicketBook
from gateway.protocol import MUTATING, error_response, read_head
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


class Connections:
    """The open sockets, for the connection cap, the clients count and a clean shutdown."""

    def __init__(self) -> None:
        self.open: set[TableSocket] = set()

    def __len__(self) -> int:
        return len(self.open)

    def close_all(self) -> None:
        for socket in list(self.open):
            socket.close(1001, "server shutting down")


def origin_allowed(origin: str, allowed: str) -> bool:
    patterns = [a.strip().rstrip("/") for a in allowed.split(",") if a.strip()]
    return "*" in patterns or origin.rstrip("/") in patterns


class TableSocket(WebSocketHandler):
    def initialize(
        self, server: Any, settings: GatewaySettings, tickets: TicketBook, connections: Connections
    ) -> None:
        self.server = server
        self.settings_ = settings
        self.tickets = tickets
        self.connections = connections
        self.loop = IOLoop.current()
        self.pending_bytes = 0
        self.session: Any = None

    def check_origin(self, origin: str) -> bool:
        if origin_allowed(origin, self.settings_.allowed_origins):
            return True
        self._refuse("bad_origin", f"origin {origin!r} not in GATEWAY_ALLOWED_ORIGINS")
        return False

    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Everything is checked before the upgrade: a refused client never sees a table name.
        if len(self.connections) >= self.settings_.max_connections:
            self._refuse("too_many_connections", f"cap of {self.settings_.max_connections} reached")
            self.set_status(503)
            self.finish("too many connections")
            return
        reason = self._auth_problem()
        if reason is not None:
            self._refuse(reason, f"WebSocket refused: {reason}")
            self.set_status(401)
            self.finish(reason)
            return
        await super().get(*args, **kwargs)

    def _auth_problem(self) -> str | None:
        if not self.tickets.enabled:
            return None
        if self.get_query_argument("token", None) is not None:
            return "token_in_query"  # the secret belongs in /auth/ticket's header, never in a URL
        ticket = self.get_query_argument("ticket", None)
        return "missing_ticket" if ticket is None else self.tickets.redeem(ticket)

    def open(self, *args: str, **kwargs: str) -> None:
        self.connections.open.add(self)
        metrics.WS_CONNECTIONS.inc()
        metrics.WS_CLIENTS.set(len(self.connections))
        self.session = self.server.new_session(self._from_server)

    def on_message(self, message: str | bytes) -> None:
        metrics.WS_FRAMES.inc()
        if not isinstance(message, bytes):
            self._refuse("text_frame", "text frame on a binary protocol")
            return
        head = read_head(message)
        if head is None:
            self._refuse("malformed_request", f"malformed request of {len(message)} bytes")
            return
        if head.kind in MUTATING:
            name = MUTATING[head.kind]
            self._refuse(f"mutating_{name}", f"{name} refused: tables are read-only")
            self._write(error_response(head.msg_id, head.entity_id, f"{name} refused: tables are read-only"))
            return
        if self.session is not None:
            self.session.handle_request(message)

    def on_close(self) -> None:
        self.connections.open.discard(self)
        metrics.WS_CLIENTS.set(len(self.connections))
        if self.session is not None:
            self.session.close()
            self.session = None

    def _from_server(self, message: bytes) -> None:
        # Called on whichever thread updated a table: hop onto the IOLoop, which is thread-safe.
        self.loop.add_callback(self._write, bytes(message))

    def _write(self, message: bytes) -> None:
        if self.ws_connection is None or self.session is None:
            return
        # Only a backlog counts: one large reply (a big view snapshot) to a reading client is fine.
        if self.pending_bytes > self.settings_.max_pending_bytes:
            self._refuse(
                "slow_client", f"{self.pending_bytes} bytes unsent: closing a client that does not read"
            )
            self.close(1008, "too slow")
            return
        try:
            flushed = self.write_message(message, binary=True)
        except WebSocketClosedError:
            return
        self.pending_bytes += len(message)
        metrics.WS_BYTES_OUT.inc(len(message))
        flushed.add_done_callback(lambda _: self._flushed(len(message)))

    def _flushed(self, size: int) -> None:
        self.pending_bytes -= size

    def _refuse(self, reason: str, detail: str) -> None:
        metrics.WS_REFUSED.labels(reason).inc()
        log.info("%s from %s: %s", reason, self.request.remote_ip, detail)
