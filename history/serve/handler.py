"""Perspective's DuckDB virtual server, restricted to what history serves.

Upstream's handler (perspective/virtual_servers/duckdb.py) lists every table of every
catalog, creates each view as ``CREATE TABLE <client's view name> AS ...`` with that name
unquoted, runs client expressions, and materialises any view however large. This one:
- hosts exactly history/schema.HOSTED;
- checks every view config (history/serve/validate.py) and hands the SQL builder the
  checked copy;
- never puts a client's view name into SQL: each view is a TEMP table named ``psp_view_<n>``
  on this session's own DuckDB cursor, so sessions cannot see or clash with each other's
  views, and closing the cursor drops them all;
- counts a view's rows before materialising it and refuses one over ``max_view_rows``;
- refuses expressions, windows and expression validation.
A refusal raises ``Refused`` before any SQL for that request runs; the session turns it into
an error reply (history/serve/session.py).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

import duckdb
from perspective.virtual_servers.duckdb import (
    DuckDBVirtualServerHandler,
    duckdb_type_to_psp,
    run_query,
)

from history.schema import BARS, CATALOG, HOSTED
from history.serve.validate import (
    AGGREGATES,
    FILTER_OPS,
    Refused,
    Schema,
    check_column,
    check_config,
    check_view_name,
    family,
)

# The builder's one shape for a view: the SELECT is ours to count, then to store as a TEMP table.
_MAKE_VIEW: Final = re.compile(r"CREATE TABLE (psp_view_[0-9]+) AS \((.*)\)", re.DOTALL)
# Column names of a materialised view go back into SQL (view_get_data): plain ones only.
_SAFE_NAME: Final = re.compile(r"[^\"\x00-\x1f]{1,256}")

# Hosted SQL views have no rowid, the builder's order for an ungrouped view: give them their own.
_NATURAL_ORDER: Final = {f"{CATALOG}.{BARS}": [("symbol", "asc"), ("minute", "asc")]}

# A connection's views together hold at most this many times max_view_rows: a viewer makes its
# new view before it deletes the old one, and a panel may hold a grid and a chart.
_HELD_VIEWS: Final = 2

F = TypeVar("F", bound=Callable[..., Any])


def _noted(method: F) -> F:
    """Keep what a handler call raised: Perspective turns it into an error reply carrying the
    Python traceback, which the session replaces with a short one of its own."""

    @functools.wraps(method)
    def noted(self: HistoryHandler, *args: Any) -> Any:
        try:
            return method(self, *args)
        except Exception as error:
            self.problem = error
            raise

    return noted  # type: ignore[return-value]


class HistoryHandler(DuckDBVirtualServerHandler):  # type: ignore[misc]
    def __init__(self, cursor: duckdb.DuckDBPyConnection, hosted: dict[str, Schema], max_view_rows: int):
        super().__init__(cursor)
        self.hosted = hosted
        self.max_view_rows = max_view_rows
        self._ids = itertools.count(1)
        self.problem: Exception | None = None  # what the last call raised (see _noted)
        # client view name -> (temp table, its schema, the hosted table it reads)
        self.views: dict[str, tuple[str, Schema, str]] = {}
        self.rows: dict[str, int] = {}  # rows each view holds

    def get_features(self) -> dict[str, Any]:
        features: dict[str, Any] = super().get_features()
        features["expressions"] = False
        features.pop("window_aggregates", None)
        features["filter_ops"] = {
            kind: sorted(FILTER_OPS.get(family(kind), ())) for kind in features["filter_ops"]
        }
        features["aggregates"] = {
            kind: sorted(AGGREGATES["number" if family(kind) == "number" else "other"])
            for kind in features["aggregates"]
        }
        return features

    @_noted
    def get_hosted_tables(self) -> list[str]:
        return list(self.hosted)

    def _hosted(self, table_name: object) -> str:
        if not isinstance(table_name, str) or table_name not in self.hosted:
            raise Refused("unknown_table", f"{str(table_name)[:80]!r} is not one of {list(self.hosted)}")
        return table_name

    def _view(self, view_name: object) -> tuple[str, Schema, str]:
        view = self.views.get(view_name) if isinstance(view_name, str) else None
        if view is None:
            raise Refused("unknown_view", f"no view {str(view_name)[:80]!r} on this connection")
        return view

    @_noted
    def table_schema(self, table_name: str, config: Any = None) -> Schema:
        if table_name in self.views:
            return dict(self.views[table_name][1])
        return dict(self.hosted[self._hosted(table_name)])

    @_noted
    def table_size(self, table_name: str) -> int:
        target = self._view(table_name)[0] if table_name in self.views else self._hosted(table_name)
        size: int = super().table_size(target)
        return size

    @_noted
    def view_column_size(self, table_name: str, config: dict[str, Any]) -> int:
        internal, _, table = self._view(table_name)
        size: int = super().view_column_size(internal, check_config(self.hosted[table], config))
        return size

    @_noted
    def table_make_view(self, table_name: str, view_name: str, config: dict[str, Any]) -> None:
        schema = self.hosted[self._hosted(table_name)]
        check_view_name(view_name)
        if view_name in self.views:
            raise Refused("view_id_in_use", "this connection already has a view of that name")
        clean = _ordered(table_name, check_config(schema, config))
        internal = f"psp_view_{next(self._ids)}"
        sql = self.sql_builder.table_make_view(table_name, internal, clean, None)
        match = _MAKE_VIEW.fullmatch(sql.strip())
        if match is None or match.group(1) != internal:
            raise Refused("unexpected_sql", "the view's SQL is not of the one allowed shape")
        select = match.group(2)
        rows = self._count(select)
        if rows > self.max_view_rows:
            raise Refused(
                "view_too_large",
                f"{rows} rows (cap {self.max_view_rows}): filter (e.g. by symbol or time) or group first",
            )
        held = sum(self.rows.values())
        if held + rows > _HELD_VIEWS * self.max_view_rows:
            raise Refused("too_many_rows", f"this connection's views already hold {held} rows: delete some")
        self.db.execute(f"CREATE TEMP TABLE {internal} AS ({select})")
        described = self.db.execute(f"DESCRIBE {internal}").fetchall()
        view_schema = {row[0]: duckdb_type_to_psp(row[1]) for row in described if not row[0].startswith("__")}
        self.views[view_name] = (internal, view_schema, table_name)
        self.rows[view_name] = rows
        if not all(_SAFE_NAME.fullmatch(row[0]) for row in described):
            self.view_delete(view_name)  # a split_by value with a quote would reach view_get_data's SQL
            raise Refused("unsafe_view_column", "a split_by value is not usable as a column name")

    def _count(self, select: str) -> int:
        # Not upstream's run_query: it joins whitespace, inside string literals too. A config can
        # be valid and still not bind: a split_by whose filter leaves no values has no columns
        # ("SELECT list is empty"), found by the fuzz test. That is the client's to fix: a refusal.
        try:
            rows: int = self.db.execute(f"SELECT count(*) FROM ({select})").fetchall()[0][0]
        except duckdb.BinderException as error:
            raise Refused("unbindable_view", str(error).splitlines()[0][:200]) from None
        return rows

    @_noted
    def table_validate_expression(self, view_name: str, expression: str) -> str:
        raise Refused("expressions_refused", "expressions are not served by history")

    @_noted
    def view_delete(self, view_name: str) -> None:
        internal = self._view(view_name)[0]
        del self.views[view_name]
        self.rows.pop(view_name, None)
        run_query(self.db, f"DROP TABLE IF EXISTS {internal}", execute=True)

    @_noted
    def view_get_min_max(self, view_name: str, column_name: str, config: dict[str, Any]) -> tuple[Any, Any]:
        internal, schema, _ = self._view(view_name)
        check_column(schema, column_name, "min_max")
        row = run_query(self.db, self.sql_builder.view_get_min_max(internal, column_name, config))[0]
        return row[0], row[1]

    @_noted
    def view_get_data(self, view_name: str, config: Any, schema: Any, viewport: Any, data: Any) -> None:
        internal, _, table = self._view(view_name)
        super().view_get_data(internal, check_config(self.hosted[table], config), schema, viewport, data)

    def drop_all(self) -> None:
        """Drop every view of this session (the connection is closing)."""
        for view_name in list(self.views):
            self.view_delete(view_name)


def _ordered(table_name: str, config: dict[str, Any]) -> dict[str, Any]:
    order = _NATURAL_ORDER.get(table_name)
    if order is None or config["group_by"] or config.get("group_rollup_mode") == "total":
        return config
    if config["split_by"]:
        raise Refused("bad_split_by", f"split_by on {table_name} needs a group_by")
    return {**config, "sort": [*config["sort"], *order]}


def hosted_schemas(connection: duckdb.DuckDBPyConnection) -> dict[str, Schema]:
    """The Perspective schema of each hosted table, read once (the DDL is fixed at start)."""
    schemas = {}
    for table in HOSTED:
        rows = connection.execute(f"DESCRIBE {table}").fetchall()
        schemas[table] = {row[0]: duckdb_type_to_psp(row[1]) for row in rows if not row[0].startswith("__")}
    return schemas
