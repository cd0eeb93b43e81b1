#!/usr/bin/env bash
# Start a persistent single-node Kafka on 127.0.0.1:${1:-9092} (same as `make kafka-up`).
cd "$(dirname "$0")/.." && exec .venv/bin/python -m harness up --port "${1:-9092}" --dir .run/kafka
