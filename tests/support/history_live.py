"""History's serve wing on a free loopback port, over a real DuckDB file shaped as the service
shapes it (``connect(":memory:")`` + ``ATTACH '<file>' AS history`` + schema DDL), filled with
known ticks from Arrow; and a connection wrapper that records every SQL statement it runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import tornado.web
from prometheus_client import REGISTRY

from common.schema import FIELDS, Kind
from gateway.serve.connections import Connections
from harness.ports import free_port
from history import schema
from history.serve.routes import history_routes, history_server
from history.settings import HistorySettings

T0_MS = 1_780_000_000_000 - 1_780_000_000_000 % 60_000  # a whole minute
SYMBOLS = ("AAA", "BBB", "O'Q")
TICKS_PER_SYMBOL = 180  # one a second for three minutes


def tick_rows() -> list[dict[str, Any]]:
    """Known ticks: symbol i's price at second s is 100*(i+1) + s, its day volume 10*s."""
    rows = []
    for i, symbol in enumerate(SYMBOLS):
        for s in range(TICKS_PER_SYMBOL):
            price = 100.0 * (i + 1) + s
            row: dict[str, Any] = {
                **{name: f"{name}-{symbol}" for name, kind in FIELDS.items() if kind is Kind.STRING},
                **{name: price for name, kind in FIELDS.items() if kind is Kind.FLOAT},
                **{name: s for name, kind in FIELDS.items() if kind is Kind.INTEGER},
                "symbol": symbol,
                "volume": 10 * s,
                "event_time": datetime.fromtimestamp((T0_MS + 1000 * s) / 1000, UTC),
                "producer_id": f"p{i}",
                "seq": s,
            }
            rows.append({name: row[name] for name in FIELDS})  # in the table's column order
    return rows


def open_db(path: Path) -> duckdb.DuckDBPyConnection:
    """The database as history opens it, filled with tick_rows() (one Arrow insert)."""
    connection = duckdb.connect(":memory:")
    connection.execute(f"ATTACH '{path}' AS {schema.CATALOG}")
    connection.execute(schema.ticks_ddl())
    connection.execute(schema.BARS_DDL)
    batch = pa.Table.from_pylist(tick_rows())
    connection.register("batch", batch)
    connection.execute(f"INSERT INTO {schema.CATALOG}.{schema.TICKS} SELECT * FROM batch")
    connection.unregister("batch")
    connection.execute("CREATE TABLE history.canary AS SELECT 42 AS answer")  # an injection would drop it
    return connection


class Recording:
    """A DuckDB connection whose cursors keep every statement they run (any thread)."""

    def __init__(self, connection: Any, statements: list[str] | None = None, threads: set[str] | None = None):
        self._connection = connection
        self.statements: list[str] = [] if statements is None else statements
        self.threads: set[str] = set() if threads is None else threads  # names of threads that ran SQL
        self._lock = threading.Lock()

    def _note(self, query: str) -> None:
        with self._lock:
            self.statements.append(query)
            self.threads.add(threading.current_thread().name)

    def cursor(self) -> Recording:
        return Recording(self._connection.cursor(), self.statements, self.threads)

    def execute(self, query: str, *args: Any) -> Any:
        self._note(query)
        return self._connection.execute(query, *args)

    def sql(self, query: str) -> Any:
        self._note(query)
        return self._connection.sql(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class LiveHistory:
    def __init__(self, settings: HistorySettings, connection: Any) -> None:
        self.settings = settings
        self.connection = connection
        self.connections = Connections()
        rules = history_routes(settings, connection, self.connections)
        self.server = history_server(rules)
        self.http = tornado.web.Application(rules).listen(settings.port, "127.0.0.1")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}/history"

    async def close(self) -> None:
        self.http.stop()
        await self.connections.close_all(timeout=1.0)
        await self.http.close_all_connections()
        await asyncio.to_thread(self.server.join)  # before the test closes the database


@asynccontextmanager
async def live_history(connection: Any, **settings: Any) -> AsyncIterator[LiveHistory]:
    """``async with live_history(Recording(open_db(tmp_path / "h.duckdb"))) as h:``."""
    config = HistorySettings(port=free_port(), host="127.0.0.1", **settings)
    history = LiveHistory(config, connection)
    try:
        yield history
    finally:
        await history.close()


def history_refused(reason: str) -> float:
    return REGISTRY.get_sample_value("history_ws_refused_total", {"reason": reason}) or 0.0
