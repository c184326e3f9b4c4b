// An unpaid card expires on time and both chat sides show it, live (SPEC §3 expired).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, DEMO_PASSWORD } from './lib/harness.mjs';

let server, browser;
before(async () => {
  server = await startServer({ PAYCARD_CARD_TTL_SECONDS: '3' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an unpaid card expires live on both sides and its buttons go', async () => {
  const visitor = await browser.newContext({ locale: 'en-US' });
  const page = await visitor.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  await chat.getByRole('textbox', { name: 'Message' }).fill('Quick question');
  await chat.getByRole('textbox', { name: 'Message' }).press('Enter');
  await chat.getByRole('log').getByText('Quick question').waitFor();

  const operator = await browser.newContext({ locale: 'en-US' });
  const console = await operator.newPage();
  await console.goto(`${server.base}/console`);
  await console.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await console.getByLabel('Password').fill(DEMO_PASSWORD);
  await console.getByRole('button', { name: 'Sign in' }).click();
  await console.getByRole('navigation').getByRole('link').filter({ hasText: 'Quick question' }).click();
  await console.getByRole('button', { name: 'Payments', exact: true }).click();
  const item = console.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Custom mug' });
  await item.hover();
  await item.getByRole('button', { name: 'Share' }).click();

  const card = chat.getByRole('group', { name: 'Custom mug' });
  await card.getByRole('button', { name: 'Pay Now' }).waitFor();
  await chat.locator('[data-status="expired"]').waitFor({ timeout: 15_000 });
  assert.match(await card.textContent(), /Expired/);
  assert.equal(await card.getByRole('button').count(), 0);
  await console.locator('[data-status="expired"]').waitFor({ timeout: 15_000 });
  await visitor.close();
  await operator.close();
});
