"""Short-lived, single-use WebSocket tickets derived from the shared secret (GATEWAY_TOKEN).

Browsers cannot put an Authorization header on a WebSocket, and a long-lived secret in a
URL ends up in logs and history. So the page trades the secret (in a header, at
``POST /auth/ticket``) for a ticket valid for a few seconds and one connection.

A ticket is ``<expires epoch s>.<random nonce>.<HMAC-SHA256 of both>``: any gateway
replica sharing the secret can check it; single use is remembered per replica until
the ticket would have expired anyway, so that memory stays bounded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

TICKET_TTL_S = 30.0
_TICKET = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})")


def _bytes(value: str | bytes) -> bytes:
    # compare_digest refuses non-ASCII str: compare bytes so a hostile header cannot raise.
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


class TicketBook:
    def __init__(self, secret: str, ttl_s: float = TICKET_TTL_S) -> None:
        # A key derived for this one purpose: a ticket's signature says nothing about the secret.
        self._key = hashlib.sha256(b"tickerflow-ticket:" + secret.encode()).digest()
        self._secret = secret.encode()
        self.ttl_s = ttl_s
        self._used: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._secret)

    def check_secret(self, presented: str | bytes) -> bool:
        return self.enabled and hmac.compare_digest(_bytes(presented), self._secret)

    def check_bearer(self, header: str) -> bool:
        """True for ``Authorization: Bearer <secret>``."""
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and self.check_secret(value.strip())

    def issue(self, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.ttl_s)
        body = f"{expires}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._sign(body)}"

    def redeem(self, ticket: str, now: float | None = None) -> str | None:
        """None when the ticket is good (and now used up), else the reason it is refused."""
        now = time.time() if now is None else now
        match = _TICKET.fullmatch(ticket)
        if match is None:
            return "malformed_ticket"
        expires, nonce, signature = match.groups()
        body = f"{expires}.{nonce}"
        if not hmac.compare_digest(self._sign(body), signature):
            return "bad_ticket"
        if int(expires) < now:
            return "stale_ticket"
        self._forget_expired(now)
        if body in self._used:
            return "replayed_ticket"
        self._used[body] = float(expires)
        return None

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _forget_expired(self, now: float) -> None:
        for body in [b for b, expires in self._used.items() if expires < now]:
            del self._used[body]
