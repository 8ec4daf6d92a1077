/**
 * The hooks registry (src/hooks.ts) on its own: middleware order and
 * outcome, listener isolation, removal, and one registry per process even
 * when qless-ts is loaded twice. The worker's use of it is tested against
 * the real daemon in worker.observability.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Hooks, hooks, InvalidArgumentError, JOB_EVENTS, type JobInfo } from '../src/index.js';

const job: JobInfo = { jid: 'j1', klass: 'K', queue: 'q', worker: 'w', attempt: 1, retries: 5, remaining: 5 };

describe('hooks', () => {
  afterEach(() => hooks.clear());

  it('runs middleware outermost first around the code, and passes on what the code throws', async () => {
    const order: string[] = [];
    const h = new Hooks();
    h.around(async (_job, next) => {
      order.push('outer before');
      await next();
      order.push('outer after');
    });
    h.around(async (_job, next) => {
      order.push('inner before');
      await next();
      order.push('inner after');
    });
    await h.run(job, async () => {
      order.push('code');
    });
    expect(order).toEqual(['outer before', 'inner before', 'code', 'inner after', 'outer after']);
    await expect(h.run(job, () => Promise.reject(new Error('job threw')))).rejects.toThrow('job threw');
  });

  it('lets middleware decide the outcome: swallow an error, or refuse to run the code', async () => {
    const h = new Hooks();
    const remove = h.around(async (_job, next) => {
      try {
        await next();
      } catch {
        // reported elsewhere; the job completes
      }
    });
    await expect(h.run(job, () => Promise.reject(new Error('swallowed')))).resolves.toBeUndefined();
    remove();
    let ran = false;
    h.around(async () => {
      throw new Error('not today');
    });
    await expect(h.run(job, async () => {
      ran = true;
    })).rejects.toThrow('not today');
    expect(ran).toBe(false);
    h.clear();
    h.around(async (_job, next) => {
      await next();
      await next();
    });
    await expect(h.run(job, async () => undefined)).rejects.toThrow('called next() twice');
  });

  it('calls every listener even when one throws or rejects, and tells onError', async () => {
    const h = new Hooks();
    const heard: string[] = [];
    const errors: string[] = [];
    h.on('job:fail', () => {
      throw new Error('listener 1');
    });
    h.on('job:fail', async () => {
      throw new Error('listener 2');
    });
    const off = h.on('job:fail', ({ group, error, attempt }) => {
      heard.push(`${group} ${error.message} ${attempt}`);
    });
    h.emit('job:fail', { job, queue: 'q', attempt: 1, durationMs: 3, group: 'q-Error', error: new Error('boom') }, (error, event) => errors.push(`${event}: ${(error as Error).message}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(['q-Error boom 1']);
    expect(errors.sort()).toEqual(['job:fail: listener 1', 'job:fail: listener 2']);
    expect(h.listening('job:fail')).toBe(true);
    expect(h.listening('job:start')).toBe(false);
    off();
    h.emit('job:fail', { job, queue: 'q', attempt: 2, durationMs: 3, group: 'q-Error', error: new Error('again') }, () => undefined);
    expect(heard).toHaveLength(1);
  });

  it('refuses unknown events and non-functions', () => {
    expect(() => hooks.on('job:exploded' as never, () => undefined)).toThrow(/unknown event "job:exploded" \(known: job:start/);
    expect(() => hooks.on('job:start', 'nope' as never)).toThrow(InvalidArgumentError);
    expect(() => hooks.around(42 as never)).toThrow(/needs a function/);
    expect(JOB_EVENTS).toHaveLength(7);
  });

  it('is one registry per process, shared by every copy of qless-ts', async () => {
    // The built package, as a job module resolving its own copy would load it.
    const path = '../dist/index.js';
    const built = (await import(path)) as { hooks: unknown };
    expect(built.hooks).toBe(hooks);
  });
});
