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
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';

const STEPS = (process.env.STREAM_STEPS ?? '1000,4000,10000').split(',').map(Number);
const SHARES = Number(process.env.SHARES ?? 200);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 30);
const CLOCK_TICKS = 100; // USER_HZ on Linux

const rssKib = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
/** The server's CPU time so far, in seconds (user + system, all threads). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const server = await startServer({
  RUST_LOG: 'error',
  PAYCARD_MAX_CONNECTIONS: String(STEPS.at(-1) + 1000),
  PAYCARD_MAX_CONNECTIONS_PER_ADDRESS: String(STEPS.at(-1) + 1000),
});
const { hostname, port } = new URL(server.base);

/** Opens `n` conversations, 50 requests at a time. */
async function openConversations(n) {
  const made = [];
  for (let i = 0; i < n; i += 50) {
    made.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
      const res = await fetch(`${server.base}/api/v1/conversations`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ brand_id: 'acme', visitor_name: 'Bench' }),
      });
      if (res.status !== 201) throw new Error(`conversation: HTTP ${res.status}`);
      const body = await res.json();
      return { id: body.conversation.id, token: body.visitor_token };
    })));
  }
  return made;
}

/** A visitor's stream on a raw socket: reports each `event:` line it receives. */
function openStream(visitor) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const stream = { socket, visitor, onEvent: null, ready: false };
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(
      `GET /api/v1/conversations/${visitor.id}/events HTTP/1.1\r\nHost: ${hostname}\r\n` +
      `Authorization: Bearer ${visitor.token}\r\nAccept: text/event-stream\r\n\r\n`));
    socket.on('data', (chunk) => {
      if (!stream.ready) {
        buffered += chunk;
        if (!buffered.includes('\r\n\r\n')) return;
        if (!buffered.startsWith('HTTP/1.1 200')) {
          reject(new Error(`stream: ${buffered.split('\r\n')[0]}`));
          return;
        }
        stream.ready = true;
        resolve(stream);
      }
      const kinds = [...chunk.matchAll(/^event: (\w+)/gm)].map((m) => m[1]);
      if (kinds.length && stream.onEvent) stream.onEvent(kinds);
    });
    socket.on('error', reject);
  });
}

const login = await (await fetch(`${server.base}/api/v1/auth/login`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
})).json();
const operator = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };

const streams = [];
const rows = [];
try {
  for (const step of STEPS) {
    const visitors = await openConversations(step - streams.length);
    for (let i = 0; i < visitors.length; i += 200) {
      streams.push(...await Promise.all(visitors.slice(i, i + 200).map(openStream)));
    }
    await sleep(3_000); // let the opening settle before measuring memory and idle CPU

    const memory = rssKib(server.pid);
    const cpuBefore = cpuSeconds(server.pid);
    await sleep(IDLE_SECONDS * 1000);
    const idleCores = (cpuSeconds(server.pid) - cpuBefore) / IDLE_SECONDS;

    const times = [];
    for (let i = 0; i < SHARES; i++) {
      const target = streams[Math.floor(Math.random() * streams.length)];
      const arrived = new Promise((resolve) => {
        target.onEvent = (kinds) => { if (kinds.includes('message')) resolve(performance.now()); };
      });
      const start = performance.now();
      const res = await fetch(`${server.base}/api/v1/operator/conversations/${target.visitor.id}/cards`, {
        method: 'POST', headers: operator,
        body: JSON.stringify({ payment_id: i % 2 ? 'pay_demo_mug' : 'pay_demo_beans' }),
      });
      if (res.status !== 201) throw new Error(`share: HTTP ${res.status}`);
      times.push((await arrived) - start);
      target.onEvent = null;
    }
    times.sort((a, b) => a - b);
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
