/**
 * The dashboard's /metrics: what it says matches what the client reads
 * (`client.queues.counts()`, failed groups, workers, today's stats); it is
 * behind the dashboard's authentication and can be turned off; and a
 * scrape stays cheap with thousands of queues (measured).
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { parseMetrics } from './support/metrics.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, startWebCli } from './support/web.js';

const ctx = useRedis();

/** The status of GET /metrics from `qless-ts-web` run with these arguments. */
async function cliMetricsStatus(args: readonly string[]): Promise<number> {
  const web = await startWebCli(ctx.url, args);
  try {
    return (await fetch(`${web.url}metrics`)).status;
  } finally {
    web.child.kill('SIGKILL');
  }
}

describe('qless-ts-web /metrics', { timeout: 120_000 }, () => {
  it('matches client.queues.counts(), the failed groups, the workers and today\'s stats', async () => {
    const served = await serveDashboard(ctx);
    const client = qless.client(ctx.url, { workerName: 'metrics-test' });
    try {
      const a = client.queue('alpha');
      for (let i = 0; i < 5; i++) await a.put('Some.Job', { i });
      await a.put('Some.Job', {}, { delay: 600 });
      const blocker = await a.put('Some.Job', {});
      await a.put('Some.Job', {}, { depends: [blocker] });
      await a.recur('Some.Job', {}, { interval: 3600 });
      const popped = await a.pop(3);
      await popped[0]!.complete();
      await popped[1]!.fail('alpha-Boom', 'it broke');
      const b = client.queue('beta "quoted"\\name');
      await b.put('Other.Job', {});
      await b.pause();
      await client.queue('gamma').put('Some.Job', {});
      await client.throttles.set('stripe-api', 1);
      await client.queue('gamma').put('Some.Job', {}, { throttles: ['stripe-api'] });
      await client.queue('gamma').put('Some.Job', {}, { throttles: ['stripe-api'] });
      await client.queue('gamma').pop(3);

      const res = await fetch(`${served.url}metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const metrics = parseMetrics(await res.text());
      const esc = (name: string): string => name.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

      const counts = await client.queues.counts();
      expect(counts.map((c) => c.name).sort()).toEqual(['alpha', 'beta "quoted"\\name', 'gamma']);
      for (const c of counts) {
        for (const state of ['waiting', 'running', 'scheduled', 'stalled', 'depends', 'recurring'] as const) {
          expect(metrics.get(`qless_queue_jobs{queue="${esc(c.name)}",state="${state}"}`), `${c.name} ${state}`).toBe(c[state]);
        }
        expect(metrics.get(`qless_queue_paused{queue="${esc(c.name)}"}`)).toBe(c.paused ? 1 : 0);
        const stats = await client.queue(c.name).stats();
        expect(metrics.get(`qless_queue_wait_seconds_count{queue="${esc(c.name)}"}`)).toBe(stats.wait.count);
        expect(metrics.get(`qless_queue_wait_seconds_mean{queue="${esc(c.name)}"}`)).toBeCloseTo(stats.wait.mean, 6);
        expect(metrics.get(`qless_queue_run_seconds_count{queue="${esc(c.name)}"}`)).toBe(stats.run.count);
      }
      expect(metrics.get('qless_queue_jobs{queue="alpha",state="running"}')).toBe(1);
      expect(metrics.get('qless_queue_wait_seconds_count{queue="alpha"}')).toBe(3);
      expect(metrics.get('qless_queue_run_seconds_count{queue="alpha"}')).toBe(1);
      expect(metrics.get('qless_queue_paused{queue="gamma"}')).toBe(0);
      for (const [group, count] of Object.entries(await client.jobs.failed())) expect(metrics.get(`qless_failed_jobs{group="${group}"}`)).toBe(count);
      expect(metrics.get('qless_failed_jobs{group="alpha-Boom"}')).toBe(1);
      expect(metrics.get('qless_workers')).toBe((await client.workers.counts()).length);
      expect(metrics.get('qless_workers')).toBe(1);
      expect(metrics.get('qless_redis_noeviction')).toBe(1);
      const throttles = await client.throttles.list();
      expect(throttles.length).toBeGreaterThan(0);
      for (const t of throttles) {
        expect(metrics.get(`qless_throttle_maximum{throttle="${t.id}"}`)).toBe(t.maximum);
        expect(metrics.get(`qless_throttle_holders{throttle="${t.id}"}`)).toBe(t.locks.length);
        expect(metrics.get(`qless_throttle_pending{throttle="${t.id}"}`)).toBe(t.pending.length);
      }
      expect(metrics.get('qless_throttle_holders{throttle="stripe-api"}')).toBe(1);
      expect(metrics.get('qless_throttle_pending{throttle="stripe-api"}')).toBe(1);
    } finally {
      await client.close();
      await served.close();
    }
  });

  it('is behind the dashboard\'s authentication, and can be turned off', async () => {
    const guarded = await serveDashboard(ctx, { auth: { token: 'scrape-me-please' } });
    try {
      const refused = await fetch(`${guarded.url}metrics`);
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('qless_queue_jobs');
      const allowed = await fetch(`${guarded.url}metrics`, { headers: { authorization: 'Bearer scrape-me-please' } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('# TYPE qless_workers gauge');
    } finally {
      await guarded.close();
    }
    const off = await serveDashboard(ctx, { metrics: false });
    try {
      expect((await fetch(`${off.url}metrics`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('qless-ts-web serves it unless started with --no-metrics', async () => {
    expect(await cliMetricsStatus([])).toBe(200);
    expect(await cliMetricsStatus(['--no-metrics'])).toBe(404);
  });

  it('stays cheap with 2,000 queues', async () => {
    const QUEUES = 2000;
    const client = qless.client(ctx.url);
    const served = await serveDashboard(ctx);
    try {
      await Promise.all(Array.from({ length: QUEUES }, (_, i) => client.queue(`q-${i}`).put('Some.Job', { i })));
      await client.queue('q-0').pop();
      const times: number[] = [];
      let text = '';
      await ctx.redis.config('RESETSTAT');
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const res = await fetch(`${served.url}metrics`);
        text = await res.text();
        times.push(performance.now() - started);
        expect(res.status).toBe(200);
      }
      const info = await ctx.redis.info('stats');
      const commands = Number(/total_commands_processed:(\d+)/.exec(info)?.[1]) - 1; // less the INFO itself
      const cpu = await ctx.redis.info('commandstats');
      const usec = [...cpu.matchAll(/usec=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      times.sort((x, y) => x - y);
      const metrics = parseMetrics(text);
      expect([...metrics.keys()].filter((k) => k.startsWith('qless_queue_jobs{')).length).toBe(QUEUES * 6);
      expect(metrics.get('qless_queue_jobs{queue="q-0",state="running"}')).toBe(1);
      console.log(`/metrics with ${QUEUES} queues: median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}) per scrape, ${(text.length / 1024).toFixed(0)} KiB; Redis: ${(commands / 5).toFixed(0)} commands and ${(usec / 5 / 1000).toFixed(1)} ms of command time per scrape`);
      // Generous: the machine is shared; the figure above is the measurement.
      expect(times[2]!).toBeLessThan(5000);
    } finally {
      await served.close();
      await client.close();
    }
  });
});
