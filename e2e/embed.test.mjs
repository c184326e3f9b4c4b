// The embed: a website with the one-line tag gets a launcher; opening it shows the chat
// in an iframe served by paycard. English and Spanish; by mouse and by keyboard; axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshotPath, watchCsp, seriousViolations } from './lib/harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo page embeds a launcher that opens the chat', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const refused = watchCsp(page);
  await page.goto(`${server.base}/demo`);

  const launcher = page.getByRole('button', { name: 'Open chat' });
  await launcher.waitFor();
  // Styled under the demo page's strict policy (no inline styles but its own, by hash).
  assert.equal(await launcher.evaluate((b) => getComputedStyle(b).position), 'fixed');
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  // The chat loads, hidden, once the page has loaded and gone quiet: the click only
  // shows it.
  await page.locator('iframe').waitFor({ state: 'attached' });
  assert.equal(await page.locator('iframe').isVisible(), false, 'loaded, not shown');
  // (Hidden, it is not in the accessibility tree yet: found by its element.)
  await page.frameLocator('iframe').locator('input[aria-label="Message"]').waitFor({ state: 'attached', timeout: 20_000 });

  await launcher.click();
  const close = page.getByRole('button', { name: 'Close chat' });
  assert.equal(await close.getAttribute('aria-expanded'), 'true');

  const chat = page.frameLocator('iframe[title="Chat with us"]');
  const box = chat.getByRole('textbox', { name: 'Message' });
  await box.waitFor({ timeout: 20_000 });
  await box.fill('Do you ship to Lisbon?');
  await box.press('Enter');
  await chat.getByRole('log').getByText('Do you ship to Lisbon?').waitFor();
  assert.equal(await box.inputValue(), '');

  await page.screenshot({ path: screenshotPath('demo-widget-open-en') });
  assert.deepEqual(await seriousViolations(page), [], 'demo page with the launcher');
  const frame = page.frames().find((f) => f.url().includes('/widget/'));
  assert.ok(frame, 'the widget frame is loaded from paycard');
  assert.ok(new URL(frame.url()).searchParams.get('brand') === 'acme');

  await close.click();
  assert.equal(await page.getByRole('button', { name: 'Open chat' }).getAttribute('aria-expanded'), 'false');
  assert.deepEqual(errors, []);
  assert.deepEqual(refused, [], 'the demo page and the widget need nothing their policies refuse');
  await context.close();
});

test('the widget page itself has no serious accessibility problems', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 380, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/widget/?brand=acme`);
  await page.getByRole('textbox', { name: 'Message' }).waitFor({ timeout: 20_000 });
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: screenshotPath('widget-en') });
  await context.close();
});

test('keyboard only, in Spanish, on a 360 px phone', async () => {
  const context = await browser.newContext({ locale: 'es-ES', viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo`);
  const launcher = page.getByRole('button', { name: 'Abrir chat' });
  await launcher.waitFor();
  // Tab from the page start reaches the launcher after the page's own links.
  await launcher.focus();
  await page.keyboard.press('Enter');
  const chat = page.frameLocator('iframe');
  const box = chat.getByRole('textbox', { name: 'Mensaje' });
  await box.waitFor({ timeout: 20_000 });
  await box.click();
  await page.keyboard.type('Hola');
  await page.keyboard.press('Enter');
  await chat.getByRole('log').getByText('Hola').waitFor();
  await chat.getByRole('button', { name: 'Enviar' }).waitFor();
  await page.screenshot({ path: screenshotPath('demo-widget-open-es-phone') });

  // Escape on the host page closes the chat and gives focus back to the launcher.
  await page.getByRole('button', { name: 'Cerrar chat' }).focus();
  await page.keyboard.press('Escape');
  const reopened = page.getByRole('button', { name: 'Abrir chat' });
  assert.equal(await reopened.getAttribute('aria-expanded'), 'false');
  assert.equal(await reopened.evaluate((el) => el.getRootNode().activeElement === el), true);
  await context.close();
});
