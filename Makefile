PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench bench-full bench-peer lint install clean fuzz soak slow

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mock-remd serve

# two pytest-xdist workers (CI has 2 cores; half the suite's time is waiting on servers, subprocesses and
# callbacks); --dist loadfile keeps each module on one worker, so module-scoped servers start once.
# make test TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/hadolint --failure-threshold warning Dockerfile
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=30 $(PYTEST_ARGS)

# property tests with many random examples (make test runs a small derandomized sample of the same)
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	MOCK_REMD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/test_property_answers.py tests/test_hostile_fuzz.py $(PYTEST_ARGS)

# every test marked slow: the long versions of samples make test takes (every published pack generated, the
# day's rotating generic kind, the whole Java-regex product, ten start-together trials, three kill -9 trials, ...);
# PostgreSQL parts need MOCK_REMD_TEST_PG_URL
slow: $(STAMP)
	MOCK_REMD_RUN_SLOW=1 $(BIN)/pytest -q -m slow $(PYTEST_ARGS)

# memory soak: SOAK_REQUESTS signed 51 KB registrations from wrk on loopback (needs wrk); RSS of all
# processes < 400 MiB and < 10 % growth after warm-up, journal within MOCK_REMD_JOURNAL_SIZE
SOAK_REQUESTS ?= 150000
# the hostile-input probes at full length (make test runs a short sample of each): two instances started
# together ten times, kill -9 trials, 200 slow connections held past the timeouts; PostgreSQL parts need
# MOCK_REMD_TEST_PG_URL
soak: $(STAMP)
	MOCK_REMD_RUN_SLOW=1 $(BIN)/pytest -q tests/test_hostile_instances.py tests/test_hostile_recovery.py \
		tests/test_hostile_slow_clients.py tests/test_hostile_yaml.py tests/test_hostile_urls.py \
		tests/test_hostile_credentials.py $(PYTEST_ARGS)
	$(BIN)/python -m mock_remd.bench.soak --requests $(SOAK_REQUESTS)

bench: $(STAMP)
	$(BIN)/python -m mock_remd.bench
	$(BIN)/python -m mock_remd.bench.signatures
	$(BIN)/python -m mock_remd.bench.dashboard

bench-full: $(STAMP)
	$(BIN)/python -m mock_remd.bench --full-validation

# mock-remd beside WireMock (npm wiremock, Java 17) under the same wrk load; needs wrk, npm, java
bench-peer: $(STAMP)
	$(BIN)/python -m mock_remd.bench.peer $(BENCH_PEER_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

clean:
	rm -rf $(VENV) .mock-remd build *.egg-info
