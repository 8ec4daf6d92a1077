/**
 * Every action of the dashboard, done the way a user does it (clicking in
 * headless Chromium), checked through the client library: the state in
 * Redis must have changed exactly as the button said.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { useBrowser, useDashboardTab } from './support/web.js';

const ctx = useRedis();
const browser = useBrowser();
const tab = useDashboardTab(ctx, browser);
const { visit, press, flash } = tab;

async function job(jid: string): Promise<qless.Job> {
  const found = await tab.client.jobs.get(jid);
  if (!(found instanceof qless.Job)) throw new Error(`job ${jid} is gone`);
  return found;
}

async function failJob(queue: string, jid: string, group: string, options: qless.PutOptions = {}): Promise<void> {
  await tab.client.queue(queue).put('app.Job', { n: jid }, { jid, ...options });
  const popped = await tab.client.queue(queue).pop();
  expect(popped?.jid).toBe(jid);
  await popped!.fail(group, `boom in ${jid}`);
}

describe('queue actions', () => {
  it('pause and unpause', async () => {
    await tab.client.queue('q').put('app.Job', {});
    await visit('queues/q');
    await press('Pause');
    expect(await flash()).toContain('Paused queue q');
    expect((await tab.client.queue('q').counts()).paused).toBe(true);
    await press('Unpause');
    expect((await tab.client.queue('q').counts()).paused).toBe(false);
  });
});

describe('job actions', () => {
  it('retry puts a failed job back into its queue with its klass, data, priority, tags and retries', async () => {
    await failJob('q', 'f1', 'app.Job-Error', { priority: 4, tags: ['t1', 't2'], retries: 2 });
    await visit('jobs/f1');
    await press('Retry');
    expect(await flash()).toContain('Retried job f1 in queue q');
    const retried = await job('f1');
    expect(retried).toMatchObject({ state: 'waiting', queue: 'q', klass: 'app.Job', priority: 4, tags: ['t1', 't2'], retries: 2, remaining: 2, data: { n: 'f1' } });
    expect(await tab.client.jobs.failed()).toEqual({});
  });

  it('cancel deletes the job', async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 'c1' });
    await visit('jobs/c1');
    await press('Cancel');
    expect(tab.page.url()).toMatch(/\/queues\/q$/);
    expect(await tab.client.jobs.get('c1')).toBeNull();
  });

  it('cancel of a job others depend on is refused with the reason, and nothing changes', async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 'parent' });
    await tab.client.queue('q').put('app.Job', {}, { jid: 'child', depends: ['parent'] });
    await visit('jobs/parent');
    await press('Cancel');
    expect(await flash()).toBe('Job parent cannot be canceled on its own: job child depends on it. Cancel both together (or the dependent job first).');
    expect((await job('parent')).state).toBe('waiting');
  });

  it('move to another queue, change priority', async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 'm1' });
    await visit('jobs/m1');
    await tab.page.getByLabel('Move to queue').fill('elsewhere');
    await press('Move');
    expect((await job('m1')).queue).toBe('elsewhere');
    await tab.page.getByLabel('Priority').fill('-7.5');
    await press('Set');
    expect((await job('m1')).priority).toBe(-7.5);
  });

  it('tag and untag', async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 't1', tags: ['old'] });
    await visit('jobs/t1');
    await tab.page.getByLabel('Add tag').fill('new tag/with <chars>');
    await press('Tag');
    expect((await job('t1')).tags).toEqual(['old', 'new tag/with <chars>']);
    await press('Remove tag new tag/with <chars>');
    expect((await job('t1')).tags).toEqual(['old']);
    expect((await tab.client.jobs.tagged('new tag/with <chars>')).total).toBe(0);
  });

  it('track and untrack', async () => {
    await tab.client.queue('q').put('app.Job', {}, { jid: 'tr1' });
    await visit('jobs/tr1');
    await press('Track');
    expect((await job('tr1')).tracked).toBe(true);
    expect(await tab.page.locator('h1').innerText()).toContain('tracked');
    await press('Untrack');
    expect((await job('tr1')).tracked).toBe(false);
  });

  it('stop a recurring job', async () => {
    await tab.client.queue('cron').recur('cron.Tick', {}, { interval: 60, jid: 'tick' });
    await visit('jobs/tick');
    await press('Stop recurring');
    expect(await tab.client.jobs.get('tick')).toBeNull();
    expect(tab.page.url()).toMatch(/\/recurring$/);
  });
});

describe('failure group actions', () => {
  it('retry all puts every job back into the queue it failed in', async () => {
    await failJob('a', 'g1', 'grp');
    await failJob('b', 'g2', 'grp');
    await failJob('a', 'g3', 'grp');
    await failJob('a', 'other', 'other-group');
    await visit('failed/grp');
    await press('Retry all 3');
    expect(await flash()).toContain('Retried 3 jobs of grp');
    expect(await tab.client.jobs.failed()).toEqual({ 'other-group': 1 });
    expect((await job('g1')).queue).toBe('a');
    expect((await job('g2')).queue).toBe('b');
    expect((await job('g3')).state).toBe('waiting');
  });

  it('cancel all deletes every job of the group', async () => {
    await failJob('a', 'x1', 'grp');
    await failJob('b', 'x2', 'grp');
    await visit('failed/grp');
    await press('Cancel all 2');
    expect(await flash()).toContain('Canceled 2 jobs of grp');
    expect(await tab.client.jobs.failed()).toEqual({});
    expect(await tab.client.jobs.multiget(['x1', 'x2'])).toEqual([]);
  });

  it('retry all handles more jobs than one batch', async () => {
    for (let i = 0; i < 130; i++) await failJob('bulk', `b${i}`, 'bulk-group');
    await visit('failed/bulk-group');
    await press('Retry all 130');
    expect(await tab.client.jobs.failed()).toEqual({});
    expect((await tab.client.queue('bulk').counts()).waiting).toBe(130);
  });
});

describe('config actions', () => {
  it('change an option, set a new one, unset it', async () => {
    await visit('config');
    const row = tab.page.locator('tr[data-option="heartbeat"]');
    await row.locator('input[name="value"]').fill('120');
    await press('Save', row);
    expect(await tab.client.config.get('heartbeat')).toBe(120);
    await tab.page.getByLabel('Option', { exact: true }).fill('emails-heartbeat');
    await tab.page.getByLabel('Value', { exact: true }).fill('30');
    await press('Set');
    expect(await tab.client.config.get('emails-heartbeat')).toBe(30);
    await press('Unset emails-heartbeat');
    expect(await tab.client.config.get('emails-heartbeat')).toBeNull();
  });
});
