/**
 * The dashboard's `/metrics`: what the core knows about the queues, in
 * Prometheus text format (prom-client), for a scraper.
 *
 * | metric | labels | from |
 * |---|---|---|
 * | qless_queue_jobs | queue, state (waiting, running, scheduled, stalled, depends, recurring) | core `queues` |
 * | qless_queue_paused | queue | core `queues` |
 * | qless_failed_jobs | group | core `failed` |
 * | qless_workers | | core `workers` |
 * | qless_queue_wait_seconds_count, _mean | queue | today's wait statistics (UTC day) |
 * | qless_queue_run_seconds_count, _mean | queue | today's run statistics |
 * | qless_throttle_maximum, _holders, _pending | throttle | `client.throttles.list()` |
 * | qless_redis_noeviction | | 1 when every primary's maxmemory-policy is noeviction (connection/eviction.ts); absent when INFO is refused |
 *
 * One scrape costs Redis three core calls and one pipeline of two HMGETs
 * per queue, whatever the number of jobs: the core's own `stats` command
 * would also build each queue's histograms, which a scrape does not need.
 * Throttles have no index: finding them is a SCAN of the key space (cheap
 * next to the rest, measured in test/web.metrics.test.ts), then three
 * calls per throttle.
 * The stats hashes are named by src/keys.ts, the one place that spells them.
 */
import { Gauge, Registry } from 'prom-client';
import type { Client } from '../client.js';
import { evictionPolicies } from '../connection/eviction.js';
import * as wire from '../wire.js';

const STATES = ['waiting', 'running', 'scheduled', 'stalled', 'depends', 'recurring'] as const;
const DAY = 86_400;

/** Today's count and mean of one statistic (wait or run), as stored. */
function summary(reply: unknown): { count: number; mean: number } {
  const [total, mean] = Array.isArray(reply) ? reply : [];
  return { count: Number(total) || 0, mean: Number(mean) || 0 };
}

/** The metrics text of one scrape, and its content type. */
export async function queueMetrics(client: Client): Promise<{ type: string; text: string }> {
  const day = Math.floor(client.now() / DAY) * DAY;
  const [queues, failed, workers, throttles, policies] = await Promise.all([
    client.queues.counts(),
    client.jobs.failed(),
    client.call('workers'),
    client.throttles.list(),
    evictionPolicies(client.redis).catch(() => undefined),
  ]);
  const pipeline = client.redis.pipeline();
  for (const queue of queues) {
    const [, wait, run] = client.keys.queueStats(queue.name, day);
    pipeline.hmget(wait!, 'total', 'mean');
    pipeline.hmget(run!, 'total', 'mean');
  }
  const stats = queues.length > 0 ? ((await pipeline.exec()) ?? []) : [];

  const registry = new Registry();
  const registers = [registry];
  const jobs = new Gauge({ name: 'qless_queue_jobs', help: 'Jobs in each queue, by state.', labelNames: ['queue', 'state'], registers });
  const paused = new Gauge({ name: 'qless_queue_paused', help: '1 when the queue is paused.', labelNames: ['queue'], registers });
  const failedJobs = new Gauge({ name: 'qless_failed_jobs', help: 'Failed jobs in each failure group.', labelNames: ['group'], registers });
  const workerCount = new Gauge({ name: 'qless_workers', help: 'Workers the core knows (seen within max-worker-age).', registers });
  const waitCount = new Gauge({ name: 'qless_queue_wait_seconds_count', help: 'Jobs popped today (UTC) from each queue.', labelNames: ['queue'], registers });
  const waitMean = new Gauge({ name: 'qless_queue_wait_seconds_mean', help: 'Mean time, in seconds, today\'s popped jobs waited in each queue.', labelNames: ['queue'], registers });
  const runCount = new Gauge({ name: 'qless_queue_run_seconds_count', help: 'Jobs completed today (UTC) in each queue.', labelNames: ['queue'], registers });
  const runMean = new Gauge({ name: 'qless_queue_run_seconds_mean', help: 'Mean run time, in seconds, of today\'s completed jobs in each queue.', labelNames: ['queue'], registers });

  queues.forEach((counts, i) => {
    const queue = counts.name;
    for (const state of STATES) jobs.set({ queue, state }, counts[state]);
    paused.set({ queue }, counts.paused ? 1 : 0);
    const wait = summary(stats[2 * i]?.[1]);
    const run = summary(stats[2 * i + 1]?.[1]);
    waitCount.set({ queue }, wait.count);
    waitMean.set({ queue }, wait.mean);
    runCount.set({ queue }, run.count);
    runMean.set({ queue }, run.mean);
  });
  for (const [group, count] of Object.entries(failed)) failedJobs.set({ group }, count);
  const maximum = new Gauge({ name: 'qless_throttle_maximum', help: 'Jobs that may hold each throttle at once (0: no limit).', labelNames: ['throttle'], registers });
  const holders = new Gauge({ name: 'qless_throttle_holders', help: 'Jobs holding each throttle now.', labelNames: ['throttle'], registers });
  const parked = new Gauge({ name: 'qless_throttle_pending', help: 'Jobs waiting for room in each throttle.', labelNames: ['throttle'], registers });
  for (const throttle of throttles) {
    maximum.set({ throttle: throttle.id }, throttle.maximum);
    holders.set({ throttle: throttle.id }, throttle.locks.length);
    parked.set({ throttle: throttle.id }, throttle.pending.length);
  }
  workerCount.set(wire.jsonList('workers', workers).length);
  if (policies !== undefined && policies.length > 0) {
    const safe = new Gauge({ name: 'qless_redis_noeviction', help: 'Whether Redis keeps every key when full (maxmemory-policy noeviction on every primary): 1 yes, 0 it may delete jobs.', registers });
    safe.set(policies.every(({ policy }) => policy === 'noeviction') ? 1 : 0);
  }
  return { type: registry.contentType, text: await registry.metrics() };
}
