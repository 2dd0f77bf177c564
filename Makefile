# The two commands of the README, and the checks CI runs. Everything goes through a project-local venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup

$(BIN)/kemu: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/kemu

## First command: set up, provision the embedded Kafka and MinIO, and run the demo.
demo: setup
	$(BIN)/kemu up

## Second command: lint, type-check, and run every test (integration tests start their own Kafka and MinIO).
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
