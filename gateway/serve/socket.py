"""The hardened Perspective WebSocket: a thin Tornado adapter around the request policy.

Modelled on perspective.handlers.tornado.PerspectiveTornadoHandler; what a client may do
is decided by gateway/serve/policy.py, this class only carries frames and bounds memory.
It knows no service: caps come in as ServeLimits, counters as ServeMetrics, so the gateway
(/websocket) and history (/history) mount the same class.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from gateway.serve.connections import Connections
from gateway.serve.frames import binary_frame
from gateway.serve.limits import ServeLimits, ServeMetrics
from gateway.serve.outbox import Outbox
from gateway.serve.policy import RequestPolicy
from gateway.serve.protocol import error_response, read_head
from gateway.serve.upgrade import CheckedUpgrade

_POLICY_VIOLATION = 1008
# Bytes in flight to one client before its frames queue up and update notifications conflate.
_WATERMARK = 1 << 20


class TableSocket(CheckedUpgrade):
    def initialize(
        self,
        server: Any,
        limits: ServeLimits,
        connections: Connections,
        policy: RequestPolicy,
        metrics: ServeMetrics,
    ) -> None:
        self.server = server
        self.limits = limits
        self.connections = connections
        self.policy = policy
        self.metrics = metrics
        self.loop = IOLoop.current()
        self.outbox = Outbox(self._send, _WATERMARK, limits.max_pending_bytes, metrics.conflated.inc)
        self.session: Any = None

    def open(self, *args: str, **kwargs: str) -> None:
        # Updates are small frames that should leave now: with Nagle on, a frame written while
        # the previous one is unacknowledged waits for the client's delayed ACK (~40 ms on Linux).
        self.set_nodelay(True)
        self.connections.open.add(self)
        self.metrics.connections.inc()
        self.metrics.clients.set(len(self.connections))
        self.session = self.server.new_session(self._from_server)

    def on_message(self, message: str | bytes) -> None:
        self.metrics.frames.inc()
        if not isinstance(message, bytes):
            self._refuse("text_frame", "text frame on a binary protocol")
            return
        head = read_head(message)
        if head is None:
            # No reply: without a readable msg_id no client promise can be waiting for one.
            self._refuse("malformed_request", f"malformed request of {len(message)} bytes")
            return
        problem = self.policy.problem(self, message, head)
        if problem is not None:
            # Reply rather than drop: a dropped request leaves the client's promise hanging.
            reason, detail = problem
            self._refuse(reason, detail)
            self._write(error_response(head.msg_id, head.entity_id, detail))
            return
        if self.session is None:
            return
        try:
            # Inline on the loop: reads are small, and perspective.Server serialises its own
            # state against the pipeline's writer thread (upstream calls it from any thread).
            if self.policy.shared_takes(self, message, head):
                assert self.policy.shared is not None
                self.policy.shared.request(self, message, head)
            else:
                self.session.handle_request(message)
        except Exception as error:
            self._refuse("request_failed", repr(error))
            self._write(error_response(head.msg_id, head.entity_id, f"request failed: {error}"))

    def on_close(self) -> None:
        self.connections.open.discard(self)
        self.metrics.clients.set(len(self.connections))
        self._end_session()

    def _end_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
            self.policy.release(self)

    def _from_server(self, message: bytes) -> None:
        # Called on whichever thread touched a table: hop onto the IOLoop (add_callback is thread-safe).
        self.loop.add_callback(self._write, bytes(message))

    def deliver(self, message: bytes) -> None:
        """A frame for this client from the shared views (on the IOLoop)."""
        self._write(message)

    def _write(self, message: bytes) -> None:
        if self.ws_connection is None or self.session is None:
            return
        if self.outbox.send(message):
            return
        self._refuse(
            "slow_client", f"{self.outbox.backlog} bytes unsent: closing a client that does not read"
        )
        self.close(_POLICY_VIOLATION, "too slow")
        self._end_session()  # stop computing updates nobody will read

    def get_compression_options(self) -> dict[str, Any] | None:
        return None  # frames.py writes frames as they are: no permessage-deflate, ever

    def _send(self, message: bytes) -> asyncio.Future[None]:
        # Not write_message: it wraps every write in a Task (tornado/websocket.py), and at 100
        # viewers that alone moved e2e p50 at 10k ticks/s from 38-42 to 17-20 ms (bench A/B).
        self.metrics.bytes_out.inc(len(message))
        connection = self.ws_connection
        try:
            if connection is None or connection.stream is None:
                raise WebSocketClosedError()
            return connection.stream.write(binary_frame(message))
        except (StreamClosedError, WebSocketClosedError) as error:  # the outbox sees it and stops writing
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            return failed
