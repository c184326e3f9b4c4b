// The console as an operator uses it all day: a long conversation list that pages in as
// they scroll, signing out everywhere at once, and pages that need nothing their
// Content-Security-Policy refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, watchCsp, DEMO_PASSWORD } from './lib/harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function api(path, { token, body } = {}) {
  const res = await fetch(`${server.base}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${path}: ${res.status}`);
  return res.json();
}

async function signIn(page) {
  await page.goto(`${server.base}/console`);
  await page.getByRole('textbox', { name: 'Email' }).fill('operator@example.com');
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
}

test('the conversation list pages in as the operator scrolls', async () => {
  // 65 conversations, each with a visitor's message: more than one page of 50.
  for (let i = 0; i < 65; i++) {
    const { conversation, visitor_token } = await api('/api/v1/conversations', {
      body: { brand_id: 'acme', visitor_name: `Visitor ${String(i).padStart(2, '0')}` },
    });
    await api(`/api/v1/conversations/${conversation.id}/messages`, {
      token: visitor_token,
      body: { text: `Question number ${i}` },
    });
  }
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const refused = watchCsp(page);
  await signIn(page);
  const list = page.getByRole('navigation', { name: 'Conversations' });
  const items = list.getByRole('listitem');
  await items.first().waitFor();
  assert.equal(await items.count(), 50, 'the first page');
  // Newest activity first.
  assert.match(await items.first().innerText(), /Question number 64/);

  // Scrolling to the end of the list brings the next page.
  await list.evaluate((nav) => nav.scrollTo(0, nav.scrollHeight));
  await page.waitForFunction(
    () => document.querySelectorAll('nav[aria-label="Conversations"] li').length === 65,
  );
  assert.match(await items.last().innerText(), /Question number 0/);
  // Everything is loaded: no button for more.
  assert.equal(await list.getByRole('button', { name: 'Show older conversations' }).count(), 0);
  await page.screenshot({ path: screenshotPath('console-long-list') });
  assert.deepEqual(refused, [], 'the console needs nothing its policy refuses');
  await context.close();
});

test('by keyboard, the button brings the older conversations', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await signIn(page);
  const list = page.getByRole('navigation', { name: 'Conversations' });
  const older = list.getByRole('button', { name: 'Show older conversations' });
  await older.waitFor();
  await older.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => document.querySelectorAll('nav[aria-label="Conversations"] li').length >= 65,
  );
  await context.close();
});

test('signing out in one tab signs the other tab out too', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  const first = await context.newPage();
  await signIn(first);
  // A second tab of the same browser shares the session.
  const second = await context.newPage();
  await second.goto(`${server.base}/console`);
  await second.getByRole('navigation', { name: 'Conversations' }).waitFor();
  // Its live stream is open…
  await second.waitForFunction(() => !document.querySelector('.console__live')?.textContent);
  await first.getByRole('button', { name: 'Sign out' }).click();
  await first.getByRole('button', { name: 'Sign in' }).waitFor();
  // …and ends when the session does: the tab shows the sign-in form.
  await second.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 10_000 });
  await context.close();
});
