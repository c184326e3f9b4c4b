#!/usr/bin/env bash
# Installs what paycard needs to build, run and test it, and only what is missing or of
# the wrong version, so a second run takes seconds. Called by `make run`, `make test` and
# `make build`; safe to run by hand.
#
#   - the wasm32 Rust target
#   - trunk 0.21.14 (the newest that builds on this project's rustc)
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock (Trunk, offline,
#     refuses any other)
#   - wasm-opt from npm's binaryen package (tools/): Debian's binaryen 108 breaks the
#     reference-types table wasm-bindgen emits; Chromium and chromedriver (Debian's)
#   - the end-to-end tests' npm packages (playwright-core, @axe-core/playwright)
#   - schemathesis, in a project-local virtualenv (tools/venv), for the contract tests
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages -------------------------------------------------------------
apt_missing=()
[ -x /usr/bin/chromium ] || apt_missing+=(chromium)
[ -x /usr/bin/chromedriver ] || apt_missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || apt_missing+=(nodejs npm)
command -v gzip >/dev/null 2>&1 || apt_missing+=(gzip)
# PostgreSQL: `make test` runs the server suite on it too, in a throwaway cluster.
[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_missing+=(postgresql)
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing ${apt_missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

# --- Rust tools --------------------------------------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

TRUNK_VERSION=0.21.14
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  say "installing trunk $TRUNK_VERSION (takes several minutes, once)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  echo "setup: cannot read wasm-bindgen's version from Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock)"
  # Not --locked: one of its locked dependencies is yanked.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# --- npm packages: build tools (wasm-opt) and the end-to-end tests ---------------------
for dir in tools e2e; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# --- Python tools: schemathesis (contract tests), in tools/venv -------------------------
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  say "installing python3-venv (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if [ ! -f tools/venv/.installed ] || [ tools/requirements.txt -nt tools/venv/.installed ]; then
  say "installing Python tools in tools/venv (schemathesis)"
  python3 -m venv tools/venv
  tools/venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
  touch tools/venv/.installed
fi

say "ready"
