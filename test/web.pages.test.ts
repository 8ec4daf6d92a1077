/**
 * Every page of the dashboard, rendered by headless Chromium against a real
 * Redis holding real jobs (put, popped, failed, completed, scheduled,
 * dependent, recurring, tracked, stalled), asserting on what the page shows.
 * Also: untrusted names and data render as text, the overview refreshes
 * itself after a put, and pages fit a phone-width screen.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, useBrowser, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
const browser = useBrowser();
let served: ServedDashboard;
let context: BrowserContext;
let page: Page;
const open: qless.Client[] = [];

function make(options: qless.ClientOptions = {}): qless.Client {
  const client = qless.client(ctx.url, { workerName: 'worker-1', ...options });
  open.push(client);
  return client;
}

const XSS = {
  klass: '<script>window.__xss=1</script>',
  queue: '<img src=x onerror="window.__xss=2">',
  tags: ['<script>window.__xss=3</script>', '"><svg onload=window.__xss=4>'],
  data: { html: '</pre><script>window.__xss=5</script>', attr: '" onmouseover="window.__xss=6' },
  worker: '<b id=evilworker>w</b>',
  group: '<script>window.__xss=7</script>',
  message: '<img src=x onerror=window.__xss=8>',
};

async function seed(): Promise<void> {
  const client = make();
  const emails = client.queue('emails');
  await emails.put('mail.Send', { to: 'ada@example.com', nested: { list: [1, 2] } }, { jid: 'waiting-1', tags: ['mail', 'vip'], priority: 3 });
  await emails.put('mail.Send', { to: 'bob@example.com' }, { jid: 'waiting-2', tags: ['mail'] });
  await emails.put('mail.Send', {}, { jid: 'scheduled-1', delay: 3600 });
  await emails.put('mail.Send', {}, { jid: 'depends-1', depends: ['waiting-1'] });
  await client.track('waiting-2');

  const reports = client.queue('reports');
  await reports.put('report.Build', {}, { jid: 'running-1' });
  await reports.put('report.Build', {}, { jid: 'failed-1', tags: ['nightly'] });
  await reports.put('report.Build', {}, { jid: 'done-1' });
  await reports.pop();
  await (await reports.pop())!.fail('report.Build-TypeError', 'TypeError: x is undefined\n    at build (report.js:10:5)');
  const done = (await reports.pop())!;
  await done.log('checked', { rows: 12 });
  await done.complete();

  await client.queue('cron').recur('cron.Tick', { every: 'minute' }, { interval: 60, jid: 'tick', offset: 30 });

  // A worker whose clock is two hours behind holds a lock that has long expired.
  const late = make({ workerName: 'worker-2', clock: () => Date.now() / 1000 - 7200 });
  await late.queue('slow').put('slow.Job', {}, { jid: 'stalled-1' });
  await late.queue('slow').pop();

  const evil = make({ workerName: XSS.worker });
  await evil.queue(XSS.queue).put(XSS.klass, XSS.data, { jid: 'evil-1', tags: XSS.tags });
  await (await evil.queue(XSS.queue).pop())!.fail(XSS.group, XSS.message);
}

// What the browser complained about on any page (CSP violations, script errors).
const complaints: string[] = [];

beforeAll(async () => {
  served = await serveDashboard(ctx, { refreshSeconds: 60 });
  context = await browser.context();
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 404/.test(message.text())) complaints.push(message.text());
  });
  page.on('pageerror', (error) => complaints.push(error.message));
}, 60_000);

// useRedis() empties the database before each test; every test starts from
// the same jobs (seeding takes a few milliseconds).
beforeEach(seed);
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await context?.close();
  await served?.close();
});

async function visit(path: string): Promise<number> {
  const res = await page.goto(new URL(path, served.url).toString());
  return res!.status();
}

// Browser-side code is passed as text: the test files are compiled without the DOM library.
const LIVE = `document.querySelector('[data-live-status]')?.getAttribute('data-state') === 'live'`;

const text = (selector: string): Promise<string> => page.locator(selector).first().innerText();

describe('overview', () => {
  it('lists every queue with its counts, the failure groups, tracked jobs and workers', async () => {
    expect(await visit('.')).toBe(200);
    expect(await page.title()).toBe('Overview · qless');
    const row = (queue: string, state: string) => text(`tr[data-queue="${queue}"] td.col-${state}`);
    expect(await row('emails', 'waiting')).toBe('2');
    expect(await row('emails', 'scheduled')).toBe('1');
    expect(await row('emails', 'depends')).toBe('1');
    expect(await row('reports', 'running')).toBe('1');
    expect(await row('slow', 'stalled')).toBe('1');
    expect(await row('cron', 'recurring')).toBe('1');
    expect(await text('#failed')).toContain('report.Build-TypeError');
    expect(await text('#tracked')).toContain('waiting-2');
    const workers = await text('#workers');
    expect(workers).toContain('worker-1');
    expect(workers).toContain('worker-2');
  });

  it('keeps the CSRF cookie away from scripts', async () => {
    await visit('.');
    expect(await page.evaluate<string>('document.cookie')).not.toContain('qless_csrf');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'qless_csrf')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('refreshes itself after a put, without reloading the page', async () => {
    await visit('.');
    await page.evaluate('window.__marker = 42');
    // Polling is set to a minute: only the event stream can bring this in time.
    await page.waitForFunction(LIVE, undefined, { timeout: 5000 });
    await make().queue('live-queue').put('live.Job', {});
    await page.locator('tr[data-queue="live-queue"]').waitFor({ timeout: 5000 });
    expect(await page.evaluate('window.__marker')).toBe(42);
  });
});

describe('queue page', () => {
  it('shows counts, both histograms and the waiting jobs in pop order', async () => {
    expect(await visit('queues/emails')).toBe(200);
    expect(await text('h1')).toContain('emails');
    expect(await text('nav.tabs')).toMatch(/waiting\s*2/);
    expect(await page.locator('figure.chart svg').count()).toBe(2);
    const jids = await page.locator('table.jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-jid')));
    expect(jids).toEqual(['waiting-1', 'waiting-2']);
  });

  it('lists the jobs of each state', async () => {
    await visit('queues/emails?state=scheduled');
    expect(await text('table.jobs')).toContain('scheduled-1');
    await visit('queues/emails?state=depends');
    expect(await text('table.jobs')).toContain('depends-1');
    await visit('queues/reports?state=running');
    expect(await text('table.jobs')).toContain('running-1');
    expect(await text('table.jobs')).toContain('worker-1');
    await visit('queues/slow?state=stalled');
    expect(await text('table.jobs')).toContain('stalled-1');
    await visit('queues/cron?state=recurring');
    expect(await text('table.recurring')).toContain('cron.Tick');
  });

  it('shows the statistics of the chosen day', async () => {
    await visit('queues/reports');
    // Three pops today: three wait-time samples, one run-time sample.
    expect(await text('#stats')).toContain('3 samples');
    expect(await page.locator('figure.chart').nth(0).locator('rect.bar').count()).toBeGreaterThan(0);
    await visit('queues/reports?day=2001-02-03');
    expect(await text('#stats h2')).toBe('Statistics for 2001-02-03');
    expect(await text('#stats')).toContain('no samples');
  });

  it('paginates', async () => {
    const client = make();
    for (let i = 0; i < 30; i++) await client.queue('many').put('many.Job', {}, { jid: `many-${String(i).padStart(2, '0')}` });
    await visit('queues/many');
    expect(await page.locator('table.jobs tbody tr').count()).toBe(25);
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.waitForURL(/page=2/);
    expect(await page.locator('table.jobs tbody tr').count()).toBe(5);
    expect(await text('.pager')).toContain('page 2 of 2');
  });
});

describe('job page', () => {
  it('shows every field, the data pretty-printed, the history and the dependents', async () => {
    expect(await visit('jobs/waiting-1')).toBe(200);
    expect(await text('h1')).toContain('mail.Send');
    const fields = await text('#fields');
    expect(fields).toContain('emails');
    expect(fields).toContain('vip');
    expect(await text('#data pre')).toBe(JSON.stringify({ to: 'ada@example.com', nested: { list: [1, 2] } }, null, 2));
    expect(await text('#history')).toContain('put into emails');
    await page.locator('#fields').getByRole('link', { name: 'depends-1' }).click();
    await page.waitForURL(/jobs\/depends-1$/);
    expect(await text('#fields')).toMatch(/depends on\s+waiting-1/);
  });

  it('shows the failure with its stack, and the history of a finished job', async () => {
    await visit('jobs/failed-1');
    expect(await text('#failure')).toContain('report.Build-TypeError');
    expect(await text('#failure pre.message')).toBe('TypeError: x is undefined\n    at build (report.js:10:5)');
    await visit('jobs/done-1');
    const history = await text('#history');
    expect(history).toMatch(/put into reports[\s\S]*popped by worker-1[\s\S]*checked \{"rows":12\}[\s\S]*completed/);
  });

  it('shows a recurring template, and 404 for a jid that names nothing', async () => {
    await visit('jobs/tick');
    expect(await text('h1')).toContain('cron.Tick');
    expect(await text('#fields')).toContain('1 min');
    expect(await visit('jobs/no-such-job')).toBe(404);
    expect(await text('h1')).toBe('Job not found');
  });
});

describe('lists', () => {
  it('failures: the groups, then a group with its jobs', async () => {
    await visit('failed');
    await page.getByRole('link', { name: 'report.Build-TypeError' }).click();
    await page.waitForURL(/failed\/report\.Build-TypeError$/);
    expect(await text('table.jobs')).toContain('failed-1');
    expect(await text('table.jobs')).toContain('TypeError: x is undefined');
  });

  it('workers, with their running and stalled jobs', async () => {
    await visit('workers');
    expect(await text('table.workers')).toContain('worker-2');
    await visit('workers/worker-1');
    expect(await text('#running')).toContain('running-1');
    await visit('workers/worker-2');
    expect(await text('#stalled')).toContain('stalled-1');
  });

  it('tags: the top tags, then the jobs of one', async () => {
    await visit('tags');
    await page.locator('.tag-cloud').getByRole('link', { name: 'mail', exact: true }).click();
    await page.waitForURL(/tags\/mail$/);
    expect(await text('h1')).toMatch(/mail\s+2/);
    expect(await text('table.jobs')).toContain('waiting-1');
    expect(await text('table.jobs')).toContain('waiting-2');
  });

  it('tracked, completed and recurring jobs, and the config', async () => {
    await visit('tracked');
    expect(await text('table.jobs')).toContain('waiting-2');
    await visit('completed');
    expect(await text('table.jobs')).toContain('done-1');
    await visit('recurring');
    expect(await text('table.recurring')).toContain('tick');
    await visit('config');
    expect(await page.locator('tr[data-option="heartbeat"] input[name="value"]').inputValue()).toBe('60');
    expect(await text('table.config')).toContain('jobs-history');
  });

  it('the search box finds a job by jid, and jobs by tag', async () => {
    await visit('.');
    await page.getByRole('searchbox').fill('failed-1');
    await page.getByRole('searchbox').press('Enter');
    await page.waitForURL(/jobs\/failed-1$/);
    await page.getByRole('searchbox').fill('vip');
    await page.getByRole('searchbox').press('Enter');
    await page.waitForURL(/tags\/vip$/);
    expect(await text('table.jobs')).toContain('waiting-1');
    await page.getByRole('searchbox').fill('nothing-by-this-name');
    await page.getByRole('searchbox').press('Enter');
    await page.waitForURL(/search\?q=/);
    expect(await text('h1')).toBe('Nothing found');
  });
});

describe('untrusted content', () => {
  const pages = () => [
    '.',
    `queues/${encodeURIComponent(XSS.queue)}`,
    'jobs/evil-1',
    `failed/${encodeURIComponent(XSS.group)}`,
    `tags/${encodeURIComponent(XSS.tags[0]!)}`,
    `workers/${encodeURIComponent(XSS.worker)}`,
    'failed',
  ];

  it('renders names, tags, data and messages as text; no injected markup exists or runs', async () => {
    for (const path of pages()) {
      expect(await visit(path), path).toBeLessThan(400);
      const report = await page.evaluate<{ xss: unknown; scripts: Array<string | null>; injected: number }>(`({
        xss: window.__xss,
        scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
        injected: document.querySelectorAll('img, b#evilworker, [onerror], [onload], [onmouseover]').length,
      })`);
      expect(report.xss, path).toBeUndefined();
      expect(report.scripts, path).toHaveLength(1);
      expect(report.scripts[0], path).toMatch(/\/assets\/app\.js\?v=/);
      expect(report.injected, path).toBe(0);
    }
  });

  it('shows the untrusted text itself', async () => {
    await visit('jobs/evil-1');
    expect(await text('h1')).toContain(XSS.klass);
    const fields = await text('#fields');
    expect(fields).toContain(XSS.queue);
    expect(fields).toContain(XSS.tags[0]);
    expect(fields).toContain(XSS.tags[1]);
    expect(JSON.parse(await text('#data pre'))).toEqual(XSS.data);
    expect(await text('#failure')).toContain(XSS.group);
    expect(await text('#failure')).toContain(XSS.worker);
    expect(await text('#failure pre.message')).toBe(XSS.message);
    await visit('.');
    expect(await text('#queues')).toContain(XSS.queue);
    expect(await text('#workers')).toContain(XSS.worker);
  });
});

describe('phone-width screens', () => {
  it('fit the pages without sideways scrolling of the page itself', async () => {
    const phone = await browser.context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const small = await phone.newPage();
      for (const path of ['.', 'queues/emails', 'jobs/waiting-1', 'jobs/failed-1', 'config']) {
        await small.goto(new URL(path, served.url).toString());
        const width = await small.evaluate<number>('document.documentElement.scrollWidth');
        expect(width, path).toBeLessThanOrEqual(390);
      }
    } finally {
      await phone.close();
    }
  });
});

describe('the browser', () => {
  it('reported no script error and no Content-Security-Policy violation on any page above', () => {
    expect(complaints).toEqual([]);
  });
});
