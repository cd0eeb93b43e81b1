"""Fuzzing history's view boundary: any view config, column name, filter value or view name is
either a valid view or a refusal (``Refused``), never another exception, and never SQL outside
the allowed shape: one statement, of the kinds the handler runs, reading only the hosted tables
and the session's own ``psp_view_<n>`` tables. The canary table survives every example.

The handler runs against a real DuckDB file (shaped as history shapes it) through a cursor
that records every statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from history.schema import HOSTED
from history.serve.handler import HistoryHandler, hosted_schemas
from history.serve.validate import Refused
from tests.support.history_live import Recording, open_db

_VIEW = r"psp_view_[0-9]+"
_SELECT = re.compile(
    r"^(?:SELECT count\(\*\) FROM|CREATE TEMP TABLE psp_view_[0-9]+ AS) \(((?:SELECT|WITH) .*)\)\Z", re.DOTALL
)
PARSER = duckdb.connect()
# Every statement the handler may run: (pattern of its start, the tables it may read).
_SHAPES = (
    re.compile(r"SELECT count\(\*\) FROM \((SELECT|WITH __PSP_PIVOT_SRC__ AS \(SELECT) "),
    re.compile(rf"CREATE TEMP TABLE {_VIEW} AS \((SELECT|WITH __PSP_PIVOT_SRC__ AS \(SELECT) "),
    re.compile(rf"DESCRIBE {_VIEW}\Z"),
    re.compile(rf"DROP TABLE IF EXISTS {_VIEW}\Z"),
    re.compile(
        rf"SELECT MIN\(\"[a-z_]+\"\), MAX\(\"[a-z_]+\"\) FROM {_VIEW}( WHERE \"__GROUPING_ID__\" = 0)?\Z"
    ),
    re.compile(r"SELECT COUNT\(\*\) FROM (history\.(ticks|bars_1m)|psp_view_[0-9]+)\Z"),
)

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "price",
            "symbol",
            "event_time",
            'price" FROM history.canary; --',
            "x'); DROP TABLE history.canary; --",
            "/* */",
            "\x00",
            "é😀",
            ";",
            "'",
            '"',
            "--",
            "a" * 5000,
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
TABLE_COLUMNS = {
    "history.ticks": ["symbol", "sector", "price", "volume", "event_time", "seq"],
    "history.bars_1m": ["symbol", "minute", "open", "close", "volume", "ticks"],
}
values = st.one_of(st.sampled_from(["AAA", "O'Q", 150.5, 1_780_000_060_000, "2026-05-28T20:27:00Z"]), scalars)
OPS = ["==", "!=", ">", "<=", "LIKE", "in", "not in", "is null", "is not null"]


def mostly(real: st.SearchStrategy[Any], odds: int = 10) -> st.SearchStrategy[Any]:
    """``real``, and one time in ``odds`` a hostile text instead (one_of would pick each half the time)."""
    return st.sampled_from([False] * (odds - 1) + [True]).flatmap(
        lambda hostile: hostile_text if hostile else real
    )


def configs(table: str) -> st.SearchStrategy[dict[str, Any]]:
    # Mostly the table's real names, so that most examples get past the first check to the SQL.
    columns = mostly(st.sampled_from(TABLE_COLUMNS[table]), 30)
    ops = mostly(st.sampled_from(OPS))
    return st.fixed_dictionaries(
        {"columns": st.lists(columns, min_size=1, max_size=4)},
        optional={
            "group_by": st.lists(columns, max_size=2),
            "split_by": st.lists(columns, max_size=1),
            "sort": st.lists(
                st.tuples(columns, mostly(st.sampled_from(["asc", "desc"]))),
                max_size=2,
            ),
            "filter": st.lists(
                st.tuples(columns, ops, st.one_of(values, values, st.lists(values, max_size=3))), max_size=2
            ),
            "aggregates": st.dictionaries(columns, mostly(st.sampled_from(["sum", "last", "count", "avg"]))),
            "expressions": st.sampled_from([{}] * 9 + [{"e": '"price" * 2'}]),
            "filter_op": mostly(st.sampled_from(["and", "or"])),
            "group_rollup_mode": mostly(st.sampled_from(["rollup", "flat", "total"])),
        },
    )


requests = st.sampled_from(HOSTED).flatmap(lambda table: st.tuples(st.just(table), configs(table)))
columns = st.one_of(st.sampled_from(sorted({c for cs in TABLE_COLUMNS.values() for c in cs})), hostile_text)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_db(Path(tmp_path_factory.mktemp("history")) / "history.duckdb")
    yield connection
    connection.close()


def _base_tables(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            yield ".".join(part for part in (node["schema_name"], node["table_name"]) if part)
        for value in node.values():
            yield from _base_tables(value)
    elif isinstance(node, list):
        for value in node:
            yield from _base_tables(value)


def _tables_read(statement: str) -> set[str]:
    """The tables a statement's SELECT reads, from DuckDB's own parse tree (no binding)."""
    select = _SELECT.search(statement)
    if select is None:
        return set()
    tree = PARSER.execute("SELECT json_serialize_sql(?)", [select.group(1)]).fetchall()[0][0]
    parsed = json.loads(tree)
    if parsed["error"]:  # DuckDB cannot serialise a PIVOT: read its FROMs, literals blanked out
        assert select.group(1).startswith("WITH __PSP_PIVOT_SRC__ AS (SELECT "), (statement, parsed)
        bare = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "_", select.group(1))
        sources = set(re.findall(r"\b(?:FROM|JOIN)\s+(?!\()(?:PIVOT\s+)?([A-Za-z_][A-Za-z0-9_.]*)", bare))
        return {source for source in sources if not re.fullmatch(r"__PSP_[A-Z0-9_]+__(\._)?", source)}
    return set(_base_tables(parsed))


def _assert_allowed(statement: str) -> None:
    assert any(shape.match(statement) for shape in _SHAPES), statement
    assert len(duckdb.extract_statements(statement)) == 1, statement
    tables = _tables_read(statement)
    assert tables <= set(HOSTED), (statement, tables)


_FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(request=requests, probe=columns)
def test_any_view_config_is_a_view_or_a_refusal_and_runs_only_allowed_sql(
    database: duckdb.DuckDBPyConnection, request: tuple[str, dict[str, Any]], probe: str
) -> None:
    _view_or_refusal(database, *request, "v1", probe)


def _view_or_refusal(
    database: duckdb.DuckDBPyConnection, table: str, config: dict[str, Any], view_name: str, probe: str
) -> None:
    recording = Recording(database.cursor())
    handler = HistoryHandler(recording, hosted_schemas(database), max_view_rows=1_000)
    try:
        handler.table_make_view(table, view_name, config)
    except Refused as refused:
        event(f"refused: {refused.reason} {refused.detail[:30]}")
        assert handler.views == {}  # refused: no view, and (below) no SQL but reads of the size
    else:
        event("view made")
        try:
            handler.view_get_min_max(view_name, probe, config)
        except Refused:
            assert probe not in handler.views[view_name][1]
        handler.view_delete(view_name)
    with pytest.raises(Refused):
        handler.table_validate_expression(view_name, '"price"; DROP TABLE history.canary')
    for statement in recording.statements:
        _assert_allowed(statement)
    assert database.execute("SELECT answer FROM history.canary").fetchall() == [(42,)]
    assert handler.views == {}


@_FUZZ
@given(
    table=st.one_of(st.sampled_from(HOSTED), hostile_text),
    view_name=st.one_of(st.sampled_from(["v1", "UODQVHtaepAoAKvyDopDn"]), hostile_text),
    config=configs("history.ticks"),
    probe=columns,
)
def test_any_table_or_view_name_is_a_view_or_a_refusal_and_runs_only_allowed_sql(
    database: duckdb.DuckDBPyConnection, table: str, view_name: str, config: dict[str, Any], probe: str
) -> None:
    _view_or_refusal(database, table, config, view_name, probe)
