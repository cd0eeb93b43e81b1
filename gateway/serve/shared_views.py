"""One Perspective view per distinct view, shared by every client that asks for it.

Perspective re-processes every view on every table update, and serialises a row-delta
subscription's rows once per subscription: 100 open dashboards with the same view on `ticks`
cost 100 times one view (bench/engine.py: about 1.3 µs per row per view), which on two cores
is the whole machine at 10k ticks/s. So a view that any client asks for on the same table
with the same ViewConfig (byte for byte, up to the order of its map entries: protocol.config_key)
is made once, in a session of the gateway's own;
identical on_update subscriptions on it are one subscription, whose frames are copied to
every subscriber under the subscriber's own msg_id and view id. Reads (to_arrow, to_columns,
schema, ...) go to the shared view under a fresh msg_id and come back under the client's.
Clients never see the shared view's id, and a client's delete only ends its own use of it.

Views with a group_by stay in the client's own session: expand, collapse and set_depth
change a view's tree for whoever holds it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tornado.ioloop import IOLoop

from gateway import metrics
from gateway.serve.protocol import (
    MAKE_VIEW,
    SERVER_ERROR,
    VIEW_DELETE,
    VIEW_ON_DELETE,
    VIEW_ON_UPDATE,
    VIEW_REMOVE_DELETE,
    VIEW_REMOVE_ON_UPDATE,
    RequestHead,
    config_key,
    envelope,
    groups_rows,
    make_view_parts,
    message_field,
    read_head,
    request_id,
    string_field,
    uint_field,
)
from gateway.serve.view_owners import ViewOwners

log = logging.getLogger(__name__)


class Peer(Protocol):
    def deliver(self, message: bytes) -> None: ...


@dataclass(eq=False)
class _View:
    id: str
    key: tuple[str, bytes]  # (table, its ViewConfig's config_key)
    users: set[tuple[Peer, str]] = field(default_factory=set)  # (client, the client's view id)
    subscriptions: list[_Subscription] = field(default_factory=list)


@dataclass(eq=False)
class _Subscription:
    msg_id: int  # ours, on the shared session
    view: _View
    request: bytes  # the on_update field as clients send it: same bytes, same subscription
    clients: dict[tuple[Peer, int], str] = field(default_factory=dict)  # (client, its msg_id) -> view id


@dataclass(frozen=True)
class _Reply:
    peer: Peer
    msg_id: int
    entity_id: str
    answer: bytes | None = None  # replaces the server's answer when it succeeds
    done: Callable[[bool], None] | None = None


class SharedViews:
    def __init__(self, server: Any, loop: IOLoop, owners: ViewOwners) -> None:
        self._loop = loop
        self._owners = owners
        self._thread = threading.get_ident()
        self._ids = itertools.count(1)
        self._views: dict[tuple[str, bytes], _View] = {}
        self._mine: dict[Peer, dict[str, _View]] = {}
        self._replies: dict[int, _Reply] = {}
        self._subscriptions: dict[int, _Subscription] = {}
        self._on_delete: dict[tuple[Peer, str], list[int]] = {}
        self._session = server.new_session(self._from_server)

    def takes(self, peer: Peer, message: bytes, head: RequestHead) -> bool:
        """True for a request on one of ``peer``'s shared views, or that makes a shareable one."""
        if head.entity_id in self._mine.get(peer, {}):
            return True
        if head.kind != MAKE_VIEW:
            return False
        parts = make_view_parts(message, head)
        return parts is not None and parts[0] != "" and not groups_rows(parts[1])

    def request(self, peer: Peer, message: bytes, head: RequestHead) -> None:
        self._thread = threading.get_ident()  # requests arrive on the IOLoop: answer them inline
        if head.kind == MAKE_VIEW:
            self._make(peer, message, head)
            return
        view = self._mine[peer][head.entity_id]
        if head.kind == VIEW_ON_UPDATE:
            self._subscribe(peer, message, head, view)
        elif head.kind == VIEW_REMOVE_ON_UPDATE:
            self._unsubscribe(peer, request_id(message, head), view)
            peer.deliver(envelope(head.msg_id, head.entity_id, message_field(VIEW_REMOVE_ON_UPDATE)))
        elif head.kind == VIEW_DELETE:
            self._detach(peer, head.entity_id, notify=True)
            peer.deliver(envelope(head.msg_id, head.entity_id, message_field(VIEW_DELETE)))
        elif head.kind == VIEW_ON_DELETE:
            self._on_delete.setdefault((peer, head.entity_id), []).append(head.msg_id)
        elif head.kind == VIEW_REMOVE_DELETE:
            waiting, target = self._on_delete.get((peer, head.entity_id), []), request_id(message, head)
            if target is not None and target in waiting:
                waiting.remove(target)
            peer.deliver(envelope(head.msg_id, head.entity_id, message_field(VIEW_REMOVE_DELETE)))
        else:
            self._call(view.id, head.kind_field(message), _Reply(peer, head.msg_id, head.entity_id))

    def release_all(self, peer: Peer) -> None:
        """``peer`` has gone: end its use of every view it shared."""
        for view_id in list(self._mine.get(peer, {})):
            self._detach(peer, view_id, notify=False)
        self._mine.pop(peer, None)

    def _make(self, peer: Peer, message: bytes, head: RequestHead) -> None:
        view_id, config = make_view_parts(message, head) or ("", b"")
        answer = message_field(MAKE_VIEW, string_field(1, view_id))
        key = (head.entity_id, config_key(config))
        existing = self._views.get(key)
        if existing is not None:
            self._attach(existing, peer, view_id)
            peer.deliver(envelope(head.msg_id, head.entity_id, answer))
            return
        view = _View(f"shared-{uuid.uuid4().hex}", key)
        self._owners.reserve(view.id, self)  # no client can name it, even by guessing

        def made(ok: bool) -> None:
            if ok:
                self._views[key] = view
                self._attach(view, peer, view_id)
            else:
                self._owners.release(view.id, self)

        request = message_field(MAKE_VIEW, string_field(1, view.id) + message_field(2, config))
        self._call(head.entity_id, request, _Reply(peer, head.msg_id, head.entity_id, answer, made))

    def _attach(self, view: _View, peer: Peer, view_id: str) -> None:
        view.users.add((peer, view_id))
        self._mine.setdefault(peer, {})[view_id] = view
        self._count()

    def _subscribe(self, peer: Peer, message: bytes, head: RequestHead, view: _View) -> None:
        request = head.kind_field(message)
        subscription = next((s for s in view.subscriptions if s.request == request), None)
        if subscription is None:
            subscription = _Subscription(self._next_id(), view, request)
            view.subscriptions.append(subscription)
            self._subscriptions[subscription.msg_id] = subscription
            self._session.handle_request(envelope(subscription.msg_id, view.id, request))
        subscription.clients[(peer, head.msg_id)] = head.entity_id

    def _unsubscribe(self, peer: Peer, msg_id: int | None, view: _View) -> None:
        for subscription in list(view.subscriptions):
            if subscription.clients.pop((peer, msg_id or 0), None) is not None and not subscription.clients:
                self._end(subscription)

    def _end(self, subscription: _Subscription) -> None:
        subscription.view.subscriptions.remove(subscription)
        del self._subscriptions[subscription.msg_id]
        remove = message_field(VIEW_REMOVE_ON_UPDATE, uint_field(1, subscription.msg_id))
        self._session.handle_request(envelope(self._next_id(), subscription.view.id, remove))

    def _detach(self, peer: Peer, view_id: str, notify: bool) -> None:
        view = self._mine.get(peer, {}).pop(view_id, None)
        if view is None:
            return
        view.users.discard((peer, view_id))
        for subscription in list(view.subscriptions):
            for client in [c for c, v in subscription.clients.items() if c[0] is peer and v == view_id]:
                del subscription.clients[client]
            if not subscription.clients:
                self._end(subscription)
        for msg_id in self._on_delete.pop((peer, view_id), []):
            if notify:
                peer.deliver(envelope(msg_id, view_id, message_field(VIEW_ON_DELETE)))
        if not view.users:
            del self._views[view.key]
            self._session.handle_request(envelope(self._next_id(), view.id, message_field(VIEW_DELETE)))
            self._owners.release(view.id, self)
        self._count()

    def _call(self, entity_id: str, kind_field: bytes, reply: _Reply) -> None:
        msg_id = self._next_id()
        self._replies[msg_id] = reply
        try:
            self._session.handle_request(envelope(msg_id, entity_id, kind_field))
        finally:
            if self._replies.pop(msg_id, None) is not None:
                log.warning("no answer from the shared session to a request of %s", entity_id)

    def _next_id(self) -> int:
        return next(self._ids) % (1 << 32)

    def _from_server(self, message: bytes) -> None:
        # Answers to requests come inline on the IOLoop; updates come on the thread that
        # touched the table, and hop onto the loop (add_callback is thread-safe).
        if threading.get_ident() == self._thread:
            self._route(bytes(message))
        else:
            self._loop.add_callback(self._route, bytes(message))

    def _route(self, message: bytes) -> None:
        head = read_head(message)
        if head is None:
            log.warning("unreadable frame of %d bytes from the shared session", len(message))
            return
        reply = self._replies.pop(head.msg_id, None)
        if reply is not None:
            ok = head.kind != SERVER_ERROR
            if reply.done is not None:
                reply.done(ok)
            answer = reply.answer if ok and reply.answer is not None else head.kind_field(message)
            reply.peer.deliver(envelope(reply.msg_id, reply.entity_id, answer))
            return
        subscription = self._subscriptions.get(head.msg_id)
        if subscription is not None:
            update = head.kind_field(message)
            for (peer, msg_id), view_id in list(subscription.clients.items()):
                peer.deliver(envelope(msg_id, view_id, update))

    def _count(self) -> None:
        metrics.SHARED_VIEWS.set(len(self._views))
        metrics.SHARED_VIEW_USERS.set(sum(len(views) for views in self._mine.values()))
