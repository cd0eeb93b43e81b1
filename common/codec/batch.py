"""The empty tick batch and the one way to join tick batches into one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from common.schema import ARROW_SCHEMA

EMPTY_BATCH: Final = pa.RecordBatch.from_pylist([], schema=ARROW_SCHEMA)


def concat(batches: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One contiguous batch of every row of ``batches``, in order (no copy when only one has rows)."""
    good = [batch for batch in batches if batch.num_rows]
    if not good:
        return EMPTY_BATCH
    if len(good) == 1:
        return good[0]
    combined: pa.RecordBatch = (
        pa.Table.from_batches(good, schema=ARROW_SCHEMA).combine_chunks().to_batches()[0]
    )
    return combined
