"""Every view config checked against the table's schema before any SQL is built from it.

Perspective's SQL builder (GenericSQLVirtualServerModel) puts column names into the SQL
without escaping (a column ``x"y`` breaks out of its quotes) and its SECURITY.md says the
SQL is not parameterised. So a config is accepted only when every name is a column of the
table, every aggregate and filter operator is on an allowlist for the column's type, and
every filter value has the column's type; the builder is then given a *rebuilt* config
holding only those checked values (datetimes re-written in one ISO form), never the
client's own objects. Expressions and window functions (client SQL fragments) are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

Schema = dict[str, str]  # column -> Perspective type ("string", "float", "integer", "datetime", ...)

VIEW_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_GROUP_BY: Final = 4
MAX_SPLIT_BY: Final = 1
MAX_FILTERS: Final = 16
MAX_IN_VALUES: Final = 100
MAX_STRING_CHARS: Final = 256

NUMERIC: Final = frozenset({"float", "integer"})
AGGREGATES: Final[dict[str, frozenset[str]]] = {
    "number": frozenset({"sum", "count", "avg", "min", "max", "any_value", "first", "last"}),
    "other": frozenset({"count", "any_value", "first", "last", "min", "max"}),
}
_COMPARE: Final = frozenset({"==", "!=", ">", ">=", "<", "<="})
_NULLS: Final = frozenset({"is null", "is not null"})
FILTER_OPS: Final[dict[str, frozenset[str]]] = {
    "number": _COMPARE | _NULLS,
    "string": _COMPARE | _NULLS | {"LIKE", "in", "not in"},
    "datetime": _COMPARE | _NULLS,
    "boolean": frozenset({"==", "!="}) | _NULLS,
}
SORT_DIRECTIONS: Final = frozenset(
    {"asc", "desc", "none", "asc abs", "desc abs", "col asc", "col desc", "col asc abs", "col desc abs"}
)
ROLLUP_MODES: Final = {
    "group_rollup_mode": ("rollup", "flat", "total"),
    "split_rollup_mode": ("flat", "rollup"),
}
_KNOWN_KEYS: Final = frozenset(
    {"columns", "group_by", "split_by", "sort", "filter", "filter_op", "aggregates", "expressions", "windows"}
) | frozenset(ROLLUP_MODES)
# Datetimes from 1970 to 2300: a filter outside that is a typo or an attack, never a question.
_MAX_EPOCH_MS: Final = 10_413_792_000_000


@dataclass(frozen=True)
class Refused(Exception):
    """A request refused before any SQL ran: ``reason`` for the counter, ``detail`` for the client."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def check_view_name(name: object) -> str:
    if not isinstance(name, str) or not VIEW_NAME.fullmatch(name):
        raise Refused("bad_view_name", "a view name is 1-64 letters, digits, '_' or '-'")
    return name


def family(kind: str) -> str:
    if kind in NUMERIC:
        return "number"
    return kind if kind in ("string", "datetime", "boolean") else "other"


def check_column(schema: Schema, name: object, where: str) -> str:
    if not isinstance(name, str) or name not in schema:
        shown = repr(name)[:80]
        raise Refused("unknown_column", f"{where}: {shown} is not a column of this table")
    return name


def _names(schema: Schema, value: object, where: str, most: int) -> list[str]:
    if not isinstance(value, list | tuple):
        raise Refused("malformed_config", f"{where} must be a list")
    if len(value) > most:
        raise Refused("too_many_" + where, f"at most {most} {where} columns")
    names = [check_column(schema, name, where) for name in value]
    if where != "columns" and len(set(names)) < len(names):  # the builder's SQL names a window twice
        raise Refused("duplicate_column", f"{where} names a column twice")
    return names


def check_config(schema: Schema, config: dict[str, Any]) -> dict[str, Any]:
    """The config rebuilt from checked values only, or Refused."""
    unknown = sorted(str(key)[:40] for key in config if key not in _KNOWN_KEYS)
    if unknown:
        raise Refused("unknown_config_key", f"unsupported view settings {unknown}")
    if config.get("expressions"):
        raise Refused("expressions_refused", "expressions are not served by history")
    if config.get("windows"):
        raise Refused("windows_refused", "window functions are not served by history")
    columns = _names(schema, config.get("columns") or [], "columns", len(schema))
    if not columns:  # Perspective's default (view() sends none); the builder would write "SELECT  FROM"
        columns = list(schema)
    group_by = _names(schema, config.get("group_by") or [], "group_by", MAX_GROUP_BY)
    split_by = _names(schema, config.get("split_by") or [], "split_by", MAX_SPLIT_BY)
    for name in split_by:  # its values become column names: strings only, never free numbers
        if schema[name] != "string":
            raise Refused("bad_split_by", f"split_by {name!r}: only string columns")
    clean: dict[str, Any] = {
        "columns": columns,
        "group_by": group_by,
        "split_by": split_by,
        "aggregates": _aggregates(schema, config.get("aggregates") or {}),
        "sort": _sort(schema, config.get("sort") or []),
        "filter": _filters(schema, config.get("filter") or []),
        "filter_op": _choice(config.get("filter_op", "and"), ("and", "or"), "filter_op"),
        "expressions": {},
        "windows": {},
    }
    for key, modes in ROLLUP_MODES.items():
        if key in config:
            clean[key] = _choice(config[key], modes, key)
    if len(group_by) > 1 and any(d != "none" and not d.startswith("col") for _, d in clean["sort"]):
        # The builder sorts nested groups through a named WINDOW that DuckDB 2.0.1 cannot resolve.
        raise Refused("unsupported_sort", "sorting by value needs at most one group_by column")
    if split_by and any(
        schema[c] not in NUMERIC and d != "none" and not d.startswith("col") for c, d in clean["sort"]
    ):
        # Across split columns the builder sorts by sum(<value>): numbers only.
        raise Refused("unsupported_sort", "with split_by, sort by value on number columns only")
    if clean.get("group_rollup_mode") == "total":
        if group_by:  # the builder orders by GROUPING_ID of groups it does not make
            raise Refused("bad_rollup_mode", "group_rollup_mode 'total' takes no group_by")
        clean["sort"] = []  # one row: and the builder would sort by columns outside its aggregate
    return clean


def _choice(value: object, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise Refused("malformed_config", f"{where} must be one of {list(allowed)}")
    assert isinstance(value, str)
    return value


def _aggregates(schema: Schema, aggregates: object) -> dict[str, str]:
    if not isinstance(aggregates, dict):
        raise Refused("malformed_config", "aggregates must be a mapping")
    clean = {}
    for name, aggregate in aggregates.items():
        column = check_column(schema, name, "aggregates")
        allowed = AGGREGATES["number" if schema[column] in NUMERIC else "other"]
        if not isinstance(aggregate, str) or aggregate not in allowed:
            shown = repr(aggregate)[:40]
            raise Refused("bad_aggregate", f"{column}: aggregate {shown} not in {sorted(allowed)}")
        clean[column] = aggregate
    return clean


def _sort(schema: Schema, sort: object) -> list[tuple[str, str]]:
    if not isinstance(sort, list | tuple) or len(sort) > len(schema):
        raise Refused("malformed_config", "sort must be a list of [column, direction]")
    clean = []
    for entry in sort:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise Refused("malformed_config", "sort must be a list of [column, direction]")
        column = check_column(schema, entry[0], "sort")
        if entry[1] not in SORT_DIRECTIONS:
            raise Refused(
                "bad_sort", f"sort direction {str(entry[1])[:40]!r} not in {sorted(SORT_DIRECTIONS)}"
            )
        clean.append((column, str(entry[1])))
    return clean


def _filters(schema: Schema, filters: object) -> list[tuple[str, str, Any]]:
    if not isinstance(filters, list | tuple):
        raise Refused("malformed_config", "filter must be a list of [column, op, value]")
    if len(filters) > MAX_FILTERS:
        raise Refused("too_many_filters", f"at most {MAX_FILTERS} filters")
    return [_filter(schema, entry) for entry in filters]


def _filter(schema: Schema, entry: object) -> tuple[str, str, Any]:
    if not isinstance(entry, list | tuple) or len(entry) not in (2, 3):
        raise Refused("malformed_config", "filter must be a list of [column, op, value]")
    column = check_column(schema, entry[0], "filter")
    kind = family(schema[column])
    op = entry[1]
    if op not in FILTER_OPS.get(kind, _NULLS):
        raise Refused(
            "bad_filter_op", f"filter op {str(op)[:40]!r} not allowed on {column} ({schema[column]})"
        )
    assert isinstance(op, str)
    value = entry[2] if len(entry) == 3 else None
    if op in _NULLS:
        return column, op, None
    if op in ("in", "not in"):
        if not isinstance(value, list | tuple) or not 0 < len(value) <= MAX_IN_VALUES:
            raise Refused("bad_filter_value", f"{column} {op}: 1-{MAX_IN_VALUES} values")
        return column, op, [filter_value(column, kind, item) for item in value]
    return column, op, filter_value(column, kind, value)


def filter_value(column: str, kind: str, value: object) -> Any:
    """The value, checked against the column's kind (and re-written for datetimes)."""
    if kind == "string":
        if not isinstance(value, str) or len(value) > MAX_STRING_CHARS or "\x00" in value:
            raise Refused("bad_filter_value", f"{column}: a string of at most {MAX_STRING_CHARS} characters")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise Refused("bad_filter_value", f"{column}: true or false")
        return value
    if kind == "datetime":
        return _datetime(column, value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused("bad_filter_value", f"{column}: a finite number")
    return value


def _datetime(column: str, value: object) -> str:
    """Epoch ms or an ISO-8601 string, as ``'YYYY-MM-DD HH:MM:SS.fff'`` (UTC, what TIMESTAMP_MS holds)."""
    moment: datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if 0 <= value <= _MAX_EPOCH_MS:
            moment = datetime.fromtimestamp(value / 1000, UTC)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    if moment is None or not 1970 <= moment.year <= 2300:
        raise Refused("bad_filter_value", f"{column}: epoch milliseconds or an ISO-8601 datetime")
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
