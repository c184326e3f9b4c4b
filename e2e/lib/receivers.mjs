// The merchant's side in the end-to-end tests: an SMTP server on loopback that keeps
// the receipts it is given (nodemailer's smtp-server, parsed with mailparser), and an
// HTTP receiver of paycard's webhooks that checks each signature as docs/webhooks.md
// tells merchants to.
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export async function startSmtp() {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: mail.subject, text: mail.text, html: mail.html });
        callback();
      }, callback);
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** Waits for a message matching `predicate`. */
    async waitFor(predicate, timeout = 15_000) {
      const until = Date.now() + timeout;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no such message; got ${JSON.stringify(messages.map((m) => m.subject))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Verifies `Paycard-Signature: t=…,v1=…` on the raw body (docs/webhooks.md, Node). */
export function verifyPaycardSignature(header, rawBody, secret, toleranceSeconds = 300) {
  const parts = Object.fromEntries(String(header).split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startWebhookReceiver() {
  const deliveries = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      deliveries.push({ signature: req.headers['paycard-signature'], raw, event: JSON.parse(raw.toString('utf8')) });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/paycard-events`,
    deliveries,
    async waitFor(predicate, timeout = 15_000) {
      const until = Date.now() + timeout;
      for (;;) {
        const found = deliveries.find(predicate);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no such delivery; got ${JSON.stringify(deliveries.map((d) => d.event.type))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
