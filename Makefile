# Two entry points for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench bench-proof openapi migrate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	@# Debian and Ubuntu ship venv separately; install it once if it is missing
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	@touch $(STAMP)

demo: $(STAMP)
	SB_ENV=development $(BIN)/skyddat-boende serve --demo

test: $(STAMP)
	@# the browser tests drive Debian's headless Chromium (never a downloaded browser)
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@# the service benchmark's smoke test drives the service with Debian's wrk
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python -m pytest

bench: $(STAMP)
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python bench/matching_bench.py
	$(BIN)/python bench/simulate.py --seeds 1
	$(BIN)/python bench/service_bench.py
	$(BIN)/python bench/feeds_bench.py

bench-proof: $(STAMP)
	$(BIN)/python bench/matching_bench.py --proof
	$(BIN)/python bench/simulate.py

openapi: $(STAMP)
	$(BIN)/skyddat-boende openapi

migrate: $(STAMP)
	$(BIN)/skyddat-boende migrate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
