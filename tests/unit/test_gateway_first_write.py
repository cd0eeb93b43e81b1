"""Writes into an empty table with grouped views return (Perspective 5.5.1 hangs them otherwise).

Each case runs in a process of its own: a regression hangs that process, not the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import perspective

from gateway.ingest.first_write import GuardedTable

CASE = """
import perspective
from gateway.ingest.first_write import GuardedTable

perspective.set_num_cpus({threads})
client = perspective.Server().new_local_client()
table = GuardedTable(client.table({{"k": "string", "v": "float"}}, index="k"))
{before}
views = [table.view(group_by=["k"], columns=["v"]) for _ in range({views})]
table.update({{"k": ["a", "b", "c"], "v": [1.0, 2.0, 3.0]}})
print(views[-1].num_rows(), perspective.num_cpus())
"""


def _run(threads: int, views: int, before: str = "") -> list[str]:
    code = textwrap.dedent(CASE).format(threads=threads, views=views, before=before)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("the write into an empty table hung") from None
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_write_into_an_empty_table_returns_with_more_grouped_views_than_engine_threads() -> None:
    assert _run(threads=2, views=6) == ["4", "2"]  # 3 groups and the total row; the width set back


def test_one_engine_thread_and_one_grouped_view_take_the_first_write() -> None:
    assert _run(threads=1, views=1) == ["4", "1"]


def test_a_table_emptied_by_removes_is_guarded_again() -> None:
    refill = 'table.update({"k": ["z"], "v": [0.0]})\ntable.remove(["z"])'
    assert _run(threads=1, views=3, before=refill) == ["4", "1"]


def test_reads_and_writes_pass_through_to_the_table() -> None:
    table = GuardedTable(
        perspective.Server().new_local_client().table({"k": "string", "v": "float"}, index="k")
    )
    table.update({"k": ["a", "b"], "v": [1.0, 2.0]})
    table.update({"k": ["a"], "v": [5.0]})
    table.remove(["b"])
    view = table.view()
    assert view.to_columns() == {"k": ["a"], "v": [5.0]}
    assert table.size() == 1
