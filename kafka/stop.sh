#!/usr/bin/env bash
# Stop the broker started by start.sh (same as `make kafka-down`).
cd "$(dirname "$0")/.." && exec .venv/bin/python -m harness down --dir .run/kafka
