import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { ManualClock, useClients } from './support/client.js';

const ctx = useRedis();
const make = useClients(ctx);

describe('qless.client()', () => {
  it('connects by URL, by options, or by URL plus options', async () => {
    const port = Number(new URL(ctx.url).port);
    const byUrl = make();
    const byOptions = qless.client({ host: '127.0.0.1', port, workerName: 'opts' });
    const both = qless.client(ctx.url, { workerName: 'both' });
    try {
      for (const c of [byUrl, byOptions, both]) {
        expect(await c.config.get('application')).toBe('qless');
      }
      expect(byOptions.workerName).toBe('opts');
    } finally {
      await byOptions.close();
      await both.close();
    }
  });

  it('honours the password and database of a URL', async () => {
    await ctx.redis.config('SET', 'requirepass', 'secret');
    try {
      const port = new URL(ctx.url).port;
      const c = qless.client(`redis://:secret@127.0.0.1:${port}/2`);
      try {
        await c.queue('q').put('a.B', {}, { jid: 'in-db-2' });
        const db2 = await c.redis.exists('ql:j:in-db-2');
        expect(db2).toBe(1);
        expect(c.redis.options.db).toBe(2);
      } finally {
        await c.close();
      }
    } finally {
      const admin = qless.client(`redis://:secret@127.0.0.1:${new URL(ctx.url).port}`);
      await admin.redis.config('SET', 'requirepass', '');
      await admin.redis.select(2);
      await admin.redis.flushdb();
      await admin.close();
    }
  });

  it('reads rediss:// URLs as TLS connections', async () => {
    const c = qless.client('rediss://:pw@example.invalid:6390/3', { lazyConnect: true, tls: { rejectUnauthorized: false } });
    expect(c.redis.options.tls).toBeDefined();
    expect([c.redis.options.host, c.redis.options.port, c.redis.options.password, c.redis.options.db]).toEqual(['example.invalid', 6390, 'pw', 3]);
    await c.close();
  });

  it('defaults the worker name to <hostname>-<pid>, and lets it be set', () => {
    const c = qless.client(ctx.url, { lazyConnect: true });
    expect(c.workerName).toBe(`${hostname()}-${process.pid}`);
    expect(qless.defaultWorkerName()).toBe(c.workerName);
    c.workerName = 'custom';
    expect(c.workerName).toBe('custom');
    expect(() => { c.workerName = ''; }).toThrow(qless.InvalidArgumentError);
    void c.close();
  });

  it('uses $QLESS_REDIS_URL when given nothing', async () => {
    const saved = process.env['QLESS_REDIS_URL'];
    process.env['QLESS_REDIS_URL'] = ctx.url;
    try {
      const c = qless.client();
      expect(await c.config.get('heartbeat')).toBe(60);
      await c.close();
    } finally {
      if (saved === undefined) delete process.env['QLESS_REDIS_URL'];
      else process.env['QLESS_REDIS_URL'] = saved;
    }
  });

  it('defaults to redis://127.0.0.1:6379 without $QLESS_REDIS_URL (not connecting here)', async () => {
    const saved = process.env['QLESS_REDIS_URL'];
    delete process.env['QLESS_REDIS_URL'];
    try {
      const c = qless.client({ lazyConnect: true });
      expect([c.redis.options.host, c.redis.options.port]).toEqual(['127.0.0.1', 6379]);
      expect(qless.DEFAULT_URL).toBe('redis://127.0.0.1:6379');
      await c.close();
    } finally {
      if (saved !== undefined) process.env['QLESS_REDIS_URL'] = saved;
    }
  });

  it('callMany sends several core calls in one trip at one now', async () => {
    const c = make();
    const outcomes = await c.callMany([
      { command: 'put', args: ['w', 'q', 'a', 'a.B', '{}', 0] },
      { command: 'nope', args: [] },
      { command: 'length', args: ['q'] },
    ], 42);
    expect(outcomes.map((o) => (o.ok ? o.reply : o.error.code))).toEqual(['a', 'SCRIPT_ERROR', 1]);
    expect(((await c.jobs.get('a')) as qless.Job).history[0]!.when).toBe(42);
  });

  it('queue() is a cheap handle without I/O', () => {
    const c = qless.client('redis://127.0.0.1:1', { lazyConnect: true });
    const q = c.queue('anything');
    expect(q.name).toBe('anything');
    expect(c.queue('anything')).toBe(q);
    expect(c.redis.status).toBe('wait');
    void c.close();
  });

  it('call() is the one low-level path, with typed errors', async () => {
    const clock = new ManualClock(1234);
    const c = make({ clock: clock.clock });
    expect(c.now()).toBe(1234);
    expect(await c.call('put', 'w', 'q', 'jid', 'a.B', '{}', 0)).toBe('jid');
    const raw = JSON.parse((await c.call('get', 'jid')) as string) as { history: Array<{ when: number }> };
    expect(raw.history[0]!.when).toBe(1234);
    const error = await c.call('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(qless.ScriptError);
    expect((error as qless.ScriptError).code).toBe('SCRIPT_ERROR');
    clock.advance(1);
    c.clock = () => 99;
    expect(c.now()).toBe(99);
  });

  it('uses a given connection without closing it', async () => {
    const c = qless.client({ connection: ctx.redis, workerName: 'shared' });
    expect(await c.config.get('heartbeat')).toBe(60);
    await c.close();
    expect(await ctx.redis.ping()).toBe('PONG');
  });
});

describe('resilience', () => {
  it('reloads the script after SCRIPT FLUSH', async () => {
    const c = make();
    await c.queue('q').put('a.B', {});
    await ctx.redis.script('FLUSH');
    expect(await c.queue('q').length()).toBe(1);
    await ctx.redis.script('FLUSH');
    const [job] = await c.queue('q').pop(1);
    await ctx.redis.script('FLUSH');
    const [outcome] = await c.jobs.heartbeat([job!]);
    expect(outcome!.ok).toBe(true);
  });

  it('reconnects after the Redis server restarts', async () => {
    if (!ctx.server) return; // a shared QLESS_TEST_REDIS_URL cannot be restarted
    const c = make();
    await c.queue('q').put('a.B', {}, { jid: 'before' });
    const events: string[] = [];
    c.events.on('log', (e) => events.push(`${e.event}`));
    await c.events.listen();
    await ctx.server.stop();
    await ctx.server.start();
    // The server started empty (no persistence) and without the script.
    await c.queue('q').put('a.B', {}, { jid: 'after' });
    expect(await c.queue('q').length()).toBe(1);
    expect(await c.jobs.get('before')).toBeNull();
    // The subscriber renews its subscriptions on its own once reconnected.
    for (let i = 0; events.length === 0 && i < 100; i++) {
      await c.queue('q').put('a.B', {}, { jid: 'after' });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(events).toContain('put');
  });

  it('reports an unreachable server as ConnectionError', async () => {
    const c = qless.client('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, workerName: 'x' });
    const error = await c.queue('q').length().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(qless.ConnectionError);
    expect((error as qless.ConnectionError).code).toBe('CONNECTION');
    await c.close();
  });
});

