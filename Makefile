# paycard: `make run` starts the product with demo data; `make test` runs every test.
# Both install whatever is missing first (scripts/setup.sh), so they are the whole set-up.

SHELL := /bin/bash
# Trunk finds wasm-bindgen in ~/.cargo/bin and wasm-opt in tools/ (see scripts/setup.sh).
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CHROMEDRIVER ?= /usr/bin/chromedriver
SERVER := target/release/paycard-server

.PHONY: setup build run test test-native test-wasm test-e2e test-contract bench bench-size

setup:
	@scripts/setup.sh

## build: the release widget and console (wasm, by Trunk) embedded in one self-contained server binary.
build: setup
	trunk build --release
	cd console && trunk build --release
	cargo build --release --locked -p paycard-server
	@echo "built $(SERVER)"

## run: the release server on 127.0.0.1:8080 with a SQLite file under data/ and demo data.
run: build
	PAYCARD_DEMO=1 $(SERVER)

## test: every test — native (rules, server, the real binary under abuse and kill -9),
## wasm in headless Chromium, end to end, and the API against its OpenAPI contract.
test: setup test-native test-wasm test-e2e test-contract

## test-native: the rules, then the server suite twice: on SQLite, and on PostgreSQL in a
## throwaway cluster (with the two-instance test, which needs it).
test-native:
	cargo test --locked -p paycard-core -p paycard-server
	scripts/with-postgres.sh cargo test --locked -p paycard-server

test-wasm:
	RUST_BACKTRACE=0 cargo test --locked --target wasm32-unknown-unknown -p paycard-client -p paycard-widget
	cd console && RUST_BACKTRACE=0 cargo test --locked --target wasm32-unknown-unknown -p paycard-console

test-e2e:
	scripts/e2e.sh

## test-contract: schemathesis, every check, as admin, operator and visitor (after test-e2e's release build).
test-contract:
	scripts/contract.sh

## bench: the widget's first-load payload, click -> usable chat on loopback and Fast 3G
## (median), Share -> card in the visitor's DOM (p50/p95),
## the checkout's time per payment with 50 visitors paying at once (p50/p99), the
## server under issue 11's attacks (memory under a sign-in flood, floods, slow clients),
## live updates at 1,000/4,000/10,000 open streams (memory, idle CPU, Share -> stream),
## a card GET against /healthz under wrk, and two instances on PostgreSQL (Share across
## instances with 1,000 streams on each; card GET on PostgreSQL and SQLite).
bench: build
	@command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	scripts/bench-size.sh
	cd e2e && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-open.mjs
	cd e2e && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-share.mjs
	cd e2e && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-checkout.mjs
	cd e2e && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-abuse.mjs
	cd e2e && ulimit -n $$(ulimit -Hn) && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-streams.mjs
	cd e2e && PAYCARD_BIN=$(CURDIR)/$(SERVER) node bench-card-get.mjs
	cd e2e && ulimit -n $$(ulimit -Hn) && PAYCARD_BIN=$(CURDIR)/$(SERVER) ../scripts/with-postgres.sh node bench-instances.mjs

## bench-size: the widget's first-load payload only, raw and gzipped.
bench-size: setup
	trunk build --release
	scripts/bench-size.sh
