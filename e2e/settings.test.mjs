// Admin settings in real browsers against the real server (SPEC §2.1–2.4): an admin sets
// up a portal, a gateway and a recurring payment entirely in the console; an operator's
// open picker shows it without a reload; shared, the visitor reads "every 2 weeks".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, DEMO_PASSWORD, seriousViolations } from './lib/harness.mjs';
import { startStripeStandIn } from './lib/stripe-standin.mjs';

// Saving Stripe's keys asks Stripe whether it knows them: a stand-in that knows these.
const STRIPE_KEY = 'sk_test_51EsStandInKey000001234';
let server, browser, stripe;
before(async () => {
  stripe = await startStripeStandIn({ secretKey: STRIPE_KEY, webhookSecret: 'whsec_esSigningSecret00005678' });
  server = await startServer({ PAYCARD_STRIPE_API_BASE: stripe.base });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await stripe?.close();
});

async function signIn(email, locale = 'en-US') {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  const es = locale.startsWith('es');
  await page.getByRole('textbox', { name: es ? 'Correo electrónico' : 'Email' }).fill(email);
  await page.getByLabel(es ? 'Contraseña' : 'Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: es ? 'Iniciar sesión' : 'Sign in' }).click();
  await page.getByRole('navigation', { name: es ? 'Conversaciones' : 'Conversations' }).waitFor();
  return { context, page };
}

/** A visitor on /demo who has written `text`; returns the chat frame. */
async function visitorSays(text) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox');
  await box.waitFor({ timeout: 20_000 });
  await box.fill(text);
  await box.press('Enter');
  await chat.getByRole('log').getByText(text).waitFor();
  return { context, page, chat };
}

test('operators see no settings, and the settings pages refuse them', async () => {
  const o = await signIn('operator@example.com');
  assert.equal(await o.page.getByRole('link', { name: 'Settings' }).count(), 0);
  await o.page.goto(`${server.base}/console/settings/payments`);
  await o.page.getByText('Only admins can change settings.').waitFor();
  assert.equal(await o.page.getByRole('button', { name: 'Add payment' }).count(), 0);
  await o.context.close();
});

test('an admin sets up portal, gateway and a custom recurring payment; the picker and the visitor follow', async () => {
  // The operator has a conversation open with the picker showing acme's payments.
  const v = await visitorSays('Do you have a tasting club?');
  const o = await signIn('operator@example.com');
  await o.page.getByRole('navigation').getByRole('link').filter({ hasText: 'tasting club' }).click();
  await o.page.getByRole('log').getByText('Do you have a tasting club?').waitFor();
  await o.page.getByRole('button', { name: 'Payments', exact: true }).click();
  const pickerList = o.page.getByRole('list', { name: 'Payments' });
  await pickerList.getByText('Custom mug').waitFor();
  assert.equal(await pickerList.getByText('Tasting club').count(), 0);

  const a = await signIn('admin@example.com');
  const page = a.page;
  await page.getByRole('link', { name: 'Settings' }).click();

  // Portal: none yet; the setup dialog fills currency and time zone from the country.
  await page.getByRole('heading', { name: 'Payment portal' }).waitFor();
  await page.getByText('No payment portal is connected').waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'portal page, none connected');
  await page.getByRole('button', { name: 'Set up a portal' }).click();
  const dialog = page.getByRole('dialog', { name: 'Set up your payment portal' });
  await dialog.waitFor();
  // Submitting empty shows each field's error next to it.
  await dialog.getByRole('button', { name: 'Connect portal' }).click();
  await dialog.getByText('This field is required.').first().waitFor();
  await dialog.getByLabel('Portal name').fill('Acme Europe');
  await dialog.getByLabel('Business location').selectOption('JP');
  await page.waitForFunction(() => document.querySelector('#portal-zone')?.value === 'Asia/Tokyo');
  assert.equal(await dialog.getByLabel('Currency').inputValue(), 'JPY');
  await dialog.getByLabel('Business location').selectOption('ES');
  await page.waitForFunction(() => document.querySelector('#portal-zone')?.value === 'Europe/Madrid');
  assert.equal(await dialog.getByLabel('Currency').inputValue(), 'EUR');
  await dialog.getByLabel('Edition').selectOption('standard');
  await page.screenshot({ path: screenshotPath('settings-portal-setup-en') });
  assert.deepEqual(await seriousViolations(page), [], 'portal setup dialog');
  await dialog.getByRole('button', { name: 'Connect portal' }).click();
  await page.getByText('Ada Admin (admin@example.com)').waitFor();
  const facts = await page.locator('.facts').textContent();
  assert.match(facts, /Acme Europe/);
  assert.match(facts, /Spain/);
  assert.match(facts, /Europe\/Madrid/);
  assert.match(facts, /Standard/);
  await page.screenshot({ path: screenshotPath('settings-portal-en') });

  // Gateways: add the sandbox.
  await page.getByRole('link', { name: 'Gateways' }).click();
  await page.getByText('No gateways yet').waitFor();
  await page.getByRole('button', { name: 'Add gateway' }).click();
  const add = page.getByRole('dialog', { name: 'Add a gateway' });
  await add.getByRole('button', { name: 'Sandbox' }).click();
  await add.getByRole('button', { name: 'Save gateway' }).click();
  await page.getByRole('list', { name: 'Configured gateways' }).getByText('Sandbox').waitFor();
  await page.screenshot({ path: screenshotPath('settings-gateways-en') });
  assert.deepEqual(await seriousViolations(page), [], 'gateways page');

  // Payments: a custom frequency, every 2 weeks, amount typed as a person would.
  await page.getByRole('link', { name: 'Payments', exact: true }).click();
  await page.getByRole('table').getByText('Custom mug').waitFor();
  await page.getByRole('button', { name: 'Add payment' }).click();
  const form = page.getByRole('dialog', { name: 'Add payment' });
  await form.getByLabel('Title').fill('Tasting club');
  await form.getByLabel('Description').fill('Two new single-origin coffees, every other week.');
  await form.getByLabel('Brand').selectOption('acme');
  await form.getByLabel('Amount').fill('19.5x');
  await form.getByLabel('Frequency').selectOption('custom');
  await form.getByLabel('Every').fill('2');
  await form.getByLabel('Unit').selectOption('week');
  await form.getByRole('button', { name: 'Save payment' }).click();
  await form.getByText('Enter an amount such as 25.00, with no more decimals than the currency has (none for JPY).').waitFor();
  await form.getByLabel('Amount').fill('19.50');
  assert.equal(await form.getByLabel('Currency').inputValue(), 'EUR', "the portal's currency by default");
  await page.screenshot({ path: screenshotPath('settings-payment-form-en') });
  assert.deepEqual(await seriousViolations(page), [], 'payment form');
  await form.getByRole('button', { name: 'Save payment' }).click();
  const row = page.getByRole('row').filter({ hasText: 'Tasting club' });
  await row.waitFor();
  assert.match(await row.textContent(), /€19\.50 every 2 weeks/);
  await page.screenshot({ path: screenshotPath('settings-payments-en') });
  assert.deepEqual(await seriousViolations(page), [], 'payments page');

  // The operator's open picker shows it without a reload; shared, the visitor reads it.
  const tasting = pickerList.getByRole('listitem').filter({ hasText: 'Tasting club' });
  await tasting.waitFor({ timeout: 10_000 });
  assert.match(await tasting.textContent(), /€19\.50 every 2 weeks/);
  await tasting.hover();
  await tasting.getByRole('button', { name: 'Share' }).click();
  const card = v.chat.getByRole('group', { name: 'Tasting club' });
  await card.waitFor();
  assert.match(await card.textContent(), /€19\.50 every 2 weeks/);
  await v.page.screenshot({ path: screenshotPath('widget-custom-recurrence-en') });

  // Brands: move the mug to Zen Yoga; it leaves acme's picker.
  await page.getByRole('link', { name: 'Brands' }).click();
  const acmePayments = page.getByRole('list', { name: 'Payments — Acme Coffee' });
  await acmePayments.getByText('Custom mug', { exact: true }).waitFor();
  await page.getByLabel('Move to brand: Custom mug').selectOption('zen');
  await page.getByRole('button', { name: 'Move Custom mug' }).click();
  await page.getByRole('list', { name: 'Payments — Zen Yoga' }).getByText('Custom mug', { exact: true }).waitFor();
  await page.getByLabel('Websites allowed to embed the chat (one per line)').first().fill('shop.example');
  await page.getByRole('button', { name: 'Save websites' }).first().click();
  await page.getByText(/Line 1: The format is not valid/).waitFor();
  await page.screenshot({ path: screenshotPath('settings-brands-en') });
  assert.deepEqual(await seriousViolations(page), [], 'brands page');
  await page.getByLabel('Websites allowed to embed the chat (one per line)').first().fill('https://shop.example');
  await page.getByRole('button', { name: 'Save websites' }).first().click();
  await page.getByText('allowed websites saved').waitFor();
  // The embed tag is copied with one click, for the website's template.
  await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const acme = page.getByRole('region', { name: 'Acme Coffee' });
  await acme.getByRole('button', { name: 'Copy the embed tag of Acme Coffee' }).click();
  await acme.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, await acme.locator('.brand__embed').textContent());
  assert.match(copied, /<script src="[^"]+\/widget\.js" data-brand="acme"/);

  // Sharing closed the picker; reopened, it lists acme's payments as they are now.
  await o.page.getByRole('button', { name: 'Payments', exact: true }).click();
  await pickerList.getByText('Tasting club').waitFor();
  assert.equal(await pickerList.getByText('Custom mug').count(), 0, 'moved away from acme');

  await a.context.close();
  await o.context.close();
  await v.context.close();
});

test('the settings speak Spanish', async () => {
  const a = await signIn('admin@example.com', 'es-ES');
  const page = a.page;
  await page.getByRole('link', { name: 'Ajustes' }).click();
  await page.getByRole('heading', { name: 'Portal de pagos' }).waitFor();
  // The earlier test connected a portal; disconnect it and pick it again from the list.
  await page.getByRole('button', { name: 'Desconectar' }).click();
  // The app asks in its own dialog; the safe answer has the focus.
  const question = page.getByRole('alertdialog');
  await question.getByText('¿Desconectar este portal?', { exact: false }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancelar');
  await question.getByRole('button', { name: 'Desconectar' }).click();
  await page.getByRole('list', { name: 'Tus portales' }).waitFor();
  await page.screenshot({ path: screenshotPath('settings-portal-pick-es') });
  await page.getByRole('button', { name: 'Conectar Acme Europe' }).click();
  await page.getByText('Conectado por').waitFor();
  // Countries are named in Spanish, and sorted the Spanish way.
  assert.match(await page.locator('.facts').textContent(), /España/);

  // Edit the connected portal: the name stays (it is how the portal is known), the rest
  // changes; its gateways stay with it.
  await page.getByRole('button', { name: 'Editar' }).click();
  const edit = page.getByRole('dialog', { name: 'Editar el portal de pagos' });
  assert.equal(await edit.getByLabel('Nombre del portal').inputValue(), 'Acme Europe');
  assert.equal(await edit.getByLabel('Nombre del portal').getAttribute('readonly'), '');
  const location = edit.getByLabel('Ubicación del negocio');
  assert.equal(await location.inputValue(), 'ES');
  assert.equal((await location.locator('option:checked').textContent()).trim(), 'España');
  const names = await location.locator('option').allTextContents();
  assert.ok(names.indexOf('Estados Unidos') > names.indexOf('España'), 'in Spanish order');
  assert.ok(names.indexOf('Alemania') < names.indexOf('Austria'));
  await edit.getByLabel('Zona horaria').fill('Atlantic/Canary');
  await edit.getByLabel('Edición').selectOption('professional');
  await page.screenshot({ path: screenshotPath('settings-portal-edit-es') });
  assert.deepEqual(await seriousViolations(page), [], 'portal edit dialog in Spanish');
  await edit.getByRole('button', { name: 'Guardar cambios' }).click();
  await edit.waitFor({ state: 'hidden' });
  const editedFacts = await page.locator('.facts').textContent();
  assert.match(editedFacts, /Atlantic\/Canary/);
  assert.match(editedFacts, /Profesional/);
  assert.match(editedFacts, /Acme Europe/);

  // A gateway with its own credential form, in Spanish; only the masked key comes back.
  await page.getByRole('link', { name: 'Pasarelas' }).click();
  await page.getByRole('button', { name: 'Añadir pasarela' }).click();
  const add = page.getByRole('dialog', { name: 'Añadir una pasarela' });
  await add.getByRole('button', { name: 'Stripe' }).click();
  await add.getByLabel('Clave secreta').fill('sk_test_51EsClaveEquivocada00009');
  await add.getByLabel('Secreto de firma de webhooks').fill('whsec_esSigningSecret00005678');
  await add.getByRole('button', { name: 'Guardar pasarela' }).click();
  await add.getByText('La pasarela la rechazó: «Invalid API Key provided: sk_test_********0009».', { exact: false }).waitFor();
  await add.getByLabel('Clave secreta').fill(STRIPE_KEY);
  await add.getByRole('button', { name: 'Guardar pasarela' }).click();
  const stripeRow = page.getByRole('list', { name: 'Pasarelas configuradas' }).getByRole('listitem').filter({ hasText: 'Stripe' });
  await stripeRow.waitFor();
  assert.match(await stripeRow.textContent(), /Clave secreta: sk_test_…1234/);
  await stripeRow.getByRole('button', { name: 'Probar la conexión de Stripe' }).click();
  await stripeRow.getByRole('status').filter({ hasText: 'Stripe aceptó las credenciales.' }).waitFor();
  await stripeRow.getByRole('list', { name: 'Eventos de webhook para Stripe' }).getByText('charge.refunded').waitFor();
  await page.screenshot({ path: screenshotPath('settings-gateways-es') });
  assert.deepEqual(await seriousViolations(page), [], 'gateways page in Spanish');

  // A payment for acme, typed the Spanish way; an operator's picker in Spanish shows it.
  await page.getByRole('link', { name: 'Pagos', exact: true }).click();
  await page.getByRole('button', { name: 'Añadir pago' }).click();
  const form = page.getByRole('dialog', { name: 'Añadir pago' });
  await form.getByLabel('Título').fill('Cata privada');
  await form.getByLabel('Marca').selectOption('acme');
  await form.getByLabel('Importe').fill('0');
  await form.getByRole('button', { name: 'Guardar pago' }).click();
  await form.getByText('El importe debe ser mayor que cero.').waitFor();
  await form.getByLabel('Importe').fill('45,50');
  await form.getByLabel('Frecuencia').selectOption('monthly');
  await page.screenshot({ path: screenshotPath('settings-payment-form-es') });
  await form.getByRole('button', { name: 'Guardar pago' }).click();
  const row = page.getByRole('row').filter({ hasText: 'Cata privada' });
  await row.waitFor();
  assert.match(await row.textContent(), /45,50 € \/ mes/);
  await page.screenshot({ path: screenshotPath('settings-payments-es') });
  assert.deepEqual(await seriousViolations(page), [], 'payments page in Spanish');

  const v = await visitorSays('¿Hacéis catas?');
  const o = await signIn('operator@example.com', 'es-ES');
  await o.page.getByRole('navigation').getByRole('link').filter({ hasText: '¿Hacéis catas?' }).click();
  await o.page.getByRole('button', { name: 'Pagos', exact: true }).click();
  const item = o.page.getByRole('list', { name: 'Pagos' }).getByRole('listitem').filter({ hasText: 'Cata privada' });
  await item.waitFor();
  assert.match(await item.textContent(), /45,50 € \/ mes/);
  await o.context.close();
  await v.context.close();
  await a.context.close();
});

for (const [locale, words] of [
  ['en-US', {
    settings: 'Settings', tab: 'API keys', name: 'Name', create: 'Create key', copy: 'Copy this key now',
    never: 'Never', cancel: 'Cancel', confirmDelete: 'Delete', del: (n) => `Delete key ${n}`, deleted: 'deleted', empty: 'No API keys yet.',
    required: 'This field is required.',
  }],
  ['es-ES', {
    settings: 'Ajustes', tab: 'Claves de API', name: 'Nombre', create: 'Crear clave', copy: 'Copia esta clave ahora',
    never: 'Nunca', cancel: 'Cancelar', confirmDelete: 'Eliminar', del: (n) => `Eliminar la clave ${n}`, deleted: 'eliminada', empty: 'Aún no hay claves de API.',
    required: 'Este campo es obligatorio.',
  }],
]) {
  test(`an admin makes an API key a bot shares cards with, then deletes it (${locale})`, async () => {
    const bot = locale === 'en-US' ? 'Sales bot' : 'Bot de ventas';
    const a = await signIn('admin@example.com', locale);
    const page = a.page;
    await page.getByRole('link', { name: words.settings }).click();
    await page.getByRole('link', { name: words.tab }).click();
    await page.getByRole('heading', { name: words.tab }).waitFor();
    await page.getByText(words.empty).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'API keys page, empty');

    // Nothing filled in: both fields say so, nothing is sent.
    await page.getByRole('button', { name: words.create }).click();
    await page.getByText(words.required).first().waitFor();
    assert.equal(await page.locator('.field__error:not(:empty)').count(), 2);

    await page.getByRole('textbox', { name: words.name }).fill(bot);
    await page.getByRole('checkbox', { name: 'Acme Coffee' }).check();
    await page.getByRole('button', { name: words.create }).click();
    await page.getByText(words.copy).waitFor();
    const key = await page.locator('#api-key-value').inputValue();
    assert.match(key, /^pck_[A-Za-z0-9_-]{43}$/);
    const row = page.getByRole('row', { name: new RegExp(bot) });
    await row.getByText(words.never).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'API keys page, a key just made');
    await page.screenshot({ path: screenshotPath(`settings-api-keys-${locale.slice(0, 2)}`) });

    // The bot, with nothing but the key: shares a card in a visitor's conversation.
    const v = await visitorSays(`Can a bot sell me a mug? (${locale})`);
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const list = await (await fetch(`${server.base}/api/v1/operator/conversations`, { headers: auth })).json();
    const conversation = list.items.find((c) => c.last_message?.text?.includes(`(${locale})`)) ?? list.items[0];
    const shared = await fetch(`${server.base}/api/v1/operator/conversations/${conversation.id}/cards`, {
      // The workshop: the mug is moved to another brand by the test above.
      method: 'POST', headers: auth, body: JSON.stringify({ payment_id: 'pay_demo_workshop' }),
    });
    assert.equal(shared.status, 201);
    await v.chat.getByRole('button', { name: 'Pay Now' }).waitFor();
    // Settings are not the bot's.
    assert.equal((await fetch(`${server.base}/api/v1/admin/brands`, { headers: auth })).status, 403);

    // Its use shows after a reload; deleting asks first, then the key stops working.
    await page.reload();
    await row.waitFor();
    assert.equal(await row.getByText(words.never).count(), 0, 'last use is shown');
    await page.getByRole('button', { name: words.del(bot) }).click();
    // The app's own question, with the safe answer focused.
    const question = page.getByRole('alertdialog');
    await question.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), words.cancel);
    await question.getByRole('button', { name: words.confirmDelete }).click();
    await page.getByText(words.deleted).waitFor();
    await page.getByText(words.empty).waitFor();
    assert.equal((await fetch(`${server.base}/api/v1/operator/conversations`, { headers: auth })).status, 401);
    await v.context.close();
    await a.context.close();
  });
}
