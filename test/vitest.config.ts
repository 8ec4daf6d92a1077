import { defineConfig } from 'vitest/config';

// With a shared QLESS_TEST_REDIS_URL every file uses the same database (and
// pub/sub is server-wide), so files must not run side by side.
const shared = Boolean(process.env['QLESS_TEST_REDIS_URL']);

// Anything that falls back to the default Redis URL (code under test, a
// spawned example or worker) must fail loudly rather than reach a real
// Redis on 6379: tests pass their private server's URL explicitly.
const env = { QLESS_REDIS_URL: 'redis://127.0.0.1:1' };

const common = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  fileParallelism: !shared,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    ...common,
    env,
    // The core tests run twice: through the FCALL function library the
    // client uses by default, and through EVALSHA of dist/qless.lua, the
    // form other qless clients load (see test/support/core.ts).
    projects: [
      { test: { ...common, name: 'default', include: ['test/**/*.test.ts'], env } },
      {
        test: {
          ...common,
          name: 'core-evalsha',
          include: ['test/core.*.test.ts'],
          env: { ...env, QLESS_CORE_MODE: 'script' },
        },
      },
      // And once more in a named namespace (keys ql:{orders}:…), which must
      // behave exactly as the default one (see test/support/namespace.ts).
      {
        test: {
          ...common,
          name: 'core-namespace',
          include: ['test/core.*.test.ts'],
          exclude: ['test/core.namespace.test.ts'],
          env: { ...env, QLESS_TEST_NAMESPACE: 'orders' },
        },
      },
      // And once more with new jobs stored in the compact layout (option
      // job-layout, see test/support/redis.ts): every reply must be the same.
      {
        test: {
          ...common,
          name: 'core-compact',
          include: ['test/core.*.test.ts'],
          // config.get lists every stored option, the project's job-layout
          // among them, so its replies are not today's there.
          exclude: ['test/core.config.test.ts'],
          env: { ...env, QLESS_TEST_JOB_LAYOUT: 'compact' },
        },
      },
    ],
  },
});
