import { defineConfig } from 'vitest/config';

// With a shared QLESS_TEST_REDIS_URL every file uses the same database (and
// pub/sub is server-wide), so files must not run side by side.
const shared = Boolean(process.env['QLESS_TEST_REDIS_URL']);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: !shared,
    pool: 'forks',
    env: {
      // Anything that falls back to the default Redis URL (code under test, a
      // spawned example or worker) must fail loudly rather than reach a real
      // Redis on 6379: tests pass their private server's URL explicitly.
      QLESS_REDIS_URL: 'redis://127.0.0.1:1',
    },
  },
});
