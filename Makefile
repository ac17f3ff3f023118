# Pantau's runbook. `make run` and `make test` are all a fresh machine needs.
#
#   make run          the live pipeline and API on the embedded store (needs network)
#   make run-offline  the same on recorded sources served from loopback (no network)
#   make test         install what the tests need (moto in .venv), then run every test
#   make quality      the parsers measured on the public corpora in ../shared/extdata
#   make build        Lambda binaries for arm64 with cargo-lambda (from PyPI into .venv)
#   make deploy       sam build + sam deploy of infra/template.yaml (first time: GUIDED=1; STAGE=prod)
#   make local-aws    the whole pipeline against moto's S3, SQS and DynamoDB on loopback
#   make replay FROM=2025-06-01 TO=2025-06-07 [MISSION=tokyo]   re-run normalize and reconcile

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
CARGO ?= cargo
export PANTAU_MOTO_SERVER := $(abspath $(VENV))/bin/moto_server
export PANTAU_CFN_LINT := $(abspath $(VENV))/bin/cfn-lint

# moto's server mode stands in for S3, SQS and DynamoDB in the tests; cfn-lint (with the SAM
# translator, which it needs to read a SAM template) checks infra/template.yaml. Pinned so runs
# repeat; the stamp file's name carries every version, so changing one reinstalls.
MOTO_VERSION := 5.2.5
CFN_LINT_VERSION := 1.58.0
SAM_TRANSLATOR_VERSION := 1.115.0
TEST_TOOLS := $(VENV)/.tools-moto-$(MOTO_VERSION)-cfnlint-$(CFN_LINT_VERSION)-sam-$(SAM_TRANSLATOR_VERSION)

.PHONY: run run-offline local-aws replay test test-setup quality build deploy check fmt lint clean

run:
	$(CARGO) run --quiet -p pantau-local -- run

run-offline:
	$(CARGO) run --quiet -p pantau-local -- run --offline

test: test-setup
	$(CARGO) test --workspace --no-fail-fast

test-setup: $(TEST_TOOLS)

# A table per corpus (cases run, passed, not applicable, score); fails below the floors.
quality:
	$(CARGO) test --quiet -p pantau --test quality -- --include-ignored --nocapture

$(TEST_TOOLS):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		"moto[server]==$(MOTO_VERSION)" \
		"cfn-lint==$(CFN_LINT_VERSION)" \
		"aws-sam-translator==$(SAM_TRANSLATOR_VERSION)"
	touch $@

# The pipeline with S3, SQS and DynamoDB served by moto on loopback (started by pantau from
# .venv), recorded sources, the same handlers the Lambdas run. ARGS="--once" for one cycle.
local-aws: test-setup
	$(CARGO) run --quiet -p pantau-local -- local-aws --moto-server $(PANTAU_MOTO_SERVER) $(ARGS)

# Re-runs normalize and reconcile from raw objects of the embedded store (data/).
replay:
	$(CARGO) run --quiet -p pantau-local -- replay --from $(FROM) --to $(TO) $(if $(MISSION),--mission $(MISSION),)

# cargo-lambda and the zig linker it cross-compiles with both come from PyPI.
$(VENV)/.cargo-lambda: | test-setup
	$(VENV)/bin/pip install --quiet --disable-pip-version-check cargo-lambda ziglang
	touch $@

build: $(VENV)/.cargo-lambda
	rustup target add aarch64-unknown-linux-gnu 2>/dev/null || true
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip \
		-p pantau-scrape -p pantau-normalize -p pantau-reconcile -p pantau-api

# `sam build` compiles each function with cargo lambda (the template's rust-cargolambda build
# method) into infra/.aws-sam/; `sam deploy` uploads that. The SAM CLI is not installed by this
# Makefile (see docs/operations.md). STAGE=prod uses samconfig.toml's [prod] section.
deploy: $(VENV)/.cargo-lambda
	cd infra && PATH="$(abspath $(VENV))/bin:$$PATH" sam build $(if $(STAGE),--config-env $(STAGE),)
	cd infra && sam deploy $(if $(GUIDED),--guided,) $(if $(STAGE),--config-env $(STAGE),)

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
