"""HTTP routes: the page, the Perspective bundle, health, readiness, metrics, tickets, WebSocket."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Protocol

import perspective
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import metrics
from gateway.serve.auth import TicketBook
from gateway.serve.auth_throttle import FailureThrottle
from gateway.serve.connections import Connections
from gateway.serve.policy import RequestPolicy
from gateway.serve.refusals import refuse
from gateway.serve.secure_headers import SecureHeaders
from gateway.serve.socket import TableSocket
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

VENDOR_DIR = Path(perspective.__file__).parent / "widget" / "static"


class Readiness(Protocol):
    def readiness(self) -> dict[str, bool]: ...

    @property
    def ready(self) -> bool: ...


class JsonHandler(SecureHeaders):
    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class Health(JsonHandler):
    def get(self) -> None:
        self.reply(200, {"status": "alive"})


class Ready(JsonHandler):
    def initialize(self, pipeline: Readiness) -> None:
        self.pipeline = pipeline

    def get(self) -> None:
        ready = self.pipeline.ready
        # The checks go in the body either way: a 503 says which one fails.
        self.reply(200 if ready else 503, {"ready": ready, **self.pipeline.readiness()})


class Metrics(SecureHeaders):
    def initialize(self, token: str) -> None:
        self.scrapers = TicketBook(token)  # only its Bearer check: same constant-time comparison

    def get(self) -> None:
        if self.scrapers.enabled and not self.scrapers.check_bearer(
            self.request.headers.get("Authorization", "")
        ):
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Bearer realm="metrics"')
            self.finish("metrics require Authorization: Bearer <GATEWAY_METRICS_TOKEN>")
            return
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest())


class Config(JsonHandler):
    def initialize(self, tickets: TicketBook) -> None:
        self.tickets = tickets

    def get(self) -> None:
        self.reply(200, {"auth": self.tickets.enabled, "websocket": "/websocket"})


class Ticket(JsonHandler):
    def initialize(self, tickets: TicketBook, throttle: FailureThrottle) -> None:
        self.tickets = tickets
        self.throttle = throttle

    def post(self) -> None:
        address = self.request.remote_ip or "unknown"
        if not self.tickets.enabled:
            self.reply(404, {"error": "authentication is not enabled"})
        elif wait := self.throttle.retry_after(address):
            # Blocked: the token is not even looked at, so guesses made now cost nothing to refuse.
            refuse("auth_throttled", address, f"POST /auth/ticket while blocked for {wait:.0f}s more")
            self._too_many(wait)
        elif not self.tickets.check_bearer(self.request.headers.get("Authorization", "")):
            refuse("wrong_token", address, "POST /auth/ticket without the right Bearer token")
            if blocked := self.throttle.failed(address):
                metrics.AUTH_BLOCKS.inc()
                self._too_many(blocked)
            else:
                self.reply(401, {"error": "wrong or missing token"})
        else:
            self.throttle.succeeded(address)
            self.reply(200, {"ticket": self.tickets.issue(), "ttl_s": self.tickets.ttl_s})

    def _too_many(self, wait: float) -> None:
        retry_after = math.ceil(wait)
        self.set_header("Retry-After", str(retry_after))
        self.reply(429, {"error": "too many failed attempts", "retry_after_s": retry_after})


class Page(SecureHeaders, tornado.web.StaticFileHandler):
    """The dashboard's own files (client/)."""


class Vendor(Page):
    """The viewer bundle from the installed wheel: it changes only with the pinned version."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "public, max-age=86400")


def make_app(
    settings: GatewaySettings,
    server: Any,
    pipeline: Readiness,
    connections: Connections,
    policy: RequestPolicy,
) -> tornado.web.Application:
    tickets = policy.tickets
    throttle = policy.ticket_throttle
    socket_args = {"server": server, "settings": settings, "connections": connections, "policy": policy}
    return tornado.web.Application(
        [
            (r"/websocket", TableSocket, socket_args),
            (r"/healthz", Health),
            (r"/readyz", Ready, {"pipeline": pipeline}),
            (r"/metrics", Metrics, {"token": settings.metrics_token}),
            (r"/config.json", Config, {"tickets": tickets}),
            (r"/auth/ticket", Ticket, {"tickets": tickets, "throttle": throttle}),
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
