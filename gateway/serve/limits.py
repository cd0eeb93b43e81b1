"""What a serving service caps, and what it counts: the serve wing's two inputs from its host.

The socket, the policy and the HTTP handlers take these instead of a service's settings and
metrics module, so that a second service (history/serve) mounts the same hardened socket
with its own caps and its own metric names.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from gateway.serve.refusals import Refusals


@dataclass(frozen=True)
class ServeLimits:
    allowed_origins: str  # comma-separated Origin allowlist ('*' allows any)
    max_frame_bytes: int  # largest WebSocket frame accepted (Tornado closes with 1009 past it)
    max_pending_bytes: int  # one client's unsent backlog before it is cut off as too slow
    max_connections: int  # concurrent WebSocket connections
    origins_setting: str = "GATEWAY_ALLOWED_ORIGINS"  # named in the refusal's log line


@dataclass(frozen=True)
class ServeMetrics:
    """The serve wing's counters, named ``<service>_ws_*`` (and ``<service>_auth_blocks``)."""

    clients: Gauge
    connections: Counter
    refused: Counter
    auth_blocks: Counter
    frames: Counter
    bytes_out: Counter
    conflated: Counter
    refuse: Refusals

    @classmethod
    def named(cls, service: str) -> ServeMetrics:
        """Register one service's serve metrics (once per process: Prometheus refuses a name twice)."""
        refused = Counter(f"{service}_ws_refused", "WebSocket connections or requests refused", ["reason"])
        return cls(
            clients=Gauge(f"{service}_ws_clients", "open WebSocket connections"),
            connections=Counter(f"{service}_ws_connections", "WebSocket connections accepted"),
            refused=refused,
            auth_blocks=Counter(
                f"{service}_auth_blocks",
                "times a client address was blocked (429) after failing POST /auth/ticket",
            ),
            frames=Counter(f"{service}_ws_frames", "WebSocket frames received"),
            bytes_out=Counter(f"{service}_ws_bytes_out", "bytes sent to WebSocket clients"),
            conflated=Counter(
                f"{service}_ws_conflated",
                "update notifications skipped for a backlogged client (a newer one is queued)",
            ),
            refuse=Refusals(refused),
        )
