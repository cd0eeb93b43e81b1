"""``/history`` on the gateway's port: a WebSocket proxy to the history service.

The page reaches history on its own origin whichever way it is served. Frames go both ways
unchanged (history is the read-only authority on what they may ask); each direction has an
Outbox bounded by GATEWAY_MAX_PENDING_BYTES, a frame over GATEWAY_MAX_FRAME_BYTES closes the
client (1009), and proxied connections count against GATEWAY_MAX_CONNECTIONS.

Auth: the upgrade is checked as /websocket's (origin allowlist, a gateway ticket when
GATEWAY_TOKEN is set). The proxy then presents a ticket of its own to history: tickets are
HMAC-signed by the shared secret, so with GATEWAY_TOKEN = HISTORY_TOKEN history accepts it.

When history cannot be reached (or goes away) the client is closed with 1013 "history
unavailable"; /websocket and the live tables are untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from tornado.httpclient import HTTPRequest
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    websocket_connect,
)

from gateway.serve.connections import Connections
from gateway.serve.limits import ServeLimits, ServeMetrics
from gateway.serve.outbox import Outbox
from gateway.serve.policy import RequestPolicy
from gateway.serve.upgrade import CheckedUpgrade

log = logging.getLogger(__name__)

TRY_AGAIN_LATER: Final = 1013
_POLICY_VIOLATION: Final = 1008
_CONNECT_TIMEOUT_S: Final = 5.0
_WATERMARK: Final = 1 << 20


class HistoryProxy(CheckedUpgrade):
    def initialize(
        self,
        upstream: str,
        limits: ServeLimits,
        connections: Connections,
        policy: RequestPolicy,
        metrics: ServeMetrics,
    ) -> None:
        self.upstream_url = upstream
        self.limits = limits
        self.connections = connections
        self.policy = policy
        self.metrics = metrics
        self.upstream: WebSocketClientConnection | None = None
        self.to_client = Outbox(self._to_client, _WATERMARK, limits.max_pending_bytes)
        self.to_history = Outbox(self._to_history, _WATERMARK, limits.max_pending_bytes)
        self.pump: asyncio.Task[None] | None = None

    async def open(self, *args: str, **kwargs: str) -> None:
        self.set_nodelay(True)
        self.connections.open.add(self)
        url = self.upstream_url
        if self.policy.tickets.enabled:  # history checks a ticket of ours, signed with the shared secret
            url += ("&" if "?" in url else "?") + "ticket=" + self.policy.tickets.issue()
        headers = {"Origin": self.request.headers["Origin"]} if "Origin" in self.request.headers else {}
        try:
            self.upstream = await websocket_connect(
                HTTPRequest(
                    url,
                    headers=headers,
                    connect_timeout=_CONNECT_TIMEOUT_S,
                    request_timeout=_CONNECT_TIMEOUT_S,
                ),
                max_message_size=self.limits.max_frame_bytes,
            )
        except Exception as error:  # refused, timed out, or history answered the upgrade with an error
            self._unavailable(f"cannot reach {self.upstream_url}: {error}")
            return
        self.pump = asyncio.ensure_future(self._pump(self.upstream))

    async def _pump(self, upstream: WebSocketClientConnection) -> None:
        while (message := await upstream.read_message()) is not None:
            if isinstance(message, bytes) and not self.to_client.send(message):
                self._refuse("slow_client", f"{self.to_client.backlog} bytes unsent to a /history client")
                self.close(_POLICY_VIOLATION, "too slow")
                return
        if self.ws_connection is not None:
            reason = upstream.close_reason or "history closed the connection"
            self._unavailable(f"history closed with {upstream.close_code}: {reason}")

    def on_message(self, message: str | bytes) -> None:
        self.metrics.frames.inc()
        if not isinstance(message, bytes):
            self._refuse("text_frame", "text frame on a binary protocol")
            return
        if self.upstream is not None and not self.to_history.send(message):
            self._refuse("slow_history", f"{self.to_history.backlog} bytes unsent to history")
            self.close(TRY_AGAIN_LATER, "history unavailable")

    def on_close(self) -> None:
        self.connections.open.discard(self)
        if self.pump is not None:
            self.pump.cancel()
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None

    def _unavailable(self, detail: str) -> None:
        self._refuse("history_unavailable", detail)
        self.close(TRY_AGAIN_LATER, "history unavailable")

    def _to_client(self, message: bytes) -> asyncio.Future[None]:
        self.metrics.bytes_out.inc(len(message))
        return self._guarded(lambda: self.write_message(message, binary=True))

    def _to_history(self, message: bytes) -> asyncio.Future[None]:
        upstream = self.upstream
        if upstream is None:
            return _failed(WebSocketClosedError())
        return self._guarded(lambda: upstream.write_message(message, binary=True))

    @staticmethod
    def _guarded(write: Callable[[], asyncio.Future[None]]) -> asyncio.Future[None]:
        try:
            return write()
        except WebSocketClosedError as error:  # the outbox sees a failed write and stops writing
            return _failed(error)


def _failed(error: Exception) -> asyncio.Future[None]:
    failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    failed.set_exception(error)
    return failed
