// Benchmark: a visitor's card GET against the same binary's /healthz, in one run, with
// wrk (32 connections, 2 threads, WRK_SECONDS each). The ratio is what the storage
// layer costs a read. Run by `make bench` (wrk from apt).
import { startServer, DEMO_PASSWORD } from './lib/harness.mjs';
import { wrk, visitorCard } from './lib/bench.mjs';

const SECONDS = Number(process.env.WRK_SECONDS ?? 10);
const ROUNDS = Number(process.env.WRK_ROUNDS ?? 3);

const server = await startServer({ RUST_LOG: 'error' });
try {
  const { url: cardUrl, auth } = await visitorCard(server.base, DEMO_PASSWORD);

  wrk(`${server.base}/healthz`, null, SECONDS); // warm up both
  wrk(cardUrl, auth, SECONDS);
  const ratios = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const health = wrk(`${server.base}/healthz`, null, SECONDS);
    const get = wrk(cardUrl, auth, SECONDS);
    ratios.push(get / health);
    console.log(`round ${round}: /healthz ${health.toFixed(0)} req/s, card GET ${get.toFixed(0)} req/s, ` +
      `ratio ${(get / health).toFixed(2)}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`card GET / healthz (wrk -c32, ${SECONDS} s, median of ${ROUNDS}): ${ratios[Math.floor(ROUNDS / 2)].toFixed(2)}`);
} finally {
  await server.stop();
}
