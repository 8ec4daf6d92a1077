/**
 * The dashboard's part of issue 12, the way a person meets it (headless
 * Chromium) and over raw HTTP where the request itself is the point: the
 * Config form refuses values that would stop every pop and warns about
 * likely typos; the workers pages say when each worker was last seen and
 * forget one with a CSRF-protected button; refusals of the core read as
 * sentences; with Redis down the page says so and claims nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { ManualClock } from './support/client.js';
import { RedisServer } from './support/redis-server.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, Session, useBrowser, useDashboardTab, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
const browser = useBrowser();
const tab = useDashboardTab(ctx, browser);
const { visit, press } = tab;
const extra: ServedDashboard[] = [];

afterEach(async () => {
  await Promise.all(extra.splice(0).map((s) => s.close()));
});

/** The message the last action left, and how it looks (ok, error or warning). */
async function flash(): Promise<{ kind: string | null; text: string }> {
  return { kind: await tab.page.locator('.flash').getAttribute('class'), text: await tab.flash() };
}

describe('the Config form', () => {
  it('refuses a value that is not a number for a numeric option, and nothing is stored', async () => {
    await tab.client.queue('underpants').put('app.Job', {}, { jid: 'pair-1' });
    await visit('config');
    const row = tab.page.locator('tr[data-option="heartbeat"]');
    await row.locator('input[name="value"]').fill('60s');
    await press('Save', row);
    expect(await flash()).toEqual({ kind: 'flash flash-error', text: 'Heartbeat must be a number of seconds, such as 60; got 60s. Nothing was changed.' });
    expect(await tab.client.config.get('heartbeat')).toBe(60);
    await tab.page.getByLabel('Option', { exact: true }).fill('underpants-max-concurrency');
    await tab.page.getByLabel('Value', { exact: true }).fill('two');
    await press('Set');
    expect((await flash()).text).toBe('Underpants-max-concurrency must be a number of jobs, such as 4 (0 for no limit); got two. Nothing was changed.');
    expect(await tab.client.config.get('underpants-max-concurrency')).toBeNull();
    await row.locator('input[name="value"]').fill('0');
    await press('Save', row);
    expect((await flash()).text).toBe('Heartbeat must be more than 0 seconds, got 0: every lock would expire at once, and another worker would take each job while it still runs. Nothing was changed.');
    expect(await tab.client.config.get('heartbeat')).toBe(60);
    // Pops keep working.
    expect((await tab.client.queue('underpants').pop())?.jid).toBe('pair-1');
    // A number with a stray space is fine.
    await row.locator('input[name="value"]').fill(' 90 ');
    await press('Save', row);
    expect(await flash()).toEqual({ kind: 'flash flash-ok', text: 'Set heartbeat to 90.' });
    expect(await tab.client.config.get('heartbeat')).toBe(90);
    await tab.client.config.unset('heartbeat');
  });

  it('stores an unknown option and shows a warning on the page after saving', async () => {
    await visit('config');
    await tab.page.getByLabel('Option', { exact: true }).fill('hearbeat');
    await tab.page.getByLabel('Value', { exact: true }).fill('30');
    await press('Set');
    expect(await flash()).toEqual({
      kind: 'flash flash-warning',
      text: 'Set hearbeat to 30. hearbeat is not an option the core reads. Did you mean heartbeat? It was stored anyway, since other qless clients may keep options of their own.',
    });
    expect(await tab.page.locator('.flash').getAttribute('role')).toBe('alert');
    expect(await tab.client.config.get('hearbeat')).toBe(30);
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
    const rows = tab.page.locator('table.workers tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await tab.page.locator('tr[data-worker="old-box-1"] td.seen').innerText()).toBe('2 h ago');
    expect(await tab.page.locator('tr[data-worker="new-box-2"] td.seen').innerText()).toMatch(/^(now|\d+(\.\d)? s ago)$/);
    expect(await tab.page.locator('tr[data-worker="old-box-1"] td.seen time').getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await tab.page.locator('table.workers thead').textContent()).toContain('Last seen');
    await visit('');
    expect(await tab.page.locator('#workers tr[data-worker="old-box-1"] td.seen').innerText()).toBe('2 h ago');
    await visit('workers/old-box-1');
    expect(await tab.page.locator('p.seen').innerText()).toContain('Last seen');
  });

  it('a Forget button forgets a worker; its jobs stay', async () => {
    await seenWorkers();
    await visit('workers');
    await press('Forget worker old-box-1');
    expect((await flash()).text).toBe('Forgot worker old-box-1. If it is still running, it shows up again on its next pop or heartbeat.');
    expect(await tab.page.locator('tr[data-worker="old-box-1"]').count()).toBe(0);
    expect(await tab.client.redis.zrange('ql:workers', 0, -1)).toEqual(['new-box-2']);
    await visit('workers/new-box-2');
    await press('Forget worker new-box-2');
    expect(await tab.client.redis.zcard('ql:workers')).toBe(0);
    expect((await tab.client.jobs.get('held'))?.state).toBe('running');
  });

  it('forgetting is a POST with a CSRF token like every action, and read-only has no button', async () => {
    await seenWorkers();
    const session = new Session(tab.served.origin);
    const { html, csrf } = await session.page('/workers');
    expect(html).toContain('action="/workers/old-box-1/forget"');
    expect((await session.post('/workers/old-box-1/forget', {})).status).toBe(403);
    expect((await session.post('/workers/old-box-1/forget', { _csrf: csrf! }, { origin: 'http://evil.example' })).status).toBe(403);
    expect(await tab.client.redis.zcard('ql:workers')).toBe(2);
    const gone = await session.post('/workers/nobody/forget', { _csrf: csrf! });
    expect(gone.status).toBe(303);
    expect((await session.post('/workers/old-box-1/forget', { _csrf: csrf! })).status).toBe(303);
    expect(await tab.client.redis.zrange('ql:workers', 0, -1)).toEqual(['new-box-2']);

    const readOnly = await serveDashboard(ctx, { readOnly: true });
    extra.push(readOnly);
    const view = await new Session(readOnly.origin).page('/workers');
    expect(view.html).toContain('new-box-2');
    expect(view.html).not.toContain('/forget');
  });
});

describe('a Redis that may delete keys when full', () => {
  it('the overview says so, naming the policy and the server, until it is noeviction', async () => {
    const session = new Session(tab.served.origin);
    expect((await session.page('/')).html).not.toContain('data-eviction');
    await ctx.redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const { html } = await session.page('/');
      expect(html).toContain('data-eviction');
      expect(html).toContain('Redis&#39;s maxmemory-policy is allkeys-lru: once it reaches maxmemory it deletes any key, so jobs, queues and locks can vanish without a word.');
      expect(html).toContain('set maxmemory-policy noeviction');
      // And to a scraper.
      expect(await (await fetch(`${tab.served.url}metrics`)).text()).toMatch(/^qless_redis_noeviction 0$/m);
      await ctx.redis.config('SET', 'maxmemory-policy', 'volatile-ttl');
      expect((await session.page('/')).html).toContain('deletes keys that have a time to live');
    } finally {
      await ctx.redis.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await session.page('/')).html).not.toContain('data-eviction');
    expect(await (await fetch(`${tab.served.url}metrics`)).text()).toMatch(/^qless_redis_noeviction 1$/m);
  });
});

describe('data another client stored that is not an object', () => {
  it('the job and recurring job pages show it as stored', async () => {
    await tab.client.call('put', 'py-worker', 'q', 'from-python', 'app.Job', '[1, 2]', 0);
    await tab.client.call('recur', 'q', 'tpl', 'app.Job', '["x"]', 'interval', 60, 0);
    await visit('jobs/from-python');
    expect(await tab.page.locator('#data pre').innerText()).toBe('[\n  1,\n  2\n]');
    await visit('jobs/tpl');
    expect(await tab.page.locator('#data pre').innerText()).toBe('[\n  "x"\n]');
  });
});

describe('messages', () => {
  it("a retry of a job that is not failed says what the job is doing, in words", async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 'eggs' });
    await tab.client.queue('q').put('app.Job', {}, { jid: 'omelette', depends: ['eggs'] });
    const session = new Session(tab.served.origin);
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
      const other = await tab.page.context().newPage();
      await other.goto(dashboard.url);
      expect(await other.locator('h1').innerText()).toBe('Redis is not answering');
      expect(await other.locator('footer').innerText()).toBe('qless-ts dashboard');
      await server.start();
      await other.reload();
      expect(await other.locator('h1').innerText()).toContain('Overview');
      await other.close();
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
