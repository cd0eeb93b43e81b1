"""The serve wing: HTTP and the read-only Perspective WebSocket.

Holds the routes (page, bundle, health, readiness, metrics, tickets), the Tornado socket
adapter, the framework-free request policy, auth tickets and their failure throttle, the
security headers, view owners, shared views, the Perspective wire protocol reader and each
client's outbox, and the /history proxy. It may touch common/ and Perspective's server (as a
reader); never gateway/ingest/. Only routes.py and shared_views.py know the gateway's settings and
metrics: the socket, policy, upgrade checks, HTTP handlers, tickets and throttle take ServeLimits
and ServeMetrics (limits.py), so history/serve mounts them for its own /history.
"""
