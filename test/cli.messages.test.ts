/**
 * What people read when the core refuses (issue 12, item 12): every refusal
 * a `qless-ts` command or a dashboard action can provoke is provoked here
 * against the real core, and its plain sentence (src/messages.ts, shared by
 * the CLI and the dashboard) checked, while the library's error object keeps
 * the core's words. Then the same through the real binary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { isConnectionProblem, plainMessage, translateCoreMessage } from '../src/messages.js';
import { assertBuilt, bindCli } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);
const cli = bindCli(() => ctx.url);

beforeAll(assertBuilt);

async function refusal(act: () => Promise<unknown>): Promise<qless.ScriptError> {
  const error = await act().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(qless.ScriptError);
  return error as qless.ScriptError;
}

describe('the core refusals the CLI and the dashboard can provoke, in plain words', () => {
  it('translates each one, and the error objects keep the core text', async () => {
    const client = make({ workerName: 'w1' });
    const other = make({ workerName: 'w2' });
    const q = client.queue('q');
    await q.put('k.K', {}, { jid: 'eggs' });
    await q.put('k.K', {}, { jid: 'omelette', depends: ['eggs'] });
    await q.put('k.K', {}, { jid: 'waiting' });
    await client.queue('q2').put('k.K', {}, { jid: 'popped' });
    await client.queue('q2').pop();
    await q.recur('k.K', {}, { interval: 60, jid: 'tpl' });

    const cases: Array<[() => Promise<unknown>, string, string]> = [
      [
        () => client.jobs.cancel('eggs'),
        'Cancel(): eggs is a dependency of omelette but is not mentioned to be canceled',
        'job eggs cannot be canceled on its own: job omelette depends on it. Cancel both together (or the dependent job first)',
      ],
      [
        async () => ((await client.jobs.get('waiting')) as qless.Job).depend('eggs'),
        'Depends(): Job waiting not in the depends state: waiting',
        'job waiting is waiting in its queue, not waiting for other jobs, so there are no dependencies to change',
      ],
      [() => client.call('priority', 'gone', 5), 'Priority(): Job gone does not exist', 'there is no job gone (it was canceled, or completed long enough ago to be forgotten)'],
      [() => q.requeue('k.K', {}, { jid: 'gone' }), 'Requeue(): Job gone does not exist', 'there is no job gone (it was canceled, or completed long enough ago to be forgotten)'],
      [() => client.call('tag', 'add', 'gone', 'x'), 'Tag(): Job gone does not exist', 'there is no job gone (it was canceled, or completed long enough ago to be forgotten)'],
      [() => client.call('fail', 'gone', 'w1', 'g', 'm', '{}'), 'Fail(): Job gonedoes not exist', 'there is no job gone (it was canceled, or completed long enough ago to be forgotten)'],
      [() => client.track('gone'), 'Track(): Job does not exist', 'there is no such job to track (it was canceled, or completed long enough ago to be forgotten)'],
      [() => client.call('recur.update', 'gone', 'priority', 1), 'Recur(): No recurring job gone', 'there is no recurring job gone (it was canceled, or never existed)'],
      [() => client.call('recur.update', 'tpl', 'colour', 'red'), 'Recur(): Unrecognized option "colour"', 'a recurring job has no field "colour" to update'],
      [
        async () => ((await client.jobs.get('waiting')) as qless.Job).complete(),
        'Complete(): Job waiting is not currently running: waiting',
        'job waiting is waiting in its queue, and only a running job can do that',
      ],
      [() => client.call('timeout', 'waiting'), 'Timeout(): Job waiting not running', 'job waiting is not running, and only a running job can do that'],
      [
        () => other.call('complete', 'popped', 'w2', 'q2', '{}'),
        'Complete(): Job popped has been handed out to another worker: w1',
        'job popped is held by another worker now (w1)',
      ],
      [() => client.call('complete', 'popped', 'w1', 'q', '{}'), 'Complete(): Job popped running in another queue: q2', 'job popped has moved to queue q2'],
      // Refusals the core added for other clients' arguments (issue 12, item 8).
      [
        () => client.call('put', 'w1', 'q', 'eggs', 'k.K', '{}', 0, 'depends', '["omelette"]'),
        'Put(): Job eggs may not depend on omelette, which waits for it',
        'job eggs cannot wait for job omelette: omelette already waits for eggs (directly or through other jobs), so neither could ever run',
      ],
      [() => client.call('put', 'w1', 'q', 'self', 'k.K', '{}', 0, 'depends', '["self"]'), 'Put(): Job self may not depend on itself', 'that dependency would make jobs wait for each other in a circle, so none of them could ever run'],
      [() => client.call('put', 'w1', 'q', 'r', 'k.K', '{}', 0, 'retries', '1.5'), 'Put(): Arg "retries" must be a non-negative integer: 1.5', 'retries must be a whole number of at least 0, got 1.5'],
      [() => client.call('jobs', 'running', 'q', '0.5', '10'), 'Jobs(): Arg "offset" value is not an integer or out of range: 0.5', 'offset must be a whole number, got 0.5'],
    ];
    for (const [act, core, plain] of cases) {
      const error = await refusal(act);
      expect(error.scriptMessage).toBe(core);
      expect(error.message).toContain(core);
      expect(plainMessage(error)).toBe(plain);
    }
  });

  it('translates the refusals of bad stored data and raw arguments the core gives', () => {
    expect(translateCoreMessage('Put(): Arg "priority" not a number: nan')).toBe('priority must be a number, got nan');
    expect(translateCoreMessage('Priority(): Arg "priority" missing or not a number: abc')).toBe('priority must be a number, got abc');
    expect(translateCoreMessage('attempt to perform arithmetic on a string value (local \'heartbeat\')')).toContain('a numeric setting of the core holds something that is not a number');
    expect(translateCoreMessage('WRONGTYPE Operation against a key holding the wrong kind of value')).toContain('a jid ending in -history, -dependents or -dependencies');
    expect(translateCoreMessage('something new')).toBeUndefined();
  });

  it('says what Redis\'s own refusals mean, and what to do', async () => {
    const refusals: Array<[string, string]> = [
      ['OOM command not allowed when used memory > \'maxmemory\'.', 'Redis is out of memory'],
      ['LOADING Redis is loading the dataset in memory', 'still loading its data after a restart'],
      ['BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.', 'busy running a long script or function'],
      ['READONLY You can\'t write against a read only replica.', 'read-only replica: point qless-ts at the primary'],
      ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.', 'lost its primary'],
      ['MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk.', 'cannot save its data to disk'],
      ['NOREPLICAS Not enough good replicas to write.', 'min-replicas-to-write'],
      ['CLUSTERDOWN The cluster is down', 'the Redis Cluster is down'],
      ['MOVED 9749 127.0.0.1:7001', 'the Redis Cluster was moving the keys of this call'],
      ['TRYAGAIN Multiple keys request during rehashing of slot', 'the Redis Cluster was moving the keys of this call'],
    ];
    for (const [reply, plain] of refusals) expect(translateCoreMessage(reply), reply).toContain(plain);

    // One of them for real: a Redis at its maxmemory refuses the put.
    const client = make();
    await client.queue('q').length();
    await ctx.redis.config('SET', 'maxmemory', '1');
    try {
      const error = await refusal(() => client.queue('q').put('k.K', {}));
      expect(error.scriptMessage).toMatch(/^OOM /);
      expect(plainMessage(error)).toBe('Redis is out of memory (it has reached its maxmemory setting) and refuses writes: free some memory or raise maxmemory, then try again');
      const put = await cli('put', 'q', 'k.K');
      expect(put.code).toBe(1);
      expect(put.stderr).toBe('error: Redis is out of memory (it has reached its maxmemory setting) and refuses writes: free some memory or raise maxmemory, then try again\n');
    } finally {
      await ctx.redis.config('SET', 'maxmemory', '0');
    }
  });

  it('says Redis is not answering instead of what ioredis says', async () => {
    const silent = qless.client('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
    const error = await silent.queue('q').length().then(
      () => undefined,
      (e: unknown) => e,
    );
    await silent.close();
    expect(isConnectionProblem(error)).toBe(true);
    expect(plainMessage(error, '127.0.0.1:1')).toBe('Redis at 127.0.0.1:1 is not answering');
    const retries = new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.');
    retries.name = 'MaxRetriesPerRequestError';
    expect(plainMessage(retries, 'db.internal:6379')).toBe('Redis at db.internal:6379 is not answering');
  });
});

describe('qless-ts prints them', () => {
  it('cancel, retry and depends refusals read as sentences, exit 1', async () => {
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'eggs' });
    await client.queue('q').put('k.K', {}, { jid: 'omelette', depends: ['eggs'] });
    const cancel = await cli('cancel', 'eggs');
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toBe('error: job eggs cannot be canceled on its own: job omelette depends on it. Cancel both together (or the dependent job first)\n');
    const retry = await cli('retry', 'omelette');
    expect(retry.code).toBe(1);
    expect(retry.stderr).toBe('error: job omelette is waiting for other jobs to complete, not failed; only failed jobs are retried (use "qless-ts move" to requeue any job)\n');
    const depends = await cli('depends', 'eggs', '--off', 'pan');
    expect(depends.code).toBe(1);
    expect(depends.stderr).toBe('error: job eggs is waiting in its queue, not waiting for other jobs, so there are no dependencies to change\n');
    for (const result of [cancel, retry, depends]) expect(result.stderr).not.toMatch(/\w+\(\):/);
  });
});
