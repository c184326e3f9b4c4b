// Benchmark: the time from an operator's Share (the HTTP request leaving) to the card
// appearing in the visitor's DOM, over 100 shares, in headless Chromium against the
// release server. Prints p50/p95/max. Run by `make bench`.
import { startServer, launchBrowser, DEMO_PASSWORD } from './lib/harness.mjs';

const SHARES = Number(process.env.SHARES ?? 100);
const server = await startServer({ RUST_LOG: 'error' });
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.base}/widget/?brand=acme&lang=en`);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('benchmark');
  await box.press('Enter');
  await page.getByRole('log').getByText('benchmark').waitFor();

  // The page reports each new card the moment it is added to the DOM.
  let seen = 0;
  let waiting = null;
  await page.exposeFunction('cardAdded', (count) => {
    seen = count;
    if (waiting && seen >= waiting.count) waiting.resolve(performance.now());
  });
  await page.evaluate(() => {
    const log = document.querySelector('[role=log]');
    new MutationObserver(() => window.cardAdded(log.querySelectorAll('[role=group]').length))
      .observe(log, { childList: true, subtree: true });
  });

  const login = await (await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'operator@example.com', password: DEMO_PASSWORD }),
  })).json();
  const headers = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };
  const { items: [conversation] } = await (await fetch(`${server.base}/api/v1/operator/conversations`, { headers })).json();

  const times = [];
  for (let i = 1; i <= SHARES; i++) {
    const shown = new Promise((resolve) => { waiting = { count: i, resolve }; });
    const start = performance.now();
    const res = await fetch(`${server.base}/api/v1/operator/conversations/${conversation.id}/cards`, {
      method: 'POST', headers, body: JSON.stringify({ payment_id: i % 2 ? 'pay_demo_mug' : 'pay_demo_beans' }),
    });
    if (res.status !== 201) throw new Error(`share ${i}: HTTP ${res.status}`);
    times.push((await shown) - start);
  }
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  console.log(`share -> card in the visitor's DOM over ${SHARES} shares: ` +
    `p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`);
} finally {
  await browser.close();
  await server.stop();
}
