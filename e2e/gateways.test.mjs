// PayPal and Razorpay end to end in real browsers (SPEC §8.7): an admin adds each in the
// console, the visitor pays on (a stand-in for) the provider's page and comes back, and
// both chat sides see the card paid. PayPal: approved on its page, captured by paycard;
// Razorpay: a Payment Link whose signed callback and webhook settle the card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD, seriousViolations } from './lib/harness.mjs';
import { startPayPalStandIn } from './lib/paypal-standin.mjs';
import { startRazorpayStandIn } from './lib/razorpay-standin.mjs';

const PAYPAL = { clientId: 'AXe2eStandInClientId0000000001', clientSecret: 'ELe2eStandInClientSecret000002', webhookId: '8PT597110X687430LKGECATA' };
const RAZORPAY = { keyId: 'rzp_test_E2eStandIn01', keySecret: 'e2eStandInKeySecret000001', webhookSecret: 'e2eStandInWebhookSecret01' };

let paypal, razorpay, server, browser;
before(async () => {
  paypal = await startPayPalStandIn(PAYPAL);
  razorpay = await startRazorpayStandIn(RAZORPAY);
  server = await startServer({ PAYCARD_PAYPAL_API_BASE: paypal.base, PAYCARD_RAZORPAY_API_BASE: razorpay.base });
  browser = await launchBrowser();
  // A portal of the standard edition (the one that offers both), set up over the API.
  const login = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@example.com', password: DEMO_PASSWORD }),
  });
  const { token } = await login.json();
  const portal = await fetch(`${server.base}/api/v1/admin/portal`, {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'Acme India', country: 'IN', currency: 'INR', time_zone: 'Asia/Kolkata', edition: 'standard' }),
  });
  assert.equal(portal.status, 200, await portal.text());
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await paypal?.close();
  await razorpay?.close();
});

async function signIn(email, locale, viewport) {
  const context = await browser.newContext({ locale, viewport });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: locale.startsWith('es') ? 'Correo electrónico' : 'Email' }).fill(email);
  await page.getByLabel(locale.startsWith('es') ? 'Contraseña' : 'Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: locale.startsWith('es') ? 'Iniciar sesión' : 'Sign in' }).click();
  await page.getByRole('navigation', { name: locale.startsWith('es') ? 'Conversaciones' : 'Conversations' }).waitFor();
  return { context, page };
}

/** A visitor on the demo page writes; the operator shares the mug; returns the chat's card. */
async function mugShared(locale, question) {
  const visitor = await browser.newContext({ locale, viewport: { width: 1000, height: 760 } });
  const page = await visitor.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: locale.startsWith('es') ? 'Abrir chat' : 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: locale.startsWith('es') ? 'Mensaje' : 'Message' });
  await box.fill(question);
  await box.press('Enter');
  await chat.getByRole('log').getByText(question).waitFor();
  const o = await signIn('operator@example.com', 'en-US', { width: 1280, height: 860 });
  await o.page.getByRole('navigation').getByRole('link').filter({ hasText: question }).click();
  await o.page.getByRole('button', { name: 'Payments', exact: true }).click();
  const item = o.page.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Custom mug' });
  await item.hover();
  await item.getByRole('button', { name: 'Share' }).click();
  const card = chat.getByRole('group', { name: 'Custom mug' });
  await card.waitFor();
  return { visitor, chat, card, operator: o };
}

test('an admin adds PayPal; the visitor approves on its page; paycard captures and both sides see it paid', async () => {
  const a = await signIn('admin@example.com', 'en-US', { width: 1280, height: 860 });
  const admin = a.page;
  await admin.goto(`${server.base}/console/settings/gateways`);
  await admin.getByRole('button', { name: 'Add gateway' }).click();
  const add = admin.getByRole('dialog', { name: 'Add a gateway' });
  await add.getByRole('button', { name: 'PayPal' }).click();
  await add.getByLabel('Client ID').fill(PAYPAL.clientId);
  await add.getByLabel('Client secret').fill('ELmistypedSecret0000000000000');
  await add.getByLabel('Webhook ID').fill(PAYPAL.webhookId);
  await add.getByRole('button', { name: 'Save gateway' }).click();
  await add.getByText('Client Authentication failed', { exact: false }).waitFor();
  await add.getByLabel('Client secret').fill(PAYPAL.clientSecret);
  await add.getByRole('button', { name: 'Save gateway' }).click();
  const row = admin.getByRole('list', { name: 'Configured gateways' }).getByRole('listitem').filter({ hasText: 'PayPal' });
  await row.waitFor();
  const text = await row.textContent();
  assert.match(text, /AXe2eStandInClientId0000000001/, 'the client id is not a secret');
  assert.match(text, /…0002/);
  assert.doesNotMatch(text, /ELe2eStandIn/);
  assert.match(text, /Takes one-time payments only/);
  const webhookUrl = await row.locator('.webhook-url').textContent();
  assert.match(webhookUrl, /\/webhooks\/paypal\/gw_/);
  const events = row.getByRole('list', { name: 'Webhook events for PayPal' });
  assert.ok((await events.getByRole('listitem').allTextContents()).includes('CHECKOUT.ORDER.APPROVED'));
  paypal.setWebhookUrl(webhookUrl);
  await admin.screenshot({ path: screenshotPath('settings-gateways-paypal-en') });
  assert.deepEqual(await seriousViolations(admin), []);

  const { visitor, chat, card, operator } = await mugShared('en-US', 'Can I pay with PayPal?');
  const [tab] = await Promise.all([visitor.waitForEvent('page'), card.getByRole('button', { name: 'Pay Now' }).click()]);
  await tab.waitForURL(/\/pay\/pck_/);
  const payWithPayPal = tab.getByRole('button', { name: 'Pay €25.00 with PayPal' });
  await payWithPayPal.waitFor();
  await tab.getByLabel('Name').fill('Ana García');
  await tab.getByLabel('Email').fill('ana@example.com');
  await tab.screenshot({ path: screenshotPath('checkout-paypal-en') });
  assert.deepEqual(await seriousViolations(tab), []);
  await payWithPayPal.click();
  await tab.getByRole('heading', { name: 'Stand-in PayPal' }).waitFor();
  assert.match(await tab.locator('body').textContent(), /Custom mug: 25\.00 EUR/);
  assert.equal(await card.getAttribute('data-status'), 'pending', 'nothing is paid before it is captured');
  await tab.getByRole('button', { name: 'Approve and pay' }).click();
  await tab.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 15_000 });
  await tab.getByText('Thank you!', { exact: false }).waitFor();
  await chat.locator('[data-status="paid"]').waitFor();
  await operator.page.getByRole('group', { name: 'Custom mug' }).and(operator.page.locator('[data-status="paid"]')).waitFor();
  const order = [...paypal.orders.values()].at(-1);
  assert.equal(order.status, 'COMPLETED', 'captured once approved');
  await tab.screenshot({ path: screenshotPath('checkout-paypal-paid-en') });

  await a.context.close();
  await operator.context.close();
  await visitor.close();
});

test('an admin adds Razorpay in Spanish; a Spanish visitor pays the link and comes back paid', async () => {
  const a = await signIn('admin@example.com', 'es-ES', { width: 390, height: 844 });
  const admin = a.page;
  await admin.goto(`${server.base}/console/settings/gateways`);
  await admin.getByRole('button', { name: 'Añadir pasarela' }).click();
  const add = admin.getByRole('dialog', { name: 'Añadir una pasarela' });
  await add.getByRole('button', { name: 'Razorpay' }).click();
  await add.getByLabel('ID de clave').fill(RAZORPAY.keyId);
  await add.getByLabel('Secreto de clave').fill(RAZORPAY.keySecret);
  await add.getByLabel('Secreto de webhooks').fill(RAZORPAY.webhookSecret);
  await add.getByRole('button', { name: 'Guardar pasarela' }).click();
  const row = admin.getByRole('list', { name: 'Pasarelas configuradas' }).getByRole('listitem').filter({ hasText: 'Razorpay' });
  await row.waitFor();
  assert.match(await row.textContent(), /rzp_test_E2eStandIn01/);
  const webhookUrl = await row.locator('.webhook-url').textContent();
  assert.match(webhookUrl, /\/webhooks\/razorpay\/gw_/);
  razorpay.setWebhookUrl(webhookUrl);
  await row.scrollIntoViewIfNeeded();
  await admin.screenshot({ path: screenshotPath('settings-gateways-razorpay-es-390') });
  assert.deepEqual(await seriousViolations(admin), []);

  const { visitor, chat, card, operator } = await mugShared('es-ES', '¿Puedo pagar con Razorpay?');
  const [tab] = await Promise.all([visitor.waitForEvent('page'), card.getByRole('button', { name: 'Pagar ahora' }).click()]);
  await tab.waitForURL(/\/pay\/pck_/);
  // Both configured gateways take euros once: both are offered.
  const payWithRazorpay = tab.getByRole('button', { name: 'Pagar 25,00 € con Razorpay' });
  await payWithRazorpay.waitFor();
  await tab.getByRole('button', { name: 'Pagar 25,00 € con PayPal' }).waitFor();
  await tab.getByLabel('Nombre').fill('Ana García');
  await tab.getByLabel('Correo electrónico').fill('ana@example.com');
  await tab.screenshot({ path: screenshotPath('checkout-razorpay-es'), fullPage: true });
  assert.deepEqual(await seriousViolations(tab), []);
  await payWithRazorpay.click();
  await tab.getByRole('heading', { name: 'Stand-in Razorpay' }).waitFor();
  await tab.getByRole('button', { name: 'Pay with Razorpay' }).click();
  await tab.getByRole('heading', { name: 'Pago realizado' }).waitFor({ timeout: 15_000 });
  // The webhook settled it before the visitor was back: still thanked for it.
  await tab.getByText('¡Gracias!', { exact: false }).waitFor();
  await chat.locator('[data-status="paid"]').waitFor();
  await operator.page.getByRole('group', { name: 'Custom mug' }).and(operator.page.locator('[data-status="paid"]')).waitFor();
  await tab.screenshot({ path: screenshotPath('checkout-razorpay-paid-es') });

  await a.context.close();
  await operator.context.close();
  await visitor.close();
});
