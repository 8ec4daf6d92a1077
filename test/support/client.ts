/**
 * Client tests' helpers: clients on the test Redis with a settable clock,
 * closed after each test.
 */
import { afterEach } from 'vitest';
import * as qless from '../../src/index.js';
import type { TestRedis } from './redis.js';

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public time = 1_700_000_000) {}
  readonly clock = (): number => this.time;
  advance(seconds: number): void {
    this.time += seconds;
  }
}

export interface ClientFactory {
  (options?: qless.ClientOptions): qless.Client;
}

/** `make()` opens a client on the test Redis; every client is closed after each test. */
export function useClients(ctx: TestRedis): ClientFactory {
  const open: qless.Client[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  return (options = {}) => {
    const c = qless.client(ctx.url, { workerName: 'worker-1', ...options });
    open.push(c);
    return c;
  };
}
