/**
 * The dashboard's view of cron schedules and progress: the recurring list
 * and a template's page show the schedule in words and the next three runs
 * in the job's zone; a running job's progress shows on its page and in the
 * running lists (queue tab, worker page). Pages are fetched as HTML (no
 * browser needed to read server-rendered text).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
let served: ServedDashboard;
let client: qless.Client;

beforeAll(async () => {
  served = await serveDashboard(ctx);
  client = qless.client(ctx.url, { workerName: 'worker-1' });
});

afterAll(async () => {
  await client?.close();
  await served?.close();
});

async function page(path: string): Promise<string> {
  const res = await fetch(new URL(path, served.url));
  expect(res.status, path).toBe(200);
  // Text as a reader sees it: tags dropped, entities of the times decoded.
  return (await res.text()).replace(/<[^>]+>/g, ' ').replace(/&#43;|&#x2B;/gi, '+').replace(/\s+/g, ' ');
}

describe('dashboard: schedules', () => {
  it('lists a cron job with its schedule in words and its next three runs in its zone', async () => {
    await client.queue('reports').recur('reports.Nightly', {}, { cron: '30 2 * * *', timezone: 'Europe/Berlin', jid: 'nightly' });
    await client.queue('reports').recur('tasks.Sweep', {}, { interval: 300, jid: 'sweep' });
    const runs = (await ((await client.jobs.get('nightly')) as qless.RecurringJob).upcoming()).map((t) => qless.formatInZone(t, 'Europe/Berlin'));
    expect(runs).toHaveLength(3);
    for (const path of ['recurring', 'queues/reports?state=recurring']) {
      const text = await page(path);
      expect(text).toContain('at 02:30 every day (Europe/Berlin)');
      expect(text).toContain('every 5 minutes');
      for (const run of runs) expect(text).toContain(run);
    }
    const template = await page('jobs/nightly');
    expect(template).toContain('schedule at 02:30 every day (Europe/Berlin)');
    expect(template).toContain('cron 30 2 * * *');
    expect(template).toContain('time zone Europe/Berlin');
    for (const run of runs) expect(template).toContain(run);
  });
});

describe('dashboard: progress', () => {
  it('shows a running job\'s progress on its page and in the running lists', async () => {
    await client.queue('work').put('k.K', {}, { jid: 'busy' });
    await client.queue('work').put('k.K', {}, { jid: 'quiet' });
    const [busy] = await client.queue('work').pop(2);
    await busy!.progress({ done: 3, of: 12, step: 'thumbnails' });
    const words = 'done 3, of 12, step thumbnails (25%)';
    expect(await page(`jobs/${busy!.jid}`)).toContain(`progress ${words}`);
    expect(await page(`jobs/quiet`)).not.toContain('progress');
    expect(await page('queues/work?state=running')).toContain(words);
    expect(await page('workers/worker-1')).toContain(words);
    const html = await (await fetch(new URL(`jobs/${busy!.jid}`, served.url))).text();
    expect(html).toMatch(/<progress max="100" value="25"/);
  });
});
