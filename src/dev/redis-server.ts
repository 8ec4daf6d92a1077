/**
 * A private redis-server for tests, the benchmark and the quickstart: started
 * on a free loopback port, never 6379 (a user's Redis holds real data), and
 * stopped at the end. It can be stopped and started again on the same port to
 * test reconnection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const FORBIDDEN_PORT = 6379;

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections are expected while the server starts.
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch (error) {
      lastError = error;
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`redis-server on port ${port} did not answer: ${String(lastError)}`);
}

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** More redis-server arguments; later ones win, e.g. `['--appendonly', 'yes']`. */
  args?: readonly string[];
}

export class RedisServer {
  readonly port: number;
  private process: ChildProcess | undefined;
  private readonly dir: string;
  private readonly args: readonly string[];

  private constructor(port: number, args: readonly string[] = []) {
    // The port and address are this class's to choose (never 6379, loopback only).
    if (args.some((arg) => arg === '--port' || arg === '--bind')) throw new Error('RedisServer chooses the port and address itself');
    this.port = port;
    this.args = args;
    this.dir = mkdtempSync(join(tmpdir(), 'qless-ts-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start a server on a fresh free port. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort(), options.args);
      try {
        await server.start();
        return server;
      } catch (error) {
        server.cleanup();
        if (attempt >= 4) throw error;
      }
    }
  }

  /** (Re)start the server on its port. */
  async start(): Promise<void> {
    if (this.port === FORBIDDEN_PORT) throw new Error('refusing to run tests on port 6379');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'no', ...this.args],
      { stdio: 'ignore' },
    );
    const spawnFailed = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)));
      child.once('exit', (code) => reject(new Error(`redis-server exited early with code ${code}`)));
    });
    this.process = child;
    await Promise.race([waitForPing(this.port, 10_000), spawnFailed]);
  }

  /** Stop the server (SIGTERM) and wait until it is gone. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.cleanup();
  }

  private cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
