#!/usr/bin/env bash
# Exit 0 when the local broker answers on 127.0.0.1:${1:-9092}.
cd "$(dirname "$0")/.." && exec .venv/bin/python -m harness status --port "${1:-9092}" --dir .run/kafka
