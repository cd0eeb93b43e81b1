"""The one rejected-message type every decoder raises, so callers can count and dead-letter by reason."""

from __future__ import annotations

from typing import Final

# Reasons are stable identifiers: they become metric labels and dead-letter headers.
REASONS: Final = (
    "bad_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "null_field",
    "empty_string",
    "string_too_long",
    "non_finite",
    "non_positive_price",
    "out_of_range",
    "truncated_arrow",
    "bad_arrow_schema",
    "empty_message",
    "unknown_content_type",
    "unknown_schema_version",
)


class DecodeError(ValueError):
    """A message that is not a valid tick (or batch of ticks), with a machine-readable reason."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown decode error reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        # Rebuilt from both fields: rejects cross from the gateway's ingest workers pickled.
        return (DecodeError, (self.reason, self.detail))


Rejections = list[tuple[int, DecodeError]]  # (index of the message in its batch, why it was rejected)


def short(exc: BaseException) -> str:
    """The first line of an exception, bounded: it goes into logs and dead-letter headers."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
