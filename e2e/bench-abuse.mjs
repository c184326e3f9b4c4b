// Benchmark: the release server tried as an attacker would (SPEC §8.1), each case of
// issue 11 measured again. Prints one line per case. Run by `make bench`.
//
//   - 150 sign-ins at once with random emails: resident memory before and at its peak,
//     with the rate limits off (every request reaches the password check) and on;
//   - 1000 conversations as fast as one address can open them;
//   - 600 connections that send half a request's headers: how many are open 12 s later;
//   - 1000 live streams for one visitor token: how many stay open.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startServer } from './lib/harness.mjs';

const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
const post = (base, path, body, headers = {}) => fetch(`${base}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});
const count = (statuses) => Object.entries(statuses.reduce((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {}))
  .map(([s, n]) => `${n}×${s}`).join(', ');

async function signInFlood(limits) {
  const server = await startServer({ RUST_LOG: 'error' }, { limits });
  try {
    const before = rss(server.pid);
    let peak = before;
    const watch = setInterval(() => { peak = Math.max(peak, rss(server.pid)); }, 5);
    const statuses = await Promise.all(Array.from({ length: 150 }, (_, i) =>
      post(server.base, '/api/v1/auth/login', { email: `nobody${i}@example.com`, password: 'guess' })
        .then((r) => r.status)));
    clearInterval(watch);
    peak = Math.max(peak, rss(server.pid));
    console.log(`sign-in flood, 150 at once, limits ${limits}: memory ${mib(before)} -> peak ${mib(peak)}; ${count(statuses)}`);
  } finally {
    await server.stop();
  }
}

async function conversationFlood() {
  const server = await startServer({ RUST_LOG: 'error' }, { limits: 'default' });
  try {
    const start = performance.now();
    const statuses = [];
    for (let i = 0; i < 1000; i += 50) {
      statuses.push(...await Promise.all(Array.from({ length: 50 }, () =>
        post(server.base, '/api/v1/conversations', { brand_id: 'acme' }).then((r) => r.status))));
    }
    console.log(`1000 conversations from one address in ${((performance.now() - start) / 1000).toFixed(1)} s: ${count(statuses)}`);
  } finally {
    await server.stop();
  }
}

async function halfHeaders() {
  const server = await startServer({ RUST_LOG: 'error' });
  try {
    const { hostname, port } = new URL(server.base);
    let open = 0;
    const sockets = Array.from({ length: 600 }, () => {
      const socket = net.connect({ host: hostname, port: Number(port) }, () => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      });
      open++;
      socket.on('error', () => {});
      socket.on('close', () => { open--; });
      return socket;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after1 = open;
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    console.log(`600 connections from one address with half a request's headers: ${after1} open after 1 s, ` +
      `${open} after 12 s (header timeout 10 s)`);
    sockets.forEach((s) => s.destroy());
  } finally {
    await server.stop();
  }
}

async function streamsForOneToken() {
  const server = await startServer({ RUST_LOG: 'error' });
  try {
    const created = await (await post(server.base, '/api/v1/conversations', { brand_id: 'acme' })).json();
    const { hostname, port } = new URL(server.base);
    const path = `/api/v1/conversations/${created.conversation.id}/events`;
    let open = 0;
    const sockets = [];
    for (let i = 0; i < 1000; i++) {
      sockets.push(await new Promise((resolve) => {
        const socket = net.connect({ host: hostname, port: Number(port) }, () => {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${created.visitor_token}\r\n\r\n`);
          open++;
          resolve(socket);
        });
        socket.on('error', () => {});
        socket.on('close', () => { open--; });
        // The server ends a replaced stream (a last `closed` event, then the end of the response).
        socket.on('data', (chunk) => { if (chunk.includes('0\r\n\r\n')) socket.destroy(); });
      }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    console.log(`1000 live streams for one visitor token: ${open} still open`);
    sockets.forEach((s) => s.destroy());
  } finally {
    await server.stop();
  }
}

await signInFlood('off');
await signInFlood('default');
await conversationFlood();
await halfHeaders();
await streamsForOneToken();
