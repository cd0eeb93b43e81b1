"""History's serve metrics: the serve wing's counters under the ``history_`` prefix.

``history_ws_refused_total{reason=...}`` counts refused connections and requests, view
configs included (reasons such as ``unknown_column``, ``bad_filter_value``, ``view_too_large``).
"""

from __future__ import annotations

from typing import Final

from gateway.serve.limits import ServeMetrics

SERVE: Final = ServeMetrics.named("history")
