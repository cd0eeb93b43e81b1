"""The page's Arrow reader (client/js/arrow.js), run by the machine's Node.js on streams pyarrow and
perspective-python write: the values it reads, and the streams it refuses."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from typing import Any

import perspective
import pyarrow as pa
import pytest

from harness.services import ROOT

READER = ROOT / "client" / "js" / "arrow.js"
# stdin holds a JSON list of base64 streams; each comes back as its values or its error.
SCRIPT = (
    f"import {{ int64Column }} from {json.dumps(READER.as_uri())};\n"
    'import { readFileSync } from "node:fs";\n'
    'const streams = JSON.parse(readFileSync(0, "utf8"));\n'
    "const results = streams.map((s) => {\n"
    '  try { return { values: int64Column(Buffer.from(s, "base64")) }; }\n'
    "  catch (error) { return { error: `${error.name}: ${error.message}` }; }\n"
    "});\n"
    "process.stdout.write(JSON.stringify(results));\n"
)


def read(*streams: bytes) -> list[dict[str, Any]]:
    """What the page's reader makes of each stream: {"values": [...]} or {"error": "..."}."""
    node = shutil.which("node")
    assert node, "Node.js is part of the machine (make setup uses it for the node tools)"
    payload = json.dumps([base64.b64encode(s).decode() for s in streams])
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT], input=payload, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def stream(*batches: pa.RecordBatch, compression: str | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, batches[0].schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def times(*values: int | None) -> pa.RecordBatch:
    return pa.record_batch([pa.array(values, pa.timestamp("ms"))], names=["event_time"])


def test_it_reads_a_timestamp_column_as_epoch_milliseconds() -> None:
    now = 1_796_380_000_123
    assert read(stream(times(now, now + 1, now + 250))) == [{"values": [now, now + 1, now + 250]}]


def test_batches_are_read_in_order() -> None:
    assert read(stream(times(1, 2), times(3), times(4, 5, 6))) == [{"values": [1, 2, 3, 4, 5, 6]}]


def test_nulls_are_left_out() -> None:
    assert read(stream(times(10, None, 30, None, None, None, None, None, None, 100))) == [
        {"values": [10, 30, 100]}
    ]


def test_int64_values_keep_their_sign_and_size() -> None:
    values = [-1, 0, 2**31, -(2**31) - 1, 2**53 - 1]
    batch = pa.record_batch([pa.array(values, pa.int64())], names=["n"])
    assert read(stream(batch)) == [{"values": values}]


def test_a_stream_with_no_batches_has_no_values() -> None:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, times(1).schema):
        pass
    assert read(sink.getvalue().to_pybytes(), b"") == [{"values": []}, {"values": []}]


def test_it_reads_perspectives_own_row_deltas() -> None:
    """The stream the gateway sends: a perspective-python 5.5.1 row delta of an event_time view."""
    client = perspective.Server().new_local_client()
    table = client.table({"slot": "integer", "event_time": "datetime"}, index="slot", name="ticks")
    view = table.view(columns=["event_time"])
    deltas: list[bytes] = []
    view.on_update(lambda port_id=None, delta=None: deltas.append(bytes(delta)), mode="row")
    now = int(time.time() * 1000)
    table.update([{"slot": i, "event_time": now + i} for i in range(300)])
    table.update([{"slot": i, "event_time": now + 1000 + i} for i in range(5)])
    expected = [pa.ipc.open_stream(d).read_all().column(0).cast(pa.int64()).to_pylist() for d in deltas]
    assert [r["values"] for r in read(*deltas)] == expected
    assert expected[1] == [now + 1000 + i for i in range(5)]


@pytest.mark.parametrize(
    ("batch", "error"),
    [
        (
            pa.record_batch([pa.array([1]), pa.array([2])], names=["a", "b"]),
            "ArrowError: expected one column, the stream has 2",
        ),
        (
            pa.record_batch([pa.array([1.5])], names=["price"]),
            "ArrowError: expected a 64-bit integer or timestamp column, got type 3 of 64 bits",
        ),
        (
            pa.record_batch([pa.array([1], pa.int32())], names=["n"]),
            "ArrowError: expected a 64-bit integer or timestamp column, got type 2 of 32 bits",
        ),
    ],
)
def test_other_columns_are_refused_not_misread(batch: pa.RecordBatch, error: str) -> None:
    assert read(stream(batch)) == [{"error": error}]


def test_compressed_batches_are_refused() -> None:
    assert read(stream(times(1, 2, 3), compression="lz4")) == [
        {"error": "ArrowError: compressed record batches are not read here"}
    ]


def test_a_stream_cut_short_is_refused() -> None:
    whole = stream(times(*range(100)))
    results = read(whole[:-16], whole[:40])
    assert all(r["error"].startswith("ArrowError: stream cut short") for r in results), results
