"""HTTP routes: the page, the Perspective bundle, health, readiness, metrics, tickets, WebSocket."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

import perspective
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.serve.auth import TicketBook
from gateway.serve.connections import Connections
from gateway.serve.policy import RequestPolicy
from gateway.serve.refusals import refuse
from gateway.serve.socket import TableSocket
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

VENDOR_DIR = Path(perspective.__file__).parent / "widget" / "static"


class Readiness(Protocol):
    def readiness(self) -> dict[str, bool]: ...

    @property
    def ready(self) -> bool: ...


class JsonHandler(tornado.web.RequestHandler):
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


class Metrics(tornado.web.RequestHandler):
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
    def initialize(self, tickets: TicketBook) -> None:
        self.tickets = tickets

    def post(self) -> None:
        if not self.tickets.enabled:
            self.reply(404, {"error": "authentication is not enabled"})
        elif not self.tickets.check_bearer(self.request.headers.get("Authorization", "")):
            refuse("wrong_token", self.request.remote_ip, "POST /auth/ticket without the right Bearer token")
            self.reply(401, {"error": "wrong or missing token"})
        else:
            self.reply(200, {"ticket": self.tickets.issue(), "ttl_s": self.tickets.ttl_s})


class Vendor(tornado.web.StaticFileHandler):
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
    socket_args = {"server": server, "settings": settings, "connections": connections, "policy": policy}
    return tornado.web.Application(
        [
            (r"/websocket", TableSocket, socket_args),
            (r"/healthz", Health),
            (r"/readyz", Ready, {"pipeline": pipeline}),
            (r"/metrics", Metrics, {"token": settings.metrics_token}),
            (r"/config.json", Config, {"tickets": tickets}),
            (r"/auth/ticket", Ticket, {"tickets": tickets}),
            (r"/vendor/(perspective-anywidget\.(?:js|css))", Vendor, {"path": str(VENDOR_DIR)}),
            (
                r"/(.*)",
                tornado.web.StaticFileHandler,
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
    """Probes (/healthz, /readyz, /metrics) every few seconds would drown the log: skip them."""
    status = handler.get_status()
    if (handler.request.path in ("/healthz", "/readyz", "/metrics") and status < 500) or status == 503:
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
