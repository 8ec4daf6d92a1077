import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
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
        expect((c.redis as Redis).options.db).toBe(2);
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
    expect((c.redis as Redis).options.tls).toBeDefined();
    expect([(c.redis as Redis).options.host, (c.redis as Redis).options.port, (c.redis as Redis).options.password, (c.redis as Redis).options.db]).toEqual(['example.invalid', 6390, 'pw', 3]);
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
      expect([(c.redis as Redis).options.host, (c.redis as Redis).options.port]).toEqual(['127.0.0.1', 6379]);
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


describe('connection URLs (src/connection)', () => {
  it('parses every supported form', () => {
    expect(qless.parseConnectionUrl('redis://:pw@h:6380/2')).toEqual({ topology: 'standalone', url: 'redis://:pw@h:6380/2', tls: false });
    expect(qless.parseConnectionUrl('rediss://h')).toMatchObject({ topology: 'standalone', tls: true });
    expect(qless.parseConnectionUrl('redis+sentinel://s1:26380,s2,[::1]:26381/mymaster')).toEqual({
      topology: 'sentinel',
      sentinels: [{ host: 's1', port: 26380 }, { host: 's2', port: 26379 }, { host: '::1', port: 26381 }],
      name: 'mymaster', db: 0, tls: false, sentinelTls: false,
    });
    expect(qless.parseConnectionUrl('rediss+sentinel://app:p%40ss@s1/my%20master/3?sentinelUsername=sen&sentinelPassword=s3cret&sentinelTls=false')).toEqual({
      topology: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'my master', db: 3, username: 'app', password: 'p@ss', sentinelUsername: 'sen', sentinelPassword: 's3cret', tls: true, sentinelTls: false,
    });
    expect(qless.parseConnectionUrl('redis+sentinel://:pw@s1/m/')).toMatchObject({ name: 'm', db: 0, password: 'pw' });
  });

  it('refuses a bad URL with a message that names the problem, its source, and no password', () => {
    const cases: Array<[string, string]> = [
      ['', 'is empty'],
      ['localhost:6379', 'is not a URL'],
      ['ftp://h', 'has the scheme ftp://, which is not one of redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://'],
      ['redis+cluster://:pw@h:7000,h:7001/2', 'has "/2" after the nodes, but a Redis Cluster has no databases'],
      ['redis+cluster://:pw@/', 'names no cluster node'],
      ['redis+cluster://:pw@h:7000,h:x/', 'has a bad port "x" for cluster node h'],
      ['redis+cluster://:pw@h:7000?namespace=a', 'has a ?query, but a cluster URL takes no options'],
      ['redis://h/x', 'has "/x" where the database number belongs'],
      ['redis://:pw@h:99999', 'is not a valid URL'],
      ['redis+sentinel://:pw@s1:26379', 'names no primary'],
      ['redis+sentinel://:pw@/m', 'names no Sentinel'],
      ['redis+sentinel://:pw@s1:0/m', 'has a bad port "0" for Sentinel s1'],
      ['redis+sentinel://:pw@s1:x/m', 'has a bad port "x"'],
      ['redis+sentinel://:pw@s1/m/two', 'has "two" where the database number belongs'],
      ['redis+sentinel://:pw@s1/m/2/3', 'has too many path parts'],
      ['redis+sentinel://:pw@s1/m?tls=true', 'has an unknown option "tls" (known: sentinelUsername, sentinelPassword, sentinelTls)'],
      ['redis+sentinel://:pw@s1/m?sentinelTls=yes', 'has sentinelTls=yes; use true or false'],
      ['redis+sentinel://:pw@s1/m#x', 'has a #fragment'],
    ];
    for (const [url, problem] of cases) {
      const error = (() => {
        try {
          qless.parseConnectionUrl(url, '--host');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, url).toBeInstanceOf(qless.InvalidArgumentError);
      expect((error as Error).message, url).toContain(`--host ${problem}`);
      expect((error as Error).message, url).not.toContain('pw@');
    }
  });

  it('hides passwords, the Sentinels\' too, when printing a URL', () => {
    expect(qless.redactUrl('redis://:secret@h:1/2')).toBe('redis://:***@h:1/2');
    expect(qless.redactUrl('redis+sentinel://u:secret@a:1,b:2/m?sentinelPassword=s2&sentinelTls=true')).toBe('redis+sentinel://u:***@a:1,b:2/m?sentinelPassword=***&sentinelTls=true');
    expect(qless.redactUrl('redis://h:1')).toBe('redis://h:1');
    expect(qless.redactUrl('not a url')).toBe('not a url');
  });

  it('resolves a command line the same way for every binary', () => {
    const sentinel = 'redis+sentinel://s1,s2/m';
    expect(qless.resolveRedisUrl({}, {})).toBe('redis://127.0.0.1:6379');
    expect(qless.resolveRedisUrl({ host: sentinel }, {})).toBe(sentinel);
    expect(qless.resolveRedisUrl({}, { QLESS_REDIS_URL: sentinel })).toBe(sentinel);
    expect(qless.resolveRedisUrl({ url: sentinel }, {})).toBe(sentinel);
    expect(qless.resolveRedisUrl({ host: 'h', port: 7000 }, {})).toBe('redis://h:7000');
    expect(qless.resolveRedisUrl({ host: '[::1]:7000' }, {})).toBe('redis://[::1]:7000');
    expect(qless.resolveRedisUrl({ port: '7001' }, { QLESS_REDIS_URL: 'redis://r:7000/2' })).toBe('redis://r:7001/2');
    expect(() => qless.resolveRedisUrl({ port: '7001' }, { QLESS_REDIS_URL: sentinel })).toThrow(/--port cannot change the port of a Sentinel URL/);
    expect(() => qless.resolveRedisUrl({ host: sentinel, port: 1 }, {})).toThrow(/is a URL: put the port in it/);
    expect(() => qless.resolveRedisUrl({ url: sentinel, host: 'h' }, {})).toThrow(/either --redis <url> or --host/);
    expect(qless.resolveRedisUrl({ host: 'redis+cluster://h:7000/' }, {})).toBe('redis+cluster://h:7000/');
    expect(() => qless.resolveRedisUrl({ host: 'h', port: '70000' }, {})).toThrow(/--port must be a port number from 1 to 65535/);
  });

  it('opens a Sentinel connection from a URL or from ioredis options, with failover settings (not connecting here)', async () => {
    const byUrl = qless.client('redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/4?sentinelPassword=sp', { lazyConnect: true });
    const byOptions = qless.client({ sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'mymaster', lazyConnect: true });
    try {
      expect((byUrl.redis as Redis).options).toMatchObject({
        sentinels: [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }], name: 'mymaster', db: 4, password: 'pw', sentinelPassword: 'sp', role: 'master',
      });
      for (const c of [byUrl, byOptions]) {
        const reconnect = (c.redis as Redis).options.reconnectOnError!;
        expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(2);
        expect(reconnect(new Error('ERR WAIT cannot be used with replica instances. Please also note …'))).toBe(2);
        expect(reconnect(new Error('ERR user_script:1: Put(): Arg "jid" missing'))).toBe(false);
      }
      expect((byOptions.redis as Redis).options.host).not.toBe('127.0.0.1'); // no host forced onto a Sentinel connection
    } finally {
      await Promise.all([byUrl.close(), byOptions.close()]);
    }
    // A cluster needs a namespace: refused before anything connects.
    expect(() => qless.client('redis+cluster://127.0.0.1:7000,127.0.0.1:7001/')).toThrow(/a Redis Cluster needs a namespace/);
  });

  it('parses a Redis Cluster URL', () => {
    expect(qless.parseConnectionUrl('redis+cluster://app:p%40ss@h1:7000,[::1]:7001,h3/')).toEqual({
      topology: 'cluster',
      nodes: [{ host: 'h1', port: 7000 }, { host: '::1', port: 7001 }, { host: 'h3', port: 6379 }],
      username: 'app', password: 'p@ss', tls: false,
    });
    expect(qless.parseConnectionUrl('rediss+cluster://h1:7000')).toMatchObject({ topology: 'cluster', tls: true });
  });

  it('checks a namespace name', () => {
    for (const bad of ['a b', 'x{y}', 'n'.repeat(65), 'ql:', 'ä', '-', '..', '_x']) {
      expect(() => qless.client({ namespace: bad, lazyConnect: true, port: 1 }), bad).toThrow(qless.InvalidArgumentError);
    }
    const c = qless.client({ namespace: 'orders', lazyConnect: true, port: 1 });
    expect(c.namespace).toBe('orders');
    expect(c.keys.prefix).toBe('ql:{orders}:');
    void c.close();
  });
});

describe('durability', () => {
  const waits = async (): Promise<number> => {
    const line = (await ctx.redis.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_wait:'));
    return line ? Number(/calls=(\d+)/.exec(line)![1]) : 0;
  };

  it('checks its settings before connecting', () => {
    const bad: unknown[] = [{ replicas: -1 }, { replicas: 1.5 }, { replicas: 1, timeoutMs: 0 }, { replicas: '1' }, 1];
    for (const durability of bad) {
      expect(() => qless.client(ctx.url, { durability: durability as qless.DurabilityOptions, lazyConnect: true }), JSON.stringify(durability)).toThrow(qless.InvalidArgumentError);
    }
    const none = qless.client(ctx.url, { durability: { replicas: 0 }, lazyConnect: true });
    const some = qless.client(ctx.url, { durability: { replicas: 2 }, lazyConnect: true });
    expect([none.durability, some.durability]).toEqual([undefined, { replicas: 2, timeoutMs: 1000 }]);
    void none.close();
    void some.close();
  });

  it('reports a put no replica confirmed as a DurabilityError that carries its reply; the job was written', async () => {
    const c = make({ durability: { replicas: 1, timeoutMs: 20 } });
    const error = await c.queue('q').put('a.B', {}, { jid: 'unconfirmed' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(qless.DurabilityError);
    const shortfall = error as qless.DurabilityError;
    expect([shortfall.code, shortfall.command, shortfall.jid, shortfall.required, shortfall.acknowledged, shortfall.timeoutMs, shortfall.reply])
      .toEqual(['DURABILITY', 'put', 'unconfirmed', 1, 0, 20, 'unconfirmed']);
    expect(shortfall.message).toBe('put of job unconfirmed: applied on the primary, but only 0 of 1 replica(s) confirmed it within 20 ms; it may be lost if the primary fails before its replicas catch up');
    expect((await c.jobs.get('unconfirmed'))?.state).toBe('waiting');
  });

  it('waits once per round trip, only after durable writes, and leaves the other outcomes of a batch alone', async () => {
    const plain = make();
    await plain.queue('q').put('a.B', {}, { jid: 'a' });
    await plain.queue('q').put('a.B', {}, { jid: 'b' });
    const c = make({ durability: { replicas: 1, timeoutMs: 10 } });
    const before = await waits();
    const popped = await c.queue('q').pop(2);
    await c.queue('q').length();
    await c.jobs.get('a');
    expect(await waits()).toBe(before); // reads and pops are not waited for

    const outcomes = await c.callMany([
      { command: 'complete', args: [popped[0]!.jid, 'worker-1', 'q', '{}'] },
      { command: 'complete', args: ['nope', 'worker-1', 'q', '{}'] },
      { command: 'length', args: ['q'] },
      { command: 'complete', args: [popped[1]!.jid, 'worker-1', 'q', '{}'] },
    ]);
    expect(await waits()).toBe(before + 1);
    expect(outcomes.map((o) => (o.ok ? o.reply : o.error.code))).toEqual(['DURABILITY', 'JOB_NOT_FOUND', 1, 'DURABILITY']);
    expect((await plain.jobs.get('a'))?.state).toBe('complete');
    const fails = await Promise.all(['x', 'y', 'z'].map((jid) => c.queue('q').put('a.B', {}, { jid }).catch((e: unknown) => (e as qless.QlessError).code)));
    expect(fails).toEqual(['DURABILITY', 'DURABILITY', 'DURABILITY']);
    // The first put of the tick goes out alone, the two after it share one round trip and its WAIT.
    expect(await waits()).toBe(before + 3);
  });

  it('reads --wait-replicas and --wait-timeout', async () => {
    const { durabilityFromFlags } = await import('../src/connection/durability.js');
    expect(durabilityFromFlags(undefined, undefined)).toBeUndefined();
    expect(durabilityFromFlags('1', undefined)).toEqual({ replicas: 1, timeoutMs: 1000 });
    expect(durabilityFromFlags('2', '50')).toEqual({ replicas: 2, timeoutMs: 50 });
    expect(durabilityFromFlags('0', '50')).toBeUndefined();
    expect(() => durabilityFromFlags(undefined, '50')).toThrow('--wait-timeout needs --wait-replicas <n>');
    expect(() => durabilityFromFlags('one', undefined)).toThrow('--wait-replicas must be a whole number of at least 0, got "one"');
    expect(() => durabilityFromFlags('1', '0')).toThrow('--wait-timeout must be a whole number of at least 1, got "0"');
  });
});
