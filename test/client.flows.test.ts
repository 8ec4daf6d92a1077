/**
 * The user's-guide flows of issue 4, end to end through the public API.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

class GnomesJob {
  static klass = 'gnomes.GnomesJob';

  static async underpants(job: qless.Job): Promise<void> {
    job.data['collected'] = 12;
    await job.complete('unknown');
  }

  static async unknown(job: qless.Job): Promise<void> {
    job.data['plan'] = '?';
    await job.complete('profit');
  }

  static async profit(job: qless.Job): Promise<void> {
    job.data['profit'] = true;
    await job.complete();
  }
}

async function stateOf(client: qless.Client, jid: string): Promise<string | undefined> {
  return (await client.jobs.get(jid))?.state;
}

describe("the user's guide", () => {
  it('runs the gnomes pipeline underpants → unknown → profit', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const jid = await client.queue('underpants').put(GnomesJob, { address: '123 Brief St.' });
    const stages = ['underpants', 'unknown', 'profit'] as const;
    for (const stage of stages) {
      clock.advance(1);
      const job = await client.queue(stage).pop();
      expect(job?.jid).toBe(jid);
      expect(job?.queue).toBe(stage);
      await GnomesJob[stage](job!);
    }
    const job = (await client.jobs.get(jid)) as qless.Job;
    expect(job.state).toBe('complete');
    expect(job.data).toEqual({ address: '123 Brief St.', collected: 12, plan: '?', profit: true });
    expect(job.history.map((h) => [h.what, h.q ?? h.worker ?? null])).toEqual([
      ['put', 'underpants'], ['popped', 'worker-1'], ['done', null],
      ['put', 'unknown'], ['popped', 'worker-1'], ['done', null],
      ['put', 'profit'], ['popped', 'worker-1'], ['done', null],
    ]);
    for (const stage of stages) expect(await client.queue(stage).length()).toBe(0);
    expect(await client.jobs.complete()).toEqual([jid]);
  });

  it('cooks the omelette once buy_eggs and buy_pan are done', async () => {
    const client = make();
    const eggs = await client.queue('buy_eggs').put('kitchen.BuyEggs', {});
    const pan = await client.queue('buy_pan').put('kitchen.BuyPan', {});
    const omelette = await client.queue('cook').put('kitchen.MakeOmelette', {}, { depends: [eggs, pan] });
    const waiting = (await client.jobs.get(omelette)) as qless.Job;
    expect(waiting.state).toBe('depends');
    expect([...waiting.dependencies].sort()).toEqual([eggs, pan].sort());
    expect(((await client.jobs.get(eggs)) as qless.Job).dependents).toEqual([omelette]);
    expect(await client.queue('cook').jobs.depends()).toEqual([omelette]);
    expect(await client.queue('cook').pop()).toBeNull();
    await (await client.queue('buy_eggs').pop())!.complete();
    expect(await stateOf(client, omelette)).toBe('depends');
    await (await client.queue('buy_pan').pop())!.complete();
    expect(await stateOf(client, omelette)).toBe('waiting');
    const cooking = await client.queue('cook').pop();
    expect(cooking?.jid).toBe(omelette);
    expect(cooking?.dependencies).toEqual([]);
  });

  it('recurs a maintenance job with interval and offset', async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1) / 1000);
    const client = make({ clock: clock.clock });
    const queue = client.queue('maintenance');
    const start = clock.time;
    const jid = await queue.recur('chores.Maintenance', { tasks: ['sweep'] }, { interval: 86400, offset: 3600, tags: ['nightly'] });
    expect(await queue.counts()).toMatchObject({ recurring: 1, waiting: 0 });
    clock.advance(3599);
    expect(await queue.pop()).toBeNull();
    clock.advance(1);
    const first = await queue.pop();
    expect(first?.jid).toBe(`${jid}-1`);
    expect(first?.tags).toEqual(['nightly']);
    expect(first?.history[0]?.when).toBe(start + 3600);
    await first!.complete();
    clock.advance(86400 * 3);
    const caughtUp = await queue.pop(10);
    expect(caughtUp.map((j) => j.jid)).toEqual([`${jid}-2`, `${jid}-3`, `${jid}-4`]);
    const template = (await client.jobs.get(jid)) as qless.RecurringJob;
    expect(template.count).toBe(4);
    expect(await template.next()).toBe(start + 3600 + 4 * 86400);
  });

  it('pops by priority, FIFO among equals (system clock)', async () => {
    const client = make();
    const queue = client.queue('underpants');
    const jids: Record<string, string> = {};
    for (const [name, priority] of [['a', 0], ['valuable', 10], ['b', 0], ['socks', -10], ['c', 0], ['gold', 10]] as const) {
      jids[name] = await queue.put(GnomesJob, { name }, { priority });
    }
    const order = (await queue.pop(6)).map((j) => j.data['name']);
    expect(order).toEqual(['valuable', 'gold', 'a', 'b', 'c', 'socks']);
  });

  it('keeps FIFO for many jobs put in a burst', async () => {
    const client = make();
    const queue = client.queue('burst');
    const jids: string[] = [];
    for (let i = 0; i < 50; i++) jids.push(await queue.put('a.B', { i }));
    expect((await queue.pop(50)).map((j) => j.jid)).toEqual(jids);
  });

  it('delays, tags, retries, pops 20, heartbeats and reports stats', async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1, 12) / 1000);
    const client = make({ clock: clock.clock });
    const queue = client.queue('gnomes');
    for (let i = 0; i < 20; i++) {
      await queue.put(GnomesJob, { i }, { tags: i % 2 ? ['odd'] : ['even'], retries: 1 });
      clock.advance(0.001);
    }
    const later = await queue.put(GnomesJob, {}, { delay: 60 });
    expect((await client.jobs.tagged('odd')).total).toBe(10);
    expect(await client.tags()).toEqual(expect.arrayContaining(['odd', 'even']));
    clock.advance(5);
    const twenty = await queue.pop(20);
    expect(twenty).toHaveLength(20);
    expect(twenty.map((j) => j.data['i'])).toEqual([...Array(20).keys()]);
    expect(await queue.pop()).toBeNull();
    // pop's reply carries the expiry with 14 significant digits (0.1 ms here).
    expect(twenty[0]!.ttl).toBeCloseTo(60, 3);
    clock.advance(30);
    expect(twenty[0]!.ttl).toBeCloseTo(30, 3);
    const beats = await client.jobs.heartbeat(twenty);
    expect(beats.every((b) => b.ok)).toBe(true);
    expect(twenty.every((j) => Math.abs(j.ttl - 60) < 1e-6)).toBe(true);
    // One retry each: the first retry sends the job back, the second fails it.
    expect(await twenty[0]!.retry()).toBe(0);
    const again = (await queue.pop())!;
    expect(again.jid).toBe(twenty[0]!.jid);
    expect(await again.retry()).toBe(-1);
    expect(await stateOf(client, again.jid)).toBe('failed');
    expect(await client.jobs.failed()).toEqual({ 'failed-retries-gnomes': 1 });
    clock.advance(30);
    expect((await queue.pop())!.jid).toBe(later);
    for (const job of twenty.slice(1)) await job.complete();
    const stats = await queue.stats();
    expect(stats.wait.count).toBe(22);
    expect(stats.run.count).toBe(19);
    expect(stats.run.mean).toBeCloseTo(60, 3);
    expect(stats.failures).toBe(1);
  });

  it('lets a lost lock be noticed and the job taken over', async () => {
    const clock = new ManualClock();
    const first = make({ clock: clock.clock, workerName: 'w1' });
    const second = make({ clock: clock.clock, workerName: 'w2' });
    const lost: qless.WorkerEvent[] = [];
    first.events.onWorker((event) => lost.push(event));
    await first.events.listen();
    const jid = await first.queue('q').put('a.B', {});
    const job = (await first.queue('q').pop())!;
    clock.advance(61);
    expect(await second.queue('q').pop()).toBeNull(); // courtesy notice first (grace period)
    clock.advance(10);
    const taken = await second.queue('q').pop();
    expect(taken?.jid).toBe(jid);
    expect(taken?.remaining).toBe(4);
    await expect(job.heartbeat()).rejects.toBeInstanceOf(qless.LostLockError);
    await taken!.complete();
    for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lost[0]).toEqual({ event: 'lock_lost', jid, worker: 'w1' });
  });
});
