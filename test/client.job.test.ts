import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

async function popped(client: qless.Client, queue = 'q', options: qless.PutOptions = {}, data: object = {}): Promise<qless.Job> {
  const jid = await client.queue(queue).put('a.B', data, options);
  const job = await client.queue(queue).pop();
  if (!job || job.jid !== jid) throw new Error('expected to pop the job just put');
  return job;
}

async function get(client: qless.Client, jid: string): Promise<qless.Job> {
  const job = await client.jobs.get(jid);
  if (!(job instanceof qless.Job)) throw new Error(`no job ${jid}`);
  return job;
}

describe('heartbeat and ttl', () => {
  it('extends the lock keeping the fraction, and saves data', async () => {
    const clock = new ManualClock(1_700_000_000.25);
    const client = make({ clock: clock.clock });
    const job = await popped(client, 'q', {}, { collected: 0 });
    expect(job.expires).toBeCloseTo(1_700_000_060.25, 3);
    expect(job.ttl).toBeCloseTo(60, 3);
    clock.advance(10.5);
    expect(job.ttl).toBeCloseTo(49.5, 3);
    job.data['collected'] = 12;
    const expires = await job.heartbeat();
    expect(expires).toBe(1_700_000_070.75);
    expect(job.expires).toBe(expires);
    expect(job.ttl).toBe(60);
    expect((await get(client, job.jid)).data).toEqual({ collected: 12 });
  });

  it('follows the queue heartbeat setting', async () => {
    const clock = new ManualClock(1_700_000_000.5);
    const client = make({ clock: clock.clock });
    await client.queue('q').setHeartbeat(300);
    const job = await popped(client);
    expect(job.ttl).toBeCloseTo(300, 3);
    clock.advance(100);
    expect(await job.heartbeat()).toBe(1_700_000_400.5);
  });

  it('raises LostLockError, naming the job, once another worker has it', async () => {
    const clock = new ManualClock();
    const mine = make({ clock: clock.clock });
    const theirs = make({ clock: clock.clock, workerName: 'worker-2' });
    await mine.config.set('grace-period', 0);
    const job = await popped(mine);
    clock.advance(61);
    const stolen = await theirs.queue('q').pop();
    expect(stolen!.jid).toBe(job.jid);
    const error = await job.heartbeat().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(qless.LostLockError);
    expect((error as qless.LostLockError).jid).toBe(job.jid);
    expect((error as Error).message).toContain(job.jid);
    await expect(job.complete()).rejects.toBeInstanceOf(qless.LostLockError);
    await expect(job.fail('g', 'm')).rejects.toBeInstanceOf(qless.LostLockError);
    expect(job.settled).toBe(false);
  });

  it('raises LostLockError for a canceled or moved job too', async () => {
    const client = make();
    const job = await popped(client);
    const copy = await get(client, job.jid);
    await copy.requeue('elsewhere');
    await expect(job.heartbeat()).rejects.toBeInstanceOf(qless.LostLockError);
    await copy.cancel();
    await expect(job.heartbeat()).rejects.toBeInstanceOf(qless.LostLockError);
  });

  it('refuses data that became non-JSON, without calling the core', async () => {
    const client = make();
    const job = await popped(client);
    (job.data as Record<string, unknown>)['when'] = new Date();
    await expect(job.heartbeat()).rejects.toThrow(/data of job [0-9a-f]+\.when is a Date/);
    await expect(job.complete()).rejects.toBeInstanceOf(qless.InvalidArgumentError);
    expect((await get(client, job.jid)).state).toBe('running');
  });

  it('client.jobs.heartbeat does many in one trip', async () => {
    const client = make();
    for (let i = 0; i < 3; i++) await client.queue('q').put('a.B', {});
    const jobs = await client.queue('q').pop(3);
    await jobs[2]!.cancel();
    const outcomes = await client.jobs.heartbeat(jobs);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    const failed = outcomes[2]!;
    if (failed.ok) throw new Error('unreachable');
    expect(failed.error).toBeInstanceOf(qless.LostLockError);
  });
});

describe('complete', () => {
  it('completes, or advances to a next queue', async () => {
    const client = make();
    const job = await popped(client, 'underpants');
    job.data['collected'] = 12;
    expect(await job.complete('unknown')).toBe('waiting');
    expect(job.outcome).toBe('advanced');
    expect(job.settled).toBe(true);
    let stored = await get(client, job.jid);
    expect([stored.state, stored.queue, stored.data]).toEqual(['waiting', 'unknown', { collected: 12 }]);
    const again = (await client.queue('unknown').pop())!;
    expect(await again.complete()).toBe('complete');
    expect(again.outcome).toBe('completed');
    stored = await get(client, job.jid);
    expect([stored.state, stored.queue]).toEqual(['complete', '']);
    expect(await client.jobs.complete()).toEqual([job.jid]);
  });

  it('advances with a delay or with dependencies', async () => {
    const client = make();
    const other = await client.queue('other').put('a.B', {});
    const first = await popped(client);
    expect(await first.complete('next', { delay: 30 })).toBe('scheduled');
    expect(await client.queue('next').jobs.scheduled()).toEqual([first.jid]);
    const second = await popped(client);
    expect(await second.complete('next', { depends: [other] })).toBe('depends');
    expect((await get(client, second.jid)).dependencies).toEqual([other]);
  });

  it('refuses delay or depends without a next queue', async () => {
    const client = make();
    const job = await popped(client);
    await expect(job.complete(undefined, { delay: 3 })).rejects.toBeInstanceOf(qless.InvalidArgumentError);
  });
});

describe('fail, retry, cancel, timeout', () => {
  it('fail records the group and message', async () => {
    const clock = new ManualClock();
    const client = make({ clock: clock.clock });
    const job = await popped(client);
    expect(await job.fail('unknown-stage', 'What what?')).toBe(job.jid);
    expect(job.outcome).toBe('failed');
    const stored = await get(client, job.jid);
    expect(stored.state).toBe('failed');
    expect(stored.failure).toEqual({ group: 'unknown-stage', message: 'What what?', when: clock.time, worker: 'worker-1' });
    expect(await client.jobs.failed()).toEqual({ 'unknown-stage': 1 });
    const page = await client.jobs.failed('unknown-stage', 0, 25);
    expect(page.total).toBe(1);
    expect(page.jobs.map((j) => j.jid)).toEqual([job.jid]);
  });

  it('retry gives the job back until its retries run out', async () => {
    const client = make();
    const job = await popped(client, 'q', { retries: 1 });
    expect(await job.retry()).toBe(0);
    expect(job.outcome).toBe('retried');
    const again = (await client.queue('q').pop())!;
    expect(again.jid).toBe(job.jid);
    expect(await again.retry(0, 'gave-up', 'twice')).toBe(-1);
    const stored = await get(client, job.jid);
    expect(stored.state).toBe('failed');
    expect(stored.failure?.group).toBe('gave-up');
  });

  it('retry with a delay schedules the job', async () => {
    const client = make();
    const job = await popped(client);
    await job.retry(60);
    expect(await client.queue('q').jobs.scheduled()).toEqual([job.jid]);
  });

  it('retries 0 means the first retry fails the job', async () => {
    const client = make();
    const job = await popped(client, 'q', { retries: 0 });
    expect(await job.retry()).toBe(-1);
    expect((await get(client, job.jid)).state).toBe('failed');
  });

  it('cancel deletes the job', async () => {
    const client = make();
    const job = await popped(client);
    expect(await job.cancel()).toEqual([job.jid]);
    expect(job.outcome).toBe('canceled');
    expect(await client.jobs.get(job.jid)).toBeNull();
  });

  it('timeout takes the job away from its worker', async () => {
    const client = make();
    const job = await popped(client);
    await job.timeout();
    expect(job.outcome).toBe('timed-out');
    expect((await get(client, job.jid)).state).toBe('stalled');
    await expect(job.complete()).rejects.toBeInstanceOf(qless.LostLockError);
    expect((await client.queue('q').pop())!.jid).toBe(job.jid);
  });
});

describe('tracking, tags, dependencies, priority, requeue, log', () => {
  it('track and untrack', async () => {
    const client = make();
    const jid = await client.queue('q').put('a.B', {});
    const job = await get(client, jid);
    expect(await job.track()).toBe(true);
    expect(job.tracked).toBe(true);
    expect((await get(client, jid)).tracked).toBe(true);
    expect((await client.jobs.tracked()).jobs.map((j) => j.jid)).toEqual([jid]);
    expect(await job.untrack()).toBe(true);
    expect(job.tracked).toBe(false);
    expect(await client.jobs.tracked()).toEqual({ jobs: [], expired: [] });
  });

  it('tag and untag', async () => {
    const client = make();
    const job = await get(client, await client.queue('q').put('a.B', {}));
    expect(await job.tag('a', 'b')).toEqual(['a', 'b']);
    expect(await job.untag('a')).toEqual(['b']);
    expect(job.tags).toEqual(['b']);
    expect(await job.untag('b')).toEqual([]);
  });

  it('depend and undepend (some, then all)', async () => {
    const client = make();
    const queue = client.queue('q');
    const a = await queue.put('a.B', {});
    const b = await queue.put('a.B', {});
    const c = await queue.put('a.B', {});
    const job = await get(client, await queue.put('a.B', {}, { depends: [a] }));
    expect(job.state).toBe('depends');
    await job.depend(b, c);
    expect((await get(client, job.jid)).dependencies.sort()).toEqual([a, b, c].sort());
    await job.undepend(b);
    expect((await get(client, job.jid)).dependencies.sort()).toEqual([a, c].sort());
    await job.undepend({ all: true });
    const stored = await get(client, job.jid);
    expect(stored.dependencies).toEqual([]);
    expect(stored.state).toBe('waiting');
  });

  it('setPriority, including 0', async () => {
    const client = make();
    const job = await get(client, await client.queue('q').put('a.B', {}, { priority: 7 }));
    await job.setPriority(5);
    expect(job.priority).toBe(5);
    await job.setPriority(0);
    expect(job.priority).toBe(0);
    expect((await get(client, job.jid)).priority).toBe(0);
  });

  it('requeue moves the job keeping priority, tags and retries', async () => {
    const client = make();
    const job = await popped(client, 'q', { priority: 3, tags: ['t'], retries: 2 });
    job.data['moved'] = true;
    expect(await job.requeue('other-queue')).toBe(job.jid);
    expect(job.outcome).toBe('requeued');
    const stored = await get(client, job.jid);
    expect([stored.queue, stored.state, stored.priority, stored.tags, stored.retries, stored.data]).toEqual([
      'other-queue', 'waiting', 3, ['t'], 2, { moved: true },
    ]);
    await stored.requeue('third', { delay: 10, priority: 9 });
    const third = await get(client, job.jid);
    expect([third.queue, third.state, third.priority]).toEqual(['third', 'scheduled', 9]);
  });

  it('log adds a history entry; data must be an object', async () => {
    const client = make();
    const job = await get(client, await client.queue('q').put('a.B', {}));
    await job.log('msg', { k: 1 });
    await job.log('plain');
    const history = (await get(client, job.jid)).history;
    expect(history.slice(1).map((h) => [h.what, h['k']])).toEqual([['msg', 1], ['plain', undefined]]);
    await expect(job.log('bad', [1] as unknown as qless.JsonObject)).rejects.toBeInstanceOf(qless.InvalidArgumentError);
  });

  it('refresh re-reads the job', async () => {
    const client = make();
    const job = await get(client, await client.queue('q').put('a.B', {}));
    await (await get(client, job.jid)).setPriority(4);
    expect(job.priority).toBe(0);
    expect(await job.refresh()).toBe(true);
    expect(job.priority).toBe(4);
    await job.cancel();
    expect(await job.refresh()).toBe(false);
  });

  it('has a never-aborting signal and no sandbox by default, and prints as <klass jid>', async () => {
    const client = make();
    const job = await get(client, await client.queue('q').put('gnomes.GnomesJob', {}));
    expect(job.signal.aborted).toBe(false);
    expect(job.sandbox).toBeUndefined();
    expect(String(job)).toBe(`<gnomes.GnomesJob ${job.jid}>`);
    expect(JSON.parse(JSON.stringify(job)).jid).toBe(job.jid);
    expect(job.queueHandle().name).toBe('q');
  });

  it('sends data back exactly as stored until code holds it, and as the object once it has', async () => {
    const client = make();
    // Text another client wrote, spaced and with 1.0: the same data, other text than JSON.stringify's.
    const stored = '{ "n": 1.0, "list": [ ] }';
    await client.call('put', 'other', 'q', 'untouched', 'a.B', stored, 0);
    await client.call('put', 'other', 'q', 'held', 'a.B', stored, 0);
    await client.call('put', 'other', 'q', 'changed', 'a.B', stored, 0);
    const jobs = await client.queue('q').pop(3);
    const byJid = new Map(jobs.map((job) => [job.jid, job]));
    // Never read: not parsed, not encoded again.
    await byJid.get('untouched')!.complete();
    expect(await ctx.redis.hget('ql:j:untouched', 'data')).toBe(stored);
    // Read (code could have changed it in place): sent as the object.
    expect(byJid.get('held')!.data).toEqual({ n: 1, list: [] });
    await byJid.get('held')!.complete();
    expect(await ctx.redis.hget('ql:j:held', 'data')).toBe('{"n":1,"list":[]}');
    const changed = byJid.get('changed')!;
    (changed.data['list'] as number[]).push(2);
    await changed.complete();
    expect(await ctx.redis.hget('ql:j:changed', 'data')).toBe('{"n":1,"list":[2]}');
    // A snapshot hands out the object too.
    await client.call('put', 'other', 'q', 'snapshot', 'a.B', stored, 0);
    const snapshot = (await client.queue('q').pop())!;
    (snapshot.toJSON().data as { n: number }).n = 3;
    await snapshot.complete();
    expect(await ctx.redis.hget('ql:j:snapshot', 'data')).toBe('{"n":3,"list":[]}');
  });

  it('keeps data that another client stored as a non-object, and refuses loudly to read it as one', async () => {
    const client = make();
    await client.call('put', 'other', 'q', 'foreign', 'a.B', '[1,2]', 0);
    const job = (await client.queue('q').pop())!;
    // Not silently `{}`: reading it as an object names the job and what is there.
    expect(() => job.data).toThrow(qless.ForeignDataError);
    expect(() => job.data).toThrow('the data of job foreign is a JSON array, not a JSON object (another qless client stored it); read it from job.rawData');
    expect(job.rawData).toBe('[1,2]');
    expect(job.toJSON().data).toEqual([1, 2]);
    await job.heartbeat();
    await job.complete();
    expect(await ctx.redis.hget('ql:j:foreign', 'data')).toBe('[1,2]');

    // Code may replace it with an object, which is then saved as usual.
    await client.call('put', 'other', 'q', 'scalar', 'a.B', '7', 0);
    const scalar = (await client.queue('q').pop())!;
    expect(() => scalar.data).toThrow('the data of job scalar is a JSON number');
    expect(() => (scalar.data = [1] as unknown as qless.JsonObject)).toThrow(qless.InvalidArgumentError);
    scalar.data = { replaced: true };
    scalar.data['more'] = 1;
    await scalar.complete();
    expect(await ctx.redis.hget('ql:j:scalar', 'data')).toBe('{"replaced":true,"more":1}');

    // A recurring template the same way.
    await client.call('recur', 'q', 'tpl', 'a.B', '["x"]', 'interval', 60, 0);
    const template = (await client.jobs.get('tpl')) as qless.RecurringJob;
    expect(() => template.data).toThrow('the data of job tpl is a JSON array');
    expect(template.rawData).toBe('["x"]');
    expect(template.toJSON().data).toEqual(['x']);
  });
});
