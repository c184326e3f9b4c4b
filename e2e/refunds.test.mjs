// Refunds from the console (SPEC §8.3), in real browsers: an admin refunds part of a paid
// card and then the rest; the visitor's card and the console's follow live. The console
// side in English and in Spanish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD } from './lib/harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
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
    await tab.getByLabel('Email').fill('ana@example.com');
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
      (await new AxeBuilder({ page: admin }).include('dialog').analyze()).violations
        .filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => v.id),
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
    await visitor.close();
    await adminContext.close();
  });
}
