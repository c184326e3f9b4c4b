// A stand-in for Stripe on loopback, for the end-to-end tests and the contract run: the
// API calls paycard makes (read the balance to test a key; create, retrieve and expire a
// Checkout Session; create a refund), checked for shape and key, and a hosted "Stripe
// Checkout" page whose Pay button completes the session, sends the signed `checkout.session.completed` webhook (HMAC-SHA256 of
// `t.body`, as Stripe signs), and returns the customer to the session's success URL.
// A refund is answered `pending` and settled a moment later by `refund.updated`, as
// Stripe does with card refunds.
import { createServer } from 'node:http';
import { sendJson as json, readBody, escapeHtml as escape } from './standin.mjs';
import { createHmac } from 'node:crypto';

export async function startStripeStandIn({ secretKey, webhookSecret }) {
  const sessions = new Map();
  const refunds = [];
  const refundsByKey = new Map();
  let webhookUrl = null;
  let count = 0;

  const fail = (res, status, message) => json(res, status, { error: { type: 'invalid_request_error', message } });

  async function sendWebhook(type, session) {
    const body = JSON.stringify({
      id: `evt_${++count}`, object: 'event', type,
      data: { object: session },
    });
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', webhookSecret).update(`${t}.${body}`).digest('hex');
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
      body,
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    const api = url.pathname.startsWith('/v1/');
    if (api && req.headers.authorization !== `Bearer ${secretKey}`) {
      const given = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      return fail(res, 401, `Invalid API Key provided: ${given.slice(0, 8)}********${given.slice(-4)}`);
    }
    // What a connection test reads: authenticated, changes nothing.
    if (req.method === 'GET' && url.pathname === '/v1/balance') {
      return json(res, 200, { object: 'balance', available: [{ amount: 0, currency: 'eur' }], livemode: false });
    }
    if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
      const p = Object.fromEntries(new URLSearchParams(await readBody(req)));
      for (const name of ['mode', 'client_reference_id', 'success_url', 'cancel_url',
        'line_items[0][price_data][currency]', 'line_items[0][price_data][unit_amount]',
        'line_items[0][price_data][product_data][name]']) {
        if (!p[name]) return fail(res, 400, `Missing required param: ${name}.`);
      }
      if (!req.headers['idempotency-key']) return fail(res, 400, 'Idempotency-Key expected');
      const id = `cs_test_${++count}`;
      const session = {
        id, object: 'checkout.session', status: 'open', payment_status: 'unpaid', mode: p.mode,
        client_reference_id: p.client_reference_id, url: `${base}/c/pay/${id}`,
        amount_total: Number(p['line_items[0][price_data][unit_amount]']),
        currency: p['line_items[0][price_data][currency]'],
        title: p['line_items[0][price_data][product_data][name]'],
        success_url: p.success_url, cancel_url: p.cancel_url,
      };
      sessions.set(id, session);
      return json(res, 200, session);
    }
    if (req.method === 'POST' && url.pathname === '/v1/refunds') {
      const key = req.headers['idempotency-key'];
      if (!key) return fail(res, 400, 'Idempotency-Key expected');
      if (refundsByKey.has(key)) return json(res, 200, refundsByKey.get(key));
      const p = Object.fromEntries(new URLSearchParams(await readBody(req)));
      const session = [...sessions.values()].find((s) => s.payment_intent && s.payment_intent === p.payment_intent);
      if (!session) return fail(res, 400, `No such payment_intent: '${p.payment_intent}'`);
      const refunded = refunds.filter((r) => r.payment_intent === p.payment_intent && r.status !== 'failed')
        .reduce((sum, r) => sum + r.amount, 0);
      const amount = Number(p.amount ?? session.amount_total - refunded);
      if (!(amount > 0) || amount > session.amount_total - refunded) {
        return fail(res, 400, `Refund amount (${amount}) is greater than unrefunded amount on charge (${session.amount_total - refunded})`);
      }
      const refund = {
        id: `re_test_${++count}`, object: 'refund', amount, payment_intent: p.payment_intent,
        status: 'pending', metadata: { refund_id: p['metadata[refund_id]'] },
      };
      refunds.push(refund);
      refundsByKey.set(key, refund);
      json(res, 200, refund);
      setTimeout(() => {
        refund.status = 'succeeded';
        sendWebhook('refund.updated', refund).catch((e) => console.error('stand-in refund webhook:', e));
      }, 300);
      return;
    }
    let m = url.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/);
    if (m) {
      const session = sessions.get(m[1]);
      if (!session) return fail(res, 404, 'No such checkout.session');
      if (m[2] && req.method === 'POST') {
        if (session.status !== 'open') return fail(res, 400, 'Only Checkout Sessions with a status in ["open"] can be expired.');
        session.status = 'expired';
      }
      return json(res, 200, session);
    }
    m = url.pathname.match(/^\/c\/pay\/([^/]+)$/);
    if (m && sessions.has(m[1])) {
      const session = sessions.get(m[1]);
      if (req.method === 'POST') {
        session.status = 'complete';
        session.payment_status = 'paid';
        session.payment_intent = `pi_for_${session.id}`;
        await sendWebhook('checkout.session.completed', session);
        res.writeHead(303, { location: session.success_url });
        return res.end();
      }
      const amount = (session.amount_total / 100).toFixed(2);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><html lang="en"><head><title>Stand-in Stripe Checkout</title></head>
        <body><main><h1>Stand-in Stripe Checkout</h1><p>${escape(session.title)}: ${amount} ${escape(session.currency.toUpperCase())}</p>
        <form method="post"><button type="submit">Pay</button></form>
        <a href="${escape(session.cancel_url)}">Back</a></main></body></html>`);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    sessions,
    refunds,
    /** Where to send webhooks: the endpoint the admin registers at Stripe. */
    setWebhookUrl(url) { webhookUrl = url; },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
