# One task runner for people, CI and docs. The virtual environment is built
# from requirements.lock (hashes pinned); `make lock` refreshes that file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz lint bench lock docs clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m cvid.demo $(DEMO_ARGS)

# scripts/provision.sh sets up PostgreSQL and chromium when missing and prints the URL.
test: $(STAMP)
	url=$$(scripts/provision.sh) || exit 1; \
	CVID_TEST_POSTGRES_URL="$$url" \
	  $(BIN)/python -m pytest -n 2 --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)

# The fuzzing campaign: every parser of outside bytes, FUZZ_EXAMPLES inputs per target.
FUZZ_EXAMPLES ?= 100000
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run --examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/engine_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/recurring_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/escrow_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/sim_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/service_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/scale_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/mirror_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(BIN)/python benchmarks/loaded_bench.py --build $(if $(findstring --quick,$(BENCH_ARGS)),10000 --seconds 5,100000)
	$(BIN)/python benchmarks/monitor_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)

# The documentation site, offline, in strict mode (a broken link or a missing page fails):
# the reference pages are generated from the code first.
docs: $(STAMP)
	$(BIN)/python scripts/docs_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Every extra (the service, the simulation, PostgreSQL, the docs) with the tools: the
# venv has all of cvid, and scripts/check-install.sh checks the core apart.
UV ?= $(if $(wildcard $(BIN)/uv),$(BIN)/uv,uv)
lock:
	$(UV) pip compile pyproject.toml --extra all --extra dev --extra bench --extra docs --generate-hashes \
	  --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist site docs/reference
