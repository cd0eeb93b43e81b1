"""Many Arrow IPC messages at once: validated in one pass, falling back to the strict codec.

``arrow_format.decode_arrow`` validates each message on its own: ~90 Arrow compute calls,
~2.5 ms per 1,000-row message, which capped ingest near 400k ticks/s. Here messages that
already carry the tick schema are read as they are and validated together in one pass;
any message with a flagged row, an unexpected schema or no rows goes through
``decode_arrow`` instead, so rejections and their reasons are exactly the codec's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from common.codec.arrow_format import decode_arrow
from common.codec.batch import concat
from common.codec.rejected import DecodeError, Rejections
from common.codec.validate import row_problems
from common.schema import ARROW_SCHEMA


def decode_arrow_values(values: Sequence[bytes]) -> tuple[pa.RecordBatch, Rejections]:
    """(good ticks of every accepted message, in message order; sorted (index, error))."""
    batch, errors, _ = decode_arrow_counted(values)
    return batch, errors


def decode_arrow_counted(values: Sequence[bytes]) -> tuple[pa.RecordBatch, Rejections, np.ndarray]:
    """As ``decode_arrow_values``, plus how many of the rows each message gave (0 if rejected)."""
    parts: list[list[pa.RecordBatch]] = []
    trusted: list[int] = []  # messages read as they are, still to be validated
    errors: Rejections = []
    for index, value in enumerate(values):
        batches = _read(value)
        if batches is None:
            batches = _strict(index, value, errors)
        else:
            trusted.append(index)
        parts.append(batches)
    together = concat([batch for index in trusted for batch in parts[index]])
    flagged = _flagged(together, parts, trusted)
    if not flagged and len(trusted) == len(values):  # the usual poll: one concatenation, one check
        return together, [], _rows(parts)
    for index in flagged:
        parts[index] = _strict(index, values[index], errors)
    combined = concat([batch for batches in parts for batch in batches])
    return combined, sorted(errors, key=lambda e: e[0]), _rows(parts)


def _rows(parts: list[list[pa.RecordBatch]]) -> np.ndarray:
    return np.fromiter((sum(b.num_rows for b in batches) for batches in parts), np.int64, len(parts))


def _read(value: bytes) -> list[pa.RecordBatch] | None:
    """The message's batches when it is a readable stream with exactly the tick schema, else None."""
    if not value:
        return None
    try:
        table = pa.ipc.open_stream(pa.py_buffer(value)).read_all()
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.num_rows == 0 or not table.schema.equals(ARROW_SCHEMA, check_metadata=False):
        return None
    return list(table.to_batches())


def _flagged(together: pa.RecordBatch, parts: list[list[pa.RecordBatch]], trusted: list[int]) -> list[int]:
    """Trusted messages with at least one row that fails validation (one pass over all of them)."""
    problems = row_problems(together) if together.num_rows else {}
    if not problems:
        return []
    ends = np.cumsum([sum(b.num_rows for b in parts[index]) for index in trusted])
    owners = np.searchsorted(ends, np.fromiter(problems, dtype=np.int64), side="right")
    return sorted({trusted[int(owner)] for owner in owners})


def _strict(index: int, value: bytes, errors: Rejections) -> list[pa.RecordBatch]:
    try:
        return [decode_arrow(value)]
    except DecodeError as error:
        errors.append((index, error))
    except Exception as exc:  # whatever the codec did not foresee still costs only this message
        errors.append((index, DecodeError("bad_arrow_schema", f"{type(exc).__name__}: {str(exc)[:200]}")))
    return []
