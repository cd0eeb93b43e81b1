"""Where the fan-out time goes: the cost of one `ticks` update inside Perspective as views grow.

Measured in-process (no Kafka, no sockets), through real sessions like the gateway's, so
the figure is Perspective's own per-view work: every view on a table re-processes every
update, and a row-delta subscription also serialises the new rows for its client.
"""

from __future__ import annotations

import time
from typing import Any

import perspective

from bench.data import arrow_message
from common.schema import perspective_schema
from gateway.app import new_server
from gateway.settings import GatewaySettings

ROWS = (200, 2000)
VIEWS = (1, 10, 100)


def _subscribe(server: Any, mode: str | None) -> Any:
    """A remote client's view on `ticks` through a session; returns the view."""
    box: dict[str, Any] = {}

    def from_server(frame: bytes) -> None:
        if not box.get("live"):
            box["client"].handle_response(frame)

    session = server.new_session(from_server)
    box["client"] = perspective.Client(session.handle_request)
    view = box["client"].open_table("ticks").view(columns=["event_time", "price"])
    if mode == "row":
        view.on_update(lambda *args: None, mode="row")
    elif mode == "notify":
        view.on_update(lambda *args: None)
    box["live"] = True
    return view


def update_ms(views: int, mode: str | None, rows: int, repeats: int = 20) -> float:
    server = new_server(GatewaySettings())  # the gateway's engine, not whatever ran before it here
    table = server.new_local_client().table(perspective_schema(), limit=100_000, name="ticks")
    held = [_subscribe(server, mode) for _ in range(views)]
    data = arrow_message(rows)
    started = time.perf_counter()
    for _ in range(repeats):
        table.update(data)
    elapsed = (time.perf_counter() - started) / repeats * 1000
    del held
    return elapsed


def run_engine(row_counts: tuple[int, ...] = ROWS) -> list[dict[str, Any]]:
    return [
        {"views": views, "mode": mode, "rows": rows, "update_ms": update_ms(views, mode, rows)}
        for rows in row_counts
        for views in VIEWS
        for mode in ("notify", "row")
    ]
