# Two commands after cloning: `make demo` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/constraints.txt | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: demo test install lint typecheck contracts unit clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]' 2>&1 \
		| { grep -v '^WARNING: Location' || true; }
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/gke-heal demo

lint: install
	$(BIN)/ruff check src chatops tests benchmarks
	$(BIN)/ruff format --check src chatops tests benchmarks

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck contracts unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
