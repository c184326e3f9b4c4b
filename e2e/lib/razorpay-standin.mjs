// A stand-in for Razorpay's API on loopback, for the end-to-end tests: Payment Links
// (create, read, cancel), payments' refunds, and a read to check keys, each checked for
// the key id and secret (HTTP basic) and shape, answered in Razorpay's shapes. Its
// hosted link page takes the payment, sends the `payment_link.paid` webhook signed with
// the webhook secret, and returns the customer to the callback URL with the fields
// Razorpay signs with the key secret (`link_id|reference_id|status|payment_id`).
import { createServer } from 'node:http';
import { sendJson as json, readBody, escapeHtml as escape } from './standin.mjs';
import { createHmac, randomUUID } from 'node:crypto';

export async function startRazorpayStandIn({ keyId, keySecret, webhookSecret }) {
  const links = new Map();
  const refunds = [];
  let webhookUrl = null;
  let count = 0;

  const fail = (res, status, description) => json(res, status, {
    error: { code: 'BAD_REQUEST_ERROR', description, source: 'business', step: 'payment_initiation', reason: 'input_validation_failed', metadata: {} },
  });
  const hmac = (secret, message) => createHmac('sha256', secret).update(message).digest('hex');

  async function sendWebhook(event, payload) {
    const body = JSON.stringify({ entity: 'event', account_id: 'acc_standin', event, contains: Object.keys(payload), payload, created_at: Math.floor(Date.now() / 1000) });
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-razorpay-event-id': `evt_${randomUUID()}`, 'x-razorpay-signature': hmac(webhookSecret, body) },
      body,
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    if (url.pathname.startsWith('/v1/')) {
      const basic = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString('base64')}`;
      if (req.headers.authorization !== basic) return fail(res, 401, 'Authentication failed');
    }
    if (req.method === 'GET' && url.pathname === '/v1/payments') {
      return json(res, 200, { entity: 'collection', count: 0, items: [] });
    }
    if (req.method === 'POST' && url.pathname === '/v1/payment_links') {
      const body = JSON.parse(await readBody(req) || '{}');
      for (const name of ['amount', 'currency', 'reference_id', 'callback_url', 'callback_method', 'expire_by']) {
        if (body[name] === undefined || body[name] === null) return fail(res, 400, `The ${name} field is required.`);
      }
      if ([...links.values()].some((l) => l.reference_id === body.reference_id)) {
        return fail(res, 400, `Payment Link with reference id ${body.reference_id} already exists`);
      }
      const id = `plink_${String(++count).padStart(14, '0')}`;
      const link = {
        id, entity: 'payment_link', status: 'created', amount: body.amount, currency: body.currency,
        reference_id: body.reference_id, description: body.description, notes: body.notes,
        callback_url: body.callback_url, short_url: `${base}/i/${id}`, payments: null,
      };
      links.set(id, link);
      return json(res, 200, link);
    }
    let m = url.pathname.match(/^\/v1\/payment_links\/([^/]+)(\/cancel)?$/);
    if (m) {
      const link = links.get(m[1]);
      if (!link) return fail(res, 400, 'The id provided does not exist');
      if (m[2]) {
        if (link.status === 'paid') return fail(res, 400, 'Payment Link cannot be cancelled as it is already paid');
        link.status = 'cancelled';
      }
      return json(res, 200, link);
    }
    m = url.pathname.match(/^\/v1\/payments\/([^/]+)\/refunds?$/);
    if (m) {
      const mine = refunds.filter((r) => r.payment_id === m[1]);
      if (req.method === 'GET') return json(res, 200, { entity: 'collection', count: mine.length, items: mine });
      const body = JSON.parse(await readBody(req) || '{}');
      const refund = { id: `rfnd_${String(++count).padStart(14, '0')}`, entity: 'refund', amount: body.amount, payment_id: m[1], notes: body.notes, receipt: body.receipt, status: 'pending' };
      refunds.push(refund);
      json(res, 200, refund);
      setTimeout(() => {
        refund.status = 'processed';
        sendWebhook('refund.processed', { refund: { entity: refund } }).catch((e) => console.error('stand-in refund webhook:', e));
      }, 300);
      return;
    }
    m = url.pathname.match(/^\/i\/([^/]+)$/);
    if (m && links.has(m[1])) {
      const link = links.get(m[1]);
      if (req.method === 'POST') {
        const paymentId = `pay_${String(++count).padStart(14, '0')}`;
        link.status = 'paid';
        link.payments = [{ payment_id: paymentId, amount: link.amount, status: 'captured' }];
        await sendWebhook('payment_link.paid', { payment_link: { entity: link }, payment: { entity: { id: paymentId, entity: 'payment', status: 'captured' } } });
        const back = new URL(link.callback_url);
        back.searchParams.set('razorpay_payment_id', paymentId);
        back.searchParams.set('razorpay_payment_link_id', link.id);
        back.searchParams.set('razorpay_payment_link_reference_id', link.reference_id);
        back.searchParams.set('razorpay_payment_link_status', 'paid');
        back.searchParams.set('razorpay_signature', hmac(keySecret, `${link.id}|${link.reference_id}|paid|${paymentId}`));
        res.writeHead(303, { location: back.toString() });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><html lang="en"><head><title>Stand-in Razorpay</title></head>
        <body><main><h1>Stand-in Razorpay</h1><p>${escape(link.description ?? '')}: ${escape(link.amount)} ${escape(link.currency)} (minor units)</p>
        <form method="post"><button type="submit">Pay with Razorpay</button></form></main></body></html>`);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    links,
    refunds,
    setWebhookUrl(u) { webhookUrl = u; },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
