"""History's serve wing: the DuckDB virtual server at ``/history``, read-only and validated.

``history_routes(settings, connection)`` gives the Tornado rules (``/history``,
``/auth/ticket``, ``/config.json``) built from the gateway's serve wing (gateway/serve: the
same socket, policy, tickets and throttle) around a validating DuckDB handler
(handler.py, validate.py) whose sessions run off the IOLoop (session.py).
"""

import os

# Perspective's Rust side logs every error a handler raises, with its Python traceback, on
# stderr and with no rate limit: a client sending bad views could flood the log. Refusals are
# logged by gateway/serve/refusals.py at a bounded rate instead. Read when perspective is first
# imported, so this must run before that (python -m history imports history.serve first).
os.environ.setdefault("RUST_LOG", "perspective_client::virtual_server=off")
