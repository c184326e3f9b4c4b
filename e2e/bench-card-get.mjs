// Benchmark: a visitor's card GET against the same binary's /healthz, in one run, with
// wrk (32 connections, 2 threads, WRK_SECONDS each). The ratio is what the storage
// layer costs a read. Run by `make bench` (wrk from apt).
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';
import { wrk } from './lib/bench.mjs';

const SECONDS = Number(process.env.WRK_SECONDS ?? 10);
const ROUNDS = Number(process.env.WRK_ROUNDS ?? 3);

const post = (base, path, body, headers = {}) => fetch(`${base}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

const server = await startServer({ RUST_LOG: 'error' });
try {
  const visitor = await (await post(server.base, '/api/v1/conversations', { brand_id: 'acme' })).json();
  const login = await (await post(server.base, '/api/v1/auth/login',
    { email: 'operator@example.com', password: DEMO_PASSWORD })).json();
  const shared = await post(server.base, `/api/v1/operator/conversations/${visitor.conversation.id}/cards`,
    { payment_id: 'pay_demo_mug' }, { authorization: `Bearer ${login.token}` });
  if (shared.status !== 201) throw new Error(`share: HTTP ${shared.status}`);
  const card = await shared.json();
  const cardUrl = `${server.base}/api/v1/cards/${card.id}`;
  const auth = `Authorization: Bearer ${visitor.visitor_token}`;

  wrk(`${server.base}/healthz`, null, SECONDS); // warm up both
  wrk(cardUrl, auth, SECONDS);
  const ratios = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const health = wrk(`${server.base}/healthz`, null, SECONDS);
    const get = wrk(cardUrl, auth, SECONDS);
    ratios.push(get / health);
    console.log(`round ${round}: /healthz ${health.toFixed(0)} req/s, card GET ${get.toFixed(0)} req/s, ` +
      `ratio ${(get / health).toFixed(2)}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`card GET / healthz (wrk -c32, ${SECONDS} s, median of ${ROUNDS}): ${ratios[Math.floor(ROUNDS / 2)].toFixed(2)}`);
} finally {
  await server.stop();
}
