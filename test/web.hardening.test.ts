/**
 * The dashboard's part of issue 12, the way a person meets it (headless
 * Chromium) and over raw HTTP where the request itself is the point: the
 * Config form refuses values that would stop every pop and warns about
 * likely typos; the workers pages say when each worker was last seen and
 * forget one with a CSRF-protected button; refusals of the core read as
 * sentences; with Redis down the page says so and claims nothing else.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import * as qless from '../src/index.js';
import { ManualClock } from './support/client.js';
import { RedisServer } from './support/redis-server.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, Session, useBrowser, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
const browser = useBrowser();
let served: ServedDashboard;
let context: BrowserContext;
let page: Page;
let client: qless.Client;
const extra: ServedDashboard[] = [];

beforeAll(async () => {
  served = await serveDashboard(ctx);
  context = await browser.context();
  page = await context.newPage();
  client = qless.client(ctx.url, { workerName: 'worker-1' });
}, 60_000);

afterEach(async () => {
  await Promise.all(extra.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await context?.close();
  await served?.close();
  await client?.close();
});

async function visit(path: string, status = 200): Promise<void> {
  const res = await page.goto(new URL(path, served.url).toString());
  expect(res!.status(), path).toBe(status);
}

/** Click a button and wait for the page the action redirects to. */
async function press(name: string | RegExp, scope = page.locator('body')): Promise<void> {
  await Promise.all([page.waitForEvent('load'), scope.getByRole('button', { name, exact: typeof name === 'string' }).click()]);
}

async function flash(): Promise<{ kind: string | null; text: string }> {
  const element = page.locator('.flash');
  return { kind: await element.getAttribute('class'), text: await element.innerText() };
}

describe('the Config form', () => {
  it('refuses a value that is not a number for a numeric option, and nothing is stored', async () => {
    await client.queue('underpants').put('app.Job', {}, { jid: 'pair-1' });
    await visit('config');
    const row = page.locator('tr[data-option="heartbeat"]');
    await row.locator('input[name="value"]').fill('60s');
    await press('Save', row);
    expect(await flash()).toEqual({ kind: 'flash flash-error', text: 'Heartbeat must be a number of seconds, such as 60; got 60s. Nothing was changed.' });
    expect(await client.config.get('heartbeat')).toBe(60);
    await page.getByLabel('Option', { exact: true }).fill('underpants-max-concurrency');
    await page.getByLabel('Value', { exact: true }).fill('two');
    await press('Set');
    expect((await flash()).text).toBe('Underpants-max-concurrency must be a number of jobs, such as 4 (0 for no limit); got two. Nothing was changed.');
    expect(await client.config.get('underpants-max-concurrency')).toBeNull();
    // Pops keep working.
    expect((await client.queue('underpants').pop())?.jid).toBe('pair-1');
    // A number with a stray space is fine.
    await row.locator('input[name="value"]').fill(' 90 ');
    await press('Save', row);
    expect(await flash()).toEqual({ kind: 'flash flash-ok', text: 'Set heartbeat to 90.' });
    expect(await client.config.get('heartbeat')).toBe(90);
    await client.config.unset('heartbeat');
  });

  it('stores an unknown option and shows a warning on the page after saving', async () => {
    await visit('config');
    await page.getByLabel('Option', { exact: true }).fill('hearbeat');
    await page.getByLabel('Value', { exact: true }).fill('30');
    await press('Set');
    expect(await flash()).toEqual({
      kind: 'flash flash-warning',
      text: 'Set hearbeat to 30. hearbeat is not an option the core reads. Did you mean heartbeat? It was stored anyway, since other qless clients may keep options of their own.',
    });
    expect(await page.locator('.flash').getAttribute('role')).toBe('alert');
    expect(await client.config.get('hearbeat')).toBe(30);
    await press('Unset hearbeat');
  });
});

describe('workers', () => {
  async function seenWorkers(): Promise<void> {
    const stale = qless.client(ctx.url, { workerName: 'old-box-1', clock: new ManualClock(Date.now() / 1000 - 7200).clock });
    await stale.queue('empty').pop();
    await stale.close();
    const fresh = qless.client(ctx.url, { workerName: 'new-box-2' });
    await fresh.queue('q').put('app.Job', {}, { jid: 'held' });
    await fresh.queue('q').pop();
    await fresh.close();
  }

  it('the workers page and the overview show when each worker was last seen', async () => {
    await seenWorkers();
    await visit('workers');
    const rows = page.locator('table.workers tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await page.locator('tr[data-worker="old-box-1"] td.seen').innerText()).toBe('2 h ago');
    expect(await page.locator('tr[data-worker="new-box-2"] td.seen').innerText()).toMatch(/^(now|\d+(\.\d)? s ago)$/);
    expect(await page.locator('tr[data-worker="old-box-1"] td.seen time').getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await page.locator('table.workers thead').textContent()).toContain('Last seen');
    await visit('');
    expect(await page.locator('#workers tr[data-worker="old-box-1"] td.seen').innerText()).toBe('2 h ago');
    await visit('workers/old-box-1');
    expect(await page.locator('p.seen').innerText()).toContain('Last seen');
  });

  it('a Forget button forgets a worker; its jobs stay', async () => {
    await seenWorkers();
    await visit('workers');
    await press('Forget worker old-box-1');
    expect((await flash()).text).toBe('Forgot worker old-box-1. If it is still running, it shows up again on its next pop or heartbeat.');
    expect(await page.locator('tr[data-worker="old-box-1"]').count()).toBe(0);
    expect(await client.redis.zrange('ql:workers', 0, -1)).toEqual(['new-box-2']);
    await visit('workers/new-box-2');
    await press('Forget worker new-box-2');
    expect(await client.redis.zcard('ql:workers')).toBe(0);
    expect((await client.jobs.get('held'))?.state).toBe('running');
  });

  it('forgetting is a POST with a CSRF token like every action, and read-only has no button', async () => {
    await seenWorkers();
    const session = new Session(served.origin);
    const { html, csrf } = await session.page('/workers');
    expect(html).toContain('action="/workers/old-box-1/forget"');
    expect((await session.post('/workers/old-box-1/forget', {})).status).toBe(403);
    expect((await session.post('/workers/old-box-1/forget', { _csrf: csrf! }, { origin: 'http://evil.example' })).status).toBe(403);
    expect(await client.redis.zcard('ql:workers')).toBe(2);
    const gone = await session.post('/workers/nobody/forget', { _csrf: csrf! });
    expect(gone.status).toBe(303);
    expect((await session.post('/workers/old-box-1/forget', { _csrf: csrf! })).status).toBe(303);
    expect(await client.redis.zrange('ql:workers', 0, -1)).toEqual(['new-box-2']);

    const readOnly = await serveDashboard(ctx, { readOnly: true });
    extra.push(readOnly);
    const view = await new Session(readOnly.origin).page('/workers');
    expect(view.html).toContain('new-box-2');
    expect(view.html).not.toContain('/forget');
  });
});

describe('messages', () => {
  it("a retry of a job that is not failed says what the job is doing, in words", async () => {
    await client.queue('q').put('app.Job', {}, { jid: 'eggs' });
    await client.queue('q').put('app.Job', {}, { jid: 'omelette', depends: ['eggs'] });
    const session = new Session(served.origin);
    const { csrf } = await session.page('/jobs/omelette');
    const res = await session.post('/jobs/omelette/retry', { _csrf: csrf! });
    expect(res.status).toBe(303);
    const after = await session.page(res.headers.get('location')!);
    expect(after.html).toContain('Job omelette is waiting for other jobs to complete, not failed: only failed jobs are retried; move it to a queue instead.');
    expect(after.html).not.toContain('is depends');
  });

  it('with Redis down, the page says Redis is not answering, and claims nothing about read-only', async () => {
    const server = await RedisServer.start();
    try {
      const own = qless.client(server.url, { maxRetriesPerRequest: 1 });
      const dashboard = await serveOn(own);
      expect((await fetch(dashboard.url)).status).toBe(200);
      await server.stop();
      const down = await fetch(dashboard.url);
      expect(down.status).toBe(503);
      const text = await down.text();
      expect(text).toContain('<h1>Redis is not answering</h1>');
      expect(text).toContain(`Redis at 127.0.0.1:${server.port} is not answering. This page shows again once Redis answers; reload it in a moment.`);
      expect(text).not.toContain('maxRetriesPerRequest');
      expect(text).not.toContain('read-only');
      // In the browser too, and it comes back by itself.
      const tab = await context.newPage();
      await tab.goto(dashboard.url);
      expect(await tab.locator('h1').innerText()).toBe('Redis is not answering');
      expect(await tab.locator('footer').innerText()).toBe('qless-ts dashboard');
      await server.start();
      await tab.reload();
      expect(await tab.locator('h1').innerText()).toContain('Overview');
      await tab.close();
      await dashboard.close();
      await own.close();
    } finally {
      await server.dispose();
    }
  }, 60_000);
});

/** A dashboard on its own server around a given client (closed by the caller). */
async function serveOn(own: qless.Client): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const { createDashboard } = await import('../src/web/index.js');
  const dashboard = createDashboard({ client: own });
  const server = createServer((req, res) => dashboard(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: async () => {
      await dashboard.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
