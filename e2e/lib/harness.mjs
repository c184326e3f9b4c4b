// Shared by the end-to-end tests: start the real server, launch Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const DEMO_PASSWORD = 'e2e-demo-password';

/**
 * Starts `paycard-server` (PAYCARD_BIN, else the release build) on a free port with a fresh
 * SQLite database and the demo data. Resolves once it prints its address. The per-address
 * rate limits are off unless `limits: 'default'`.
 */
export async function startServer(extraEnv = {}, { limits = 'off' } = {}) {
  const bin = process.env.PAYCARD_BIN ?? join(repoRoot, 'target', 'release', 'paycard-server');
  const dir = mkdtempSync(join(tmpdir(), 'paycard-e2e-'));
  const launch = (addr) => {
    const child = spawn(bin, [], {
      // Run from an empty folder: the release binary must need nothing beside it.
      cwd: dir,
      env: {
        ...process.env,
        PAYCARD_ADDR: addr,
        DATABASE_URL: `sqlite://${join(dir, 'paycard.db')}`,
        PAYCARD_DEMO: '1',
        PAYCARD_DEMO_PASSWORD: DEMO_PASSWORD,
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        // Every browser here is 127.0.0.1: the per-address limits (which a person never
        // meets, but a test suite or a benchmark would) are tested in server/tests/abuse.rs.
        ...(limits === 'off' ? {
          PAYCARD_LIMIT_LOGIN: 'off',
          PAYCARD_LIMIT_LOGIN_ACCOUNT: 'off',
          PAYCARD_LIMIT_CONVERSATIONS: 'off',
          PAYCARD_LIMIT_MESSAGES: 'off',
          PAYCARD_LIMIT_CHECKOUT_LINKS: 'off',
          PAYCARD_LIMIT_PAYMENTS: 'off',
        } : {}),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('paycard-server did not start within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`paycard-server exited early with ${code}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = line.match(/^paycard listening on (http:\/\/\S+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    return { child, listening };
  };
  let { child, listening } = launch('127.0.0.1:0');
  const base = await listening;
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return; // down already
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    base,
    get pid() { return child.pid; },
    /** An outage: the server stops, and its streams break… */
    async down() {
      await kill();
    },
    /** …until it comes back on the same address with the same database. */
    async up() {
      ({ child, listening } = launch(new URL(base).host));
      await listening;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * Collects what the page's Content-Security-Policy refused (in the page and its frames),
 * as Chromium reports it on the console: a page of ours must need nothing it forbids.
 */
export function watchCsp(page) {
  const refused = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return refused;
}

/** Where screenshots go, for a person to look at (not committed). */
export function screenshotPath(name) {
  const dir = join(repoRoot, 'e2e', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** What axe finds serious or critical on `page` (within `include`, a selector, if
 * given), each as "rule: help (where)"; the tests expect none. */
export async function seriousViolations(page, include) {
  let builder = new AxeBuilder({ page });
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
