// Both sides of a conversation in real browsers against the real server (SPEC §2.5
// steps 1–4 and §2.6): a visitor on the demo site, an operator in the console.
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

/** A visitor on /demo with the chat open; returns the chat frame. */
async function visitor(locale = 'en-US', viewport = { width: 1000, height: 760 }) {
  const context = await browser.newContext({ locale, viewport });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo`);
  await page.getByRole('button', { name: locale.startsWith('es') ? 'Abrir chat' : 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  await chat.getByRole('textbox').waitFor({ timeout: 20_000 });
  return { context, page, chat };
}

/** An operator signed in to the console. */
async function operator(locale = 'en-US') {
  const context = await browser.newContext({ locale, viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  const es = locale.startsWith('es');
  await page.getByRole('textbox', { name: es ? 'Correo electrónico' : 'Email' }).fill('operator@example.com');
  await page.getByLabel(es ? 'Contraseña' : 'Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: es ? 'Iniciar sesión' : 'Sign in' }).click();
  await page.getByRole('navigation').waitFor();
  return { context, page };
}

async function say(chat, text) {
  const box = chat.getByRole('textbox');
  await box.fill(text);
  await box.press('Enter');
  await chat.getByRole('log').getByText(text).waitFor();
}

/** Opens, in the console, the conversation whose last message is `text`. */
async function openConversation(console, text) {
  const link = console.getByRole('navigation').getByRole('link').filter({ hasText: text });
  await link.waitFor();
  await link.click();
  await console.getByRole('log').getByText(text).waitFor();
}

async function share(console, title, { keyboard = false, es = false } = {}) {
  const payments = console.getByRole('button', { name: es ? 'Pagos' : 'Payments', exact: true });
  const picked = console.getByRole('list', { name: es ? 'Pagos' : 'Payments' }).getByRole('listitem').filter({ hasText: title });
  if (keyboard) {
    await payments.focus();
    await console.keyboard.press('Enter');
    // As a person does: wait until the search box has focus and the payment shows.
    await console.waitForFunction(() => document.activeElement?.getAttribute('type') === 'search');
    await console.keyboard.type(title.split(' ')[0]);
    await picked.waitFor();
    await console.keyboard.press('ArrowDown');
    await console.keyboard.press('Enter');
  } else {
    await payments.click();
    await picked.hover();
    await picked.getByRole('button', { name: es ? 'Compartir' : 'Share' }).click();
  }
  await console.getByRole('group', { name: title }).waitFor();
}

test('a visitor message reaches the console and a shared card reaches the widget, live', async () => {
  const v = await visitor();
  await say(v.chat, 'Hello! Do you make custom mugs?');
  const o = await operator();
  // The list is live: a new message moves the conversation up, marked unread.
  await say(v.chat, 'Are you there?');
  const row = o.page.getByRole('navigation').getByRole('link').filter({ hasText: 'Are you there?' });
  await row.waitFor();
  assert.match(await row.textContent(), /unread/);
  await row.click();
  await o.page.getByRole('log').getByText('Are you there?').waitFor();
  assert.doesNotMatch(await row.textContent(), /unread/, 'opening it reads it');

  // While the operator looks, the visitor writes again: it arrives live.
  await say(v.chat, 'With my name on it, please.');
  await o.page.getByRole('log').getByText('With my name on it, please.').waitFor();

  await share(o.page, 'Coffee subscription');
  const card = v.chat.getByRole('group', { name: 'Coffee subscription' });
  await card.waitFor();
  assert.equal(await card.getAttribute('data-status'), 'pending');
  assert.match(await card.textContent(), /€49\.00 \/ month/);
  assert.match(await card.textContent(), /Awaiting payment/);
  await card.getByRole('button', { name: 'Pay Now' }).waitFor();
  await card.getByRole('button', { name: 'Cancel' }).waitFor();
  await v.page.screenshot({ path: screenshotPath('widget-card-en') });
  await o.page.getByRole('button', { name: 'Payments', exact: true }).click();
  await o.page.getByRole('listitem').first().hover();
  await o.page.screenshot({ path: screenshotPath('console-picker-en') });
  assert.deepEqual(await seriousViolations(o.page), [], 'console with the picker open');
  assert.deepEqual(await seriousViolations(v.page), [], 'demo page with the widget and a card');
  const widgetFrame = v.page.frames().find((f) => f.url().includes('/widget/'));
  const widgetPage = await v.context.newPage();
  await widgetPage.goto(widgetFrame.url());
  await widgetPage.getByRole('group', { name: 'Coffee subscription' }).waitFor();
  assert.deepEqual(await seriousViolations(widgetPage), [], 'the widget with a card');

  // Cancel request reaches the visitor: the buttons go.
  await o.page.keyboard.press('Escape');
  const subscription = o.page.getByRole('group', { name: 'Coffee subscription' });
  await subscription.getByRole('button', { name: 'Cancel request' }).click();
  // Final, so it asks first; the question has the focus.
  await subscription.getByRole('alertdialog', { name: /Cancel this payment request\?/ }).waitFor();
  await subscription.getByRole('button', { name: 'Yes, cancel it' }).click();
  await v.chat.locator('[data-status="cancelled"]').waitFor();
  assert.match(await card.textContent(), /Cancelled by the operator/);
  assert.equal(await card.getByRole('button').count(), 0);
  await o.page.screenshot({ path: screenshotPath('console-conversation-en') });
  await v.context.close();
  await o.context.close();
});

test('the visitor declines a card; the operator sees it; Pay Now opens the checkout tab', async () => {
  const v = await visitor();
  await say(v.chat, 'I want the workshop and a mug');
  const o = await operator();
  await openConversation(o.page, 'I want the workshop and a mug');
  await share(o.page, 'Barista workshop');
  await share(o.page, 'Custom mug');

  const workshop = v.chat.getByRole('group', { name: 'Barista workshop' });
  await workshop.getByRole('button', { name: 'Cancel' }).click();
  await workshop.getByRole('button', { name: 'Yes, decline' }).click();
  await v.chat.locator('[data-status="declined"]').waitFor();
  const seen = o.page.getByRole('group', { name: 'Barista workshop' });
  await o.page.locator('[data-status="declined"]').waitFor();
  assert.match(await seen.textContent(), /Declined by the visitor/);
  assert.equal(await seen.getByRole('button', { name: 'Cancel request' }).count(), 0);

  const mug = v.chat.getByRole('group', { name: 'Custom mug' });
  const [tab] = await Promise.all([
    v.context.waitForEvent('page'),
    mug.getByRole('button', { name: 'Pay Now' }).click(),
  ]);
  await tab.waitForURL(/\/pay\/pck_/);
  assert.match(tab.url(), new RegExp(`^${server.base}/pay/pck_`));
  await v.context.close();
  await o.context.close();
});

test('the operator side of one conversation works on its own page', async () => {
  const v = await visitor();
  await say(v.chat, 'Hello from the embed test');
  const o = await operator();
  await openConversation(o.page, 'Hello from the embed test');
  const id = new URL(o.page.url()).pathname.split('/').pop();
  await o.page.goto(`${server.base}/console/embed/conversations/${id}`);
  await o.page.getByRole('log').getByText('Hello from the embed test').waitFor();
  assert.equal(await o.page.getByRole('navigation').count(), 0, 'no console around it');
  await say(v.chat, 'And a second line');
  await o.page.getByRole('log').getByText('And a second line').waitFor();
  await share(o.page, 'Custom mug');
  await v.chat.getByRole('group', { name: 'Custom mug' }).waitFor();
  await o.page.screenshot({ path: screenshotPath('console-embedded-conversation') });
  await v.context.close();
  await o.context.close();
});

test('the conversation survives a reload of the page', async () => {
  const v = await visitor();
  await say(v.chat, 'Remember me?');
  await v.page.reload();
  await v.page.getByRole('button', { name: 'Open chat' }).click();
  await v.page.frameLocator('iframe').getByRole('log').getByText('Remember me?').waitFor();
  await v.context.close();
});

test('by keyboard alone, in Spanish, on a phone-sized widget', async () => {
  const v = await visitor('es-ES', { width: 360, height: 740 });
  await say(v.chat, 'Hola, quiero la suscripción');
  const o = await operator('es-ES');
  await openConversation(o.page, 'Hola, quiero la suscripción');
  await share(o.page, 'Coffee subscription', { keyboard: true, es: true });
  const card = v.chat.getByRole('group', { name: 'Coffee subscription' });
  await card.waitFor();
  assert.match(await card.textContent(), /49,00 € \/ mes/);
  assert.match(await card.textContent(), /Pendiente de pago/);
  await card.getByRole('button', { name: 'Pagar ahora' }).waitFor();
  await v.page.screenshot({ path: screenshotPath('widget-card-es-phone') });

  // The visitor declines by keyboard.
  await card.getByRole('button', { name: 'Cancelar' }).focus();
  await v.page.keyboard.press('Enter');
  await card.getByRole('button', { name: 'Sí, rechazar' }).focus();
  await v.page.keyboard.press('Enter');
  await o.page.getByRole('group', { name: 'Coffee subscription' }).getByText('Rechazado por el visitante').waitFor();
  await o.page.screenshot({ path: screenshotPath('console-conversation-es') });
  assert.deepEqual(await seriousViolations(o.page), [], 'console in Spanish');
  await v.context.close();
  await o.context.close();
});

test('the console sign-in refuses a wrong password and has no accessibility problems', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('Wrong email or password.').waitFor();
  await page.screenshot({ path: screenshotPath('console-login') });
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});

test('a long conversation stays usable without a mouse: the transcript scrolls from the keyboard, and axe finds nothing serious in the widget or the console, in English and Spanish', async () => {
  for (const [locale, viewport, tag] of [['en-US', { width: 1000, height: 760 }, 'en'], ['es-ES', { width: 390, height: 844 }, 'es-390']]) {
    const es = locale.startsWith('es');
    const v = await visitor(locale, viewport);
    const first = es ? `Hola, tengo varias preguntas (${tag})` : `Hello, I have a few questions (${tag})`;
    await say(v.chat, first);
    for (let i = 1; i <= 10; i += 1) await say(v.chat, `${es ? 'Pregunta' : 'Question'} ${i} (${tag})`);
    const o = await operator(locale);
    await openConversation(o.page, `${es ? 'Pregunta' : 'Question'} 10 (${tag})`);
    for (const title of ['Custom mug', 'Coffee subscription', 'Barista workshop']) await share(o.page, title, { es });
    await v.chat.getByRole('group', { name: 'Barista workshop' }).waitFor();
    // The transcript overflows; it takes the focus and the keyboard scrolls it.
    const log = v.chat.getByRole('log');
    assert.ok(await log.evaluate((el) => el.scrollHeight > el.clientHeight + 100), 'the transcript scrolls');
    await log.evaluate((el) => { el.scrollTop = 0; });
    await log.focus();
    assert.equal(await log.evaluate((el) => el.ownerDocument.activeElement === el), true);
    await log.press('End');
    await v.page.waitForFunction(() => true);
    assert.ok(await log.evaluate((el) => el.scrollTop > 0), 'End scrolled the transcript');
    await v.page.screenshot({ path: screenshotPath(`widget-long-transcript-${tag}`) });
    assert.deepEqual(await seriousViolations(v.page), [], `widget ${tag}`);
    assert.deepEqual(await seriousViolations(o.page), [], `console ${tag}`);
    await v.context.close();
    await o.context.close();
  }
});
