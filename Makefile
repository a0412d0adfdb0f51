# Two commands do all set-up on a fresh machine:
#   make local   the whole API on 127.0.0.1:3000 over moto (writes .local/stack.json)
#   make test    virtualenv, pinned dependencies, lint, template checks, every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime) where the machine has it, else any python3 >= 3.11.
PY313 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
PYTHON ?= $(or $(PY313),python3)
VENV := .venv
VPY := $(VENV)/bin/python
SAMVENV := .venv-sam
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv lint typecheck template test test-fast e2e local bench bench-node browser browser-deps clean

help:
	@echo "make local   run the whole API locally on 127.0.0.1:3000 (moto, no Docker)"
	@echo "make test    set up .venv and run lint, template checks and every test"
	@echo "make bench   run the benchmarks (prints tables; with Node, also aws-jwt-verify)"

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python >= 3.11 is needed (3.13 for 'make test'); found PYTHON=$(PYTHON)."; \
	  echo "       Install 3.13 (pyenv install 3.13, or your OS's python3.13) or pass PYTHON=/path/to/python3.13."; \
	  exit 1; }
	@echo "setting up $(VENV) with $$($(PYTHON) --version) (first run: ~2 minutes; later runs: none)"
	$(PYTHON) -m venv $(VENV)
	@echo "  upgrading pip"
	@$(VPY) -m pip install -q --upgrade pip
	@echo "  installing the pinned test and lint dependencies (requirements-dev.txt)"
	@$(VPY) -m pip install -q -r requirements-dev.txt
	@echo "  installing this project (editable: authctl, auth-local)"
	@$(VPY) -m pip install -q --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy layers/auth_core/auth_core functions authctl local_stack

include make/template.mk

# The browser tests (tests/browser, marker `browser`) drive Debian's headless chromium with its
# chromedriver, and inject axe-core (pinned in tests/browser/package.json). Installed once: apt-get
# only when a binary is missing (as root, else with sudo -n), npm only when the lock file changed.
# Without them the browser tests skip, saying why; nothing else depends on them.
BROWSER_APT := chromium chromium-driver
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "browser tests: no apt-get here: install chromium and chromedriver yourself, or they are skipped"; \
	else \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  echo "browser tests: installing $(BROWSER_APT) (Debian packages, once)"; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_APT) >/dev/null; } \
	    || echo "browser tests: could not install $(BROWSER_APT) (needs root or sudo): they are skipped"; \
	fi
	@if ! command -v npm >/dev/null; then \
	  echo "browser tests: npm not on PATH: axe-core (tests/browser/package.json) cannot be installed"; \
	elif [ ! -f tests/browser/node_modules/.package-lock.json ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then \
	  echo "browser tests: installing axe-core (tests/browser/package-lock.json)"; \
	  npm ci --prefix tests/browser --no-audit --no-fund --silent; \
	fi

# make test needs the Lambda runtime's Python (3.13, for sam build): say so first, in one line.
test: check-py313 venv lint typecheck template browser-deps
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider tests

# Everything but the tests marked slow (timing, races, load, interleavings), e2e and browser: a few minutes.
test-fast: venv
	$(VENV)/bin/python -m pytest -q -x -p no:cacheprovider -m "not slow and not e2e and not browser" tests

e2e: venv
	$(VENV)/bin/python -m pytest -q tests/e2e

browser: venv browser-deps
	$(VENV)/bin/python -m pytest -q -m browser tests/browser

# make local [PORT=3000] [MOTO_PORT=5000] [RESET=1: forget .local/state.json] [VERBOSE=1: all function logs]
local: venv
	$(VPY) -m local_stack serve $(if $(PORT),--port $(PORT)) $(if $(MOTO_PORT),--moto-port $(MOTO_PORT)) \
		$(if $(RESET),--reset) $(if $(VERBOSE),--verbose) $(foreach p,$(PARAMS),--param $(p))

# Every comparison in the README, with its baseline measured in the same run. With Node on PATH the
# authorizer bench also runs aws-jwt-verify (pinned in bench/package.json, installed here once).
bench: venv bench-node
	$(VPY) bench/bench_core.py
	$(VPY) bench/bench_authorizer.py
	$(VPY) bench/bench_oauth.py
	$(VPY) bench/bench_keys.py
	$(VPY) bench/bench_revocation.py
	$(VPY) bench/bench_local_stack.py --quick
	$(VPY) bench/cost_model.py

bench-node:
	@if ! command -v node >/dev/null; then \
	  echo "bench: node not on PATH: the aws-jwt-verify comparison is skipped"; \
	elif [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then \
	  echo "bench: installing aws-jwt-verify (bench/package-lock.json) for the Node comparison"; \
	  npm ci --prefix bench --no-audit --no-fund --silent; \
	fi

clean:
	rm -rf $(VENV) $(SAMVENV) .venv-checkov .aws-sam .local build
