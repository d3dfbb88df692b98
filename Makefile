# contacthub operating contract (DESIGN §6). Every target installs what is missing first.
#
#   make run | up | down | status     the local stack (broker, database, services, gateway)
#   make test | test-unit | test-integration | lint
#   make bench                        benchmarks in bench/bench_*.py
#   make asyncapi                     regenerate docs/asyncapi/contacts.json
#   make workspace NAME=acme          a workspace on the running stack, as JSON
#   make lock                         regenerate requirements.lock (+ the image's runtime lock)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-requirements
# e.g. STACK_ARGS="--profile test" or "--var-dir /tmp/x --broker-port 29092 --port gateway=28000"
STACK_ARGS ?=
STACK  := $(PY) -m deploy.local.stack $(STACK_ARGS)

export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.DEFAULT_GOAL := help
.PHONY: help install run up down status servers-up test test-unit test-integration lint \
        bench asyncapi workspace lock

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# ------------------------------------------------------------------ install

install: $(STAMP)

# Re-runs only when requirements.lock is newer than the stamp.
$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; \
	  sys.exit(0 if (3, 11) <= v < (3, 13) else f"need Python 3.11 or 3.12, {sys.executable} is {v}")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade >/dev/null
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

# ------------------------------------------------------------------ local stack

run: install
	$(STACK) run

up: install
	$(STACK) up

down:
	@if [ -x $(PY) ]; then $(STACK) down; else echo "no $(VENV): nothing to stop"; fi

status: install
	$(STACK) status

servers-up: install
	$(STACK) servers-up

workspace: install
	@test -n "$(NAME)" || { echo "usage: make workspace NAME=acme" >&2; exit 2; }
	@$(STACK) workspace --name "$(NAME)"

# ------------------------------------------------------------------ quality

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy shared services deploy

# The pytest session fixtures start (and stop) the broker, database and services
# the tests need on the test ports (var/test), so nothing has to be up before.
test: install lint
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: install
	$(PY) -m pytest tests/integration tests/e2e

bench: install
	$(PY) -m bench

# The AsyncAPI document of contacts.events.v1, generated from the contract classes
# (tests/unit/test_asyncapi.py fails while the committed one is stale).
asyncapi: install
	@$(PY) -c 'import json; \
	  from services.contacts.app import asyncapi_document; \
	  from services.contacts.settings import ContactsSettings; \
	  doc = asyncapi_document(ContactsSettings(internal_token="asyncapi-generation-only-0000")); \
	  print(json.dumps(doc, indent=2, sort_keys=True))' > docs/asyncapi/contacts.json.tmp
	@mv docs/asyncapi/contacts.json.tmp docs/asyncapi/contacts.json
	@echo "wrote docs/asyncapi/contacts.json"

# ------------------------------------------------------------------ dependencies

# Resolve pyproject.toml again; uv comes from a throwaway venv when it is not installed.
lock:
	@set -e; uv=$$(command -v uv || true); tmp=""; \
	if [ -z "$$uv" ]; then \
	  tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(PYTHON) -m venv "$$tmp"; "$$tmp/bin/pip" install --quiet uv; uv="$$tmp/bin/uv"; \
	fi; \
	"$$uv" lock; \
	"$$uv" export --frozen --no-emit-project --all-groups --format requirements-txt \
	  -o requirements.lock; \
	"$$uv" export --frozen --no-emit-project --no-default-groups --format requirements-txt \
	  -o requirements.runtime.lock
