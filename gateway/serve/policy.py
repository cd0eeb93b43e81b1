"""What a WebSocket client may do: the gateway's request policy, free of any web framework.

Perspective's own handler lets any client update, replace or delete a table, and its
check_origin always says yes. This policy says, for each connection and each request,
whether it is allowed, refused (and why), served by a shared view, or over a cap; the
Tornado adapter (gateway/serve/socket.py) only carries frames to and from it. Split as
Perspective splits handlers/common.py from handlers/tornado.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.serve.auth import TicketBook
from gateway.serve.auth_throttle import FailureThrottle
from gateway.serve.protocol import MAKE_VIEW, VIEW_DELETE, RequestHead, new_view_id
from gateway.serve.view_owners import ViewOwners

if TYPE_CHECKING:  # shared views are the gateway's own (with its metrics): a second service has none
    from gateway.serve.shared_views import Peer, SharedViews

Problem = tuple[str, str]  # (reason for the counter and the log, message for the client)


@dataclass(frozen=True)
class Refusal:
    status: int  # the HTTP status of the refused upgrade
    reason: str
    detail: str


def origin_allowed(origin: str, allowed: str) -> bool:
    patterns = [a.strip().rstrip("/") for a in allowed.split(",") if a.strip()]
    return "*" in patterns or origin.rstrip("/") in patterns


class RequestPolicy:
    def __init__(
        self,
        tickets: TicketBook,
        ticket_throttle: FailureThrottle,
        max_connections: int,
        table_names: Callable[[], list[str]],
        views: ViewOwners,
        shared: SharedViews | None,
    ) -> None:
        self.tickets = tickets
        self.ticket_throttle = ticket_throttle  # failed POST /auth/ticket per address (routes.Ticket)
        self.max_connections = max_connections
        self._table_names = table_names
        self.views = views
        self.shared = shared

    def upgrade_refusal(
        self, open_count: int, query: Mapping[str, Sequence[bytes]], ticket: Callable[[], str | None]
    ) -> Refusal | None:
        """Everything checked before the upgrade: a refused client never sees a table name."""
        if open_count >= self.max_connections:
            return Refusal(503, "too_many_connections", f"cap of {self.max_connections} reached")
        reason = self._auth_problem(query, ticket)
        return None if reason is None else Refusal(401, reason, "WebSocket upgrade refused")

    def _auth_problem(
        self, query: Mapping[str, Sequence[bytes]], ticket_of: Callable[[], str | None]
    ) -> str | None:
        if not self.tickets.enabled:
            return None
        if self._secret_in(query):
            return "token_in_query"  # the secret belongs in /auth/ticket's header, never in a URL
        ticket = ticket_of()
        return "missing_ticket" if ticket is None else self.tickets.redeem(ticket)

    def _secret_in(self, query: Mapping[str, Sequence[bytes]]) -> bool:
        for name, values in query.items():
            if name == "token" or any(self.tickets.check_secret(value) for value in values):
                return True
        return False

    def problem(self, peer: Peer, message: bytes, head: RequestHead) -> Problem | None:
        """(reason, message for the client) when the request is refused, else None."""
        if head.mutating is not None:
            return f"mutating_{head.mutating}", f"{head.mutating} refused: tables are read-only"
        if self.views.foreign(head.entity_id, peer):
            return "foreign_view", "refused: that view belongs to another connection"
        if head.kind == MAKE_VIEW:
            reason = self._view_problem(peer, new_view_id(message, head))
            return None if reason is None else (reason, f"view refused: {reason.replace('_', ' ')}")
        if head.kind == VIEW_DELETE:
            self.views.release(head.entity_id, peer)
        return None

    def _view_problem(self, peer: Peer, view_id: str | None) -> str | None:
        if view_id is None:
            return "malformed_request"
        if view_id in self._table_names():
            return "view_id_in_use"  # a view named like a table would shadow it for everyone
        return self.views.claim(view_id, peer)

    def shared_takes(self, peer: Peer, message: bytes, head: RequestHead) -> bool:
        """True when a shared view answers this request instead of the client's own session."""
        return self.shared is not None and self.shared.takes(peer, message, head)

    def release(self, peer: Peer) -> None:
        """The connection is gone: its views and its uses of shared views end."""
        self.views.release_all(peer)
        if self.shared is not None:
            self.shared.release_all(peer)
