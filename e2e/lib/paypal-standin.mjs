// A stand-in for PayPal's REST API on loopback, for the end-to-end tests: OAuth client
// credentials, Orders v2 (create with PayPal-Request-Id, read, capture), refunds of a
// capture, and verify-webhook-signature, each checked for credentials and shape and
// answered in PayPal's shapes. Its hosted "approve" page approves the order, sends the
// CHECKOUT.ORDER.APPROVED webhook (which only this stand-in can vouch for when paycard
// asks it to verify), and returns the payer to the order's return URL with `token`.
import { createServer } from 'node:http';
import { sendJson as json, readBody, escapeHtml as escape } from './standin.mjs';
import { randomUUID } from 'node:crypto';

export async function startPayPalStandIn({ clientId, clientSecret, webhookId }) {
  const token = `A21AA${randomUUID().replaceAll('-', '')}`;
  const orders = new Map();
  const byRequest = new Map();
  const captures = new Map();
  const refunds = [];
  const transmissions = new Map();
  let webhookUrl = null;
  let count = 0;

  const fail = (res, status, name, issue, description) => json(res, status, {
    name, message: 'The requested action could not be performed.', debug_id: 'standin', details: [{ issue, description }],
  });

  async function sendWebhook(eventType, resource) {
    const event = { id: `WH-${++count}`, event_version: '1.0', event_type: eventType, resource_type: 'checkout-order', resource };
    const body = JSON.stringify(event);
    const transmissionId = randomUUID();
    const sig = `standin-${randomUUID()}`;
    transmissions.set(transmissionId, { sig, body });
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'paypal-auth-algo': 'SHA256withRSA',
        'paypal-cert-url': 'https://api.paypal.com/v1/notifications/certs/CERT-standin',
        'paypal-transmission-id': transmissionId,
        'paypal-transmission-sig': sig,
        'paypal-transmission-time': new Date().toISOString(),
      },
      body,
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    if (req.method === 'POST' && url.pathname === '/v1/oauth2/token') {
      const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
      if (req.headers.authorization !== basic) {
        return json(res, 401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
      }
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') !== 'client_credentials') {
        return json(res, 400, { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' });
      }
      return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 32400 });
    }
    const api = url.pathname.startsWith('/v1/') || url.pathname.startsWith('/v2/');
    if (api && req.headers.authorization !== `Bearer ${token}`) {
      return json(res, 401, { name: 'AUTHENTICATION_FAILURE', message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.' });
    }
    if (req.method === 'POST' && url.pathname === '/v2/checkout/orders') {
      const requestId = req.headers['paypal-request-id'];
      if (!requestId) return fail(res, 400, 'INVALID_REQUEST', 'MISSING_REQUIRED_PARAMETER', 'PayPal-Request-Id');
      if (byRequest.has(requestId)) return json(res, 200, orders.get(byRequest.get(requestId)));
      const body = JSON.parse(await readBody(req) || '{}');
      const unit = body.purchase_units?.[0] ?? {};
      const context = body.payment_source?.paypal?.experience_context ?? {};
      if (body.intent !== 'CAPTURE') return fail(res, 400, 'INVALID_REQUEST', 'INVALID_PARAMETER_VALUE', 'intent');
      for (const [value, name] of [[unit.amount?.currency_code, 'currency_code'], [unit.amount?.value, 'value'],
        [unit.custom_id, 'custom_id'], [context.return_url, 'return_url'], [context.cancel_url, 'cancel_url']]) {
        if (!value) return fail(res, 400, 'INVALID_REQUEST', 'MISSING_REQUIRED_PARAMETER', name);
      }
      const id = `5O190127TN36${String(++count).padStart(4, '0')}`;
      const order = {
        id, status: 'PAYER_ACTION_REQUIRED', intent: 'CAPTURE',
        purchase_units: [{ reference_id: 'default', custom_id: unit.custom_id, description: unit.description, amount: unit.amount }],
        links: [{ href: `${base}/checkoutnow?token=${id}`, rel: 'payer-action', method: 'GET' }],
        return_url: context.return_url, cancel_url: context.cancel_url, locale: context.locale,
      };
      orders.set(id, order);
      byRequest.set(requestId, id);
      return json(res, 200, order);
    }
    let m = url.pathname.match(/^\/v2\/checkout\/orders\/([^/]+)(\/capture)?$/);
    if (m) {
      const order = orders.get(m[1]);
      if (!order) return fail(res, 404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', 'Specified resource ID does not exist.');
      if (!m[2]) return json(res, 200, order);
      const requestId = req.headers['paypal-request-id'];
      if (!requestId) return fail(res, 400, 'INVALID_REQUEST', 'MISSING_REQUIRED_PARAMETER', 'PayPal-Request-Id');
      if (captures.has(requestId)) return json(res, 201, captures.get(requestId));
      if (order.status === 'COMPLETED') return fail(res, 422, 'UNPROCESSABLE_ENTITY', 'ORDER_ALREADY_CAPTURED', 'Order already captured.');
      if (order.status !== 'APPROVED') return fail(res, 422, 'UNPROCESSABLE_ENTITY', 'ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment.');
      order.status = 'COMPLETED';
      order.purchase_units[0].payments = { captures: [{ id: `3C6793${String(++count).padStart(6, '0')}`, status: 'COMPLETED', amount: order.purchase_units[0].amount, custom_id: order.purchase_units[0].custom_id }] };
      captures.set(requestId, order);
      return json(res, 201, order);
    }
    m = url.pathname.match(/^\/v2\/payments\/captures\/([^/]+)\/refund$/);
    if (m && req.method === 'POST') {
      const requestId = req.headers['paypal-request-id'];
      if (!requestId) return fail(res, 400, 'INVALID_REQUEST', 'MISSING_REQUIRED_PARAMETER', 'PayPal-Request-Id');
      const known = refunds.find((r) => r.requestId === requestId);
      if (known) return json(res, 201, known.refund);
      const body = JSON.parse(await readBody(req) || '{}');
      const refund = { id: `1JU089${String(++count).padStart(6, '0')}`, status: 'COMPLETED', amount: body.amount, custom_id: body.custom_id };
      refunds.push({ requestId, capture: m[1], refund });
      return json(res, 201, refund);
    }
    if (req.method === 'POST' && url.pathname === '/v1/notifications/verify-webhook-signature') {
      const body = JSON.parse(await readBody(req) || '{}');
      const sent = transmissions.get(body.transmission_id);
      const ok = body.webhook_id === webhookId && sent && sent.sig === body.transmission_sig
        && JSON.stringify(body.webhook_event) === sent.body;
      return json(res, 200, { verification_status: ok ? 'SUCCESS' : 'FAILURE' });
    }
    m = url.pathname.match(/^\/v1\/notifications\/webhooks\/([^/]+)$/);
    if (m && req.method === 'GET') {
      if (m[1] !== webhookId) return fail(res, 404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', 'Specified resource ID does not exist.');
      return json(res, 200, { id: webhookId, url: webhookUrl, event_types: [{ name: 'CHECKOUT.ORDER.APPROVED' }] });
    }
    if (url.pathname === '/checkoutnow' && orders.has(url.searchParams.get('token'))) {
      const order = orders.get(url.searchParams.get('token'));
      if (req.method === 'POST') {
        order.status = 'APPROVED';
        await sendWebhook('CHECKOUT.ORDER.APPROVED', order);
        res.writeHead(303, { location: `${order.return_url}&token=${order.id}&PayerID=STANDINPAYER` });
        return res.end();
      }
      const unit = order.purchase_units[0];
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><html lang="en"><head><title>Stand-in PayPal</title></head>
        <body><main><h1>Stand-in PayPal</h1><p>${escape(unit.description ?? '')}: ${escape(unit.amount.value)} ${escape(unit.amount.currency_code)}</p>
        <form method="post"><button type="submit">Approve and pay</button></form>
        <a href="${escape(order.cancel_url)}">Cancel and return</a></main></body></html>`);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    orders,
    refunds,
    setWebhookUrl(u) { webhookUrl = u; },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
