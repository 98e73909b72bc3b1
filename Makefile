# Vigil — the two commands a newcomer needs are `make run` and `make test`; each sets up what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test lint typecheck unit setup frontend chromium runtime-python layer synth bench clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11+ is needed (python3 not found)"; exit 1; }
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	@echo "==> installing Python dependencies into $(VENV) (first time: about a minute)"
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[local,dev]'
	@touch $(STAMP)

setup: $(STAMP)

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@echo "==> installing dashboard npm packages"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend: frontend/node_modules/.installed
	@echo "==> building the dashboard (frontend/dist)"
	cd frontend && npm run --silent build

node_modules/.installed: package.json package-lock.json
	@echo "==> installing the CDK CLI (npm)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chromium:
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium for browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'; }

# Debian's CPython 3.14 (the Lambda runtime's Python) compiles the layer's byte-code: fetched once from
# Debian's archive into build/python3.14, checked with gpgv against Debian's archive keyring.
runtime-python: $(STAMP)
	@command -v gpgv >/dev/null && command -v dpkg-deb >/dev/null && test -f /usr/share/keyrings/debian-archive-keyring.gpg \
	  || { echo "==> installing gpgv and Debian's archive keyring (to verify the runtime Python's packages)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gpgv debian-archive-keyring) >/dev/null \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gpgv debian-archive-keyring'; }
	$(BIN)/python -m infra.bytecode

## run: install everything and start local mode (API, dashboard, scheduler, local agent)
run: $(STAMP) frontend
	$(BIN)/vigil serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check vigil functions infra tests bench app.py
	$(BIN)/ruff format --check vigil functions infra tests bench app.py

typecheck: $(STAMP)
	$(BIN)/mypy

## test: install everything and run every test (lint, types, unit, contract, functional, infra, browser)
test: $(STAMP) frontend chromium runtime-python node_modules/.installed
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup -q

layer: runtime-python
	$(BIN)/python -m infra.build_layer

synth: layer node_modules/.installed frontend
	CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth -q


## bench: long measurements; figures go to bench/README.md
bench: $(STAMP) frontend chromium runtime-python
	$(BIN)/python -m bench.run_all

clean:
	rm -rf build cdk.out frontend/dist .pytest_cache .mypy_cache .ruff_cache
