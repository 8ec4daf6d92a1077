/**
 * Dispatch: from klass to method, for every kind of job module, and what the
 * worker does with the outcome (complete, fail with a clear group, carry on).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, ROOT, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

async function settled(client: qless.Client, jids: string[], ms = 30_000): Promise<Map<string, qless.Job>> {
  let jobs: qless.Job[] = [];
  await until(async () => {
    jobs = await client.jobs.multiget(jids);
    return jobs.length === jids.length && jobs.every((job) => job.state === 'complete' || job.state === 'failed');
  }, ms, `jobs to settle: ${jobs.filter((j) => j.state !== 'complete' && j.state !== 'failed').map((j) => `${j.klass}:${j.state}`).join(', ')}`);
  return new Map(jobs.map((job) => [job.jid, job]));
}

describe('qless-ts-worker dispatch', { timeout: 60_000 }, () => {
  it('runs .ts, .mts, .cts, .js, .mjs and .cjs modules, ESM and CommonJS, by the klass rule', async () => {
    const client = qless.client(ctx.url);
    const queue = client.queue('alpha');
    const cases: Record<string, string> = {
      'basic.Echo': 'basic.ts',
      'esm.default': 'esm.mjs',
      'esm.Named': 'esm.mjs named',
      'common.Common': 'common.cjs',
      'plain.Plain': 'plain.js',
      'typed.Typed': 'typed.mts',
      'typed_cts.Typed': 'typed_cts.cts',
      'legacy.old.Old': 'legacy/old.js',
      'legacy.modern.Modern': 'legacy/modern.ts',
      'legacy.defaulted.default': 'legacy/defaulted.ts default',
      'legacy.defaulted.Helper': 'legacy/defaulted.ts Helper',
      'legacy.whole.default': 'legacy/whole.js',
      'legacy.built.Built': 'legacy/built.js Built',
      'pkg.sub.mod.Job_': 'PKG/SUB/MOD.TS',
    };
    const jids = new Map<string, string>();
    for (const klass of Object.keys(cases)) jids.set(klass, await queue.put(klass, {}));
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'alpha', '-w', '1', '-c', '3', '-i', '0.2', '-n', 'dispatch', '--import', join(ROOT, 'test/fixtures/preload/mark.mjs')]);
    const jobs = await settled(client, [...jids.values()]);
    for (const [klass, ran] of Object.entries(cases)) {
      const job = jobs.get(jids.get(klass)!)!;
      expect({ klass, state: job.state, failure: job.failure?.message }).toEqual({ klass, state: 'complete', failure: undefined });
      expect(job.data['ran']).toBe(ran);
    }
    const echo = jobs.get(jids.get('basic.Echo')!)!;
    const [childPid] = await worker.started(1);
    expect(echo.data['worker']).toBe(`dispatch-${childPid}`);
    expect(echo.data['preloaded']).toBe('child 0');
    expect(echo.history.map((h) => h.what)).toEqual(['put', 'popped', 'done']);
    await client.close();
  });

  it('fails jobs whose code is missing or throws, with clear groups, and carries on', async () => {
    const client = qless.client(ctx.url);
    const put = (queue: string, klass: string, data: Record<string, string> = {}) => client.queue(queue).put(klass, data);
    const j = {
      perQueue: await put('alpha', 'basic.PerQueue'),
      fallback: await put('beta', 'basic.PerQueue'),
      typeError: await put('alpha', 'basic.Thrower'),
      custom: await put('alpha', 'basic.Thrower', { kind: 'custom' }),
      bare: await put('alpha', 'basic.Thrower', { kind: 'string' }),
      selfRetry: await put('alpha', 'basic.SelfRetry'),
      instance: await put('alpha', 'basic.Instance'),
      notFunction: await put('alpha', 'basic.NotAFunction'),
      noMethod: await put('alpha', 'basic.NoMethod'),
      builtin: await put('call', 'basic.Plain'),
      notClass: await put('alpha', 'basic.notAClass'),
      noExport: await put('alpha', 'basic.Missing'),
      noCommonExport: await put('alpha', 'legacy.defaulted.Missing'),
      noBuiltExport: await put('alpha', 'legacy.built.Missing'),
      noModule: await put('alpha', 'nothere.Job'),
      noDot: await put('alpha', 'NoDot'),
      broken: await put('alpha', 'broken.Job'),
      after: await put('alpha', 'basic.Echo'),
    };
    workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'alpha', '-q', 'beta', '-q', 'call', '-w', '1', '-i', '0.2']);
    const jobs = await settled(client, Object.values(j));
    const get = (jid: string) => jobs.get(jid)!;
    const failure = (jid: string) => [get(jid).failure?.group, get(jid).failure?.message ?? ''] as const;

    expect(get(j.perQueue).state).toBe('complete');
    expect(get(j.perQueue).data['method']).toBe('alpha');
    expect(get(j.fallback).data['method']).toBe('process');

    const [typeGroup, typeMessage] = failure(j.typeError);
    expect(typeGroup).toBe('alpha-TypeError');
    expect(typeMessage).toMatch(/^TypeError: bad gnome\n\s+at /);
    expect(typeMessage).toContain('basic.ts');
    const [customGroup, customMessage] = failure(j.custom);
    expect(customGroup).toBe('alpha-GnomeError');
    expect(customMessage).toContain('Caused by: RangeError: too many underpants');
    expect(failure(j.bare)).toEqual(['alpha-Error', 'a bare string']);

    expect(failure(j.selfRetry)).toEqual(['self-failed', 'the job failed itself']);
    expect(get(j.selfRetry).history.filter((h) => h.what === 'popped')).toHaveLength(2);

    expect(failure(j.instance)[0]).toBe('alpha-method-type');
    expect(failure(j.instance)[1]).toContain('static process(job)');
    expect(failure(j.notFunction)).toEqual(['alpha-method-type', 'basic.NotAFunction.alpha is a number, not a function']);
    expect(failure(j.noMethod)).toEqual(['alpha-method-missing', 'basic.NoMethod is missing a method "alpha" or "process"']);
    expect(failure(j.builtin)).toEqual(['call-method-missing', 'basic.Plain is missing a method "call" or "process"']);
    expect(failure(j.notClass)[0]).toBe('alpha-method-missing');

    expect(failure(j.noExport)[0]).toBe('alpha-import-error');
    expect(failure(j.noExport)[1]).toMatch(/^Failed to import basic\.Missing: .*basic\.ts has no export "Missing" \(it exports: .*Echo/);
    // CommonJS modules list their real exports, not just "default".
    expect(failure(j.noCommonExport)[1]).toMatch(/legacy\/defaulted\.ts has no export "Missing" \(it exports: Helper, default\)$/);
    expect(failure(j.noBuiltExport)[1]).toMatch(/legacy\/built\.js has no export "Missing" \(it exports: Built, default\)$/);
    expect(failure(j.noModule)[0]).toBe('alpha-import-error');
    expect(failure(j.noModule)[1]).toContain(`Failed to import nothere.Job: no module file for it under --path ${FIXTURES}`);
    expect(failure(j.noModule)[1]).toContain(join(FIXTURES, 'nothere.ts'));
    expect(failure(j.noDot)[0]).toBe('alpha-import-error');
    expect(failure(j.noDot)[1]).toContain('names no module');
    expect(failure(j.broken)[0]).toBe('alpha-import-error');
    expect(failure(j.broken)[1]).toContain('Error: this module is broken');

    expect(get(j.after).state).toBe('complete');
    await client.close();
  });
});
