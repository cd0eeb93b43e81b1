# Tickerflow — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PRODUCERS ?= 1
KAFKA_PORT ?= 9092
GATEWAY_PORT ?= 8080
HISTORY_PORT ?= 8090
PYTEST_ARGS ?=

.PHONY: help setup run test lint unit integration e2e compose-test bench bench-quick soak kafka-up kafka-down clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.lock requirements-history.lock requirements-dev.lock pyproject.toml
	@echo "setup: python virtualenv from requirements-dev.lock (the runtime lock plus the dev tools)"
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "error: Python 3.11 is required (found %d.%d)" % sys.version_info[:2])'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip==25.3
	@$(PY) -m pip install -q --require-virtualenv -r requirements-dev.lock
	@$(PY) -m pip install -q --no-deps -e .
	@touch $@

tools/node_modules/.installed: tools/package-lock.json
	@echo "setup: node tools from tools/package-lock.json"
	@npm ci --prefix tools --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed tools/node_modules/.installed ## Install everything: system packages, venv from the lock, Kafka jars, node tools (idempotent)
	@bash scripts/system-deps.sh
	@bash kafka/fetch-jars.sh

lint: $(VENV)/.installed ## ruff and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: setup lint ## Lint, then every test: unit, integration, e2e, reliability, and the compose files on a real Docker engine
	$(VENV)/bin/pytest $(PYTEST_ARGS)

compose-test: setup ## Only the compose tests: our own dockerd, the compose files run for real (~4 min warm, ~10 cold)
	$(VENV)/bin/pytest -m compose tests/compose $(PYTEST_ARGS)

unit: $(VENV)/.installed ## Only the unit tests (no broker)
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

run: setup ## Kafka on :KAFKA_PORT, PRODUCERS=N producers, the gateway on :GATEWAY_PORT, history on :HISTORY_PORT (Ctrl-C stops)
	$(PY) -m harness.stack --producers $(PRODUCERS) --kafka-port $(KAFKA_PORT) --gateway-port $(GATEWAY_PORT) \
		--history-port $(HISTORY_PORT)

kafka-up: setup ## Start a persistent local Kafka broker and print its address
	$(PY) -m harness up --port $(KAFKA_PORT) --dir .run/kafka

kafka-down: ## Stop the local Kafka broker (SIGTERM, SIGKILL after 8 s)
	$(PY) -m harness down --dir .run/kafka

bench: setup ## Full benchmark suite (~15 min), report in bench/results/<timestamp>/
	$(PY) -m bench

bench-quick: setup ## Short benchmark run (< 3 min) that checks the bench code works
	$(PY) -m bench --quick

soak: setup ## Soak test (SOAK_MINUTES, default 10)
	$(PY) -m tests.reliability.soak

clean: kafka-down ## Remove the venv, jars, caches and run state
	rm -rf $(VENV) kafka/.libs kafka/.stamp .run .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
