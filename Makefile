# Two commands for a newcomer: `make local` and `make test`.
# Every target first makes sure its tools are installed (venv, pinned Python
# packages, npm packages, Debian packages), so a fresh machine needs nothing else.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAGE ?= dev
PORT ?= 8000
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONPATH := $(CURDIR)/layers/shared/python:$(CURDIR)

PY_STAMP := $(VENV)/.stamp-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
NPM_STAMP := node_modules/.stamp-$(shell cat package.json | sha1sum | cut -c1-12)
PTH_STAMP := $(VENV)/.stamp-pth
DEB_STAMP := .cache/.stamp-deb-$(shell cat debian-packages.txt | sha1sum | cut -c1-12)

# The project's own sources compiled once: where PYTHONDONTWRITEBYTECODE=1 is set (as on the team's
# machines), every process (each local stack's function workers, each test worker) would otherwise
# compile them again on import.
bytecode: setup
	@$(PY) -m compileall -q -j 0 layers/shared/python functions local >/dev/null

.PHONY: bytecode setup web local test test-fast lint-imports synth lint-infra bench deploy openapi events clean

setup: $(PY_STAMP) $(PTH_STAMP) $(NPM_STAMP) $(DEB_STAMP)

$(DEB_STAMP): debian-packages.txt
	@bash scripts/ensure_debian_packages.sh debian-packages.txt
	@mkdir -p .cache && touch $@

$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PIP) install -q --upgrade pip
	@$(PIP) install -q -r requirements-dev.txt
	@rm -f $(VENV)/.stamp-* && touch $@

# The domain package and the repo root on the venv's path, so tools run bare (lint-imports, python -m local.stack).
$(PTH_STAMP): $(PY_STAMP)
	@printf '%s\n%s\n' "$(CURDIR)/layers/shared/python" "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/livecommerce-dev.pth"
	@touch $@

$(NPM_STAMP): package.json $(DEB_STAMP)
	@npm install --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.stamp-* && touch $@

# The web clients (web/: host console, viewer page, operations dashboard; Vue 3 + Vite) into web/dist,
# served by the local stack and deployed by the web stack. Built again only when a source changes.
WEB_SOURCES := $(shell find web -path web/dist -prune -o -type f -print 2>/dev/null | sort)
WEB_STAMP := web/dist/.stamp-$(shell cat $(WEB_SOURCES) package.json 2>/dev/null | sha1sum | cut -c1-12)
web: $(WEB_STAMP)

$(WEB_STAMP): $(NPM_STAMP) $(WEB_SOURCES)
	@npx vite build --config web/vite.config.js --logLevel warn
	@touch $@

# State (tables, secrets, queues) is kept in .local/state across restarts; FRESH=1 starts clean.
LOCAL_STATE ?= .local/state
local: setup web bytecode
	$(PY) -m local.stack --port $(PORT) --state-dir $(LOCAL_STATE) $(if $(FRESH),--fresh)

# Fast tiers first: unit, then integration (moto), infra (synth), e2e (the local stack), on every
# core (pytest-xdist; TEST_WORKERS=0 runs in one process). --dist loadgroup keeps the infra tier
# (one synth) and each e2e module (one local stack) in one worker; --no-loadscope-reorder hands
# the work out in the tiers' order. See docs/testing.md.
TEST_WORKERS ?= auto
PYTEST_XDIST = -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
test: setup web bytecode
	$(PY) -m pytest -q $(PYTEST_XDIST) --durations=15 tests/unit tests/integration tests/infra tests/e2e

test-fast: setup
	$(PY) -m pytest -q $(PYTEST_XDIST) tests/unit tests/integration

lint-imports: setup
	$(VENV)/bin/lint-imports

# Without STAGE on the command line (or in the environment): every stage.
synth: setup
	npx cdk synth --quiet $(if $(filter file,$(origin STAGE)),,-c stage=$(STAGE))
	$(PY) scripts/lint_templates.py cdk.out

openapi: setup
	$(PY) scripts/write_openapi.py

events: setup
	$(PY) scripts/write_event_catalogue.py

bench: setup
	$(PY) benchmarks/cold_start.py
	$(PY) benchmarks/cold_start_whole.py

deploy: setup
	npx cdk deploy --all -c stage=$(STAGE) --require-approval broadening

clean:
	rm -rf cdk.out .cache build
