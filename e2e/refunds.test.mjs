// After the payment, in real browsers (SPEC §8.3–§8.5): an admin adds a webhook endpoint
// in Settings > Notifications; refunds part of a paid card and then the rest from the
// console, and the visitor's card and the console's follow live; the payer gets a
// receipt for the payment and for each refund (read back from an SMTP server on
// loopback), and the merchant's receiver gets card.paid and card.refunded, signed. The
// console side in English and in Spanish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD, seriousViolations } from './lib/harness.mjs';
import { startSmtp, startWebhookReceiver, verifyPaycardSignature } from './lib/receivers.mjs';

let server, browser, smtp, receiver;
// The endpoint's signing secret, as the console showed it once.
let secret;
before(async () => {
  smtp = await startSmtp();
  receiver = await startWebhookReceiver();
  server = await startServer({
    PAYCARD_SMTP_URL: smtp.url,
    PAYCARD_MAIL_FROM: 'Acme Payments <pay@acme.test>',
    PAYCARD_WEBHOOK_ALLOW_PRIVATE: '1',
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await smtp?.close();
  await receiver?.close();
});

async function signInAdmin(locale, w) {
  const context = await browser.newContext({ locale, viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: w.email }).fill('admin@example.com');
  await page.getByLabel(w.password).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: w.signIn }).click();
  await page.getByRole('navigation').first().waitFor();
  return { context, page };
}

test('an admin adds a webhook endpoint; Settings say receipts are sent', async () => {
  const { context, page } = await signInAdmin('en-US', { email: 'Email', password: 'Password', signIn: 'Sign in' });
  await page.goto(`${server.base}/console/settings/notifications`);
  await page.getByText('Payers get a receipt for each payment and refund, from Acme Payments <pay@acme.test>').waitFor();
  await page.getByText('No webhook endpoints yet.').waitFor();
  const form = page.getByRole('form', { name: 'New webhook endpoint' });
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  await form.getByText('This field is required.').waitFor();
  await form.getByRole('textbox', { name: 'Address' }).fill(receiver.url);
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  const shown = page.getByRole('textbox', { name: `Signing secret of ${receiver.url}` });
  secret = await shown.inputValue();
  assert.match(secret, /^whsec_/);
  const row = page.getByRole('table', { name: 'Webhook endpoints' }).getByRole('row').filter({ hasText: receiver.url });
  await row.getByText('All events').waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: screenshotPath('settings-notifications-en'), fullPage: true });
  await context.close();
});

const WORDS = {
  'en-US': {
    email: 'Email', password: 'Password', signIn: 'Sign in', payments: 'Payments', share: 'Share',
    refund: 'Refund', amount: 'Amount to refund', reason: 'Reason (optional)',
    refundTen: 'Refund €10.00', refundRest: 'Refund €15.00', typed: '10.00', prefilled: '25.00', rest: '15.00',
    partLine: 'Payment successful · €10.00 refunded', fullLine: 'Refunded', done: '€10.00 refunded.',
  },
  'es-ES': {
    email: 'Correo electrónico', password: 'Contraseña', signIn: 'Iniciar sesión', payments: 'Pagos', share: 'Compartir',
    refund: 'Reembolsar', amount: 'Importe a reembolsar', reason: 'Motivo (opcional)',
    refundTen: 'Reembolsar 10,00 €', refundRest: 'Reembolsar 15,00 €', typed: '10,00', prefilled: '25,00', rest: '15,00',
    partLine: 'Pago realizado · 10,00 € reembolsados', fullLine: 'Reembolsado', done: '10,00 € reembolsados.',
  },
};

for (const locale of ['en-US', 'es-ES']) {
  test(`an admin refunds part of a paid card, then the rest; both sides see it live (${locale})`, async () => {
    const w = WORDS[locale];
    const opener = `I would like a mug (${locale})`;
    const payer = `ana.${locale.slice(0, 2)}@example.com`;
    const seen = receiver.deliveries.length;
    // The visitor, in English, writes.
    const visitor = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 760 } });
    const page = await visitor.newPage();
    await page.goto(`${server.base}/demo`);
    await page.getByRole('button', { name: 'Open chat' }).click();
    const chat = page.frameLocator('iframe');
    const box = chat.getByRole('textbox', { name: 'Message' });
    await box.fill(opener);
    await box.press('Enter');
    await chat.getByRole('log').getByText(opener).waitFor();

    // The admin, in `locale`, shares the mug.
    const adminContext = await browser.newContext({ locale, viewport: { width: 1200, height: 860 } });
    const admin = await adminContext.newPage();
    await admin.goto(`${server.base}/console`);
    await admin.getByRole('textbox', { name: w.email }).fill('admin@example.com');
    await admin.getByLabel(w.password).fill(DEMO_PASSWORD);
    await admin.getByRole('button', { name: w.signIn }).click();
    await admin.getByRole('navigation').getByRole('link').filter({ hasText: opener }).click();
    await admin.getByRole('log').getByText(opener).waitFor();
    await admin.getByRole('button', { name: w.payments, exact: true }).click();
    const item = admin.getByRole('list', { name: w.payments }).getByRole('listitem').filter({ hasText: 'Custom mug' });
    await item.hover();
    await item.getByRole('button', { name: w.share }).click();
    const card = chat.getByRole('group', { name: 'Custom mug' });
    const adminCard = admin.getByRole('group', { name: 'Custom mug' });
    await card.waitFor();
    // Nothing to refund before it is paid.
    assert.equal(await adminCard.getByRole('button', { name: w.refund }).count(), 0);

    // The visitor pays with the sandbox.
    const [tab] = await Promise.all([visitor.waitForEvent('page'), card.getByRole('button', { name: 'Pay Now' }).click()]);
    await tab.getByLabel('Card number').waitFor();
    await tab.getByLabel('Name').fill('Ana García');
    await tab.getByLabel('Email').fill(payer);
    await tab.getByLabel('Card number').fill('4242 4242 4242 4242');
    await tab.getByLabel('Expiry (MM/YY)').fill('12/34');
    await tab.getByLabel('CVC').fill('123');
    await tab.getByRole('button', { name: /^Pay/ }).click();
    await tab.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await admin.locator('[data-status="paid"]').waitFor();

    // Part of it: the dialog offers what is left; the button names the amount.
    await adminCard.getByRole('button', { name: w.refund }).click();
    const dialog = admin.getByRole('dialog', { name: w.refund });
    const amount = dialog.getByRole('textbox', { name: w.amount });
    assert.equal(await amount.inputValue(), w.prefilled);
    await amount.fill(w.typed);
    await dialog.getByRole('textbox', { name: w.reason }).fill('Chipped handle');
    assert.deepEqual(
      await seriousViolations(admin, 'dialog'),
      [],
    );
    await admin.screenshot({ path: screenshotPath(`console-refund-dialog-${locale.slice(0, 2)}`) });
    await dialog.getByRole('button', { name: w.refundTen }).click();
    await admin.getByText(w.done).waitFor();
    await adminCard.getByText(w.partLine).waitFor();
    await card.getByText('Payment successful · €10.00 refunded').waitFor();
    assert.equal(await card.getAttribute('data-status'), 'paid');

    // The rest.
    await adminCard.getByRole('button', { name: w.refund }).click();
    assert.equal(await amount.inputValue(), w.rest);
    await dialog.getByRole('button', { name: w.refundRest }).click();
    await admin.locator('[data-status="refunded"]').waitFor();
    await adminCard.getByText(w.fullLine, { exact: true }).waitFor();
    await chat.locator('[data-status="refunded"]').getByText('Refunded', { exact: true }).waitFor();
    assert.equal(await adminCard.getByRole('button', { name: w.refund }).count(), 0, 'nothing left to refund');
    await admin.screenshot({ path: screenshotPath(`console-card-refunded-${locale.slice(0, 2)}`) });
    await page.screenshot({ path: screenshotPath('widget-card-refunded') });

    // The payer's receipts: the payment, then each refund.
    const receipt = await smtp.waitFor((m) => m.to.includes(payer) && m.subject.startsWith('Your receipt from Acme'));
    assert.match(receipt.text, /Amount: €25\.00/);
    assert.match(receipt.text, /Reference: att_/);
    assert.match(receipt.html, /Custom mug/);
    await smtp.waitFor((m) => m.to.includes(payer) && /Refunded: €10\.00/.test(m.text));
    const last = await smtp.waitFor((m) => m.to.includes(payer) && /Refunded: €15\.00/.test(m.text));
    assert.match(last.text, /Refunded in total: €25\.00/);

    // The merchant's receiver: card.paid and card.refunded, each signed with the secret.
    const mine = (d) => receiver.deliveries.indexOf(d) >= seen;
    const paid = await receiver.waitFor((d) => mine(d) && d.event.type === 'card.paid');
    const refunded = await receiver.waitFor((d) => mine(d) && d.event.type === 'card.refunded'
      && d.event.data.card.status === 'refunded');
    for (const d of [paid, refunded]) {
      assert.ok(verifyPaycardSignature(d.signature, d.raw, secret), `signature ${d.signature}`);
      assert.ok(!verifyPaycardSignature(d.signature, d.raw, 'whsec_not_this_one'));
      assert.equal(d.event.data.card.title, 'Custom mug');
    }
    assert.equal(refunded.event.data.card.refunded_minor, 2500);
    await visitor.close();
    await adminContext.close();
  });
}

test('the deliveries view lists what was sent, and sends one again (es)', async () => {
  const { context, page } = await signInAdmin('es-ES', { email: 'Correo electrónico', password: 'Contraseña', signIn: 'Iniciar sesión' });
  await page.goto(`${server.base}/console/settings/notifications`);
  await page.getByRole('button', { name: `Envíos a ${receiver.url}` }).click();
  const table = page.getByRole('table', { name: 'Envíos recientes' });
  const paidRow = table.getByRole('row').filter({ hasText: 'card.paid' }).first();
  await paidRow.getByText('Entregado').waitFor();
  await paidRow.getByText('HTTP 200').waitFor();
  const before = receiver.deliveries.length;
  await paidRow.getByRole('button', { name: 'Enviar card.paid de nuevo' }).click();
  const again = await receiver.waitFor((d) => receiver.deliveries.indexOf(d) >= before);
  assert.equal(again.event.type, 'card.paid');
  assert.ok(verifyPaycardSignature(again.signature, again.raw, secret));
  await page.getByRole('button', { name: 'Actualizar' }).click();
  await table.getByRole('row').filter({ hasText: 'card.paid' }).first().getByRole('cell', { name: '2', exact: true }).waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: screenshotPath('settings-notifications-es'), fullPage: true });
  await context.close();
});
