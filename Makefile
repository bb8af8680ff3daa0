# Poker Bankroll Tracker — `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What running the app needs, and what only the tests need (browsers, Java for Kafka, the tools the tests drive).
RUN_PACKAGES := redis-server
TEST_PACKAGES := chromium chromium-driver openjdk-17-jre-headless maven nodejs npm prometheus caddy libnss3-tools systemd
RUNTIME := $(VENV)/.runtime
DEV := $(VENV)/.dev
E2E_NODE := tests/e2e/node_modules/.package-lock.json
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
KUBECONFORM_VERSION := v0.8.0
KUBECONFORM := .tools/kubeconform-$(KUBECONFORM_VERSION)/kubeconform

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

define apt_install
	@missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system: ## Install the Debian packages running the app needs (redis-server)
	$(call apt_install,$(RUN_PACKAGES))

system-test: system ## Also the ones the tests need (Chromium, Java and Maven for Kafka, Node, Prometheus, Caddy, systemd)
	$(call apt_install,$(TEST_PACKAGES))

$(RUNTIME): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	@touch $@

$(DEV): $(RUNTIME)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv-run: $(RUNTIME) ## Create .venv with what running the app needs (no test or dev tools)

venv: $(DEV) ## Create .venv and install the project with its dev and test tools

$(E2E_NODE): tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund

node-tools: system-test $(E2E_NODE) ## Install the browser tests' npm tools (axe-core) from tests/e2e/package-lock.json

kafka-jars: ## Fetch the Apache Kafka broker jars from Maven Central (cached in ops/kafka/target)
	@bash ops/kafka/kafka.sh fetch

$(KUBECONFORM):
	@[ -x "$(GO)" ] || { echo "kubeconform is built with Go: install Go (https://go.dev/dl) or set GO=/path/to/go"; exit 1; }
	GOBIN=$(CURDIR)/$(dir $@) $(GO) install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

kubeconform: $(KUBECONFORM) ## Build kubeconform (from the Go module proxy) into .tools/ for the Kubernetes manifest checks

run: system venv-run ## Run the app at http://127.0.0.1:8000 (private Redis, embedded ClickHouse, in-process worker)
	$(BIN)/bankroll serve

test: system-test venv kafka-jars node-tools kubeconform ## Run the whole test suite against real Redis, Kafka, ClickHouse (chDB) and Chromium
	@$(BIN)/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: system-test venv kafka-jars ## Measure ingest throughput/latency, lag to ClickHouse, tilt and stats speed
	$(BIN)/python -m loadtests.bench
	$(BIN)/python -m loadtests.bench_state
	$(BIN)/python -m web.bench_budget
	$(BIN)/python -m loadtests.bench_stats

lint: venv ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv ## mypy --strict
	$(BIN)/mypy

.PHONY: help system system-test venv-run venv node-tools kafka-jars kubeconform run test bench lint fmt typecheck
