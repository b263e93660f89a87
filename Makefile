PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench bench-full lint install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mock-remd serve

test: $(STAMP)
	$(BIN)/hadolint --failure-threshold warning Dockerfile
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m mock_remd.bench
	$(BIN)/python -m mock_remd.bench.signatures
	$(BIN)/python -m mock_remd.admin.dashboard.bench

bench-full: $(STAMP)
	$(BIN)/python -m mock_remd.bench --full-validation

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

clean:
	rm -rf $(VENV) .mock-remd build *.egg-info
