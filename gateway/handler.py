"""The hardened Perspective WebSocket: read-only tables, origin and auth checks, bounded memory.

Modelled on perspective.handlers.tornado.PerspectiveTornadoHandler, whose check_origin
always says yes and which lets any client update, replace or delete a table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tornado.ioloop import IOLoop
from tornado.websocket import (
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol,
    WebSocketProtocol13,
)

from gateway import metrics
from gateway.auth import TicketBook
from gateway.outbox import Outbox
from gateway.protocol import MAKE_VIEW, VIEW_DELETE, RequestHead, error_response, new_view_id, read_head
from gateway.secure_headers import SecureHeaders
from gateway.settings import GatewaySettings
from gateway.shared_views import SharedViews
from gateway.view_owners import ViewOwners

log = logging.getLogger(__name__)

_MESSAGE_TOO_BIG = 1009
_POLICY_VIOLATION = 1008
_GOING_AWAY = 1001
# Bytes in flight to one client before its frames queue up and update notifications conflate.
_WATERMARK = 1 << 20


class Connections:
    """The open sockets, for the connection cap, the clients count and a clean shutdown."""

    def __init__(self) -> None:
        self.open: set[TableSocket] = set()
        self.views = ViewOwners()
        self.tables: Any = None  # a local client of the server, to list its tables
        self.shared: SharedViews | None = None  # made by the first socket when views are shared

    def __len__(self) -> int:
        return len(self.open)

    async def close_all(self, timeout: float = 3.0) -> None:
        """Send every client a close frame and wait (bounded) until they have all gone."""
        for socket in list(self.open):
            socket.close(_GOING_AWAY, "server shutting down")
        deadline = asyncio.get_running_loop().time() + timeout
        while self.open and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)


def origin_allowed(origin: str, allowed: str) -> bool:
    patterns = [a.strip().rstrip("/") for a in allowed.split(",") if a.strip()]
    return "*" in patterns or origin.rstrip("/") in patterns


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


class _FrameLimitProtocol(WebSocketProtocol13):
    """Tornado itself closes a connection whose frame is over the limit: count that like ours."""

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code == _MESSAGE_TOO_BIG and not self.server_terminated:
            remote = self.handler.request.remote_ip if isinstance(self.handler, WebSocketHandler) else None
            refuse("oversized_frame", remote, reason or "frame too big")
        super().close(code, reason)


class TableSocket(SecureHeaders, WebSocketHandler):
    def initialize(
        self, server: Any, settings: GatewaySettings, tickets: TicketBook, connections: Connections
    ) -> None:
        self.server = server
        self.settings_ = settings
        self.tickets = tickets
        self.connections = connections
        self.loop = IOLoop.current()
        self.outbox = Outbox(self._send, _WATERMARK, settings.max_pending_bytes, metrics.WS_CONFLATED.inc)
        self.session: Any = None
        if settings.share_views and connections.shared is None:
            connections.shared = SharedViews(server, self.loop, connections.views)

    def check_origin(self, origin: str) -> bool:
        if origin_allowed(origin, self.settings_.allowed_origins):
            return True
        self._refuse("bad_origin", f"origin {origin!r} not in GATEWAY_ALLOWED_ORIGINS")
        return False

    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Everything is checked before the upgrade: a refused client never sees a table name.
        # Tornado runs from here to open() without yielding, so the cap cannot be overshot.
        if len(self.connections) >= self.settings_.max_connections:
            self._refuse("too_many_connections", f"cap of {self.settings_.max_connections} reached")
            self.set_status(503)
            self.finish("too many connections")
            return
        reason = self._auth_problem()
        if reason is not None:
            self._refuse(reason, "WebSocket upgrade refused")
            self.set_status(401)
            self.finish(reason)
            return
        await super().get(*args, **kwargs)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        protocol = super().get_websocket_protocol()
        if isinstance(protocol, WebSocketProtocol13):
            protocol.__class__ = _FrameLimitProtocol
        return protocol

    def _auth_problem(self) -> str | None:
        if not self.tickets.enabled:
            return None
        if self._secret_in_query():
            return "token_in_query"  # the secret belongs in /auth/ticket's header, never in a URL
        ticket = self.get_query_argument("ticket", None)
        return "missing_ticket" if ticket is None else self.tickets.redeem(ticket)

    def _secret_in_query(self) -> bool:
        for name, values in self.request.query_arguments.items():
            if name == "token" or any(self.tickets.check_secret(value) for value in values):
                return True
        return False

    def open(self, *args: str, **kwargs: str) -> None:
        # Updates are small frames that should leave now: with Nagle on, a frame written while
        # the previous one is unacknowledged waits for the client's delayed ACK (~40 ms on Linux).
        self.set_nodelay(True)
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
            # No reply: without a readable msg_id no client promise can be waiting for one.
            self._refuse("malformed_request", f"malformed request of {len(message)} bytes")
            return
        problem = self._problem(message, head)
        if problem is not None:
            # Reply rather than drop: a dropped request leaves the client's promise hanging.
            reason, detail = problem
            self._refuse(reason, detail)
            self._write(error_response(head.msg_id, head.entity_id, detail))
            return
        if self.session is None:
            return
        shared = self.connections.shared
        try:
            # Inline on the loop: reads are small, and perspective.Server serialises its own
            # state against the pipeline's writer thread (upstream calls it from any thread).
            if shared is not None and shared.takes(self, message, head):
                shared.request(self, message, head)
            else:
                self.session.handle_request(message)
        except Exception as error:
            self._refuse("request_failed", repr(error))
            self._write(error_response(head.msg_id, head.entity_id, f"request failed: {error}"))

    def _problem(self, message: bytes, head: RequestHead) -> tuple[str, str] | None:
        """(reason, message for the client) when the request is refused, else None."""
        if head.mutating is not None:
            return f"mutating_{head.mutating}", f"{head.mutating} refused: tables are read-only"
        if self.connections.views.foreign(head.entity_id, self):
            return "foreign_view", "refused: that view belongs to another connection"
        if head.kind == MAKE_VIEW:
            reason = self._view_problem(new_view_id(message, head))
            return None if reason is None else (reason, f"view refused: {reason.replace('_', ' ')}")
        if head.kind == VIEW_DELETE:
            self.connections.views.release(head.entity_id, self)
        return None

    def _view_problem(self, view_id: str | None) -> str | None:
        if view_id is None:
            return "malformed_request"
        if view_id in self._table_names():
            return "view_id_in_use"  # a view named like a table would shadow it for everyone
        return self.connections.views.claim(view_id, self)

    def _table_names(self) -> list[str]:
        if self.connections.tables is None:
            self.connections.tables = self.server.new_local_client()
        names: list[str] = self.connections.tables.get_hosted_table_names()
        return names

    def on_close(self) -> None:
        self.connections.open.discard(self)
        metrics.WS_CLIENTS.set(len(self.connections))
        self._end_session()

    def _end_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
            self.connections.views.release_all(self)
            if self.connections.shared is not None:
                self.connections.shared.release_all(self)

    def _from_server(self, message: bytes) -> None:
        # Called on whichever thread touched a table: hop onto the IOLoop (add_callback is thread-safe).
        self.loop.add_callback(self._write, bytes(message))

    def deliver(self, message: bytes) -> None:
        """A frame for this client from the shared views (on the IOLoop)."""
        self._write(message)

    def _write(self, message: bytes) -> None:
        if self.ws_connection is None or self.session is None:
            return
        if self.outbox.send(message):
            return
        self._refuse(
            "slow_client", f"{self.outbox.backlog} bytes unsent: closing a client that does not read"
        )
        self.close(_POLICY_VIOLATION, "too slow")
        self._end_session()  # stop computing updates nobody will read

    def _send(self, message: bytes) -> asyncio.Future[None]:
        metrics.WS_BYTES_OUT.inc(len(message))
        try:
            return self.write_message(message, binary=True)
        except WebSocketClosedError as error:  # the outbox sees a failed write and stops writing
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            return failed

    def _refuse(self, reason: str, detail: str) -> None:
        refuse(reason, self.request.remote_ip, detail)
