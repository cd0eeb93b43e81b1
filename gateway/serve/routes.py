"""HTTP routes: the page, the Perspective bundle, health, readiness, metrics, tickets, WebSocket."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import perspective
import tornado.web

from gateway import metrics
from gateway.serve.connections import Connections
from gateway.serve.history_proxy import HistoryProxy
from gateway.serve.http import Config, Health, Metrics, Readiness, Ready, Ticket
from gateway.serve.limits import ServeLimits
from gateway.serve.policy import RequestPolicy
from gateway.serve.secure_headers import SecureHeaders
from gateway.serve.socket import TableSocket
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

VENDOR_DIR = Path(perspective.__file__).parent / "widget" / "static"


class Page(SecureHeaders, tornado.web.StaticFileHandler):
    """The dashboard's own files (client/)."""


class Vendor(Page):
    """The viewer bundle from the installed wheel: it changes only with the pinned version."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "public, max-age=86400")


def serve_limits(settings: GatewaySettings) -> ServeLimits:
    return ServeLimits(
        allowed_origins=settings.allowed_origins,
        max_frame_bytes=settings.max_frame_bytes,
        max_pending_bytes=settings.max_pending_bytes,
        max_connections=settings.max_connections,
    )


def make_app(
    settings: GatewaySettings,
    server: Any,
    pipeline: Readiness,
    connections: Connections,
    policy: RequestPolicy,
) -> tornado.web.Application:
    tickets = policy.tickets
    throttle = policy.ticket_throttle
    limits = serve_limits(settings)
    socket_args = {
        "server": server,
        "limits": limits,
        "connections": connections,
        "policy": policy,
        "metrics": metrics.SERVE,
    }
    proxy_args = {
        "upstream": settings.history_url,
        "limits": limits,
        "connections": connections,  # one cap for /websocket and /history together
        "policy": policy,
        "metrics": metrics.SERVE,
    }
    history = [(r"/history", HistoryProxy, proxy_args)] if settings.history_url else []
    return tornado.web.Application(
        [
            (r"/websocket", TableSocket, socket_args),
            *history,
            (r"/healthz", Health),
            (r"/readyz", Ready, {"pipeline": pipeline}),
            (r"/metrics", Metrics, {"token": settings.metrics_token}),
            (r"/config.json", Config, {"tickets": tickets}),
            (r"/auth/ticket", Ticket, {"tickets": tickets, "throttle": throttle, "metrics": metrics.SERVE}),
            (r"/vendor/(perspective-anywidget\.(?:js|css))", Vendor, {"path": str(VENDOR_DIR)}),
            (
                r"/(.*)",
                Page,
                {"path": str(Path(settings.client_dir).resolve()), "default_filename": "index.html"},
            ),
        ],
        websocket_max_message_size=settings.max_frame_bytes,
        websocket_ping_interval=20,
        websocket_ping_timeout=20,
        compress_response=True,
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Probes (/healthz, /readyz, /metrics) every few seconds would drown the log: skip them.

    Refused ticket requests are skipped too: refuse() has logged them already, rate-limited,
    where one line per guess would let a guesser flood the log.
    """
    status = handler.get_status()
    path = handler.request.path
    if (path in ("/healthz", "/readyz", "/metrics") and status < 500) or status == 503:
        return
    if path == "/auth/ticket" and status in (401, 429):
        return
    level = logging.WARNING if status >= 400 else logging.DEBUG
    log.log(
        level,
        "%d %s %s %.1fms",
        status,
        handler.request.method,
        handler.request.uri,
        1000 * handler.request.request_time(),
    )
