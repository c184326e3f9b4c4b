// Shared by the benchmarks: many visitors, each holding a live stream on a raw socket.
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export const rssKib = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
/** A process's CPU time so far, in seconds (user + system, all threads). */
export const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
};
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Opens `n` conversations on the server at `base`, 50 requests at a time. */
export async function openConversations(base, n) {
  const made = [];
  for (let i = 0; i < n; i += 50) {
    made.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
      const res = await fetch(`${base}/api/v1/conversations`, {
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

/** A visitor's stream on the server at `base`, on a raw socket: `onEvent` hears each batch of `event:` kinds. */
export function openStream(base, visitor) {
  const { hostname, port } = new URL(base);
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

/** Opens streams for `visitors` on `base`, 200 at a time. */
export async function openStreams(base, visitors) {
  const streams = [];
  for (let i = 0; i < visitors.length; i += 200) {
    streams.push(...await Promise.all(visitors.slice(i, i + 200).map((v) => openStream(base, v))));
  }
  return streams;
}

/**
 * Times `shares` Shares by the operator (`headers`) on `shareBase` into random `streams`:
 * from the POST leaving to the card's message event arriving on that stream. Sorted, in ms.
 */
export async function timeShares(shareBase, headers, streams, shares) {
  const times = [];
  for (let i = 0; i < shares; i++) {
    const target = streams[Math.floor(Math.random() * streams.length)];
    const arrived = new Promise((resolve) => {
      target.onEvent = (kinds) => { if (kinds.includes('message')) resolve(performance.now()); };
    });
    const start = performance.now();
    const res = await fetch(`${shareBase}/api/v1/operator/conversations/${target.visitor.id}/cards`, {
      method: 'POST', headers,
      body: JSON.stringify({ payment_id: i % 2 ? 'pay_demo_mug' : 'pay_demo_beans' }),
    });
    if (res.status !== 201) throw new Error(`share: HTTP ${res.status}`);
    times.push((await arrived) - start);
    target.onEvent = null;
  }
  return times.sort((a, b) => a - b);
}

/** wrk's requests per second for `url` (32 connections, 2 threads, `seconds`), with `header` set. */
export function wrk(url, header, seconds) {
  const args = ['-t2', '-c32', `-d${seconds}s`, '--latency'];
  if (header) args.push('-H', header);
  const run = spawnSync('wrk', [...args, url], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk: ${run.stderr || run.error}`);
  const rps = Number(run.stdout.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const non2xx = run.stdout.match(/Non-2xx or 3xx responses: (\d+)/);
  if (non2xx) throw new Error(`wrk ${url}: ${non2xx[1]} answers were not 2xx`);
  return rps;
}


/**
 * A visitor's card on the server at `base`: a conversation opened, the operator signed in
 * with `password` sharing the mug into it. Returns the card's URL and the visitor's
 * `Authorization` header line, for wrk.
 */
export async function visitorCard(base, password) {
  const post = (path, body, headers = {}) => fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const visitor = await (await post('/api/v1/conversations', { brand_id: 'acme' })).json();
  const login = await (await post('/api/v1/auth/login', { email: 'operator@example.com', password })).json();
  const shared = await post(`/api/v1/operator/conversations/${visitor.conversation.id}/cards`,
    { payment_id: 'pay_demo_mug' }, { authorization: `Bearer ${login.token}` });
  if (shared.status !== 201) throw new Error(`share: HTTP ${shared.status}`);
  const card = await shared.json();
  return { url: `${base}/api/v1/cards/${card.id}`, auth: `Authorization: Bearer ${visitor.visitor_token}` };
}
