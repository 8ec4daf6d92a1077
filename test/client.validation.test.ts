/**
 * What the client refuses before anything reaches Redis (issue 12): config
 * values that would stop every pop, option names that are likely typos
 * (stored, with a warning), jids that collide with another job's keys, the
 * empty queue name, and data nested too deeply for other clients to read.
 * Each refusal is shown to write nothing, with a snapshot of the database.
 */
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { MAX_DEPTH } from '../src/json.js';
import { useClients } from './support/client.js';
import { snapshot, writeJob } from './support/raw.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);

/** Expect `act` to be refused with `message` and to leave the database exactly as it was. */
async function refusedUntouched(act: () => Promise<unknown>, message: string | RegExp): Promise<void> {
  const before = await snapshot(ctx.redis);
  const error = await act().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(qless.InvalidArgumentError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
  expect(await snapshot(ctx.redis)).toEqual(before);
}

function nested(depth: number): qless.JsonObject {
  let value: qless.JsonObject = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe('config values', () => {
  it('refuses a value that is not a finite number for every numeric option the core reads, naming the option and the form', async () => {
    const client = make();
    await client.queue('underpants').put('gnomes.GnomesJob', {});
    const options = [...Object.keys(qless.NUMERIC_OPTIONS), 'underpants-heartbeat', 'underpants-max-concurrency',
      'underpants-max-pop-retry', 'underpants-rate-limit', 'underpants-rate-window'];
    expect(options).toEqual([
      'heartbeat', 'grace-period', 'jobs-history', 'jobs-history-count', 'max-job-history', 'max-worker-age', 'stats-history', 'histogram-history',
      'max-pop-retry', 'underpants-heartbeat', 'underpants-max-concurrency', 'underpants-max-pop-retry', 'underpants-rate-limit',
      'underpants-rate-window',
    ]);
    for (const option of options) {
      for (const bad of ['60s', 'two', '', 'nan', 'Infinity', '0x10', ' 7', '1,5']) {
        await refusedUntouched(() => client.config.set(option, bad), new RegExp(`^${option} must be a number of [a-z ]+, such as \\d+( \\(0 for no limit\\))?; got `));
      }
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) await refusedUntouched(() => client.config.set(option, bad), /must be a number of/);
    }
    await refusedUntouched(() => client.config.set('heartbeat', '60s'), 'heartbeat must be a number of seconds, such as 60; got 60s');
    await refusedUntouched(() => client.config.set('underpants-max-concurrency', 'two'), 'underpants-max-concurrency must be a number of jobs, such as 4 (0 for no limit); got two');
    await refusedUntouched(() => client.config.set('jobs-history-count', ''), 'jobs-history-count must be a number of jobs, such as 50000; got an empty value');
    // Nothing bad was stored, so pops keep working.
    expect((await client.queue('underpants').pop())?.klass).toBe('gnomes.GnomesJob');
  });

  it('accepts numbers and numeric text for numeric options, and anything for others', async () => {
    const client = make();
    expect(await client.config.set('heartbeat', 120)).toEqual({ value: '120', warning: undefined });
    expect(await client.config.set('underpants-heartbeat', '2.5')).toEqual({ value: '2.5', warning: undefined });
    expect(await client.config.set('underpants-max-concurrency', '-1')).toEqual({ value: '-1', warning: undefined });
    expect(await client.config.set('grace-period', '1e3')).toEqual({ value: '1e3', warning: undefined });
    expect(await client.config.set('application', 'gnome works')).toEqual({ value: 'gnome works', warning: undefined });
    expect(await client.config.all()).toMatchObject({ heartbeat: 120, 'underpants-heartbeat': 2.5, 'underpants-max-concurrency': -1, 'grace-period': 1000, application: 'gnome works' });
    await client.queue('underpants').setHeartbeat(30);
    expect(await client.queue('underpants').getHeartbeat()).toBe(30);
  });

  it('stores an option the core does not read, with a warning that suggests the likely one', async () => {
    const client = make();
    const typo = await client.config.set('hearbeat', 30);
    expect(typo.warning).toBe('hearbeat is not an option the core reads. Did you mean heartbeat? It was stored anyway, since other qless clients may keep options of their own.');
    expect(await client.config.get('hearbeat')).toBe(30);
    expect((await client.config.set('emails-heartbeet', 5)).warning).toContain('Did you mean emails-heartbeat?');
    expect((await client.config.set('max_job_history', 5)).warning).toContain('Did you mean max-job-history?');
    expect((await client.config.set('jobs-histroy', 5)).warning).toContain('Did you mean jobs-history?');
    // Far from every known name: no guess, but still stored (another client's own option).
    const own = await client.config.set('dashboard-theme', 'dark');
    expect(own.warning).toBe('dashboard-theme is not an option the core reads. It was stored anyway, since other qless clients may keep options of their own.');
    expect(await client.config.get('dashboard-theme')).toBe('dark');
    expect(qless.configWarning('heartbeat')).toBeUndefined();
    expect(qless.configWarning('anything-max-concurrency')).toBeUndefined();
  });
});

describe('reserved jids', () => {
  const refusal = (jid: string, suffix: string): string => `jid ${jid} ends in "${suffix}", an ending qless keeps for its own keys (ql:j:<jid>${suffix}); choose another jid`;

  it('refuses jids ending in -history, -dependents or -dependencies in put, recur and requeue, writing nothing', async () => {
    const client = make();
    const queue = client.queue('reports');
    await queue.put('r.Report', {}, { jid: 'report' });
    for (const suffix of ['-history', '-dependents', '-dependencies']) {
      const jid = `report${suffix}`;
      await refusedUntouched(() => queue.put('r.Report', {}, { jid }), refusal(jid, suffix));
      await refusedUntouched(() => queue.recur('r.Report', {}, { interval: 60, jid }), refusal(jid, suffix));
      await refusedUntouched(() => queue.requeue('r.Report', {}, { jid }), refusal(jid, suffix));
    }
    // The collision the issue reproduced now cannot start.
    await queue.put('r.Summary', {}, { jid: 'summary', depends: ['report'] });
    expect((await client.jobs.get('summary'))?.state).toBe('depends');
    // A jid merely containing the word is fine.
    expect(await queue.put('r.Report', {}, { jid: 'history-of-reports' })).toBe('history-of-reports');
  });

  it('refuses to move a job that already has such a jid (written by another client)', async () => {
    const client = make();
    // The core refuses such a jid now, so it is written as an older core left it.
    await writeJob(ctx.redis, 'old-history', { klass: 'k.K' });
    const job = (await client.jobs.get('old-history')) as qless.Job;
    await refusedUntouched(() => job.requeue('elsewhere'), refusal('old-history', '-history'));
  });
});

describe('queue names', () => {
  it('refuses the empty queue name wherever a queue name enters, writing nothing', async () => {
    const client = make();
    expect(() => client.queue('')).toThrow(new qless.InvalidArgumentError('queue name must be a non-empty string, got an empty string'));
    await client.queue('q').put('k.K', {}, { jid: 'j' });
    const job = (await client.queue('q').pop())!;
    await refusedUntouched(() => job.requeue(''), 'queue must be a non-empty string, got an empty string');
    await refusedUntouched(() => job.complete(''), 'next queue must be a non-empty string, got an empty string');
    await refusedUntouched(() => client.unfail('group', ''), 'queue must be a non-empty string, got an empty string');
    expect((await client.queue('q').counts()).running).toBe(1);
    expect((await client.queues.counts()).map((q) => q.name)).toEqual(['q']);
  });
});

describe('data', () => {
  it('refuses data nested too deeply with an InvalidArgumentError instead of a RangeError, writing nothing', async () => {
    const client = make();
    const queue = client.queue('q');
    await refusedUntouched(() => queue.put('k.K', nested(20_000)), /^data\.a\.a\.a.*… is nested more than 1000 levels deep; qless data must be nested less deeply, so that every qless client can read it$/);
    await refusedUntouched(() => queue.put('k.K', { list: [[[[nested(MAX_DEPTH)]]]] }), /is nested more than 1000 levels deep/);
    await refusedUntouched(() => queue.recur('k.K', nested(5000), { interval: 60 }), /is nested more than 1000 levels deep/);
    // The deepest data allowed goes in and comes back out whole.
    const jid = await queue.put('k.K', nested(MAX_DEPTH));
    const job = (await client.jobs.get(jid)) as qless.Job;
    expect(job.data).toEqual(nested(MAX_DEPTH));
    job.data = nested(MAX_DEPTH + 1);
    await expect(job.log('deep', nested(2000))).rejects.toThrow(qless.InvalidArgumentError);
    await expect(job.requeue('q')).rejects.toThrow(/is nested more than 1000 levels deep/);
  });
});

describe('errors about a job name it', () => {
  it('track and untrack of a missing job raise JobNotFoundError carrying its jid', async () => {
    const client = make();
    for (const act of [() => client.track('nosuch'), () => client.untrack('nosuch')]) {
      const error = await act().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(qless.JobNotFoundError);
      expect((error as qless.JobNotFoundError).jid).toBe('nosuch');
    }
  });
});
