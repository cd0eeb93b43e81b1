"""Short-lived, single-use WebSocket tickets derived from the shared secret (GATEWAY_TOKEN).

Browsers cannot put an Authorization header on a WebSocket, and a long-lived secret in a
URL ends up in logs. So the page trades the secret (in a header) for a ticket valid for
a few seconds and one connection; a replayed or stale ticket is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

TICKET_TTL_S = 30.0


class TicketBook:
    def __init__(self, secret: str, ttl_s: float = TICKET_TTL_S) -> None:
        self._key = hashlib.sha256(b"tickerflow-ticket:" + secret.encode()).digest()
        self._secret = secret.encode()
        self.ttl_s = ttl_s
        self._used: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._secret)

    def check_secret(self, presented: str) -> bool:
        return self.enabled and hmac.compare_digest(presented.encode(), self._secret)

    def issue(self, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.ttl_s)
        body = f"{expires}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._sign(body)}"

    def redeem(self, ticket: str, now: float | None = None) -> str | None:
        """None when the ticket is good (and now used up), else the reason it is refused."""
        now = time.time() if now is None else now
        parts = ticket.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return "malformed_ticket"
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(body), parts[2]):
            return "bad_ticket"
        if int(parts[0]) < now:
            return "stale_ticket"
        self._forget_expired(now)
        if body in self._used:
            return "replayed_ticket"
        self._used[body] = float(parts[0])
        return None

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _forget_expired(self, now: float) -> None:
        for body in [b for b, expires in self._used.items() if expires < now]:
            del self._used[body]
