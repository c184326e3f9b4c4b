// Benchmark: the checkout's server time per payment (POST /pay/{token}, sandbox card,
// to the outcome page) with 50 visitors paying at once, against the release server on
// loopback. Prints p50/p99/max over ROUNDS × 50 payments. Run by `make bench`.
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';

const VISITORS = Number(process.env.VISITORS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const server = await startServer({ RUST_LOG: 'error' });
const post = (path, body, headers = {}) => fetch(`${server.base}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body),
}).then((r) => r.json());

try {
  const { token } = await post('/api/v1/auth/login', { email: 'operator@example.com', password: DEMO_PASSWORD });
  const operator = { authorization: `Bearer ${token}` };
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Set-up, not measured: a conversation, a shared card and its checkout link each.
    const links = [];
    for (let v = 0; v < VISITORS; v++) {
      const { conversation, visitor_token } = await post('/api/v1/conversations', { brand_id: 'acme' });
      const card = await post(`/api/v1/operator/conversations/${conversation.id}/cards`, { payment_id: 'pay_demo_mug' }, operator);
      const { checkout_url } = await post(`/api/v1/cards/${card.id}/checkout`, null, { authorization: `Bearer ${visitor_token}` });
      links.push(checkout_url);
    }
    const form = new URLSearchParams({ name: 'Ana', email: 'ana@example.com', card_number: '4242 4242 4242 4242', expiry: '12/34', cvc: '123' });
    await Promise.all(links.map(async (url) => {
      const start = performance.now();
      const res = await fetch(url, { method: 'POST', body: form });
      const html = await res.text();
      times.push(performance.now() - start);
      if (!html.includes('Payment successful')) throw new Error(`payment failed: HTTP ${res.status}`);
    }));
  }
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  console.log(`checkout POST /pay, ${VISITORS} visitors paying at once, ${times.length} payments: ` +
    `p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`);
} finally {
  await server.stop();
}
