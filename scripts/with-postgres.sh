#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: a temporary data directory, loopback
# only, a free port, owned by the `postgres` user (PostgreSQL refuses to run as root).
# The command sees PAYCARD_TEST_DATABASE_URL (a superuser URL on database `postgres`;
# tests create a database each). The cluster is stopped and removed however it ends.
#
#   scripts/with-postgres.sh cargo test -p paycard-server
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "with-postgres: no PostgreSQL at $PG_BIN (scripts/setup.sh installs it)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/paycard-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$dir"
chmod 700 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# C collation: text sorts byte by byte, as on SQLite.
as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# Settings for a throwaway cluster: nothing here must survive a crash.
as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

export PAYCARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port" >&2
"$@"
