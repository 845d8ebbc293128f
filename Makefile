# Two commands set everything up on a fresh machine with python3 and make:
#   make demo   - the app on the embedded SQLite database with a realistic demo market
#   make test   - the test suite (SQLite always; PostgreSQL when reachable, see README)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Reinstall only when the project's metadata changed since the last install.
STAMP := $(VENV)/.installed

.PHONY: install browser demo serve test lint format bench clean

$(STAMP): pyproject.toml hatch_build.py src/market/reconcile/_speedups.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium; install it when we can (root with apt), else they skip.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser tests will be skipped"; \
	  else \
	    echo "no $(CHROMIUM): the browser tests will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

demo: $(STAMP)
	$(VENV)/bin/market demo

serve: $(STAMP)
	$(VENV)/bin/market serve

test: $(STAMP) browser
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src/market

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(PY) -m pytest benchmarks --benchmark-enable --benchmark-only -p no:randomly

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .benchmarks market.db market.db-wal market.db-shm
