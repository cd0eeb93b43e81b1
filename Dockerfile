# syntax=docker/dockerfile:1
# The producer, gateway and history images: one file, so the build stages (the runtime venvs) have
# one home and are built once; `--target producer`, `--target gateway` or `--target history` picks
# the image. Build from the repository root: docker build --target gateway -t tickerflow-gateway .
FROM python:3.11.14-slim-bookworm AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
# Only the runtime locks: the dev tools (pytest, mypy, ruff, playwright ...) are in requirements-dev.lock.
COPY requirements.lock requirements-history.lock pyproject.toml ./
RUN /opt/venv/bin/pip install -r requirements.lock
COPY docker/slim-venv.sh /usr/local/bin/slim-venv
COPY common ./common
COPY producer ./producer
COPY gateway ./gateway
COPY history ./history
COPY harness ./harness

# The producer and gateway venv: no DuckDB (the gateway image's venv is held at <= 350 MB by a test).
FROM deps AS build
RUN /opt/venv/bin/pip install --no-deps . && slim-venv

# History's venv: the same plus DuckDB, embedded.
FROM deps AS build-history
RUN /opt/venv/bin/pip install -r requirements-history.lock \
 && /opt/venv/bin/pip install --no-deps . && slim-venv

FROM python:3.11.14-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --no-create-home tickerflow
USER 10001
WORKDIR /app

# Gateway: Kafka -> Perspective tables -> WebSocket, plus the dashboard at /.
FROM runtime AS gateway
ENV GATEWAY_CLIENT_DIR=/app/client
COPY --from=build /opt/venv /opt/venv
COPY client /app/client
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
ENTRYPOINT ["python", "-m", "gateway"]

# Producer: random stock ticks into Kafka, with metrics on so the orchestrator can probe it.
FROM runtime AS producer
ENV PRODUCER_METRICS_PORT=9100
COPY --from=build /opt/venv /opt/venv
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/metrics', timeout=2)"]
ENTRYPOINT ["python", "-m", "producer"]

# History: Kafka -> DuckDB file (a volume at /data), served read-only at /history on 8090.
FROM runtime AS history
ENV HISTORY_DB_PATH=/data/history.duckdb
COPY --from=build-history /opt/venv /opt/venv
USER 0
RUN mkdir -p /data && chown 10001 /data
USER 10001
VOLUME ["/data"]
EXPOSE 8090
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8090/readyz', timeout=2)"]
ENTRYPOINT ["python", "-m", "history"]
