/**
 * Round trips: a child sends the completion of a finished job together with
 * its next pop; while its jobs are short it pops ahead of its free slots, so
 * that one pop serves several jobs; a job that turns out
 * long hands the jobs popped with it back to the head of their queue; and
 * none of this loses a job or runs one twice. Redis's MONITOR shows the
 * round trips: each core call is one FCALL, several calls in one trip are
 * one FCALL of `multi`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { AHEAD, PopAhead } from '../src/worker/ahead.js';
import { WORKERS } from '../src/keys.js';
import { useRedis } from './support/redis.js';
import { allComplete, FIXTURES, processState, serverPid, sleep, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** One core call as sent: its command and arguments (without `now`). */
interface SentCall {
  command: string;
  args: string[];
}

/** The core calls of one FCALL (several for `multi`). */
function coreCalls(argv: readonly string[]): SentCall[] {
  // FCALL <function> 0 <command> <now> <args…>
  const [command, , ...rest] = argv.slice(3);
  if (command !== 'multi') return [{ command: command!, args: rest }];
  // multi <now> then, per call: <command> <now> <count> <args…>
  const calls: SentCall[] = [];
  for (let i = 0; i < rest.length;) {
    const count = Number(rest[i + 2]);
    calls.push({ command: rest[i]!, args: rest.slice(i + 3, i + 3 + count) });
    i += 3 + count;
  }
  return calls;
}

/**
 * Record every FCALL the server runs, as lists of core calls (one list per
 * round trip). `stop()` first waits until the monitor has caught up with
 * every command run so far (its feed lags behind on a busy machine).
 */
async function watchTrips(redis: Redis): Promise<{ trips: SentCall[][]; stop(): Promise<void> }> {
  const monitor = await redis.monitor();
  const trips: SentCall[][] = [];
  const seen = new Set<string>();
  monitor.on('monitor', (_time: string, argv: string[]) => {
    const command = String(argv[0]).toLowerCase();
    if (command === 'fcall') trips.push(coreCalls(argv.map(String)));
    else if (command === 'echo') seen.add(String(argv[1]));
  });
  const stop = async (): Promise<void> => {
    const marker = `caught-up-${Math.random()}`;
    await redis.echo(marker);
    await until(() => seen.has(marker), 30_000, 'the monitor to catch up');
    monitor.disconnect();
  };
  return { trips, stop };
}

/** Put `n` fast.Note jobs quickly; they note their runs in `log`. */
async function putNotes(client: qless.Client, queue: string, n: number, log: string): Promise<string[]> {
  const q = client.queue(queue);
  return Promise.all(Array.from({ length: n }, (_, i) => q.put('fast.Note', { log, i })));
}

/** How many times each jid ran, from the notes. */
function runsByJid(log: string): Map<string, number> {
  const runs = new Map<string, number>();
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const jid = line.split(' ')[0]!;
    runs.set(jid, (runs.get(jid) ?? 0) + 1);
  }
  return runs;
}


describe('qless-ts-worker round trips', { timeout: 90_000 }, () => {
  it('sends the completion of a finished job together with the next pop, in one round trip', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    // Fewer jobs than a child looks at before popping ahead: one job at a time.
    const jids = await putNotes(client, 'fused', AHEAD.window - 4, log);
    const watch = await watchTrips(ctx.redis);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'fused', '-w', '1', '-i', '0.2', '-n', 'fused']);
    const jobs = await allComplete(client, jids);
    const [pid] = await worker.started(1);
    await watch.stop();

    const mine = (call: SentCall): boolean => call.args[1] === `fused-${pid}`;
    const trips = watch.trips.map((trip) => trip.filter(mine)).filter((trip) => trip.length > 0);
    const completing = trips.filter((trip) => trip.some((call) => call.command === 'complete'));
    // Every completion rode with a pop (the last one with the pop that found the queue empty)…
    expect(completing.map((trip) => trip.map((call) => call.command))).toEqual(jids.map(() => ['complete', 'pop.raw']));
    // …of the next job: the first pop, then one round trip per job (not two).
    expect(trips.slice(0, trips.indexOf(completing[completing.length - 1]!) + 1)).toHaveLength(jids.length + 1);
    for (const job of jobs) expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    expect([...runsByJid(log).values()].every((n) => n === 1)).toBe(true);
    expect(runsByJid(log).size).toBe(jids.length);
    await client.close();
  });

  it('answers each put to an idle child with one pop of its own, and pops no more until the next put', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    // --interval 60: every pop below is a put's doing, or a finished job's.
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'woken', '-w', '1', '-i', '60', '-n', 'woken']);
    const [pid] = await worker.started(1);
    // Idle: its first pop (which lists it as a worker) found nothing.
    await until(async () => (await ctx.redis.zscore(WORKERS, `woken-${pid}`)) !== null, 30_000, 'the child to pop once');
    const watch = await watchTrips(ctx.redis);
    const mine = (call: SentCall): boolean => call.args[1] === `woken-${pid}`;
    const completions = (): number => watch.trips.filter((trip) => trip.some((call) => mine(call) && call.command === 'complete')).length;
    const jids: string[] = [];
    for (let i = 0; i < 4; i++) {
      jids.push(...(await putNotes(client, 'woken', 1, log)));
      await allComplete(client, jids);
      // The next put only once the completion's trip (with the pop that
      // finds the queue empty) has run: that pop cannot take the next job.
      await until(() => completions() === i + 1, 30_000, 'the completion to be sent');
    }
    await watch.stop();

    const trips = watch.trips
      .map((trip) => trip.filter(mine).map((call) => call.command))
      .filter((trip) => trip.includes('pop.raw') || trip.includes('complete'));
    // Per put: its pop on its own (an FCALL of pop.raw, not a one-call
    // multi), then the job's completion with the pop that finds nothing;
    // no second pop for the same put, none while idle.
    expect(trips).toEqual(jids.flatMap(() => [['pop.raw'], ['complete', 'pop.raw']]));
    expect([...runsByJid(log).values()].every((n) => n === 1)).toBe(true);
    expect(runsByJid(log).size).toBe(jids.length);
    await client.close();
  });

  it('pops ahead while its jobs are short: one pop serves several jobs, each run once', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const jids = await putNotes(client, 'ahead', 400, log);
    const watch = await watchTrips(ctx.redis);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'ahead', '-w', '1', '-i', '0.2', '-n', 'ahead']);
    const jobs = await allComplete(client, jids);
    const [pid] = await worker.started(1);
    await watch.stop();

    const trips = watch.trips.map((trip) => trip.filter((call) => call.args[1] === `ahead-${pid}`)).filter((trip) => trip.length > 0);
    const pops = trips.filter((trip) => trip.some((call) => call.command === 'pop.raw'));
    expect(pops.length).toBeLessThan(jids.length);
    expect(Math.max(...pops.map((trip) => Number(trip.find((call) => call.command === 'pop.raw')!.args[2])))).toBeGreaterThan(1);
    // Each completion went out once (alone, or riding with a pop).
    expect(trips.flat().filter((call) => call.command === 'complete')).toHaveLength(jids.length);
    for (const job of jobs) expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    const runs = runsByJid(log);
    expect(runs.size).toBe(jids.length);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    expect(worker.lines('handing jobs popped ahead back to their queues')).toEqual([]);
    await client.close();
  });

  it('takes 1,000 jobs through two children at --concurrency 4, none lost or run twice', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const jids = await putNotes(client, 'many', 1000, log);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'many', '-w', '2', '-c', '4', '-i', '0.2', '-n', 'many']);
    const jobs = await allComplete(client, jids, 90_000);
    for (const job of jobs) expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    const runs = runsByJid(log);
    expect(runs.size).toBe(jids.length);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    const children = await worker.started(2);
    const poppers = new Set(jobs.map((job) => job.history.find((h) => h.what === 'popped')!['worker']));
    expect([...poppers].sort()).toEqual(children.map((pid) => `many-${pid}`).sort());
    expect(worker.lines('job failed')).toEqual([]);
    await client.close();
  }, 120_000);

  it('hands the jobs popped ahead of a job that runs long back to the head of their queue, without using a retry', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const before = await putNotes(client, 'strand', 60, log);
    const long = await client.queue('strand').put('timing.Sleep', { ms: 3000 });
    const after = await putNotes(client, 'strand', 40, log);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'strand', '-w', '1', '-i', '0.2']);
    const jobs = await allComplete(client, [...before, long, ...after]);

    const done = (job: qless.Job): number => job.history.find((h) => h.what === 'done')!.when;
    const sleeper = jobs.find((job) => job.jid === long)!;
    const handedBack = jobs.filter((job) => job.history.some((h) => h.what === 'timed-out'));
    // Some were popped with the long job and given back while it ran…
    expect(handedBack.length).toBeGreaterThan(0);
    expect(worker.lines('handing jobs popped ahead back to their queues').length).toBeGreaterThan(0);
    for (const job of handedBack) {
      expect(after).toContain(job.jid);
      expect(job.history.map((h) => h.what)).toEqual(['put', 'popped', 'timed-out', 'popped', 'done']);
      expect(job.history.find((h) => h.what === 'timed-out')!.when).toBeLessThan(done(sleeper));
      // …at the head of the queue, with their retries untouched.
      expect(job.remaining).toBe(job.retries);
    }
    // Nothing ran twice, nothing was lost.
    const runs = runsByJid(log);
    expect(runs.size).toBe(before.length + after.length);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    expect(sleeper.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    await client.close();
  });

  it('keeps the jobs held ahead of a job that is short but waits on a stalled Redis: Redis latency is not a long job', async (test) => {
    if (!ctx.server) test.skip();
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const redisPid = await serverPid(ctx.redis);
    const before = await putNotes(client, 'stall', 60, log);
    // Stops Redis, then waits for its own heartbeat's reply.
    const stall = await client.queue('stall').put('timing.StallRedis', { redisPid });
    const after = await putNotes(client, 'stall', 40, log);
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'stall', '-w', '1', '-i', '0.2']);
    try {
      await until(() => processState(redisPid) === 'T', 30_000, 'the job to stop Redis');
      await sleep(1500);
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }
    const jobs = await allComplete(client, [...before, stall, ...after]).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.tail(80)}`);
    });
    expect(jobs.filter((job) => job.history.some((h) => h.what === 'timed-out')).map((job) => job.jid)).toEqual([]);
    expect(worker.lines('handing jobs popped ahead back to their queues')).toEqual([]);
    const runs = runsByJid(log);
    expect(runs.size).toBe(before.length + after.length);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    await client.close();
  });

  it('with --timeout, times a job popped ahead only from its start: jobs held behind a CPU-bound one that times out are not failed', async () => {
    const client = qless.client(ctx.url);
    // Popping ahead needs jobs that each took under 5 ms (src/worker/ahead.ts):
    // on a loaded machine the notes can take longer, and then no job is
    // held behind the blocker at all. The scenario is then played again, on
    // a queue of its own, up to three times; every play checks that nothing
    // was failed or run twice.
    let held = false;
    for (let attempt = 1; attempt <= 3 && !held; attempt++) {
      const queue = `held-${attempt}`;
      const log = join(workers.tmp(), 'runs.log');
      writeFileSync(log, '');
      const before = await putNotes(client, queue, 60, log);
      const busy = await client.queue(queue).put('timing.Busy', { ms: 2500 });
      const after = await putNotes(client, queue, 30, log);
      const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', queue, '-w', '1', '-i', '0.2', '--timeout', '1']);
      const notes = await allComplete(client, [...before, ...after]);
      let blocker: qless.Job | undefined;
      await until(async () => (blocker = (await client.jobs.get(busy)) as qless.Job).state === 'failed', 30_000, 'the CPU-bound job to time out');
      expect(blocker!.failure?.group).toBe(`${queue}-timeout`);
      // Jobs popped with it waited while it blocked the child (longer than
      // --timeout), yet none of them was failed.
      const ended = blocker!.failure!.when;
      held = notes.some((job) => after.includes(job.jid) && job.history.find((h) => h.what === 'popped')!.when <= ended);
      for (const job of notes) expect(job.failure).toBeNull();
      // Nor was a job that had finished just before it (its completion's reply
      // waited for the event loop, but the supervisor knew its code was over).
      expect(worker.lines('job timed out; failing and aborting it').map((line) => line.jid)).toEqual([busy]);
      const runs = runsByJid(log);
      expect(runs.size).toBe(before.length + after.length);
      expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
      worker.kill();
      await worker.exited;
    }
    expect(held).toBe(true);
    await client.close();
  });

  it('does not kill a child whose job popped ahead blocks its event loop before the previous job\'s end is reported', async () => {
    const client = qless.client(ctx.url);
    // The job before the blocker finished, but its release waits behind the
    // blocker: the supervisor's heartbeat for it (after 5 s, a third of its
    // 15-s lock) is refused — the job is complete. That is no lost lock: the
    // child must not be aborted and killed under the blocker. As in the test
    // above, the blocker must be held ahead, which a loaded machine may
    // prevent: played up to three times.
    let triggered = false;
    for (let attempt = 1; attempt <= 3 && !triggered; attempt++) {
      const queue = `behind-${attempt}`;
      await client.config.set(`${queue}-heartbeat`, 15);
      const log = join(workers.tmp(), 'runs.log');
      writeFileSync(log, '');
      const before = await putNotes(client, queue, 60, log);
      const busy = await client.queue(queue).put('timing.BusyAtOnce', { ms: 12_000 });
      const after = await putNotes(client, queue, 10, log);
      const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', queue, '-w', '1', '-i', '0.2']);
      await allComplete(client, [...before, busy, ...after], 60_000);
      triggered = worker.lines('heartbeat refused for a job this child completed; its release is on its way').length > 0;
      expect(worker.lines('killing child')).toEqual([]);
      expect(worker.lines('child started')).toHaveLength(1);
      const runs = runsByJid(log);
      expect(runs.size).toBe(before.length + after.length);
      expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
      expect((await client.redis.lrange('fixture:runs', 0, -1)).filter((line) => line.startsWith(busy))).toHaveLength(1);
      worker.kill();
      await worker.exited;
    }
    expect(triggered).toBe(true);
    await client.close();
  }, 200_000);

  it('still wakes at once on a put after a busy spell, with a long --interval', async () => {
    const client = qless.client(ctx.url);
    const log = join(workers.tmp(), 'runs.log');
    writeFileSync(log, '');
    const jids = await putNotes(client, 'spell', 600, log);
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'spell', '-w', '1', '-i', '60']);
    await allComplete(client, jids);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Asleep now for up to 60 s; the put must wake it (well before then).
    const jid = await client.queue('spell').put('timing.WhoAmI', {});
    await allComplete(client, [jid], 20_000);
    await client.close();
  });
});

describe('popping ahead: the policy', () => {
  const shortJobs = (policy: PopAhead, n: number, ms: number): void => {
    for (let i = 0; i < n; i++) policy.ran(ms);
  };

  it('holds nothing ahead until a whole window of jobs was short', () => {
    const policy = new PopAhead(1);
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, AHEAD.window - 1, 0.5);
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, 1, 0.5);
    expect(policy.allowance(0)).toBe(Math.floor(AHEAD.budgetMs / 0.5));
  });

  it('holds as many as start within the budget, times the concurrency, at most AHEAD.max', () => {
    const slow = new PopAhead(1);
    shortJobs(slow, AHEAD.window, AHEAD.shortMs);
    expect(slow.allowance(0)).toBe(Math.floor(AHEAD.budgetMs / AHEAD.shortMs));
    const wide = new PopAhead(3);
    shortJobs(wide, AHEAD.window, 2);
    expect(wide.allowance(0)).toBe(Math.min(AHEAD.max, Math.floor((3 * AHEAD.budgetMs) / 2)));
    const quick = new PopAhead(1);
    shortJobs(quick, AHEAD.window, 0.01);
    expect(quick.allowance(0)).toBe(AHEAD.max);
  });

  it('holds nothing ahead after one long job in the window, or while a job runs long', () => {
    const policy = new PopAhead(1);
    shortJobs(policy, AHEAD.window, 0.5);
    expect(policy.allowance(AHEAD.shortMs + 1)).toBe(0);
    policy.ran(AHEAD.shortMs + 1);
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, AHEAD.window - 1, 0.5);
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, 1, 0.5);
    expect(policy.allowance(0)).toBeGreaterThan(0);
  });

  it('stops for a window of jobs after a pop that ran dry or jobs that had to be handed back', () => {
    const policy = new PopAhead(1);
    shortJobs(policy, AHEAD.window, 0.5);
    policy.popped(10, 10);
    expect(policy.allowance(0)).toBeGreaterThan(0);
    policy.popped(10, 3);
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, AHEAD.window, 0.5);
    expect(policy.allowance(0)).toBeGreaterThan(0);
    policy.stranded();
    expect(policy.allowance(0)).toBe(0);
    shortJobs(policy, AHEAD.window, 0.5);
    expect(policy.allowance(0)).toBeGreaterThan(0);
  });
});
