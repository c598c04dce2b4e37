# The two commands of the README's Quick start, and what they need.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: demo test lint bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The demo needs only the server extra (it pulls in the patron's CLI too).
$(BIN)/.server-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server]'
	touch $@

## The demo library on SQLite, and a patron session against it.
demo: $(BIN)/.server-installed
	bash scripts/demo.sh

## The whole test suite: lint (ruff, import-linter), SQLite and PostgreSQL, the real
## server and the real CLI in subprocesses, the browser tests.
test: $(BIN)/.installed
	$(BIN)/pytest

## The benchmarks (needs wrk, curl and PostgreSQL): writes docs/benchmarks.md and .png.
bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
