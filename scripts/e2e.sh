#!/usr/bin/env bash
# Builds what `make run` runs (the release widget embedded in the release server), then runs the end-to-end browser tests
# (e2e/*.test.mjs, Node's test runner driving Debian's Chromium through playwright-core).
# Each test file starts its own server on a free port with a temporary database.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release
(cd console && trunk build --release)
cargo build --release --locked -p paycard-server
export PAYCARD_BIN="$PWD/target/release/paycard-server"
cd e2e
exec node --test --test-concurrency=1 ./*.test.mjs
