"""The one definition of a tick, shared by the producer and the gateway.

Every other shape (Perspective schema, Arrow schema, Python typing) is derived
from ``FIELDS`` so that a new column is added in exactly one place.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, TypedDict

import pyarrow as pa

SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = frozenset({1})


class Kind(Enum):
    """The logical type of a tick field; each maps to one Arrow and one Perspective type."""

    STRING = "string"
    FLOAT = "float"
    INTEGER = "integer"
    EPOCH_MS = "datetime"


class Tick(TypedDict):
    symbol: str
    name: str
    exchange: str
    sector: str
    price: float
    bid: float
    ask: float
    bid_size: int
    ask_size: int
    volume: int
    open: float
    high: float
    low: float
    close: float
    event_time: int
    producer_id: str
    seq: int


FIELDS: Final[dict[str, Kind]] = {
    "symbol": Kind.STRING,
    "name": Kind.STRING,
    "exchange": Kind.STRING,
    "sector": Kind.STRING,
    "price": Kind.FLOAT,
    "bid": Kind.FLOAT,
    "ask": Kind.FLOAT,
    "bid_size": Kind.INTEGER,
    "ask_size": Kind.INTEGER,
    "volume": Kind.INTEGER,
    "open": Kind.FLOAT,
    "high": Kind.FLOAT,
    "low": Kind.FLOAT,
    "close": Kind.FLOAT,
    "event_time": Kind.EPOCH_MS,
    "producer_id": Kind.STRING,
    "seq": Kind.INTEGER,
}

FIELD_NAMES: Final = tuple(FIELDS)

# Upper bounds that keep hostile input from becoming a giant cell in every viewer.
MAX_STRING_LENGTH: Final[dict[str, int]] = {
    "symbol": 16,
    "name": 128,
    "exchange": 32,
    "sector": 64,
    "producer_id": 128,
}
MAX_INTEGER: Final = 2**53  # exact in a JS number, which is where these values end up
MAX_PRICE: Final = 1e12

_ARROW_TYPES: Final[dict[Kind, pa.DataType]] = {
    Kind.STRING: pa.string(),
    Kind.FLOAT: pa.float64(),
    Kind.INTEGER: pa.int64(),
    Kind.EPOCH_MS: pa.timestamp("ms"),
}

ARROW_SCHEMA: Final = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind], nullable=False) for name, kind in FIELDS.items()],
    metadata={"schema-version": str(SCHEMA_VERSION)},
)


def perspective_schema() -> dict[str, str]:
    """The Perspective table schema of a tick (``event_time`` becomes a datetime column)."""
    return {name: kind.value for name, kind in FIELDS.items()}
