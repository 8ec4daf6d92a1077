import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';
import * as qless from '../src/index.js';

const ctx = useRedis();
const make = useClients(ctx);

async function scriptCalls(): Promise<{ fcall: number; evalsha: number }> {
  const info = await ctx.redis.info('commandstats');
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { fcall: calls('fcall'), evalsha: calls('evalsha') };
}

describe('how core calls go out', () => {
  it('uses the function library by default and reloads it after FUNCTION FLUSH', async () => {
    const c = make();
    await c.queue('q').put('a.B', {});
    expect(c.gateway.via).toBe('function');
    await ctx.redis.function('FLUSH');
    expect(await c.queue('q').length()).toBe(1);
    await ctx.redis.function('FLUSH');
    const [job] = await c.queue('q').pop(1);
    expect(job!.state).toBe('running');
  });

  it('calls the EVALSHA script when asked to, and reloads it after SCRIPT FLUSH', async () => {
    const c = make({ core: 'script' });
    await ctx.redis.config('RESETSTAT');
    await c.queue('q').put('a.B', {}, { jid: 'j' });
    await ctx.redis.script('FLUSH');
    const job = await c.queue('q').pop();
    expect(job!.jid).toBe('j');
    expect(c.gateway.via).toBe('script');
    expect((await scriptCalls()).fcall).toBe(0);
    expect(await ctx.redis.function('LIST')).toEqual([]);
  });

  it('falls back to EVALSHA when the server will not run functions for this user', async () => {
    await ctx.redis.acl('SETUSER', 'nofunctions', 'on', 'nopass', '~*', '&*', '+@all', '-fcall', '-function');
    try {
      const auto = make({ username: 'nofunctions', password: 'x' });
      expect(await auto.queue('q').put('a.B', {}, { jid: 'j' })).toBe('j');
      expect(auto.gateway.via).toBe('script');
      const [first, second] = await Promise.all([auto.queue('q').length(), auto.queue('q').pop()]);
      expect(first).toBe(1);
      expect(second!.jid).toBe('j');
      const strict = make({ username: 'nofunctions', password: 'x', core: 'function' });
      await expect(strict.queue('q').length()).rejects.toThrow(/NOPERM/);
    } finally {
      await ctx.redis.acl('DELUSER', 'nofunctions');
    }
  });
});

describe('calls made together', () => {
  it('go out as one batch after the first, keeping first-in first-out order', async () => {
    const c = make();
    await c.config.get('heartbeat');
    await ctx.redis.config('RESETSTAT');
    const jids = await Promise.all(Array.from({ length: 20 }, (_, i) => c.queue('q').put('a.B', { i })));
    expect((await scriptCalls()).fcall).toBe(2);
    const popped = await c.queue('q').pop(20);
    expect(popped.map((job) => job.jid)).toEqual(jids);
  });

  it('keep their order while the core is first loaded', async () => {
    const c = make();
    await Promise.all([
      c.queue('q').put('a.B', {}, { jid: 'first' }),
      c.queue('q').put('a.B', {}, { jid: 'second', depends: ['first'] }),
    ]);
    expect(((await c.jobs.get('second')) as qless.Job).dependencies).toEqual(['first']);
  });

  it('fail one by one', async () => {
    const c = make();
    const results = await Promise.allSettled([
      c.queue('q').put('a.B', {}, { jid: 'one' }),
      c.call('nope'),
      c.queue('q').put('a.B', {}, { jid: 'two' }),
      c.call('complete', 'one', 'w', 'q', '{}'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    const nope = (results[1] as PromiseRejectedResult).reason as qless.ScriptError;
    expect(nope).toBeInstanceOf(qless.ScriptError);
    expect(nope.scriptMessage).toBe('Unknown command nope');
    expect(((results[3] as PromiseRejectedResult).reason as qless.ScriptError).scriptMessage).toBe('Complete(): Job one is not currently running: waiting');
  });
});

describe('completing many jobs', () => {
  it('completeMany reports each job and updates it as complete() would', async () => {
    const clock = new ManualClock();
    const c = make({ clock: clock.clock });
    const other = make({ clock: clock.clock, workerName: 'other' });
    for (const jid of ['a', 'b', 'c']) {
      await c.queue('q').put('a.B', {}, { jid });
      clock.advance(1);
    }
    const jobs = await c.queue('q').pop(3);
    expect(jobs.map((job) => job.jid)).toEqual(['a', 'b', 'c']);
    // `c` loses its lock on b: another worker takes it after a timeout.
    await jobs[1]!.timeout();
    const [taken] = await other.queue('q').pop(1);
    expect(taken!.jid).toBe('b');
    jobs[0]!.data['answer'] = 42;
    clock.advance(5);
    const outcomes = await c.jobs.completeMany(jobs);
    expect(outcomes.map((o) => (o.ok ? o.result : o.error.constructor.name))).toEqual(['complete', 'LostLockError', 'complete']);
    expect(jobs[0]!.state).toBe('complete');
    expect(jobs[0]!.outcome).toBe('completed');
    expect(((await c.jobs.get('a')) as qless.Job).data).toEqual({ answer: 42 });
    const lost = outcomes[1]!;
    expect(lost.ok ? undefined : (lost.error as qless.LostLockError).jid).toBe('b');
    expect(await c.jobs.completeMany([])).toEqual([]);
  });

  it('completeAndPop completes and pops the next jobs in one round trip', async () => {
    const c = make();
    for (let i = 0; i < 5; i++) await c.queue('q').put('a.B', { i }, { jid: `j${i}` });
    let jobs = await c.queue('q').pop(2);
    const seen: string[] = [];
    while (jobs.length > 0) {
      seen.push(...jobs.map((job) => job.jid));
      await ctx.redis.config('RESETSTAT');
      const next = await c.queue('q').completeAndPop(jobs, 2);
      expect(next.completed.every((o) => o.ok)).toBe(true);
      expect((await scriptCalls()).fcall).toBe(1);
      jobs = next.jobs;
    }
    expect(seen).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    expect(await c.jobs.complete()).toHaveLength(5);
    const { jobs: none } = await c.queue('q').completeAndPop([]);
    expect(none).toEqual([]);
    await expect(c.queue('q').completeAndPop([], 1.5)).rejects.toThrow(qless.InvalidArgumentError);
  });
});
