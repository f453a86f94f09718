# Two commands set everything up: `make run` and `make test` (see README "Quick start").
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit openapi worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	mkdir -p var
	$(BIN)/gateway migrate
	GATEWAY_BOOTSTRAP_ADMIN=true GATEWAY_LOG_UNCONFIGURED_DESTINATIONS=true $(BIN)/gateway serve --host $(HOST) --port $(PORT) --with-worker

worker: $(VENV)/.installed
	$(BIN)/gateway worker

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gateway adapters mappings simulators tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

openapi: $(VENV)/.installed
	$(BIN)/gateway openapi --output contracts/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
