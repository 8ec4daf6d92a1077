/**
 * `useRedis()` gives a test file its own Redis: a private redis-server (or
 * the database named by QLESS_TEST_REDIS_URL), emptied before every test.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Redis } from 'ioredis';
import { seeNamespaceAsDefault } from './namespace.js';
import { RedisServer, FORBIDDEN_PORT } from './redis-server.js';

/**
 * The job layout the core tests store new jobs in: the `core-compact`
 * project of vitest.config.ts sets QLESS_TEST_JOB_LAYOUT=compact, and every
 * test then starts with the option `job-layout` set to `compact` in
 * ql:config, so that each core test, unchanged, checks that a job stored in
 * the compact layout gives the same replies and events as one in today's.
 * Undefined: the option is left unset (today's layout).
 */
export function testJobLayout(): 'compact' | undefined {
  return process.env['QLESS_TEST_JOB_LAYOUT'] === 'compact' ? 'compact' : undefined;
}

export interface TestRedis {
  /** URL of the test database. */
  url: string;
  /** A plain connection for inspecting raw keys. */
  redis: Redis;
  /** The private server, when the suite started one (not with QLESS_TEST_REDIS_URL). */
  server: RedisServer | undefined;
}

function assertSafe(url: string): void {
  const port = new URL(url).port || '6379';
  if (Number(port) === FORBIDDEN_PORT) {
    throw new Error(`QLESS_TEST_REDIS_URL points at port ${FORBIDDEN_PORT}; tests flush their database, use another port`);
  }
}

export function useRedis(): TestRedis {
  const ctx = {} as TestRedis;
  beforeAll(async () => {
    const given = process.env['QLESS_TEST_REDIS_URL'];
    if (given) {
      assertSafe(given);
      ctx.url = given;
      ctx.server = undefined;
    } else {
      ctx.server = await RedisServer.start();
      ctx.url = ctx.server.url;
    }
    // In the core-namespace project, raw reads see the test namespace (namespace.ts).
    ctx.redis = seeNamespaceAsDefault(new Redis(ctx.url));
  });
  beforeEach(async () => {
    await ctx.redis.flushdb();
    await ctx.redis.script('FLUSH');
    await ctx.redis.function('FLUSH');
    if (testJobLayout() === 'compact') await ctx.redis.hset('ql:config', 'job-layout', 'compact');
  });
  afterAll(async () => {
    ctx.redis?.disconnect();
    await ctx.server?.dispose();
  });
  return ctx;
}
