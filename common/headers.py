"""Kafka message headers of the tick topic (names fixed by the design contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from common.codec import DecodeError
from common.schema import SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS

CONTENT_TYPE: Final = "content-type"
SCHEMA_VERSION_HEADER: Final = "schema-version"
PRODUCER_ID: Final = "producer-id"
ERROR_REASON: Final = "error-reason"
ERROR_DETAIL: Final = "error-detail"
SOURCE: Final = "source"
# The roster: how many symbols the sending producer owns, and how many rebalances it went through.
OWNED_SYMBOLS: Final = "owned-symbols"
REBALANCES: Final = "rebalances"

CONTENT_TYPE_JSON: Final = "application/json"
CONTENT_TYPE_ARROW: Final = "application/vnd.apache.arrow.stream"
CONTENT_TYPES: Final = frozenset({CONTENT_TYPE_JSON, CONTENT_TYPE_ARROW})

Headers = Sequence[tuple[str, bytes]]


def make_headers(content_type: str, producer_id: str) -> list[tuple[str, bytes]]:
    return [
        (CONTENT_TYPE, content_type.encode()),
        (SCHEMA_VERSION_HEADER, str(SCHEMA_VERSION).encode()),
        (PRODUCER_ID, producer_id.encode()),
    ]


def roster_headers(owned: int, rebalances: int) -> list[tuple[str, bytes]]:
    return [(OWNED_SYMBOLS, str(owned).encode()), (REBALANCES, str(rebalances).encode())]


def header(headers: Headers | None, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", errors="replace") if value is not None else None
    return None


def parse_headers(headers: Headers | None) -> str:
    """Return the content type, after checking it and the schema version are ones we speak."""
    content_type = header(headers, CONTENT_TYPE)
    if content_type not in CONTENT_TYPES:
        raise DecodeError("unknown_content_type", f"content-type {content_type!r}")
    version = header(headers, SCHEMA_VERSION_HEADER)
    if version is None or not version.isdigit() or int(version) not in SUPPORTED_SCHEMA_VERSIONS:
        raise DecodeError("unknown_schema_version", f"schema-version {version!r}")
    return content_type
