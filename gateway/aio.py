"""Moved to ``common.aio`` (the producer needs it too); kept so the gateway's imports stay put."""

from __future__ import annotations

from common.aio import bounded, close_quietly

__all__ = ["bounded", "close_quietly"]
