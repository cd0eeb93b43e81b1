"""The checks every served WebSocket makes before its upgrade (origin, connection cap, ticket),
and its frame cap (counted when Tornado closes a client for an oversized frame).

Shared by the table socket (/websocket, history's /history) and the gateway's proxy to
history, so a refused client never sees a table name or reaches history.
"""

from __future__ import annotations

from typing import Any

from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from gateway.serve.connections import Connections
from gateway.serve.limits import ServeLimits, ServeMetrics
from gateway.serve.policy import RequestPolicy, origin_allowed
from gateway.serve.secure_headers import SecureHeaders

_MESSAGE_TOO_BIG = 1009


class _FrameLimitProtocol(WebSocketProtocol13):
    """Tornado itself closes a connection whose frame is over the limit: count that like ours."""

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if (
            code == _MESSAGE_TOO_BIG
            and not self.server_terminated
            and isinstance(self.handler, CheckedUpgrade)
        ):
            self.handler._refuse("oversized_frame", reason or "frame too big")
        super().close(code, reason)


class CheckedUpgrade(SecureHeaders, WebSocketHandler):
    limits: ServeLimits
    connections: Connections
    policy: RequestPolicy
    metrics: ServeMetrics

    @property
    def max_message_size(self) -> int:
        # Per route rather than per application: two services' sockets may share one app.
        return self.limits.max_frame_bytes

    def check_origin(self, origin: str) -> bool:
        if origin_allowed(origin, self.limits.allowed_origins):
            return True
        self._refuse("bad_origin", f"origin {origin!r} not in {self.limits.origins_setting}")
        return False

    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Tornado runs from here to open() without yielding, so the cap cannot be overshot.
        refusal = self.policy.upgrade_refusal(
            len(self.connections),
            self.request.query_arguments,
            lambda: self.get_query_argument("ticket", None),
        )
        if refusal is not None:
            self._refuse(refusal.reason, refusal.detail)
            self.set_status(refusal.status)
            self.finish("too many connections" if refusal.status == 503 else refusal.reason)
            return
        await super().get(*args, **kwargs)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        protocol = super().get_websocket_protocol()
        if isinstance(protocol, WebSocketProtocol13):
            protocol.__class__ = _FrameLimitProtocol
        return protocol

    def _refuse(self, reason: str, detail: str) -> None:
        self.metrics.refuse(reason, self.request.remote_ip, detail)
