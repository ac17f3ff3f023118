# Pantau's runbook. `make run` and `make test` are all a fresh machine needs.
#
#   make run          the live pipeline and API on the embedded store (needs network)
#   make run-offline  the same on recorded sources served from loopback (no network)
#   make test         install what the tests need (moto in .venv), then run every test
#   make quality      the parsers measured on the public corpora in ../shared/extdata
#   make build        Lambda binaries for arm64 with cargo-lambda (from PyPI into .venv)
#   make deploy       sam deploy of infra/template.yaml (first time: make deploy GUIDED=1)

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
CARGO ?= cargo
export PANTAU_MOTO_SERVER := $(abspath $(VENV))/bin/moto_server

# moto's server mode stands in for S3 and DynamoDB in the tests; pinned so runs repeat.
MOTO_VERSION := 5.2.5

.PHONY: run run-offline test test-setup quality build deploy check fmt lint clean

run:
	$(CARGO) run --quiet -p pantau-local -- run

run-offline:
	$(CARGO) run --quiet -p pantau-local -- run --offline

test: test-setup
	$(CARGO) test --workspace --no-fail-fast

test-setup: $(VENV)/.moto-$(MOTO_VERSION)

# A table per corpus (cases run, passed, not applicable, score); fails below the floors.
quality:
	$(CARGO) test --quiet -p pantau --test quality -- --include-ignored --nocapture

$(VENV)/.moto-$(MOTO_VERSION):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "moto[server]==$(MOTO_VERSION)"
	touch $@

# cargo-lambda and the zig linker it cross-compiles with both come from PyPI.
$(VENV)/.cargo-lambda: | test-setup
	$(VENV)/bin/pip install --quiet --disable-pip-version-check cargo-lambda ziglang
	touch $@

build: $(VENV)/.cargo-lambda
	rustup target add aarch64-unknown-linux-gnu 2>/dev/null || true
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip \
		-p pantau-scrape -p pantau-normalize -p pantau-reconcile -p pantau-api

deploy: build
	cd infra && sam deploy $(if $(GUIDED),--guided,)

check:
	$(CARGO) check --workspace --all-targets

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(VENV) data
