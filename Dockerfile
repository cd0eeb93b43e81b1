# syntax=docker/dockerfile:1
# The producer and gateway images: one file, so the build stage (the runtime venv) has one home and
# is built once for both; `--target producer` or `--target gateway` picks the image. Build from the
# repository root: docker build --target gateway -t tickerflow-gateway .
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
# Only the runtime lock: the dev tools (pytest, mypy, ruff, playwright ...) are in requirements-dev.lock.
COPY requirements.lock pyproject.toml ./
RUN /opt/venv/bin/pip install -r requirements.lock
COPY common ./common
COPY producer ./producer
COPY gateway ./gateway
COPY harness ./harness
# Then drop what only building needs: pip and setuptools, C headers and sources, bundled test suites.
RUN /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/pip uninstall -q -y pip setuptools \
 && find /opt/venv \( -type d \( -name tests -o -name include -o -path '*/pyarrow/src' \) -prune \
      -o -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.h' \) \) -exec rm -rf {} +

FROM python:3.11.14-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --no-create-home tickerflow
COPY --from=build /opt/venv /opt/venv
USER 10001
WORKDIR /app

# Gateway: Kafka -> Perspective tables -> WebSocket, plus the dashboard at /.
FROM runtime AS gateway
ENV GATEWAY_CLIENT_DIR=/app/client
COPY client /app/client
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
ENTRYPOINT ["python", "-m", "gateway"]

# Producer: random stock ticks into Kafka, with metrics on so the orchestrator can probe it.
FROM runtime AS producer
ENV PRODUCER_METRICS_PORT=9100
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/metrics', timeout=2)"]
ENTRYPOINT ["python", "-m", "producer"]
