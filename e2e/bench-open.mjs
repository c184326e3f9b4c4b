// Benchmark: from the visitor's click on the launcher to a usable message box (the box in
// the chat has the keyboard focus), on the demo page after it sat idle for 2 s, in
// headless Chromium against the release server: a first visit (empty cache) on loopback
// and on an emulated Fast 3G link (1.6 Mbps down, 750 kbps up, 150 ms round trip).
// Prints the median and the slowest of RUNS visits each. Run by `make bench`.
import { startServer, launchBrowser } from './lib/harness.mjs';
import { sleep } from './lib/bench.mjs';

const RUNS = Number(process.env.RUNS ?? 7);
const FAST_3G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

const server = await startServer({ RUST_LOG: 'error' });
const browser = await launchBrowser();
try {
  for (const [name, network] of [['loopback', null], ['Fast 3G', FAST_3G]]) {
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      // A new context each time: a first visit, nothing cached.
      const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      if (network) {
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', network);
      }
      await page.goto(`${server.base}/demo`, { waitUntil: 'load' });
      await sleep(2000);
      const launcher = page.getByRole('button', { name: 'Open chat' });
      const start = performance.now();
      await launcher.click();
      const frame = page.frameLocator('iframe');
      await frame.locator('input[aria-label="Message"]:focus').waitFor({ timeout: 60_000 });
      times.push(performance.now() - start);
      await context.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`open the chat (${name}, first visit, ${RUNS} runs): median ${median.toFixed(0)} ms, slowest ${times.at(-1).toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  await server.stop();
}
