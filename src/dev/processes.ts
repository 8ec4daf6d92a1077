/**
 * What the private Redis deployments for tests and the benchmark share
 * (the Sentinel harness in test/support/sentinel.ts, the cluster in
 * redis-cluster.ts): redis-server processes that are always stopped, even
 * when the process that started them ends without stopping them; short
 * questions to one server that never retry; and waiting for a condition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';

const live = new Set<ChildProcess>();
let hooked = false;

/** Last resort: a process that ends without stopping its servers takes them along (by pid). */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

/** Start `redis-server` with `args`; it is killed when this process exits, if still running. */
export function spawnRedisServer(args: readonly string[]): ChildProcess {
  hookExit();
  const child = spawn('redis-server', [...args], { stdio: 'ignore' });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** A short-lived connection to one server on loopback for a harness's own question; never retries. */
export async function ask<T>(port: number, question: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await question(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Poll `probe` every `pollMs` until it returns something other than
 * undefined (errors count as not yet); fails after `timeoutMs` with
 * `<who>: <what> did not happen…` and the last error.
 */
export async function until<T>(who: string, what: string, timeoutMs: number, probe: () => Promise<T | undefined>, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`${who}: ${what} did not happen within ${timeoutMs} ms${lastError ? ` (${String(lastError)})` : ''}`);
}
