"""History's serve wing: the DuckDB virtual server at ``/history``, read-only and validated.

``history_routes(settings, connection)`` gives the Tornado rules (``/history``,
``/auth/ticket``, ``/config.json``) built from the gateway's serve wing (gateway/serve: the
same socket, policy, tickets and throttle) around a validating DuckDB handler
(handler.py, validate.py) whose sessions run off the IOLoop (session.py).
"""
