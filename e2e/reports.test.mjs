// Reports (SPEC §8.6), in a real browser: an admin opens Reports from the console's header,
// sees the money paid, refunded and kept, the outcomes, the conversion and a bar chart of
// the days, narrows it to one brand, and downloads the cards as CSV; in English at
// 1280 px and in Spanish at 390 px, with the keyboard, and axe finds nothing serious.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD, seriousViolations } from './lib/harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const post = (path, body, token) => fetch(`${server.base}${path}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});

const signIn = async (email) => (await (await post('/api/v1/auth/login', { email, password: DEMO_PASSWORD })).json()).token;

/** Shares `payment` in a new conversation of `brand`; pays it with `number` unless null. */
async function card(token, brand, payment, number) {
  const visitor = await (await post('/api/v1/conversations', { brand_id: brand })).json();
  const shared = await (await post(`/api/v1/operator/conversations/${visitor.conversation.id}/cards`, { payment_id: payment }, token)).json();
  if (number) {
    const link = await (await post(`/api/v1/cards/${shared.id}/checkout`, undefined, visitor.visitor_token)).json();
    const form = new URLSearchParams({ name: 'Ana García', email: 'ana@example.com', card_number: number, expiry: '12/34', cvc: '123' });
    const res = await fetch(link.checkout_url, { method: 'POST', body: form });
    assert.ok(res.status < 500, `checkout: HTTP ${res.status}`);
    await res.text();
  }
  return shared.id;
}

test('an admin reads what was paid, by brand, and downloads it as CSV', async () => {
  const admin = await signIn('admin@example.com');
  const paid = await card(admin, 'acme', 'pay_demo_mug', '4242 4242 4242 4242'); // 25.00 EUR
  await card(admin, 'acme', 'pay_demo_workshop', '4242 4242 4242 4242'); // 120.00 EUR
  await card(admin, 'acme', 'pay_demo_mug', '4000 0000 0000 0002'); // declined by the bank: failed
  await card(admin, 'acme', 'pay_demo_mug', null); // still pending
  await card(admin, 'zen', 'pay_demo_dropin', '4242 4242 4242 4242'); // 15.00 EUR
  const refund = await post(`/api/v1/admin/cards/${paid}/refunds`, { amount_minor: 500 }, admin);
  assert.equal(refund.status, 201);

  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: 'Email' }).fill('admin@example.com');
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // By keyboard: the header's Reports link.
  const link = page.getByRole('link', { name: 'Reports' });
  await link.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  const money = page.getByRole('table', { name: 'Totals per currency' });
  await money.waitFor();
  const eur = money.getByRole('row').filter({ hasText: 'EUR' });
  assert.deepEqual(await eur.getByRole('cell').allTextContents(), ['€160.00', '€5.00', '€155.00']);
  assert.equal(await page.locator('[data-figure="conversion"]').textContent(), '60 %');
  await page.getByText('3 of 5 cards shared were paid').waitFor();
  const outcomes = page.locator('.reports__counts');
  assert.match(await outcomes.textContent(), /Failed attempts1/);
  // The chart: one bar, today's, named with its amount; the same as a table.
  const chart = page.getByRole('img', { name: 'Paid per day, EUR' });
  await chart.waitFor();
  assert.equal(await chart.locator('rect').count(), 1);
  assert.match(await chart.locator('rect title').textContent(), /\d{4}-\d{2}-\d{2}: €160\.00/);
  await page.getByText('Show as a table').click();
  await page.getByRole('table', { name: 'Paid per day, EUR' }).getByText('€160.00').waitFor();
  await page.screenshot({ path: screenshotPath('reports-en'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);

  // One brand: Zen Yoga's drop-in class alone.
  await page.getByLabel('Brand').selectOption({ label: 'Zen Yoga' });
  await page.getByRole('button', { name: 'Show' }).click();
  await page.locator('.reports__body[data-shared="1"]').waitFor();
  assert.deepEqual(await money.getByRole('row').filter({ hasText: 'EUR' }).getByRole('cell').allTextContents(),
    ['€15.00', '€0.00', '€15.00']);

  // The cards as CSV, by the link (the session goes with it).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^paycard-cards-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  assert.equal(lines.length, 2, csv);
  assert.match(lines[0], /^card_id,shared_at,brand_id/);
  assert.match(lines[1], /,zen,.*Drop-in class,paid,.*,EUR,15\.00,/);

  // A reversed range is refused in words.
  await page.getByLabel('From').fill('2026-12-10');
  await page.getByLabel('To').fill('2026-12-01');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('alert').getByText('The last day must not be before the first.').waitFor();
  await context.close();
});

test('Informes en español en un teléfono', async () => {
  const context = await browser.newContext({ locale: 'es-ES', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: 'Correo electrónico' }).fill('admin@example.com');
  await page.getByLabel('Contraseña').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Iniciar sesión' }).click();
  await page.getByRole('link', { name: 'Informes' }).click();
  const money = page.getByRole('table', { name: 'Totales por moneda' });
  await money.waitFor();
  assert.deepEqual(await money.getByRole('row').filter({ hasText: 'EUR' }).getByRole('cell').allTextContents(),
    ['160,00 €', '5,00 €', '155,00 €']);
  await page.getByRole('img', { name: 'Pagado por día, EUR' }).waitFor();
  await page.getByText('Se pagaron 3 de 5 tarjetas compartidas').waitFor();
  // Nothing wider than the phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: screenshotPath('reports-phone-es'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});
