// Pay Now to paid, in real browsers: the widget opens the hosted checkout in a new
// tab, the visitor pays with a sandbox card, and both chat sides see the outcome.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

/** A visitor with the chat open, an operator with their conversation, and a shared card. */
async function sharedCard(title, paymentId, opener) {
  const visitor = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 760 } });
  const page = await visitor.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: 'Message' });
  await box.fill(opener);
  await box.press('Enter');
  await chat.getByRole('log').getByText(opener).waitFor();

  const operatorContext = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  const console = await operatorContext.newPage();
  await console.goto(`${server.base}/console`);
  await console.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await console.getByLabel('Password').fill(DEMO_PASSWORD);
  await console.getByRole('button', { name: 'Sign in' }).click();
  await console.getByRole('navigation').getByRole('link').filter({ hasText: opener }).click();
  await console.getByRole('log').getByText(opener).waitFor();
  await console.getByRole('button', { name: 'Payments', exact: true }).click();
  const item = console.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: title });
  await item.hover();
  await item.getByRole('button', { name: 'Share' }).click();
  const card = chat.getByRole('group', { name: title });
  await card.waitFor();
  return { visitor, page, chat, card, operatorContext, console, operatorCard: console.getByRole('group', { name: title }), paymentId };
}

async function openCheckout(s) {
  const [tab] = await Promise.all([s.visitor.waitForEvent('page'), s.card.getByRole('button', { name: 'Pay Now' }).click()]);
  await tab.waitForURL(/\/pay\/pck_/);
  await tab.getByLabel('Card number').waitFor();
  return tab;
}

async function fillAndPay(tab, number) {
  await tab.getByLabel('Name').fill('Ana García');
  await tab.getByLabel('Email').fill('ana@example.com');
  await tab.getByLabel('Card number').fill(number);
  await tab.getByLabel('Expiry (MM/YY)').fill('12/34');
  await tab.getByLabel('CVC').fill('123');
  await tab.getByRole('button', { name: /^Pay/ }).click();
}

test('Pay Now opens the checkout; a good card pays; both sides show it', async () => {
  const s = await sharedCard('Coffee subscription', 'pay_demo_beans', 'I want the subscription');
  const tab = await openCheckout(s);
  assert.match(await tab.locator('body').textContent(), /€49\.00 \/ month/);
  assert.deepEqual(await seriousViolations(tab), []);
  await tab.screenshot({ path: screenshotPath('checkout-form-en') });
  await fillAndPay(tab, '4242 4242 4242 4242');
  await tab.getByRole('heading', { name: 'Payment successful' }).waitFor();

  await s.chat.locator('[data-status="paid"]').waitFor();
  assert.match(await s.card.textContent(), /Payment successful/);
  assert.equal(await s.card.getByRole('button').count(), 0);
  await s.console.locator('[data-status="paid"]').waitFor();
  assert.match(await s.operatorCard.textContent(), /Payment successful/);
  assert.equal(await s.operatorCard.getByRole('button', { name: 'Cancel request' }).count(), 0);
  await s.page.screenshot({ path: screenshotPath('widget-card-paid') });
  await s.visitor.close();
  await s.operatorContext.close();
});

test('a declined card fails with its reason on both sides; a retry pays', async () => {
  const s = await sharedCard('Custom mug', 'pay_demo_mug', 'One mug please');
  const tab = await openCheckout(s);
  await fillAndPay(tab, '4000 0000 0000 0002');
  await tab.getByRole('heading', { name: 'Payment failed' }).waitFor();
  await s.chat.locator('[data-status="failed"]').waitFor();
  assert.match(await s.card.textContent(), /Payment failed: the card was declined/);
  await s.console.locator('[data-status="failed"]').waitFor();
  assert.match(await s.operatorCard.textContent(), /Payment failed: the card was declined/);

  // Retry from the chat: Pay Now is there again.
  const retry = await openCheckout(s);
  await fillAndPay(retry, '4242 4242 4242 4242');
  await retry.getByRole('heading', { name: 'Payment successful' }).waitFor();
  await s.chat.locator('[data-status="paid"]').waitFor();
  await s.console.locator('[data-status="paid"]').waitFor();
  await s.visitor.close();
  await s.operatorContext.close();
});

test('after Cancel request the checkout link is dead', async () => {
  const s = await sharedCard('Barista workshop', 'pay_demo_workshop', 'Workshop for two?');
  const tab = await openCheckout(s);
  await s.operatorCard.getByRole('button', { name: 'Cancel request' }).click();
  await s.operatorCard.getByRole('button', { name: 'Yes, cancel it' }).click();
  await s.chat.locator('[data-status="cancelled"]').waitFor();
  await tab.reload();
  await tab.getByRole('heading', { name: 'This payment request was cancelled' }).waitFor();
  assert.equal(await tab.locator('form').count(), 0);
  await tab.screenshot({ path: screenshotPath('checkout-cancelled') });
  await s.visitor.close();
  await s.operatorContext.close();
});
