// Benchmark: live updates at 1,000, 4,000 and 10,000 open visitor streams (issue 12).
// Visitors each open a conversation and hold its event stream; at each step the bench
// prints the server's resident memory, its CPU while the streams are idle, and the time
// from an operator's Share (the POST leaving) to the card's event on that visitor's
// stream, over shares into random conversations. Run by `make bench`.
//
//   STREAM_STEPS=1000,4000,10000  SHARES=200  IDLE_SECONDS=30
//
// Needs `ulimit -n` above the largest step (for this process and the server; the
// Makefile raises it).
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';
import { rssKib, cpuSeconds, sleep, pct, openConversations, openStreams, timeShares } from './lib/bench.mjs';

const STEPS = (process.env.STREAM_STEPS ?? '1000,4000,10000').split(',').map(Number);
const SHARES = Number(process.env.SHARES ?? 200);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 30);
const server = await startServer({
  RUST_LOG: 'error',
  PAYCARD_MAX_CONNECTIONS: String(STEPS.at(-1) + 1000),
  PAYCARD_MAX_CONNECTIONS_PER_ADDRESS: String(STEPS.at(-1) + 1000),
});

const login = await (await fetch(`${server.base}/api/v1/auth/login`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
})).json();
const operator = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };

const streams = [];
const rows = [];
try {
  for (const step of STEPS) {
    const visitors = await openConversations(server.base, step - streams.length);
    streams.push(...await openStreams(server.base, visitors));
    await sleep(3_000); // let the opening settle before measuring memory and idle CPU

    const memory = rssKib(server.pid);
    const cpuBefore = cpuSeconds(server.pid);
    await sleep(IDLE_SECONDS * 1000);
    const idleCores = (cpuSeconds(server.pid) - cpuBefore) / IDLE_SECONDS;

    const times = await timeShares(server.base, operator, streams, SHARES);
    const row = {
      streams: streams.length,
      rss: `${(memory / 1024).toFixed(0)} MiB`,
      idle: `${idleCores.toFixed(3)} cores`,
      p50: `${pct(times, 50).toFixed(1)} ms`,
      p99: `${pct(times, 99).toFixed(1)} ms`,
    };
    rows.push(row);
    console.log(`${row.streams} open visitor streams: server RSS ${row.rss}, idle CPU ${row.idle} over ${IDLE_SECONDS} s, ` +
      `share -> stream over ${SHARES} shares: p50 ${row.p50}, p99 ${row.p99}`);
  }
} finally {
  streams.forEach((s) => s.socket.destroy());
  await server.stop();
}
