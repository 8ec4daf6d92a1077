/**
 * Makes the README's dashboard screenshots: starts a private redis-server,
 * fills it with a believable day of work through the client library (with
 * a hand-moved clock, so the statistics have shape), serves the dashboard
 * and photographs it with headless Chromium. The test suite runs it
 * (test/web.screenshots.test.ts), so the pictures follow the pages; by hand:
 *
 *   node --import tsx test/web-screenshots.ts
 *
 * Writes docs/screenshots/{overview,job,queue,failed,completed,phone}.png.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../src/dev/redis-server.js';
import * as qless from '../src/index.js';
import { createDashboard } from '../src/web/index.js';
import { launchChromium } from './support/web.js';

export const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'docs', 'screenshots');

/** The pictures written, by name. */
export const SHOTS = ['overview', 'job', 'queue', 'failed', 'completed', 'phone'] as const;

// A small deterministic generator: the same pictures on every run.
let state = 42;
function random(): number {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
}

async function seed(url: string): Promise<string> {
  // About eight hours of work end before now: nothing completes in the future.
  let now = Date.now() / 1000 - 9 * 3600;
  const clock = (): number => now;
  const app = qless.client(url, { workerName: 'web-7f3a', clock });
  const workers = ['worker-a.internal-4242', 'worker-b.internal-977', 'worker-c.internal-1310'].map((name) => qless.client(url, { workerName: name, clock }));
  const queues = { emails: 'mail.SendWelcome', thumbnails: 'media.Thumbnail', reports: 'reports.Nightly' } as const;

  // Hours of finished work: waits of seconds to minutes, runs of seconds to minutes.
  for (let i = 0; i < 140; i++) {
    const [queue, klass] = Object.entries(queues)[i % 3]!;
    const jid = await app.queue(queue).put(klass, { user: 1000 + i, locale: i % 4 === 0 ? 'fr' : 'en' }, { tags: i % 5 === 0 ? ['vip'] : [] });
    now += random() * (queue === 'reports' ? 240 : 25);
    const worker = workers[i % workers.length]!;
    const job = (await worker.queue(queue).pop())!;
    now += queue === 'reports' ? 60 + random() * 600 : random() * 12;
    if (jid && i % 17 === 5) await job.fail(`${klass}-TimeoutError`, `TimeoutError: upstream did not answer in 30 s\n    at fetchProfile (jobs/${queue}.js:41:11)\n    at process (jobs/${queue}.js:12:5)`);
    else await job.complete();
    now += random() * 60;
  }
  if (now > Date.now() / 1000) throw new Error('the seeded history runs into the future; start it earlier');

  // The failure shown on the job page.
  now = Date.now() / 1000 - 1800;
  const failed = await app.queue('emails').put(
    queues.emails,
    { user: 5521, email: 'ada@example.com', template: 'welcome-v2', attempt: { max: 3, backoff: [10, 60, 300] } },
    { jid: '9d4c1e7a2b8f4c60a1e3d5f7b9c2e4a6', tags: ['signup', 'vip'], priority: 5, retries: 3 },
  );
  now += 2.4;
  const doomed = (await workers[0]!.queue('emails').pop())!;
  await doomed.log('rendered template', { bytes: 18233 });
  now += 1.2;
  await doomed.fail(
    'mail.SendWelcome-SMTPError',
    "SMTPError: 421 4.7.0 Try again later, closing connection.\n    at SMTPConnection._onResponse (node_modules/mailer/lib/smtp.js:512:17)\n    at deliver (jobs/emails.js:27:9)\n    at async process (jobs/emails.js:12:5)",
  );
  await app.track(failed);
  await app.queue('emails').put('mail.SendReceipt', { order: 88123 }, { jid: 'receipt-88123', depends: [failed] });

  // Right now: some running, some waiting, some later.
  now = Date.now() / 1000;
  for (let i = 0; i < 9; i++) await app.queue('thumbnails').put(queues.thumbnails, { image: `img_${4000 + i}.jpg`, sizes: [64, 256] });
  for (let i = 0; i < 4; i++) await workers[i % 3]!.queue('thumbnails').pop();
  for (let i = 0; i < 3; i++) await app.queue('emails').put(queues.emails, { user: 7000 + i }, { delay: 600 + i * 300 });
  await app.queue('reports').recur(queues.reports, { scope: 'all' }, { interval: 86400, jid: 'nightly-report', offset: 3600 });
  await app.queue('billing').put('billing.Invoice', { account: 'acme' });
  await app.queue('billing').pause();

  await Promise.all([app, ...workers].map((c) => c.close()));
  return failed;
}

/** Seed a private Redis, serve the dashboard and write every picture of SHOTS into `out`. */
export async function takeScreenshots(out: string = OUT): Promise<void> {
  mkdirSync(out, { recursive: true });
  const redis = await RedisServer.start();
  const client = qless.client(redis.url, { workerName: 'dashboard' });
  const dashboard = createDashboard({ client });
  const server = createServer(dashboard);
  try {
    const jid = await seed(redis.url);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
      const page = await desktop.newPage();
      await page.goto(`${base}/`);
      await page.screenshot({ path: join(out, 'overview.png') });
      await page.goto(`${base}/jobs/${jid}`);
      await page.screenshot({ path: join(out, 'job.png'), fullPage: true });
      await page.goto(`${base}/queues/emails`);
      await page.screenshot({ path: join(out, 'queue.png'), fullPage: true });
      await page.goto(`${base}/failed/${encodeURIComponent('mail.SendWelcome-TimeoutError')}`);
      await page.screenshot({ path: join(out, 'failed.png'), fullPage: true });
      await page.goto(`${base}/completed`);
      await page.screenshot({ path: join(out, 'completed.png') });
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, deviceScaleFactor: 1 });
      const small = await phone.newPage();
      await small.goto(`${base}/`);
      await small.screenshot({ path: join(out, 'phone.png') });
    } finally {
      await browser.close();
    }

  } finally {
    server.closeAllConnections();
    server.close();
    await dashboard.close();
    await client.close();
    await redis.dispose();
  }
}

// Run by hand (not imported by the test).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await takeScreenshots();
  console.log(`screenshots written to ${OUT}`);
}
