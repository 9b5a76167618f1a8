# phiguard tasks. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help demo test test-rust test-python python-env lint bench bench-python fmt

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

demo: ## Run the main job on the bundled sample with the default pack (writes phiguard-demo/)
	$(CARGO) run --release -p phiguard-cli -- demo --out phiguard-demo

test: lint test-rust test-python ## Run every test (installs what it needs)

test-rust: ## Rust unit, integration, property and doc tests
	$(CARGO) test --workspace --all-features --exclude phiguard-python

PY_VENV := target/py-venv
PY := $(PY_VENV)/bin/python

python-env: ## A venv with maturin and the test packages; the package built into it
	test -x $(PY) || python3 -m venv $(PY_VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r bindings-python/requirements-dev.txt
	cd bindings-python && VIRTUAL_ENV=$(CURDIR)/$(PY_VENV) PATH=$(CURDIR)/$(PY_VENV)/bin:$$PATH maturin develop --release -q

test-python: python-env ## pytest (vectors, frames, files, Spark, properties, doctests) and stubtest
	cd bindings-python && ../$(PY) -m pytest -q -p no:cacheprovider tests python README.md
	cd bindings-python && ../$(PY) -c "import doctest, sys, phiguard._native as n; r = doctest.testmod(n); print(f'native doctests: {r.attempted} run, {r.failed} failed'); sys.exit(r.failed > 0 or r.attempted == 0)"
	cd bindings-python && ../$(PY) -m mypy.stubtest phiguard._native

lint: ## rustfmt and clippy (-D warnings)
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

bench: bench-python ## Criterion benchmarks, the CLI and Python throughput scripts (figures: BENCHMARKS.md)
	$(CARGO) bench -p phiguard --features arrow
	bash scripts/bench-cli.sh

bench-python: python-env ## The Python package on 1,000,000 rows beside a pandas + hmac baseline
	$(PY) bindings-python/bench/bench.py

fmt: ## Format the code
	$(CARGO) fmt --all
