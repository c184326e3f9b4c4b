// What the gateways' stand-ins (Stripe, PayPal, Razorpay) share: answering JSON,
// reading a request's body, and writing text into their small hosted pages.

/** Answers `body` as JSON with `status`. */
export function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The request's whole body, as text. */
export function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });
}

/** Text safe inside HTML (and its attributes). */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}
