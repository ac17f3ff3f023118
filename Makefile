# Pantau's runbook. `make run` and `make test` are all a fresh machine needs.
#
#   make run          the live pipeline and API on the embedded store (needs network)
#   make run-offline  the same on recorded sources served from loopback (no network)
#   make test         install what the tests need (moto in .venv), then run every test
#   make quality      the parsers measured on the public corpora in ../shared/extdata
#   make bench-scrape scrape cycles over 1,000 fixture sources and the real registry on loopback
#   make bench-reconcile  reconcile throughput and table requests per item (release build)
#   make bench-feed   the busiest mission's feeds over a kept scale store (FEED_STORE, FEED_MISSION)
#   make story-sizes  JSON bytes per record family and requests per item, 1000 generated items
#   make hq-big          import of a generated 50 MB headquarters CSV: report and peak memory (perf build)
#   make bench-normalize  Pantau's parsers against feedparser and trafilatura, same files
#   make reliability  every reliability_* test (faults, hostile input, attacks); table in docs/reliability.md
#   make reliability-full  hostile input at full scale: 100,000 nesting levels, a 100,000-entry feed
#   make fuzz [FUZZ_SECONDS=60]  every parser under cargo-fuzz; table in fuzz/RESULTS.md
#   make build        Lambda binaries for arm64 with cargo-lambda (from PyPI into .venv)
#   make sizes        each function's zip from `make build` (aim: under 10 MB)
#   make startup      cold and warm invocation and peak memory of each function under cargo lambda watch
#   make scale        10x the fleet and a year of items on the embedded store: API latency at
#                     100k, 1M, 3M items, load throughput, store size (docs/performance.md)
#   make cost         requests counted in two local cycles, priced as a month on AWS (docs/cost.md)
#   make cost-aws     the same cycles on moto's S3 and DynamoDB at 1x and 2x the fleet (docs/cost.md)
#   make deploy       sam build + sam deploy of infra/template.yaml (first time: GUIDED=1; STAGE=prod)
#   make local-aws    the whole pipeline against moto's S3, SQS and DynamoDB on loopback
#   make replay FROM=2025-06-01 TO=2025-06-07 [MISSION=tokyo]   re-run normalize and reconcile
#   make logs FN=scrape [STAGE=prod]               tail a deployed function's log (sam logs)
#   make watch FN=api [ENV_FILE=f] [PORT=9000]     cargo lambda watch: one function under the emulator
#   make invoke FN=api EVENT=http-get-health       a sample event from functions/FN/events/ into it

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
CARGO ?= cargo
# moto_server run through a wrapper whose DynamoDB transactions back up only the items they
# touch (moto copies whole tables: tests/moto/server.py).
export PANTAU_MOTO_SERVER := $(abspath tests/moto/pantau-moto-server)
export PANTAU_CFN_LINT := $(abspath $(VENV))/bin/cfn-lint
export PANTAU_CARGO_LAMBDA := $(abspath $(VENV))/bin/cargo-lambda
export PANTAU_SCHEMATHESIS := $(abspath $(VENV))/bin/schemathesis

# moto's server mode stands in for S3, SQS and DynamoDB in the tests; cfn-lint (with the SAM
# translator, which it needs to read a SAM template) checks infra/template.yaml; cargo-lambda's
# emulator runs the API function's sample event (functions/api/tests/invoke.rs); schemathesis
# tries the API against its own OpenAPI document (functions/local/tests/schemathesis.rs). Pinned so runs
# repeat; the stamp file's name carries every version, so changing one reinstalls.
MOTO_VERSION := 5.2.5
CFN_LINT_VERSION := 1.58.0
SAM_TRANSLATOR_VERSION := 1.115.0
CARGO_LAMBDA_VERSION := 1.9.2
SCHEMATHESIS_VERSION := 4.32.5
ZIGLANG_VERSION := 0.17.1
# Debian's Chromium renders the dashboard in the browser test (functions/local/tests/dashboard_browser.rs).
CHROMIUM := /usr/bin/chromium
export PANTAU_CHROMIUM := $(CHROMIUM)
TEST_TOOLS := $(VENV)/.tools-moto-$(MOTO_VERSION)-cfnlint-$(CFN_LINT_VERSION)-sam-$(SAM_TRANSLATOR_VERSION)-cargolambda-$(CARGO_LAMBDA_VERSION)-schemathesis-$(SCHEMATHESIS_VERSION)

.PHONY: run run-offline local-aws replay test test-setup reliability reliability-full quality bench-scrape bench-reconcile bench-feed story-sizes scale hq-big bench-normalize fuzz build sizes startup cost cost-aws deploy logs watch invoke check fmt lint clean

run:
	$(CARGO) run --quiet -p pantau-local -- run

run-offline:
	$(CARGO) run --quiet -p pantau-local -- run --offline

test: test-setup
	$(CARGO) test --workspace --no-fail-fast

test-setup: $(TEST_TOOLS) $(CHROMIUM)

# Every test whose name contains `reliability_`, ignored ones included (the soak, the 30%
# fault rate), across the workspace; scripts/reliability.py gathers the RELIABILITY lines they
# print into docs/reliability.md. Knobs: PANTAU_RELIABILITY_SEEDS (delivery seeds: 3 here,
# 1 in `make test`), PANTAU_RELIABILITY_FULL (every crash point, not one per stage),
# PANTAU_SOAK_CYCLES (soak cycles, 6).
PANTAU_RELIABILITY_SEEDS ?= 3
reliability: test-setup
	PANTAU_RELIABILITY_SEEDS=$(PANTAU_RELIABILITY_SEEDS) PANTAU_RELIABILITY_FULL=1 CARGO="$(CARGO)" python3 scripts/reliability.py --out docs/reliability.md --log $(TARGET_DIR)/reliability.log

# A table per corpus (cases run, passed, not applicable, score); fails below the floors.
quality:
	$(CARGO) test --quiet -p pantau --test quality -- --include-ignored --nocapture

# Two scrape cycles (new sources, then unchanged ones) over fixture hosts on 127.1.x.y: wall
# time, requests per second and in flight per host as the servers saw them, peak memory. One
# process per world, so each VmHWM is its own. Knobs: PANTAU_BENCH_SOURCES (1000),
# PANTAU_BENCH_MIN_INTERVAL_MS (100; production 1000), PANTAU_BENCH_IN_FLIGHT (2),
# PANTAU_BENCH_CONCURRENT_SOURCES (8), PANTAU_BENCH_LATENCY_MS (50), PANTAU_BENCH_CYCLES (2).
bench-scrape:
	$(CARGO) test --quiet -p pantau-tests --test bench_scrape -- --ignored --nocapture --exact fixture_fleet
	$(CARGO) test --quiet -p pantau-tests --test bench_scrape -- --ignored --nocapture --exact real_registry
# Reconcile throughput (items/s) for 100k generated items on the embedded store, and requests
# per new, changed and unchanged item on the embedded store and on moto (DynamoDB, S3); one
# test at a time so the throughput run has the cores. BENCH_ITEMS=10000 for a quicker run.
# Results: docs/reconcile.md.
BENCH_ITEMS ?= 100000
bench-reconcile:
	PANTAU_BENCH_ITEMS=$(BENCH_ITEMS) $(CARGO) test --profile perf -p pantau-tests --test bench_reconcile -- --ignored --nocapture --test-threads=1

# The busiest mission's plain and official-only feeds over a store kept by
# `PANTAU_SCALE_KEEP=1 make scale` (FEED_STORE: its directory; FEED_MISSION: the busiest mission
# the run printed), several repetitions: tests/tests/bench_feed.rs.
bench-feed:
	PANTAU_FEED_STORE=$(FEED_STORE) PANTAU_FEED_MISSION=$(FEED_MISSION) \
		$(CARGO) test --profile perf -p pantau-tests --test bench_feed -- --ignored --nocapture

# JSON bytes of every record family and table requests per item after reconciling
# STORY_SIZES_ITEMS generated items (the scale generator) into a SQLite file; docs/reconcile.md.
STORY_SIZES_ITEMS ?= 1000
story-sizes:
	PANTAU_STORY_SIZES_ITEMS=$(STORY_SIZES_ITEMS) $(CARGO) test -p pantau-tests --test story_sizes -- --ignored --nocapture

# Ten times the fleet (1,340 missions: the registry's 134, ten times) and a year of generated
# items loaded by the real reconcile into an SQLite file under the target dir (deleted after),
# with the API's main queries timed through the real router at each checkpoint; the tables go
# to docs/performance.md (tests/tests/scale.rs says more). Knobs: SCALE_ITEMS (3000000),
# SCALE_CHECKPOINTS (100000,1000000,3000000), SCALE_MISSIONS (1320), SCALE_REQUESTS (200),
# SCALE_BUDGET_MINUTES (none), SCALE_SAMPLE (5000: items loaded with one commit per write
# before grouped commits); SCALE_QUICK=1 for 20k items into the target dir's copy.
# SCALE_STORE=DIR keeps the store there and makes the load resumable: Ctrl-C, `touch DIR/STOP`
# or SCALE_BUDGET_MINUTES end a sitting after the batch in hand; the same command goes on.
# SCALE_REMEASURE=1 (with SCALE_STORE) times the queries of the checkpoint the store is at again.
SCALE_ITEMS ?= 3000000
SCALE_CHECKPOINTS ?= 100000,1000000,3000000
scale:
	$(if $(filter 1,$(SCALE_QUICK)),PANTAU_BENCH_FLEET_FACTOR=2,) \
		$(CARGO) test --profile perf -p pantau-tests --test bench_scrape -- --ignored --nocapture --exact tenfold_registry
	$(if $(filter 1,$(SCALE_QUICK)),PANTAU_SCALE_QUICK=1,PANTAU_SCALE_DOC=$(abspath docs/performance.md) \
		PANTAU_SCALE_ITEMS=$(SCALE_ITEMS) PANTAU_SCALE_CHECKPOINTS=$(SCALE_CHECKPOINTS)) \
		$(if $(SCALE_MISSIONS),PANTAU_SCALE_MISSIONS=$(SCALE_MISSIONS),) \
		$(if $(SCALE_REQUESTS),PANTAU_SCALE_REQUESTS=$(SCALE_REQUESTS),) \
		$(if $(SCALE_BUDGET_MINUTES),PANTAU_SCALE_BUDGET_MINUTES=$(SCALE_BUDGET_MINUTES),) \
		$(if $(SCALE_SAMPLE),PANTAU_SCALE_SAMPLE=$(SCALE_SAMPLE),) \
		$(if $(SCALE_STORE),PANTAU_SCALE_STORE=$(abspath $(SCALE_STORE)),) \
		$(if $(SCALE_REMEASURE),PANTAU_SCALE_REMEASURE=$(SCALE_REMEASURE),) \
		$(CARGO) test --profile perf -p pantau-tests --test scale -- --ignored --nocapture scale_store

# Throughput of Pantau's normalize (release build of shared/examples/bench_normalize.rs) and
# of the Python reference stack on the same files, their ratio, and Pantau's peak memory on a
# generated 5 MB feed (bench/normalize.py). The reference is pinned like the test tools.
FEEDPARSER_VERSION := 6.0.14
TRAFILATURA_VERSION := 2.3.1
# lxml 6 moved lxml.html.clean (which trafilatura's justext imports) into its own package.
LXML_HTML_CLEAN_VERSION := 0.4.6
EXTDATA ?= $(abspath ../shared/extdata)
BENCH_TOOLS := $(VENV)/.bench-feedparser-$(FEEDPARSER_VERSION)-trafilatura-$(TRAFILATURA_VERSION)-lxmlclean-$(LXML_HTML_CLEAN_VERSION)
BENCH_TARGET := $(or $(CARGO_TARGET_DIR),target)

# The crates no parser runs (AWS SDK, HTTP client and server, TLS, SQLite) are built
# unoptimized for this benchmark: at opt-level 3 they are most of a cold perf build (one did
# not finish in 40 minutes on the 2-core machine shared by 8 builds). The parsers and
# everything they call keep the perf profile.
BENCH_UNOPTIMIZED := aws-config aws-lc-rs aws-lc-sys aws-runtime aws-sdk-dynamodb aws-sdk-s3 \
	aws-sdk-sns aws-sdk-sts aws-sigv4 aws-smithy-checksums aws-smithy-eventstream aws-smithy-http \
	aws-smithy-http-client aws-smithy-json aws-smithy-query aws-smithy-runtime \
	aws-smithy-runtime-api aws-smithy-schema aws-smithy-types aws-smithy-xml aws-types \
	aws_lambda_events axum axum-core h2 hyper hyper-rustls hyper-util libsqlite3-sys reqwest \
	rusqlite rustls rustls-webpki tower-http
BENCH_PROFILE_FLAGS := $(foreach c,$(BENCH_UNOPTIMIZED),--config 'profile.perf.package.$(c).opt-level=0' --config 'profile.perf.package.$(c).debug=false')

# A 50 MB headquarters CSV, generated as it is read, imported into SQLite (issue 8): the report
# and the growth of peak memory (must stay bounded: the import holds one batch of rows).
hq-big:
	$(CARGO) test --profile perf -p pantau --lib hq::import::tests::a_50_mb_file -- --ignored --nocapture

bench-normalize: $(BENCH_TOOLS)
	@echo "$(CARGO) build --profile perf (BENCH_UNOPTIMIZED at opt-level 0) -p pantau --example bench_normalize"
	@$(CARGO) build --quiet --profile perf $(BENCH_PROFILE_FLAGS) -p pantau --example bench_normalize
	$(PY) bench/normalize.py $(BENCH_TARGET)/perf/examples/bench_normalize $(EXTDATA) $(BENCH_TARGET)/bench-normalize

$(BENCH_TOOLS):
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		"feedparser==$(FEEDPARSER_VERSION)" "trafilatura==$(TRAFILATURA_VERSION)" \
		"lxml_html_clean==$(LXML_HTML_CLEAN_VERSION)"
	touch $@
# The hostile-input cases too slow for `make test` (minutes in a debug build): 100,000 nested
# elements in each format and a 7 MB feed of 100,000 entries. Prints RELIABILITY lines.
reliability-full:
	$(CARGO) test -p pantau-tests --test hostile_input -- --ignored --nocapture reliability_full_

# cargo-fuzz on the stable toolchain (RUSTC_BOOTSTRAP), seeded from fixtures and extdata.
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# cargo-lambda with --no-deps: its dependency ziglang (~100 MB) is the cross-linker, needed by
# `make build` only; watch and invoke are cargo-lambda's own binary (a 14 MB wheel).
$(TEST_TOOLS):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		"moto[server]==$(MOTO_VERSION)" \
		"cfn-lint==$(CFN_LINT_VERSION)" \
		"aws-sam-translator==$(SAM_TRANSLATOR_VERSION)" \
		"schemathesis==$(SCHEMATHESIS_VERSION)"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps \
		"cargo-lambda==$(CARGO_LAMBDA_VERSION)"
	touch $@

# apt needs root: as root directly, otherwise through sudo.
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium

# The pipeline with S3, SQS and DynamoDB served by moto on loopback (started by pantau from
# .venv), recorded sources, the same handlers the Lambdas run. ARGS="--once" for one cycle.
local-aws: test-setup
	$(CARGO) run --quiet -p pantau-local -- local-aws --moto-server $(PANTAU_MOTO_SERVER) $(ARGS)

# Re-runs normalize and reconcile from raw objects of the embedded store (data/).
replay:
	$(CARGO) run --quiet -p pantau-local -- replay --from $(FROM) --to $(TO) $(if $(MISSION),--mission $(MISSION),)

# cargo-lambda (from test-setup) cross-compiles with the zig linker, also from PyPI.
$(VENV)/.cargo-lambda-zig-$(ZIGLANG_VERSION): | test-setup
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "ziglang==$(ZIGLANG_VERSION)"
	touch $@

build: $(VENV)/.cargo-lambda-zig-$(ZIGLANG_VERSION)
	rustup target add aarch64-unknown-linux-gnu 2>/dev/null || true
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip \
		-p pantau-scrape -p pantau-normalize -p pantau-reconcile -p pantau-api

# Where cargo (and so cargo lambda) writes: CARGO_TARGET_DIR when set.
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)

# Each function's zip as `make build` left it, and the bootstrap binary inside.
sizes:
	@for fn in scrape normalize reconcile api; do \
		zip=$(TARGET_DIR)/lambda/$$fn/bootstrap.zip; \
		test -f $$zip || { echo "$$zip is missing: run make build first"; exit 1; }; \
		python3 -c 'import sys, zipfile, os; z = sys.argv[2]; \
			b = sum(i.file_size for i in zipfile.ZipFile(z).infolist()); \
			print(f"{sys.argv[1]:<10} {os.path.getsize(z) / 1e6:6.2f} MB zip  {b / 1e6:6.2f} MB unzipped")' $$fn $$zip; \
	done

# Cold and warm invocation and peak RSS of each function's host binary under cargo lambda
# watch's emulator, stores in moto (scripts/startup.py). RELEASE=1 measures release builds.
startup: test-setup
	$(CARGO) build --quiet $(if $(RELEASE),--release,) -p pantau-scrape -p pantau-normalize -p pantau-reconcile -p pantau-api
	$(PY) scripts/startup.py --bin-dir $(TARGET_DIR)/$(if $(RELEASE),release,debug) \
		--cargo-lambda $(PANTAU_CARGO_LAMBDA) --moto-server $(PANTAU_MOTO_SERVER)

# A first and a steady-state cycle on recorded sources, their requests counted per function,
# and the month they make at ARGS (defaults: --sources 800 --interval-minutes 15).
cost:
	$(CARGO) run --quiet -p pantau-local -- cost $(ARGS)

# The same two cycles at the registry as is and twice over on the embedded store, and with the
# real S3 and DynamoDB adapters against moto at COST_AWS_MOTO_FACTORS (1; "1,2" takes hours:
# moto's time grows with the square of the table): requests per stage by operation (on the
# wire on moto), moto against the embedded store, the archive's bytes per item, the month at
# 1x, 2x and 10x (extrapolated) the fleet. functions/local/src/cost/aws.rs; docs/cost.md.
COST_AWS_MOTO_FACTORS ?= 1
cost-aws: test-setup
	PANTAU_COST_MOTO_FACTORS=$(COST_AWS_MOTO_FACTORS) $(CARGO) test -p pantau-local --bin pantau \
		cost::aws::cost_on_moto_at_1x_and_2x_the_fleet -- --ignored --nocapture --exact

# `sam build` compiles each function with cargo lambda (the template's rust-cargolambda build
# method) into infra/.aws-sam/; `sam deploy` uploads that. The SAM CLI is not installed by this
# Makefile (see docs/operations.md). STAGE=prod uses samconfig.toml's [prod] section.
deploy: $(VENV)/.cargo-lambda-zig-$(ZIGLANG_VERSION)
	cd infra && PATH="$(abspath $(VENV))/bin:$$PATH" sam build $(if $(STAGE),--config-env $(STAGE),)
	cd infra && sam deploy $(if $(GUIDED),--guided,) $(if $(STAGE),--config-env $(STAGE),)

# The deployed function's log, followed (`sam logs --tail`; needs the SAM CLI and AWS
# credentials, like deploy). FN is scrape, normalize, reconcile or api.
STAGE ?= dev
FUNCTION_RESOURCE = $(if $(filter scrape,$(FN)),ScrapeFunction,$(if $(filter normalize,$(FN)),NormalizeFunction,$(if $(filter reconcile,$(FN)),ReconcileFunction,$(if $(filter api,$(FN)),ApiFunction,$(error FN must be scrape, normalize, reconcile or api)))))
logs:
	cd infra && sam logs --stack-name pantau-$(STAGE) -n $(FUNCTION_RESOURCE) --tail

# cargo lambda watch: Lambda's runtime emulator on 127.0.0.1:$(PORT) for function FN, built
# (debug, `cargo run -p pantau-FN`) and started at its first invocation, rebuilt when the code
# changes. ENV_FILE (KEY=VALUE lines) gives it its environment (PANTAU_BUCKET, PANTAU_TABLE,
# AWS_ENDPOINT_URL, ...).
PORT ?= 9000
watch: test-setup
	@test -n "$(FN)" || { echo "usage: make watch FN=api [ENV_FILE=file] [PORT=9000]"; exit 2; }
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda watch -p pantau-$(FN) \
		--invoke-address 127.0.0.1 --invoke-port $(PORT) $(if $(ENV_FILE),--env-file $(ENV_FILE),)

# One sample event into the function running under `make watch FN=...` (another terminal):
# make invoke FN=api EVENT=http-get-health   (events are functions/$(FN)/events/$(EVENT).json)
invoke: test-setup
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=api EVENT=http-get-health"; exit 2; }
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda invoke --invoke-address 127.0.0.1 \
		--invoke-port $(PORT) --data-file functions/$(FN)/events/$(EVENT).json $(FN)

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
