#!/usr/bin/env bash
# Prints the visitor widget's first-load payload: every file a visitor's browser fetches
# when the chat opens (the loader, then the iframe's page, JS, wasm and CSS), raw and
# gzipped (-9, what the server's compression approximates). Run after `trunk build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The loader as the server sends it: minified by the release build when there is one.
loader=server/assets/widget.js
[ -f dist/loader.min.js ] && loader=dist/loader.min.js
files=("$loader" dist/widget/index.html dist/widget/paycard-widget-*.js dist/widget/*.wasm dist/widget/*.css)
total_raw=0; total_gz=0
printf '%-52s %10s %10s\n' file raw gzip
for f in "${files[@]}"; do
  raw=$(wc -c <"$f"); gz=$(gzip -9c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-52s %10d %10d\n' "$f" "$raw" "$gz"
done
printf '%-52s %10d %10d\n' total "$total_raw" "$total_gz"
awk -v b="$total_gz" 'BEGIN { printf "total gzipped: %.1f KiB\n", b / 1024 }'
