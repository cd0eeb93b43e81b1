"""One WebSocket connection's DuckDB session, run off the IOLoop, with a close().

The gateway's socket (gateway/serve/socket.py) calls ``handle_request`` inline on the
IOLoop; a DuckDB query may take seconds, so here that call only queues the request for this
connection's own worker thread and returns. The thread owns the connection's DuckDB cursor
(cursors are not thread-safe) and its perspective.VirtualServer, answers in order, and hands
each reply to the socket's callback (which hops back onto the IOLoop). A request the handler
refuses is answered with a short error reply of ours (upstream's would carry a Python
traceback); ``close()`` interrupts a running query and drops the connection's views.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import duckdb
import perspective

from gateway.serve.limits import ServeMetrics
from gateway.serve.protocol import error_response, read_head
from history.serve import gate
from history.serve.handler import HistoryHandler, hosted_schemas
from history.serve.validate import Refused, Schema

log = logging.getLogger(__name__)

# Requests queued on one connection before more are refused: a viewer has a few in flight.
MAX_QUEUED: Final = 64


class HistorySession:
    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        hosted: dict[str, Schema],
        max_view_rows: int,
        callback: Callable[[bytes], None],
        metrics: ServeMetrics,
    ) -> None:
        self.cursor = connection.cursor()  # this connection's own: its TEMP views are its alone
        self.handler = HistoryHandler(self.cursor, hosted, max_view_rows)
        self._server = perspective.VirtualServer(self.handler)
        self._callback = callback
        self._metrics = metrics
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="history-session")
        self._queued = 0
        self._lock = threading.Lock()
        self._closed = False

    def handle_request(self, message: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            if self._queued >= MAX_QUEUED:
                self._refuse(message, Refused("too_many_requests", f"over {MAX_QUEUED} requests queued"))
                return
            self._queued += 1
        self._worker.submit(self._answer, bytes(message))

    def _answer(self, message: bytes) -> None:
        try:
            if not self._closed:
                self._callback(self._reply(message))
        except Exception:
            log.exception("history request failed outside the handler")
        finally:
            with self._lock:
                self._queued -= 1

    def _reply(self, message: bytes) -> bytes:
        admitted = gate.admit(message, self.handler.views)
        if isinstance(admitted, Refused):  # the virtual server would panic (and take the process down)
            return self._refusal(message, admitted)
        self.handler.problem = None
        try:
            reply = bytes(self._server.handle_request(admitted))
        except ValueError as undecodable:  # a kind's message the server cannot decode (found by fuzzing)
            detail = str(undecodable).splitlines()[0][:200]
            return self._refusal(message, Refused("malformed_request", detail))
        problem = self.handler.problem
        if problem is None:
            return reply
        if isinstance(problem, Refused):
            return self._refusal(message, problem)
        detail = f"query failed: {type(problem).__name__}: {str(problem).splitlines()[0][:200]}"
        self._metrics.refuse("query_failed", None, detail)
        return self._error(message, detail)

    def _refuse(self, message: bytes, refused: Refused) -> None:
        self._callback(self._refusal(message, refused))

    def _refusal(self, message: bytes, refused: Refused) -> bytes:
        self._metrics.refuse(refused.reason, None, refused.detail)
        return self._error(message, f"refused: {refused.detail}")

    @staticmethod
    def _error(message: bytes, detail: str) -> bytes:
        head = read_head(message)
        return error_response(
            0 if head is None else head.msg_id, "" if head is None else head.entity_id, detail
        )

    def close(self) -> None:
        """The connection is gone: stop its query, drop its views, end its thread."""
        with self._lock:
            self._closed = True
        self.cursor.interrupt()  # a running query ends with an InterruptException
        self._worker.submit(self._drop)  # after any queued request: those see _closed and skip
        self._worker.shutdown(wait=False)

    def join(self) -> None:
        """Wait until the worker has finished (after close(): its views dropped, its cursor closed)."""
        self._worker.shutdown(wait=True)

    def _drop(self) -> None:
        try:
            self.handler.drop_all()
        finally:
            self.cursor.close()


class HistoryServer:
    """What TableSocket expects of a server: ``new_session(callback)``."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, max_view_rows: int, metrics: ServeMetrics):
        self.connection = connection
        self.hosted = hosted_schemas(connection)
        self.max_view_rows = max_view_rows
        self.metrics = metrics

        self.sessions: weakref.WeakSet[HistorySession] = weakref.WeakSet()

    def new_session(self, callback: Callable[[bytes], None]) -> HistorySession:
        session = HistorySession(self.connection, self.hosted, self.max_view_rows, callback, self.metrics)
        self.sessions.add(session)
        return session

    def join(self) -> None:
        """Wait for every session's worker (call after the sockets are closed, before the database
        is): a worker still dropping its views would find the database gone."""
        for session in list(self.sessions):
            session.join()

    def table_names(self) -> list[str]:
        return list(self.hosted)
