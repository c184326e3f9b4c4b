// The card flow with Stripe, end to end in real browsers (SPEC §4 "Stripe"): an admin
// adds Stripe in the console, the visitor pays on (a stand-in for) Stripe's Checkout
// page, the signed webhook settles the card, and both chat sides see it paid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD, seriousViolations } from './lib/harness.mjs';
import { startStripeStandIn } from './lib/stripe-standin.mjs';

const SECRET_KEY = 'sk_test_51E2eStandInKey00004242';
const WEBHOOK_SECRET = 'whsec_e2eStandInSigningSecret9876';

let stripe, server, browser;
before(async () => {
  stripe = await startStripeStandIn({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET });
  server = await startServer({ PAYCARD_STRIPE_API_BASE: stripe.base });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await stripe?.close();
});

async function signIn(email) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
  // The copy buttons write to the clipboard; the test reads it back.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  return { context, page };
}

test('an admin adds Stripe; the visitor pays on its page; the webhook settles the card for both sides', async () => {
  // The admin connects a portal and adds Stripe with its two secrets.
  const a = await signIn('admin@example.com');
  const admin = a.page;
  await admin.goto(`${server.base}/console/settings/portal`);
  await admin.getByRole('button', { name: 'Set up a portal' }).click();
  const setup = admin.getByRole('dialog', { name: 'Set up your payment portal' });
  await setup.getByLabel('Portal name').fill('Acme Europe');
  await setup.getByLabel('Business location').selectOption('ES');
  await admin.waitForFunction(() => document.querySelector('#portal-zone')?.value === 'Europe/Madrid');
  await setup.getByRole('button', { name: 'Connect portal' }).click();
  await admin.getByText('Connected by').waitFor();
  await admin.getByRole('link', { name: 'Gateways' }).click();
  await admin.getByRole('button', { name: 'Add gateway' }).click();
  const add = admin.getByRole('dialog', { name: 'Add a gateway' });
  await add.getByRole('button', { name: 'Stripe' }).click();
  await add.getByLabel('Secret key').fill('pk_test_not_a_secret_key_000');
  await add.getByRole('button', { name: 'Save gateway' }).click();
  await add.getByText('The format is not valid.').waitFor();
  await add.getByText('This field is required.').waitFor();
  // Well formed, but not a key Stripe knows: Stripe's own words under the field, and
  // nothing is saved.
  await add.getByLabel('Secret key').fill('sk_test_51MistypedKey00000000000');
  await add.getByLabel('Webhook signing secret').fill(WEBHOOK_SECRET);
  await add.getByRole('button', { name: 'Save gateway' }).click();
  await add.getByText('The gateway refused it: “Invalid API Key provided: sk_test_********0000”.', { exact: false }).waitFor();
  assert.equal(await add.getByLabel('Secret key').getAttribute('aria-invalid'), 'true');
  await admin.screenshot({ path: screenshotPath('settings-gateway-stripe-rejected-en') });
  await add.getByLabel('Secret key').fill(SECRET_KEY);
  assert.equal(await add.getByLabel('Secret key').getAttribute('type'), 'password');
  await admin.screenshot({ path: screenshotPath('settings-gateway-stripe-form-en') });
  await add.getByRole('button', { name: 'Save gateway' }).click();
  const row = admin.getByRole('list', { name: 'Configured gateways' }).getByRole('listitem').filter({ hasText: 'Stripe' });
  await row.waitFor();
  const text = await row.textContent();
  assert.match(text, /sk_test_…4242/);
  assert.match(text, /whsec_…9876/);
  assert.doesNotMatch(text, /E2eStandInKey/, 'only the masked key is shown');
  // The admin registers the webhook endpoint the page shows at Stripe.
  const webhookUrl = await row.locator('.webhook-url').textContent();
  assert.match(webhookUrl, /\/webhooks\/stripe\/gw_/);
  // The endpoint and its events are copied with one click each.
  await row.getByRole('button', { name: 'Copy the webhook endpoint of Stripe' }).click();
  await row.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), webhookUrl);
  const events = row.getByRole('list', { name: 'Webhook events for Stripe' });
  assert.deepEqual(await events.getByRole('listitem').allTextContents(), [
    'checkout.session.completed', 'checkout.session.async_payment_succeeded',
    'checkout.session.async_payment_failed', 'checkout.session.expired',
    'refund.updated', 'refund.failed', 'charge.refunded',
  ]);
  await row.getByRole('button', { name: 'Copy the webhook events of Stripe' }).click();
  await admin.waitForFunction(async () => (await navigator.clipboard.readText()).startsWith('checkout.session.completed\n'));
  // Test connection asks Stripe about the stored key, from the keyboard too.
  await row.getByRole('button', { name: 'Test connection of Stripe' }).focus();
  await admin.keyboard.press('Enter');
  await row.getByRole('status').filter({ hasText: 'Stripe accepted the credentials.' }).waitFor();
  stripe.setWebhookUrl(webhookUrl);
  await admin.screenshot({ path: screenshotPath('settings-gateways-stripe-en') });
  assert.deepEqual(await seriousViolations(admin), []);

  // A visitor asks; the operator shares the mug.
  const visitor = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 760 } });
  const page = await visitor.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: 'Message' });
  await box.fill('Can I pay by Stripe?');
  await box.press('Enter');
  await chat.getByRole('log').getByText('Can I pay by Stripe?').waitFor();
  const o = await signIn('operator@example.com');
  await o.page.getByRole('navigation').getByRole('link').filter({ hasText: 'Can I pay by Stripe?' }).click();
  await o.page.getByRole('button', { name: 'Payments', exact: true }).click();
  const item = o.page.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Custom mug' });
  await item.hover();
  await item.getByRole('button', { name: 'Share' }).click();
  const card = chat.getByRole('group', { name: 'Custom mug' });
  await card.waitFor();

  // Pay Now: the hosted page offers Stripe; the card is typed on Stripe's page.
  const [tab] = await Promise.all([visitor.waitForEvent('page'), card.getByRole('button', { name: 'Pay Now' }).click()]);
  await tab.waitForURL(/\/pay\/pck_/);
  const payWithStripe = tab.getByRole('button', { name: 'Pay €25.00 with Stripe' });
  await payWithStripe.waitFor();
  assert.equal(await tab.getByLabel('Card number').count(), 0);
  await tab.getByLabel('Name').fill('Ana García');
  await tab.getByLabel('Email').fill('ana@example.com');
  await tab.screenshot({ path: screenshotPath('checkout-stripe-en') });
  assert.deepEqual(await seriousViolations(tab), []);
  await payWithStripe.click();
  await tab.getByRole('heading', { name: 'Stand-in Stripe Checkout' }).waitFor();
  assert.match(await tab.locator('body').textContent(), /Custom mug: 25\.00 EUR/);
  assert.equal(await card.getAttribute('data-status'), 'pending', 'nothing is paid before Stripe says so');
  await tab.getByRole('button', { name: 'Pay' }).click();

  // Back on the hosted page: paid (the webhook came before the redirect here; the page
  // also waits and refreshes itself when it does not).
  await tab.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 15_000 });
  await chat.locator('[data-status="paid"]').waitFor();
  await o.page.getByRole('group', { name: 'Custom mug' }).and(o.page.locator('[data-status="paid"]')).waitFor();
  await tab.screenshot({ path: screenshotPath('checkout-stripe-paid-en') });

  // The admin refunds €10 and then the rest: Stripe takes each (pending) and settles it
  // by its refund webhook; both chat sides follow.
  await admin.goto(`${server.base}/console`);
  // The conversation's line in the list now shows its last message: the card.
  await admin.getByRole('navigation', { name: 'Conversations' }).getByRole('link').first().click();
  const adminCard = admin.getByRole('group', { name: 'Custom mug' });
  await adminCard.and(admin.locator('[data-status="paid"]')).waitFor();
  await adminCard.getByRole('button', { name: 'Refund' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Refund' });
  await dialog.getByRole('textbox', { name: 'Amount to refund' }).fill('10.00');
  await dialog.getByRole('button', { name: 'Refund €10.00' }).click();
  await adminCard.getByText('Payment successful · €10.00 refunded').waitFor();
  await card.getByText('Payment successful · €10.00 refunded').waitFor();
  assert.equal(stripe.refunds.length, 1);
  assert.match(stripe.refunds[0].payment_intent, /^pi_for_cs_test_/);
  assert.equal(stripe.refunds[0].amount, 1000);
  await adminCard.getByRole('button', { name: 'Refund' }).click();
  await dialog.getByRole('button', { name: 'Refund €15.00' }).click();
  await adminCard.and(admin.locator('[data-status="refunded"]')).waitFor();
  await chat.locator('[data-status="refunded"]').getByText('Refunded', { exact: true }).waitFor();
  assert.deepEqual(stripe.refunds.map((r) => [r.amount, r.status]), [[1000, 'succeeded'], [1500, 'succeeded']]);
  await admin.screenshot({ path: screenshotPath('console-stripe-card-refunded-en') });

  await a.context.close();
  await o.context.close();
  await visitor.close();
});
