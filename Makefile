PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench bench-full lint install clean fuzz

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

# property tests with many random examples (make test runs a small derandomized sample of the same)
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	MOCK_REMD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/test_property_answers.py $(PYTEST_ARGS)

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
