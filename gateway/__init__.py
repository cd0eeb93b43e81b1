"""The gateway service (python -m gateway): Kafka -> Perspective tables -> WebSocket.

Two wings that never import each other: ``ingest/`` (Kafka source to tables) and
``serve/`` (HTTP + WebSocket to the browser). ``app.py`` is the one place they meet: it
builds and wires every collaborator. Beside it only what both wings share: ``settings.py``,
``metrics.py`` (every Prometheus metric) and ``malloc.py`` (the process's heap).
"""
