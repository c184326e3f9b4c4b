// The console and the widget as daily tools (issue 15, first part), in real browsers:
// the console works on a phone (the list and a conversation take turns), messages,
// cards and the list say when; the widget's keyboard path (open, type, decline, Escape)
// keeps focus where the visitor is; the Spanish checkout lines its fields up at 390 px.
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

/** A console signed in as `email` (the demo password), in `locale`, at `viewport`. */
async function consoleAs(email, { locale = 'en-US', viewport = { width: 1280, height: 800 }, ...options } = {}) {
  const context = await browser.newContext({ locale, viewport, ...options });
  const page = await context.newPage();
  await page.goto(`${server.base}/console`);
  const es = locale.startsWith('es');
  await page.getByRole('textbox', { name: es ? 'Correo electrónico' : 'Email' }).fill(email);
  await page.getByLabel(es ? 'Contraseña' : 'Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: es ? 'Iniciar sesión' : 'Sign in' }).click();
  return { context, page };
}

/** A visitor on /demo who opened the chat and wrote `text` (delivered, not on its way):
 * their context, page, the chat's frame and its message box. */
async function visitorSays(text, { locale = 'en-US', viewport = { width: 1000, height: 760 }, ...options } = {}) {
  const context = await browser.newContext({ locale, viewport, ...options });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo`);
  const es = locale.startsWith('es');
  await page.getByRole('button', { name: es ? 'Abrir chat' : 'Open chat' }).click();
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: es ? 'Mensaje' : 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await chat.getByRole('log').locator('li:not(.msg--sending)', { hasText: text }).waitFor();
  return { context, page, chat, box };
}

/** The element focused inside the chat's iframe: its class and text. */
const focusedInChat = (page) => page.frames().find((f) => f.url().includes('/widget/'))
  .evaluate(() => ({ cls: document.activeElement?.className ?? '', text: document.activeElement?.textContent ?? '' }));

test('keyboard only: open the chat, type with spaces, decline a card and take it back with Escape', async () => {
  const visitor = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 760 } });
  const page = await visitor.newPage();
  await page.goto(`${server.base}/demo`);
  const launcher = page.getByRole('button', { name: 'Open chat' });
  await launcher.focus();
  await page.keyboard.press('Enter');
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: 'Message' });
  await box.waitFor();
  // Focus went into the message box: the words and their spaces land there.
  await page.waitForFunction(() => document.activeElement?.tagName === 'DIV' || document.activeElement?.tagName === 'IFRAME'
    || document.activeElement?.shadowRoot?.activeElement?.tagName === 'IFRAME');
  await page.waitForTimeout(200);
  assert.match((await focusedInChat(page)).cls, /chat__input/);
  await page.keyboard.type('I want a mug please');
  assert.equal(await box.inputValue(), 'I want a mug please');
  assert.equal(await page.getByRole('button', { name: 'Close chat' }).count(), 1, 'still open');
  await page.keyboard.press('Enter');
  const line = chat.getByRole('log').getByText('I want a mug please');
  await line.waitFor();
  // The time it was sent, by the browser's clock.
  const sent = chat.getByRole('log').locator('li', { hasText: 'I want a mug please' }).locator('time');
  assert.match(await sent.textContent(), /\d{1,2}:\d{2}/);
  assert.ok(await sent.getAttribute('datetime'));

  // The operator, on a phone: the list first, then the conversation alone, then back.
  const phone = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const op = await phone.newPage();
  await op.goto(`${server.base}/console`);
  await op.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await op.getByLabel('Password').fill(DEMO_PASSWORD);
  await op.getByRole('button', { name: 'Sign in' }).click();
  const list = op.getByRole('navigation', { name: 'Conversations' });
  const entry = list.getByRole('link').filter({ hasText: 'I want a mug please' });
  await entry.waitFor();
  assert.match(await entry.locator('time').textContent(), /\d{1,2}:\d{2}/);
  await op.screenshot({ path: screenshotPath('console-phone-list-en') });
  assert.deepEqual(await seriousViolations(op), []);
  await entry.click();
  await op.getByRole('log').getByText('I want a mug please').waitFor();
  assert.equal(await list.isVisible(), false, 'the conversation takes the whole screen');
  await op.getByRole('button', { name: 'Payments', exact: true }).click();
  const item = op.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Custom mug' });
  await item.getByRole('button', { name: 'Share' }).click();
  const opCard = op.getByRole('group', { name: 'Custom mug' });
  await opCard.waitFor();
  await opCard.getByText('Pay before').waitFor();
  await op.screenshot({ path: screenshotPath('console-phone-conversation-en') });
  assert.deepEqual(await seriousViolations(op), []);
  await op.getByRole('link', { name: 'All conversations' }).click();
  // Back to the list, where the conversation now ends with the card.
  await list.getByRole('link').filter({ hasText: 'Custom mug' }).waitFor();

  // The visitor declines by keyboard: the question takes focus; Escape closes only it.
  const card = chat.getByRole('group', { name: 'Custom mug' });
  await card.waitFor();
  await card.getByText('Pay before').waitFor();
  await card.getByRole('button', { name: 'Cancel' }).focus();
  await page.keyboard.press('Enter');
  await card.getByRole('alertdialog').waitFor();
  await page.waitForFunction(() => true);
  await page.waitForTimeout(100);
  assert.equal((await focusedInChat(page)).text, 'Keep it');
  await page.keyboard.press('Escape');
  await card.getByRole('button', { name: 'Cancel' }).waitFor();
  assert.equal(await card.getByRole('alertdialog').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Close chat' }).count(), 1, 'the chat stays open');
  await page.waitForTimeout(100);
  assert.equal((await focusedInChat(page)).text, 'Cancel', 'focus back on Cancel');
  assert.equal(await card.getAttribute('data-status'), 'pending');
  // Escape outside a question closes the chat, and focus returns to the launcher.
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Open chat' }).waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await visitor.close();
  await phone.close();
});

test('the Spanish checkout at 390 px: MM/AA, and expiry and CVC side by side', async () => {
  // A card to pay, by API.
  const opened = await (await fetch(`${server.base}/api/v1/conversations`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ brand_id: 'acme' }),
  })).json();
  const login = await (await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
  })).json();
  const card = await (await fetch(`${server.base}/api/v1/operator/conversations/${opened.conversation.id}/cards`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` },
    body: JSON.stringify({ payment_id: 'pay_demo_mug' }),
  })).json();
  const link = await (await fetch(`${server.base}/api/v1/cards/${card.id}/checkout`, {
    method: 'POST', headers: { authorization: `Bearer ${opened.visitor_token}` },
  })).json();
  const context = await browser.newContext({ locale: 'es-ES', viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${link.checkout_url}?lang=es`);
  const expiry = page.getByLabel('Caducidad (MM/AA)');
  assert.equal(await expiry.getAttribute('placeholder'), 'MM/AA');
  const [a, b] = [await expiry.boundingBox(), await page.getByLabel('CVC').boundingBox()];
  assert.ok(Math.abs(a.y - b.y) < 1, `expiry at ${a.y}, CVC at ${b.y}`);
  // With an error under one of them, still side by side.
  await page.getByLabel('Nombre').fill('Ana');
  await page.getByLabel('Correo electrónico').fill('ana@example.com');
  await page.getByLabel('Número de tarjeta').fill('4000 0000 0000 0119');
  await expiry.fill('13/99');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: /^Pagar/ }).click();
  await page.getByText('MM/AA', { exact: false }).first().waitFor();
  const [c, d] = [await page.getByLabel('Caducidad (MM/AA)').boundingBox(), await page.getByLabel('CVC').boundingBox()];
  assert.ok(Math.abs(c.y - d.y) < 1, `expiry at ${c.y}, CVC at ${d.y}`);
  await page.screenshot({ path: screenshotPath('checkout-phone-es'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});

test('offline: a message waits, marked, and goes once when the connection is back (both sides)', async () => {
  const { context: visitor, page, chat, box } = await visitorSays('First, while online');
  const log = chat.getByRole('log');

  await visitor.setOffline(true);
  await box.fill('Written on the train');
  await box.press('Enter');
  assert.equal(await box.inputValue(), '', 'the box is free for the next words');
  const waiting = log.locator('li.msg--sending', { hasText: 'Written on the train' });
  await waiting.getByText('Not sent yet').waitFor();
  assert.equal(await waiting.getAttribute('data-sending'), 'waiting');
  await box.fill('And a second one');
  await box.press('Enter');
  await log.locator('li.msg--sending', { hasText: 'And a second one' }).waitFor();
  await page.screenshot({ path: screenshotPath('widget-offline-en') });

  await visitor.setOffline(false);
  // Back: both go, in order, each once, and nothing waits any more.
  await log.locator('li.msg--sending').first().waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await log.locator('li.msg--sending').count(), 0);
  const texts = await log.locator('li').allTextContents();
  const train = texts.findIndex((t) => t.includes('Written on the train'));
  const second = texts.findIndex((t) => t.includes('And a second one'));
  assert.ok(train >= 0 && second > train, JSON.stringify(texts));
  assert.equal(texts.filter((t) => t.includes('Written on the train')).length, 1);

  // The operator, offline too for a moment.
  const console_ = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const op = await console_.newPage();
  await op.goto(`${server.base}/console`);
  await op.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await op.getByLabel('Password').fill(DEMO_PASSWORD);
  await op.getByRole('button', { name: 'Sign in' }).click();
  await op.getByRole('navigation', { name: 'Conversations' }).getByRole('link').filter({ hasText: 'And a second one' }).click();
  const opLog = op.getByRole('log');
  await opLog.getByText('Written on the train').waitFor();
  assert.equal(await opLog.getByText('Written on the train').count(), 1, 'the operator sees it once');
  await console_.setOffline(true);
  const opBox = op.getByRole('textbox', { name: 'Message' });
  await opBox.fill('Answer from the tunnel');
  await opBox.press('Enter');
  await opLog.locator('li.msg--sending', { hasText: 'Answer from the tunnel' }).getByText('Not sent yet').waitFor();
  await console_.setOffline(false);
  await opLog.locator('li.msg--sending').waitFor({ state: 'detached', timeout: 20_000 });
  await log.getByText('Answer from the tunnel').waitFor();
  assert.equal(await log.getByText('Answer from the tunnel').count(), 1, 'the visitor gets it once');
  assert.deepEqual(await seriousViolations(page), []);
  await visitor.close();
  await console_.close();
});

test('unread counts survive a reload, the tab title counts them, desktop alerts once asked for', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 }, permissions: ['notifications'] });
  // Record the notifications the console makes (the real ones have no window to show in).
  await context.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    window.Notification = class extends Real {
      constructor(title, options) { super(title, options); window.__notes.push({ title, body: options?.body }); }
    };
  });
  const op = await context.newPage();
  await op.goto(`${server.base}/console`);
  await op.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await op.getByLabel('Password').fill(DEMO_PASSWORD);
  await op.getByRole('button', { name: 'Sign in' }).click();
  const desktop = op.getByRole('button', { name: 'Desktop alerts' });
  assert.equal(await desktop.getAttribute('aria-pressed'), 'false', 'never on by itself');
  await desktop.click();
  await op.waitForFunction(() => document.querySelector('.alerts__switch')?.getAttribute('aria-pressed') === 'true');

  const post = (path, body, token) => fetch(`${server.base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const opened = await (await post('/api/v1/conversations', { brand_id: 'acme', visitor_name: 'Unread Una' })).json();
  const say = (text) => post(`/api/v1/conversations/${opened.conversation.id}/messages`, { text }, opened.visitor_token);
  await say('Are you there?');
  await say('I have a question about my order');
  const entry = op.getByRole('navigation', { name: 'Conversations' }).getByRole('link').filter({ hasText: 'Unread Una' });
  await entry.getByText('(2 unread)').waitFor();
  assert.equal(await entry.locator('.conv__count').textContent(), '2');
  await op.waitForFunction(() => document.title.startsWith('(2) '));
  await op.waitForFunction(() => window.__notes.length >= 2);
  assert.deepEqual(await op.evaluate(() => window.__notes.at(-1)), { title: 'Unread Una', body: 'I have a question about my order' });
  await op.screenshot({ path: screenshotPath('console-unread-en') });

  // Kept on the server: a reload still shows them.
  await op.reload();
  await entry.getByText('(2 unread)').waitFor();
  await op.waitForFunction(() => document.title.startsWith('(2) '));
  // Reading the conversation clears them, here and after a reload.
  await entry.click();
  await op.getByRole('log').getByText('I have a question about my order').waitFor();
  await op.waitForFunction(() => !document.title.startsWith('('));
  assert.equal(await entry.locator('.conv__count').count(), 0);
  await op.waitForTimeout(300);
  await op.reload();
  await op.getByRole('log').getByText('I have a question about my order').waitFor();
  assert.equal(await entry.locator('.conv__count').count(), 0, 'read on the server');
  assert.deepEqual(await seriousViolations(op), []);
  await context.close();
});

test('the launcher shows what the operator wrote while the chat was closed, on the next page too', async () => {
  const { context, page, chat, box } = await visitorSays('Badge me please');
  await page.getByRole('button', { name: 'Close chat' }).click();

  const login = await (await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
  })).json();
  const list = await (await fetch(`${server.base}/api/v1/operator/conversations`, { headers: { authorization: `Bearer ${login.token}` } })).json();
  const conversation = list.items.find((c) => c.last_message?.text === 'Badge me please');
  const reply = (text) => fetch(`${server.base}/api/v1/operator/conversations/${conversation.id}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` },
    body: JSON.stringify({ text }),
  });
  await reply('We have mugs in blue and red');
  const launcher = page.getByRole('button', { name: /^Open chat, 1 new message: We have mugs in blue and red$/ });
  await launcher.waitFor();
  const host = page.locator('[data-paycard-brand]');
  assert.equal(await host.evaluate((el) => el.shadowRoot.querySelector('.b')?.textContent), '1');
  assert.equal(await host.evaluate((el) => el.shadowRoot.querySelector('.v')?.textContent), 'We have mugs in blue and red');
  await page.screenshot({ path: screenshotPath('widget-launcher-badge-en') });
  assert.deepEqual(await seriousViolations(page), []);

  // The next page of the site: the chat loads when the page is quiet, and the badge works.
  await page.goto(`${server.base}/demo`);
  await page.waitForFunction(() => document.querySelector('[data-paycard-brand]')?.shadowRoot?.querySelector('iframe'));
  await page.waitForTimeout(1500);
  await reply('And in green');
  await page.getByRole('button', { name: /^Open chat, 1 new message: And in green$/ }).waitFor();
  // Opening shows it, and the badge goes.
  await page.getByRole('button', { name: /^Open chat/ }).click();
  await chat.getByRole('log').getByText('And in green').waitFor();
  assert.equal(await host.evaluate((el) => el.shadowRoot.querySelector('.b')), null);
  await page.getByRole('button', { name: 'Close chat' }).click();
  assert.equal(await page.getByRole('button', { name: 'Open chat', exact: true }).count(), 1, 'nothing new since');
  await context.close();
});

test('context: the operator sees who the visitor is and what they paid, corrects the name, and cancels only when sure', async () => {
  // A visitor on the demo page pays a mug, first with a declined card.
  const { context: visitor, page, chat, box } = await visitorSays('Quiero una taza',
    { locale: 'es-ES', timezoneId: 'America/Bogota' });

  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const op = await context.newPage();
  await op.goto(`${server.base}/console`);
  await op.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await op.getByLabel('Password').fill(DEMO_PASSWORD);
  await op.getByRole('button', { name: 'Sign in' }).click();
  await op.getByRole('navigation', { name: 'Conversations' }).getByRole('link').filter({ hasText: 'Quiero una taza' }).click();
  await op.getByRole('button', { name: 'Payments', exact: true }).click();
  await op.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Custom mug' })
    .getByRole('button', { name: 'Share' }).click();
  const card = chat.getByRole('group', { name: 'Custom mug' });
  const [tab] = await Promise.all([visitor.waitForEvent('page'), card.getByRole('button', { name: 'Pagar ahora' }).click()]);
  const payWith = async (number) => {
    await tab.getByLabel('Nombre').fill('Lucía Pérez');
    await tab.getByLabel('Correo electrónico').fill('lucia@example.com');
    await tab.getByLabel('Número de tarjeta').fill(number);
    await tab.getByLabel('Caducidad (MM/AA)').fill('12/34');
    await tab.getByLabel('CVC').fill('123');
    await tab.getByRole('button', { name: /^Pagar/ }).click();
  };
  await tab.getByLabel('Nombre').waitFor();
  await payWith('4000 0000 0000 0002');
  await tab.getByText('la tarjeta fue rechazada').first().waitFor();
  await payWith('4242 4242 4242 4242');
  await chat.locator('[data-status="paid"]').waitFor();

  // The panel: a disclosure under the title, opened by keyboard.
  // Named at checkout: the title and the list follow live.
  await op.getByRole('heading', { name: 'Lucía Pérez', level: 2 }).waitFor();
  await op.getByRole('navigation', { name: 'Conversations' }).getByRole('link').filter({ hasText: 'Lucía Pérez' }).waitFor();
  const summary = op.locator('.visitor__summary');
  await summary.getByText('Visitor details · lucia@example.com').waitFor();
  await summary.focus();
  await op.keyboard.press('Enter');
  const facts = op.locator('.visitor__facts');
  await facts.waitFor();
  const text = await facts.textContent();
  assert.match(text, /LanguageSpanish/);
  assert.match(text, /Local time\d{1,2}:\d{2}( [AP]M)? \(America\/Bogota\)/);
  assert.match(text, new RegExp(`Started on${server.base.replace(/[.]/g, '\\.')}/demo`));
  const history = op.locator('.visitor__card[data-card-status="paid"]');
  await history.waitFor();
  const lines = await history.locator('.visitor__attempts li').allTextContents();
  assert.equal(lines.length, 2, lines.join(' | '));
  assert.match(lines[0], /sandbox ···· 0002 · Failed: the card was declined/);
  assert.match(lines[1], /sandbox ···· 4242 · Paid/);
  await op.screenshot({ path: screenshotPath('console-visitor-panel-en') });
  assert.deepEqual(await seriousViolations(op), []);

  // Corrected by the operator; a wrong email is said next to its field.
  await op.getByRole('button', { name: 'Edit name and email' }).click();
  await op.getByLabel('Name', { exact: true }).fill('Lucía Pérez (VIP)');
  await op.getByLabel('Email', { exact: true }).fill('lucia@');
  await op.getByRole('button', { name: 'Save' }).click();
  await op.locator('#visitor-email-error').getByText(/email address/).waitFor();
  await op.getByLabel('Email', { exact: true }).fill('lucia@example.org');
  await op.getByRole('button', { name: 'Save' }).click();
  await summary.getByText('Visitor details · lucia@example.org').waitFor();
  await op.getByRole('heading', { name: 'Lucía Pérez (VIP)', level: 2 }).waitFor();

  // A second card, and Cancel request asks first; Escape keeps it.
  await op.getByRole('button', { name: 'Payments', exact: true }).click();
  await op.getByRole('list', { name: 'Payments' }).getByRole('listitem').filter({ hasText: 'Barista workshop' })
    .getByRole('button', { name: 'Share' }).click();
  const workshop = op.getByRole('group', { name: 'Barista workshop' });
  await workshop.getByRole('button', { name: 'Cancel request' }).click();
  const question = workshop.getByRole('alertdialog');
  await question.waitFor();
  await op.waitForFunction(() => document.activeElement?.textContent === 'Keep it');
  await op.keyboard.press('Escape');
  await workshop.getByRole('button', { name: 'Cancel request' }).waitFor();
  assert.equal(await workshop.getAttribute('data-status'), 'pending');
  await workshop.getByRole('button', { name: 'Cancel request' }).click();
  await workshop.getByRole('button', { name: 'Yes, cancel it' }).click();
  await op.locator('[data-status="cancelled"]').waitFor();
  await op.waitForFunction(() => document.activeElement?.classList.contains('chat__input'));
  await visitor.close();
  await context.close();
});

test('the checkout follows its card: cancelled meanwhile, it says so by itself; a refused submit focuses the errors', async () => {
  const post = (path, body, token) => fetch(`${server.base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const opened = await (await post('/api/v1/conversations', { brand_id: 'acme' })).json();
  const login = await (await post('/api/v1/auth/login', { email: 'operator@example.com', password: DEMO_PASSWORD })).json();
  const card = await (await post(`/api/v1/operator/conversations/${opened.conversation.id}/cards`, { payment_id: 'pay_demo_mug' }, login.token)).json();
  const link = await (await post(`/api/v1/cards/${card.id}/checkout`, undefined, opened.visitor_token)).json();
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 800, height: 900 } });
  const page = await context.newPage();
  const csp = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await page.goto(link.checkout_url);
  // Submitted with mistakes: the summary of what to fix has the focus.
  await page.getByRole('button', { name: /^Pay/ }).first().click();
  await page.getByRole('alert').first().waitFor();
  await page.waitForFunction(() => document.activeElement?.classList.contains('alert'));
  // The operator cancels while the form is open: the page changes without a touch.
  await page.getByLabel('Name').fill('Half typed');
  const res = await post(`/api/v1/operator/cards/${card.id}/cancel`, undefined, login.token);
  assert.equal(res.status, 200);
  await page.getByRole('heading', { name: 'This payment request was cancelled' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('form').count(), 0);
  assert.deepEqual(csp, [], 'the script and its requests are allowed by the policy');
  await context.close();
});

test('the list at scale: search, open/closed, brands labelled; closing, and the visitor bringing it back; names in each reader\'s language', async () => {
  const post = (path, body, token, headers = {}) => fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  // A Spanish-speaking visitor with no name, a named one, and one of the other brand.
  const anon = await (await post('/api/v1/conversations', { brand_id: 'acme' }, null, { 'accept-language': 'es-ES' })).json();
  const named = await (await post('/api/v1/conversations', { brand_id: 'acme', visitor_name: 'Listed Lola' })).json();
  const zen = await (await post('/api/v1/conversations', { brand_id: 'zen', visitor_name: 'Yoga Yara' })).json();
  const say = (c, text) => post(`/api/v1/conversations/${c.conversation.id}/messages`, { text }, c.visitor_token);
  await say(anon, '¿Dónde está mi pedido de la taza turquesa?');
  await say(named, 'Do you have gift wrapping?');
  await say(zen, 'Namaste, is there a class on Sunday?');
  const number = anon.conversation.visitor_name.match(/^Visitor (\d{4})$/)?.[1];
  assert.ok(number, `one form in every language: ${anon.conversation.visitor_name}`);

  // The admin (two brands), at 1280 px: every line says its brand.
  const { context, page: admin } = await consoleAs('admin@example.com');
  const list = admin.getByRole('navigation', { name: 'Conversations' });
  const entry = (text) => list.getByRole('link').filter({ hasText: text });
  await entry('Yoga Yara').getByText('Zen Yoga').waitFor();
  await entry('Listed Lola').getByText('Acme Coffee').waitFor();
  // The generated name reads in English here, though the visitor spoke Spanish.
  await entry(`Visitor ${number}`).waitFor();
  assert.equal(await entry(`Visitante ${number}`).count(), 0);

  // Search by words of a message, from the keyboard.
  const search = list.getByRole('searchbox', { name: 'Search conversations' });
  await search.focus();
  await admin.keyboard.type('taza turquesa');
  await admin.waitForFunction(() => document.querySelectorAll('.conv').length === 1);
  await entry(`Visitor ${number}`).waitFor();
  await admin.screenshot({ path: screenshotPath('console-list-search-en') });
  await search.fill('no such words anywhere');
  await list.locator('.console__empty', { hasText: 'No conversations match.' }).waitFor();
  await list.getByRole('status').filter({ hasText: 'No conversations match.' }).waitFor();
  await search.fill('');
  await entry('Listed Lola').waitFor();
  // By brand.
  await list.getByRole('combobox', { name: 'Website' }).selectOption({ label: 'Zen Yoga' });
  await admin.waitForFunction(() => [...document.querySelectorAll('.conv__brand')].every((b) => b.textContent === 'Zen Yoga'));
  await entry('Yoga Yara').waitFor();
  assert.equal(await entry('Listed Lola').count(), 0);
  await list.getByRole('combobox', { name: 'Website' }).selectOption({ label: 'All websites' });
  await entry('Listed Lola').waitFor();

  // Close Lola's conversation: it leaves the open list, and shows under Closed, marked.
  await entry('Listed Lola').click();
  await admin.getByRole('log').getByText('Do you have gift wrapping?').waitFor();
  const close = admin.getByRole('button', { name: 'Close conversation' });
  await close.focus();
  await admin.keyboard.press('Enter');
  await admin.getByRole('button', { name: 'Reopen' }).waitFor();
  await entry('Listed Lola').waitFor({ state: 'detached' });
  await admin.getByRole('heading', { name: 'Listed Lola' }).waitFor();
  await admin.getByRole('status').filter({ hasText: 'Conversation closed' }).waitFor();
  const show = list.getByRole('combobox', { name: 'Conversations listed' });
  await show.selectOption('closed');
  await entry('Listed Lola').getByText('Closed').waitFor();
  await admin.screenshot({ path: screenshotPath('console-list-closed-en') });
  assert.deepEqual(await seriousViolations(admin), []);
  await show.selectOption('open');
  await entry('Yoga Yara').waitFor();
  assert.equal(await entry('Listed Lola').count(), 0);
  // The visitor writes again: back in the open list, live, with the new line.
  await say(named, 'Also, can it arrive by Friday?');
  await entry('Listed Lola').getByText('Also, can it arrive by Friday?').waitFor();
  await admin.getByRole('button', { name: 'Close conversation' }).waitFor();

  // A Spanish operator on a phone reads the same generated name in Spanish.
  const { context: phone, page: op } = await consoleAs('operator@example.com',
    { locale: 'es-ES', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const opList = op.getByRole('navigation', { name: 'Conversaciones' });
  await opList.getByRole('link').filter({ hasText: `Visitante ${number}` }).waitFor();
  assert.equal(await opList.locator('.conv__brand').count(), 0, 'one brand: no labels');
  await opList.getByRole('searchbox', { name: 'Buscar conversaciones' }).fill('turquesa');
  await op.waitForFunction(() => document.querySelectorAll('.conv').length === 1);
  await op.screenshot({ path: screenshotPath('console-list-search-es-390') });
  assert.deepEqual(await seriousViolations(op), []);
  // The generated name as this reader sees it finds the conversation too.
  await opList.getByRole('searchbox', { name: 'Buscar conversaciones' }).fill(`Visitante ${number}`);
  await opList.getByRole('status').filter({ hasText: '1 conversación' }).waitFor();
  await opList.getByRole('link').filter({ hasText: `Visitante ${number}` }).click();
  await op.getByRole('heading', { name: `Visitante ${number}` }).waitFor();
  await op.getByRole('button', { name: 'Cerrar conversación' }).click();
  await op.getByRole('button', { name: 'Reabrir' }).waitFor();
  // Out of the open list now, it is still on screen under its name.
  await op.getByRole('heading', { name: `Visitante ${number}` }).waitFor();
  await op.screenshot({ path: screenshotPath('console-conversation-closed-es-390') });
  await phone.close();
  await context.close();
});

test('retry now: after an outage the visitor and the operator need not wait for the timer', async () => {
  const { context: visitor, page, chat, box } = await visitorSays('Checking the connection');
  const { context, page: op } = await consoleAs('operator@example.com');
  await op.getByRole('navigation', { name: 'Conversations' }).getByRole('link').filter({ hasText: 'Checking the connection' }).click();
  await op.getByRole('log').getByText('Checking the connection').waitFor();

  // The server goes down: both sides say so, with Retry now.
  await server.down();
  const retry = chat.getByRole('button', { name: 'Retry now' });
  const opRetry = op.getByRole('button', { name: 'Retry now' });
  await retry.waitFor({ timeout: 20_000 });
  await opRetry.waitFor({ timeout: 20_000 });
  // Past the quick retries: polling, the slow spell Retry now cuts short.
  await chat.getByText('Live updates are paused').waitFor({ timeout: 20_000 });
  await page.screenshot({ path: screenshotPath('widget-retry-now-en') });
  await op.screenshot({ path: screenshotPath('console-retry-now-en') });
  assert.deepEqual(await seriousViolations(page), []);

  // Back: one press each and they are live again at once, not at the next poll (every
  // 4 s while paused).
  // (A poll may beat a click by chance: then that button is gone already.)
  await server.up();
  await Promise.all([retry.click({ timeout: 500 }).catch(() => {}), opRetry.click({ timeout: 500 }).catch(() => {})]);
  await retry.waitFor({ state: 'detached', timeout: 1_500 });
  await opRetry.waitFor({ state: 'detached', timeout: 1_500 });
  const opBox = op.getByRole('textbox', { name: 'Message' });
  await opBox.fill('Loud and clear');
  await opBox.press('Enter');
  await chat.getByRole('log').getByText('Loud and clear').waitFor({ timeout: 3_000 });
  await box.fill('Thanks, got it');
  await box.press('Enter');
  await op.getByRole('log').getByText('Thanks, got it').waitFor({ timeout: 3_000 });
  await visitor.close();
  await context.close();
});

test('live updates back after polling: the operator counts each unread message once', async () => {
  // The operator's stream is refused from the start (as by a proxy that drops it): the
  // console polls.
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  await context.route('**/api/v1/operator/events**', (route) => route.abort());
  const op = await context.newPage();
  await op.goto(`${server.base}/console`);
  await op.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await op.getByLabel('Password').fill(DEMO_PASSWORD);
  await op.getByRole('button', { name: 'Sign in' }).click();
  const list = op.getByRole('navigation', { name: 'Conversations' });
  await op.getByText('Reconnecting… updates may be late.').first().waitFor({ timeout: 15_000 });
  const post = (path, body, token) => fetch(`${server.base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const opened = await (await post('/api/v1/conversations', { brand_id: 'acme', visitor_name: 'Polled Paula' })).json();
  const said = await post(`/api/v1/conversations/${opened.conversation.id}/messages`, { text: 'Anyone there?' }, opened.visitor_token);
  assert.equal(said.status, 201);
  // Only a poll can bring it while the stream is refused.
  const entry = list.getByRole('link').filter({ hasText: 'Polled Paula' });
  await entry.getByText('(1 unread)').waitFor({ timeout: 25_000 });

  // The stream is let through again and resumes after what the poll brought: the
  // message is not counted a second time.
  await context.unroute('**/api/v1/operator/events**');
  const retry = op.getByRole('button', { name: 'Retry now' });
  await retry.click({ timeout: 2_000 }).catch(() => {});
  await retry.waitFor({ state: 'detached', timeout: 10_000 });
  await op.waitForTimeout(1_500);
  assert.equal(await entry.locator('.conv__count').textContent(), '1');
  await entry.getByText('(1 unread)').waitFor();
  await context.close();
});
