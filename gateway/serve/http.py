"""The HTTP handlers any serving service mounts: health, readiness, metrics, config and tickets.

Free of any one service's settings and metrics (they come in through ``initialize``), so the
gateway (gateway/serve/routes.py) and history (history/serve) route to the same classes.
"""

from __future__ import annotations

import json
import math
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.serve.auth import TicketBook
from gateway.serve.auth_throttle import FailureThrottle
from gateway.serve.limits import ServeMetrics
from gateway.serve.secure_headers import SecureHeaders


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
    def initialize(self, token: str, setting: str = "GATEWAY_METRICS_TOKEN") -> None:
        self.scrapers = TicketBook(token)  # only its Bearer check: same constant-time comparison
        self.setting = setting

    def get(self) -> None:
        if self.scrapers.enabled and not self.scrapers.check_bearer(
            self.request.headers.get("Authorization", "")
        ):
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Bearer realm="metrics"')
            self.finish(f"metrics require Authorization: Bearer <{self.setting}>")
            return
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest())


class Config(JsonHandler):
    def initialize(self, tickets: TicketBook, websocket: str = "/websocket") -> None:
        self.tickets = tickets
        self.websocket = websocket

    def get(self) -> None:
        self.reply(200, {"auth": self.tickets.enabled, "websocket": self.websocket})


class Ticket(JsonHandler):
    def initialize(self, tickets: TicketBook, throttle: FailureThrottle, metrics: ServeMetrics) -> None:
        self.tickets = tickets
        self.throttle = throttle
        self.metrics = metrics

    def post(self) -> None:
        address = self.request.remote_ip or "unknown"
        if not self.tickets.enabled:
            self.reply(404, {"error": "authentication is not enabled"})
        elif wait := self.throttle.retry_after(address):
            # Blocked: the token is not even looked at, so guesses made now cost nothing to refuse.
            detail = f"POST /auth/ticket while blocked for {wait:.0f}s more"
            self.metrics.refuse("auth_throttled", address, detail)
            self._too_many(wait)
        elif not self.tickets.check_bearer(self.request.headers.get("Authorization", "")):
            self.metrics.refuse("wrong_token", address, "POST /auth/ticket without the right Bearer token")
            if blocked := self.throttle.failed(address):
                self.metrics.auth_blocks.inc()
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
