// Benchmark: two instances on one PostgreSQL (issue 13). STREAMS visitors hold a live
// stream on each instance; the operator shares on B into conversations whose visitors
// are on A, timed from the POST leaving to the card's event on A's stream. Then card GET
// requests per second (wrk -c32) on a PostgreSQL instance and on a SQLite server, same
// machine, same run. Run by `make bench`, inside scripts/with-postgres.sh.
//
//   PAYCARD_TEST_DATABASE_URL=postgres://…/postgres  STREAMS=1000  SHARES=200  WRK_SECONDS=10
import { spawnSync } from 'node:child_process';
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';
import { sleep, pct, openConversations, openStreams, timeShares, wrk, visitorCard } from './lib/bench.mjs';

const ADMIN_URL = process.env.PAYCARD_TEST_DATABASE_URL;
if (!ADMIN_URL?.startsWith('postgres')) {
  throw new Error('set PAYCARD_TEST_DATABASE_URL to a PostgreSQL server (scripts/with-postgres.sh does)');
}
const STREAMS = Number(process.env.STREAMS ?? 1000);
const SHARES = Number(process.env.SHARES ?? 200);
const SECONDS = Number(process.env.WRK_SECONDS ?? 10);
const PSQL = process.env.PSQL ?? '/usr/lib/postgresql/15/bin/psql';

const name = `paycard_bench_${Date.now()}`;
const made = spawnSync(PSQL, [ADMIN_URL, '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`createdb: ${made.stderr}`);
const databaseUrl = `${ADMIN_URL.slice(0, ADMIN_URL.lastIndexOf('/'))}/${name}`;

const shared = {
  RUST_LOG: 'error',
  DATABASE_URL: databaseUrl,
  PAYCARD_SECRET_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
  PAYCARD_MAX_CONNECTIONS: String(STREAMS + 1000),
  PAYCARD_MAX_CONNECTIONS_PER_ADDRESS: String(STREAMS + 1000),
};
const a = await startServer(shared);
const b = await startServer(shared);
const sqlite = await startServer({ RUST_LOG: 'error' });
const streams = [];
try {
  const onA = await openStreams(a.base, await openConversations(a.base, STREAMS));
  streams.push(...onA, ...await openStreams(b.base, await openConversations(b.base, STREAMS)));
  await sleep(2_000);
  const login = await (await fetch(`${b.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
  })).json();
  const operator = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };
  const times = await timeShares(b.base, operator, onA, SHARES);
  console.log(`two instances on PostgreSQL, ${STREAMS} streams open on each: share on B -> visitor's stream on A ` +
    `over ${SHARES} shares: p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms`);
  for (const s of streams) s.socket.destroy();

  // Card GET: the same request on PostgreSQL (instance A) and on a SQLite server.
  const cardGet = async (server) => {
    const { url, auth } = await visitorCard(server.base, DEMO_PASSWORD);
    wrk(url, auth, 3); // warm up
    return wrk(url, auth, SECONDS);
  };
  const onPostgres = await cardGet(a);
  const onSqlite = await cardGet(sqlite);
  console.log(`card GET (wrk -c32, ${SECONDS} s): PostgreSQL ${onPostgres.toFixed(0)} req/s, ` +
    `SQLite ${onSqlite.toFixed(0)} req/s (${(onPostgres / onSqlite).toFixed(2)}x)`);
} finally {
  for (const s of streams) s.socket.destroy();
  await Promise.all([a.stop(), b.stop(), sqlite.stop()]);
}
