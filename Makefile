# phiguard tasks. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help demo test test-rust lint bench fmt

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

demo: ## Run the main job on the bundled sample with the default pack (writes phiguard-demo/)
	$(CARGO) run --release -p phiguard-cli -- demo --out phiguard-demo

test: lint test-rust ## Run every test (installs what it needs)

test-rust: ## Rust unit, integration, property and doc tests
	$(CARGO) test --workspace --all-features

lint: ## rustfmt and clippy (-D warnings)
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

bench: ## Criterion benchmarks and the CLI throughput script (figures: BENCHMARKS.md)
	$(CARGO) bench -p phiguard --features arrow
	bash scripts/bench-cli.sh

fmt: ## Format the code
	$(CARGO) fmt --all
