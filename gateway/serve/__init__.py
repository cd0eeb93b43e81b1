"""The serve wing: HTTP and the read-only Perspective WebSocket.

Holds the routes (page, bundle, health, readiness, metrics, tickets), the Tornado socket
adapter, the framework-free request policy, auth tickets and their failure throttle, the
security headers, view owners, shared views, the Perspective wire protocol reader and each
client's outbox. It may touch common/, the gateway's settings and metrics, and Perspective's
server (as a reader); never gateway/ingest/.
"""
