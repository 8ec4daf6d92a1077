/**
 * The dashboard as an on-call engineer uses it (issue 17), in headless
 * Chromium against a real Redis: the completed page's columns, tags newest
 * first and counted, per-row and selected actions on a failure group, the
 * running tab's "running for" and worker, labelled histograms, the
 * auto-refresh switch, today's totals, and search beyond exact names.
 * (Redis down: test/web.hardening.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { ManualClock } from './support/client.js';
import { useRedis } from './support/redis.js';
import { useBrowser, useDashboardTab } from './support/web.js';

const ctx = useRedis();
const browser = useBrowser();
const tab = useDashboardTab(ctx, browser);
const { visit, press, flash } = tab;

/** The text of each row of the first job table, cells joined by " | ". */
async function rows(selector = 'table.jobs'): Promise<string[]> {
  return tab.page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim().replace(/\s+/g, ' ')).join(' | ')));
}

async function headings(selector = 'table.jobs'): Promise<string[]> {
  return (await tab.page.locator(`${selector} thead th`).allTextContents()).map((text) => text.trim());
}

describe('completed, tags, running', () => {
  it('the completed page shows the queue, when each job completed and how long it ran', async () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) - 600);
    const client = qless.client(ctx.url, { workerName: 'w-1', clock: clock.clock });
    try {
      await client.queue('emails').put('mail.Send', {}, { jid: 'sent' });
      const job = (await client.queue('emails').pop())!;
      clock.advance(75);
      await job.complete();
    } finally {
      await client.close();
    }
    await visit('completed');
    expect(await headings()).toEqual(['Job', 'Klass', 'Queue', 'Completed', 'Ran for', 'Tags']);
    const [row] = await rows();
    expect(row).toMatch(/^sent \| mail\.Send \| emails \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC .*ago \| 1.3 min \| —$/);
  });

  it("a tag's page lists the most recent taggings first, and the Tags page counts each tag", async () => {
    const clock = new ManualClock(1_700_000_000);
    const client = qless.client(ctx.url, { clock: clock.clock });
    try {
      for (let i = 1; i <= 30; i++) {
        await client.queue('q').put('k.K', {}, { jid: `vip-${String(i).padStart(2, '0')}`, tags: ['vip'] });
        clock.advance(1);
      }
      await client.queue('q').put('k.K', {}, { jid: 'other-1', tags: ['blue'] });
      await client.queue('q').put('k.K', {}, { jid: 'other-2', tags: ['blue'] });
    } finally {
      await client.close();
    }
    await visit('tags/vip');
    const first = (await rows()).map((r) => r.split(' | ')[0]);
    expect(first.slice(0, 3)).toEqual(['vip-30', 'vip-29', 'vip-28']);
    expect(first).toHaveLength(25);
    await visit('tags/vip?page=2');
    expect((await rows()).map((r) => r.split(' | ')[0])).toEqual(['vip-05', 'vip-04', 'vip-03', 'vip-02', 'vip-01']);
    await visit('tags');
    expect(await tab.page.locator('.tag-cloud li').allInnerTexts()).toEqual(['vip 30', 'blue 2']);
  });

  it('the running tab shows the worker and how long each job has been running', async () => {
    // Popped 40 s ago: still inside its 60 s lock, so running rather than stalled.
    const clock = new ManualClock(Math.floor(Date.now() / 1000) - 40);
    const client = qless.client(ctx.url, { workerName: 'gnome-box-4121', clock: clock.clock });
    try {
      await client.queue('busy').put('k.K', {}, { jid: 'long-one' });
      await client.queue('busy').pop();
    } finally {
      await client.close();
    }
    await visit('queues/busy?state=running');
    expect(await headings()).toEqual(['Job', 'Klass', 'Worker', 'Progress', 'Running for', 'Lock expires', 'Priority', 'Tags']);
    // No progress reported: its cell is empty or a dash.
    expect((await rows())[0]).toMatch(/^long-one \| k\.K \| gnome-box-4121 \| [^|]* \| 4\d s \| /);
  });
});

describe('failure groups', () => {
  async function failSome(group: string, jids: string[]): Promise<void> {
    for (const jid of jids) await tab.client.queue('q').put('k.K', {}, { jid });
    for (const job of await tab.client.queue('q').pop(jids.length)) await job.fail(group, `boom in ${job.jid}`);
  }

  it('retries or cancels one row with its own buttons', async () => {
    await failSome('g-row', ['r1', 'r2']);
    await visit('failed/g-row');
    await press('Retry r1');
    expect(await flash()).toBe('Retried 1 job of g-row.');
    expect(tab.page.url()).toMatch(/\/failed\/g-row$/);
    expect((await tab.client.jobs.get('r1'))?.state).toBe('waiting');
    await press('Cancel r2');
    expect(await flash()).toBe('Canceled 1 job of g-row.');
    expect(await tab.client.jobs.get('r2')).toBeNull();
  });

  it('retries or cancels the rows checked', async () => {
    await failSome('g-sel', ['s1', 's2', 's3', 's4']);
    await visit('failed/g-sel');
    await tab.page.getByRole('checkbox', { name: 'Select s1' }).check();
    await tab.page.getByRole('checkbox', { name: 'Select s3' }).check();
    await press('Retry selected');
    expect(await flash()).toBe('Retried 2 jobs of g-sel.');
    expect(await Promise.all(['s1', 's2', 's3', 's4'].map(async (jid) => (await tab.client.jobs.get(jid))?.state))).toEqual(['waiting', 'failed', 'waiting', 'failed']);
    await tab.page.getByRole('checkbox', { name: 'Select s4' }).check();
    await press('Cancel selected');
    expect(await flash()).toBe('Canceled 1 job of g-sel.');
    expect(await tab.client.jobs.get('s4')).toBeNull();
    expect((await tab.client.jobs.get('s2'))?.state).toBe('failed');
    await press('Retry selected');
    expect(await flash()).toBe('No jobs were selected.');
  });
});

describe('histograms, refresh, overview, search', () => {
  it('labels the histograms: a jobs axis with counts, time ticks, and the tallest bar', async () => {
    // Inside today's UTC day (the page shows today's statistics), even just after midnight.
    const now = Math.floor(Date.now() / 1000);
    const clock = new ManualClock(Math.max(now - 3600, Math.floor(now / 86400) * 86400 + 1));
    const client = qless.client(ctx.url, { workerName: 'w', clock: clock.clock });
    try {
      for (let i = 0; i < 4; i++) {
        await client.queue('timed').put('k.K', {});
        clock.advance(3);
        const job = (await client.queue('timed').pop())!;
        clock.advance(12);
        await job.complete();
      }
    } finally {
      await client.close();
    }
    await visit('queues/timed');
    const run = tab.page.locator('figure.chart').nth(1);
    const labels = await run.locator('svg text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['jobs', '0', '2', '4', '10s', '1m', '1h', '1d', 'seconds', 'minutes', '4 in 12 s']));
  });

  it('queue and job pages offer an auto-refresh that reloads them', async () => {
    await tab.client.queue('fresh').put('k.K', {}, { jid: 'fresh-1' });
    await visit('queues/fresh');
    await tab.page.getByRole('link', { name: 'Auto-refresh: off' }).click();
    await tab.page.waitForURL(/refresh=on/);
    expect(await tab.page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('5');
    await tab.client.queue('fresh').put('k.K', {}, { jid: 'fresh-2' });
    // The page reloads itself and shows the new job without anyone touching it.
    await expect.poll(() => tab.page.locator('tr[data-jid="fresh-2"]').count(), { timeout: 15_000 }).toBe(1);
    await tab.page.getByRole('link', { name: /Auto-refresh every 5 s: on/ }).click();
    await tab.page.waitForURL((url) => !url.search.includes('refresh'));
    expect(await tab.page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    await visit('jobs/fresh-1?refresh=on');
    expect(await tab.page.locator('meta[http-equiv="refresh"]').count()).toBe(1);
  });

  it("the overview shows today's processed and failed jobs across queues", async () => {
    for (const queue of ['a', 'b']) {
      await tab.client.queue(queue).put('k.K', {});
      await tab.client.queue(queue).put('k.K', {});
      const [done, failed] = await tab.client.queue(queue).pop(2);
      await done!.complete();
      await failed!.fail('g', 'x');
    }
    await visit('');
    expect(await tab.page.locator('[data-today="processed"]').innerText()).toBe('2');
    expect(await tab.page.locator('[data-today="failed"]').innerText()).toBe('2');
  });

  it('search finds queue names, jid prefixes and klass names, and goes straight to an exact queue', async () => {
    await tab.client.queue('invoices-eu').put('billing.SendInvoice', {}, { jid: 'abc123def' });
    await tab.client.queue('invoices-us').put('billing.Refund', {}, { jid: 'abc999' });
    const find = async (text: string): Promise<void> => {
      await visit('');
      await tab.page.getByRole('searchbox').fill(text);
      await Promise.all([tab.page.waitForEvent('load'), tab.page.getByRole('button', { name: 'Find' }).click()]);
    };
    await find('invoices-eu');
    expect(tab.page.url()).toMatch(/\/queues\/invoices-eu$/);
    await find('invoices');
    expect(await tab.page.locator('ul.links a.queue').allInnerTexts()).toEqual(['invoices-eu', 'invoices-us']);
    await find('abc');
    expect(await tab.page.locator('h2').allInnerTexts()).toContain('Jobs whose jid starts with abc');
    expect((await rows()).map((r) => r.split(' | ')[0])).toEqual(['abc123def', 'abc999']);
    await find('sendinvoice');
    expect((await rows()).map((r) => r.split(' | ')[0])).toEqual(['abc123def']);
    await find('zzz-nothing');
    expect(await tab.page.locator('h1').innerText()).toBe('Nothing found');
  });
});
