/**
 * A private Sentinel deployment for tests: one primary, its replicas and
 * three Sentinels, every one a `redis-server` on a free loopback port with a
 * temporary directory of its own (never port 6379). The Sentinels are told
 * about each other and the replicas up front, so the deployment is ready in
 * about a second instead of after Sentinel's 10-second discovery, and they
 * judge a node down after `downAfterMs`, so a failover takes a few seconds.
 *
 * Every process is started by this module and stopped by its pid: by
 * `stop()` (call it in afterAll), and, should the test process end without
 * it, by an exit hook (src/dev/processes.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ask, spawnRedisServer, until as waitUntil } from '../../src/dev/processes.js';
import { freePort, FORBIDDEN_PORT } from '../../src/dev/redis-server.js';

/** One redis-server process (a data node or a Sentinel). */
export interface Node {
  port: number;
  process: ChildProcess;
  /** The command line it was started with (for a restart). */
  args: string[];
  /** Exited (killed or stopped). */
  readonly gone: boolean;
}

export interface SentinelOptions {
  /** Replicas of the primary (default 1). */
  replicas?: number;
  /** Sentinels (default 3; quorum is a majority). */
  sentinels?: number;
  /** How long a node must be silent before a Sentinel thinks it down (default 1000 ms). */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (default 4000 ms). */
  failoverTimeoutMs?: number;
  /** The name the Sentinels monitor the primary under (default `qless-primary`). */
  name?: string;
}

function node(port: number, args: string[]): Node {
  return {
    port,
    args,
    process: spawnRedisServer(args),
    get gone() {
      return this.process.exitCode !== null || this.process.signalCode !== null;
    },
  };
}

/** Poll as the Sentinel harness does (every 50 ms), naming it in failures. */
function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  return waitUntil('sentinel harness', what, timeoutMs, probe);
}

/** Fields of a Sentinel reply given as a flat [key, value, …] list. */
function fields(reply: unknown): Record<string, string> {
  const list = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

export class SentinelDeployment {
  readonly name: string;
  /** Data nodes in start order: [0] is the first primary, the rest its replicas. */
  readonly nodes: Node[] = [];
  readonly sentinels: Node[] = [];
  readonly #dirs: string[] = [];
  readonly #options: Required<SentinelOptions>;

  private constructor(options: SentinelOptions) {
    this.#options = {
      replicas: options.replicas ?? 1,
      sentinels: options.sentinels ?? 3,
      downAfterMs: options.downAfterMs ?? 1000,
      failoverTimeoutMs: options.failoverTimeoutMs ?? 4000,
      name: options.name ?? 'qless-primary',
    };
    this.name = this.#options.name;
  }

  /** Start a primary, its replicas and the Sentinels; resolves once the Sentinels know everyone. */
  static async start(options: SentinelOptions = {}): Promise<SentinelDeployment> {
    const deployment = new SentinelDeployment(options);
    try {
      await deployment.#start();
      return deployment;
    } catch (error) {
      await deployment.stop();
      throw error;
    }
  }

  /** `redis+sentinel://127.0.0.1:<p1>,127.0.0.1:<p2>,…/<name>` */
  get url(): string {
    return `redis+sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${this.name}`;
  }

  /** The Sentinels as ioredis `sentinels` option. */
  get sentinelAddresses(): Array<{ host: string; port: number }> {
    return this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async #port(): Promise<number> {
    const port = await freePort();
    if (port === FORBIDDEN_PORT) throw new Error('refusing to use port 6379');
    return port;
  }

  #dir(kind: string): string {
    const dir = mkdtempSync(join(tmpdir(), `qless-ts-sentinel-${kind}-`));
    this.#dirs.push(dir);
    return dir;
  }

  #dataNode(port: number, primaryPort?: number): Node {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir('data'), '--protected-mode', 'no',
      // Redis 7 waits 5 s by default before a diskless full sync, in case more replicas come.
      '--repl-diskless-sync-delay', '0'];
    if (primaryPort !== undefined) args.push('--replicaof', '127.0.0.1', String(primaryPort));
    return node(port, args);
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const primaryPort = await this.#port();
    this.nodes.push(this.#dataNode(primaryPort));
    for (let i = 0; i < o.replicas; i++) this.nodes.push(this.#dataNode(await this.#port(), primaryPort));
    const ids = Array.from({ length: o.sentinels }, () => randomBytes(20).toString('hex'));
    const ports: number[] = [];
    for (let i = 0; i < o.sentinels; i++) ports.push(await this.#port());
    ids.forEach((id, i) => {
      const dir = this.#dir('sentinel');
      const lines = [
        `port ${ports[i]}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel myid ${id}`,
        `sentinel monitor ${o.name} 127.0.0.1 ${primaryPort} ${Math.floor(o.sentinels / 2) + 1}`,
        `sentinel down-after-milliseconds ${o.name} ${o.downAfterMs}`,
        `sentinel failover-timeout ${o.name} ${o.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${o.name} 1`,
        ...this.nodes.slice(1).map((replica) => `sentinel known-replica ${o.name} 127.0.0.1 ${replica.port}`),
        ...ids.flatMap((other, j) => (j === i ? [] : [`sentinel known-sentinel ${o.name} 127.0.0.1 ${ports[j]} ${other}`])),
      ];
      const file = join(dir, 'sentinel.conf');
      writeFileSync(file, `${lines.join('\n')}\n`);
      this.sentinels.push(node(ports[i]!, [file, '--sentinel']));
    });

    // Replicas in sync, and every Sentinel sees the primary up, its replicas and the other Sentinels.
    for (const replica of this.nodes.slice(1)) await this.inSync(replica.port, 15_000);
    for (const sentinel of this.sentinels) {
      await until(`Sentinel ${sentinel.port} ready`, 15_000, () =>
        ask(sentinel.port, async (r) => {
          const master = fields(await r.call('SENTINEL', 'MASTER', o.name));
          const ready = master['flags'] === 'master' && Number(master['num-slaves']) >= o.replicas && Number(master['num-other-sentinels']) >= o.sentinels - 1;
          return ready ? true : undefined;
        }),
      );
    }
  }

  /** The data node the Sentinels currently name as primary (asks each Sentinel in turn). */
  async primaryPort(): Promise<number> {
    for (const sentinel of this.sentinels) {
      if (sentinel.gone) continue;
      try {
        const [, port] = (await ask(sentinel.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name))) as [string, string];
        return Number(port);
      } catch {
        // try the next Sentinel
      }
    }
    throw new Error('sentinel harness: no Sentinel answered');
  }

  /** The data node on `port`. */
  nodeAt(port: number): Node {
    const found = this.nodes.find((n) => n.port === port);
    if (!found) throw new Error(`sentinel harness: no data node on port ${port}`);
    return found;
  }

  /** Wait until the Sentinels name a primary other than `oldPort`, and that node says it is a primary. */
  async waitForNewPrimary(oldPort: number, timeoutMs = 30_000): Promise<number> {
    return until('a failover', timeoutMs, async () => {
      const port = await this.primaryPort();
      if (port === oldPort) return undefined;
      const role = await ask(port, (r) => r.info('replication'));
      return role.includes('role:master') ? port : undefined;
    });
  }

  /** Send `signal` to a node (SIGKILL: it dies at once, as in a crash) and wait for it to be gone unless it is SIGSTOP/SIGCONT. */
  async signal(target: Node, signal: NodeJS.Signals): Promise<void> {
    if (target.gone) return;
    const exited = new Promise<void>((resolve) => target.process.once('exit', () => resolve()));
    target.process.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
  }

  /**
   * Start a data node that was killed again, on its port (it has no
   * persistence: it comes back empty). With `replicaOf` it comes back as a
   * replica of that node, the way the Sentinels would reconfigure it; they
   * only notice a returning node at their next 10-second look, and a test
   * should not wait that long. Resolves once it answers.
   */
  async restart(target: Node, replicaOf?: number): Promise<void> {
    if (!target.gone) throw new Error(`sentinel harness: node ${target.port} is still running`);
    const args = target.args.filter((_, i, all) => all[i] !== '--replicaof' && all[i - 1] !== '--replicaof' && all[i - 2] !== '--replicaof');
    if (replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    target.process = spawnRedisServer(args);
    await until(`node ${target.port} to answer after a restart`, 15_000, () => ask(target.port, async (r) => ((await r.ping()) === 'PONG' ? true : undefined)));
  }

  /** Wait until the data node on `port` is a replica in sync with its primary. */
  async inSync(port: number, timeoutMs = 30_000): Promise<void> {
    await until(`replica ${port} in sync`, timeoutMs, () =>
      ask(port, async (r) => ((await r.info('replication')).includes('master_link_status:up') ? true : undefined)),
    );
  }

  /**
   * Break the replication link of the primary on `primaryPort`, as a network
   * partition would: the primary drops its replicas' connections, and from
   * then on its writes stay in its own memory. (Stop the replicas first with
   * SIGSTOP, or they reconnect within a second and catch up.)
   */
  async cutReplication(primaryPort: number): Promise<void> {
    await ask(primaryPort, (r) => r.call('CLIENT', 'KILL', 'TYPE', 'replica'));
  }

  /** A connection straight to one data node (not through the Sentinels), for inspection. */
  direct(port: number): Redis {
    const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    return redis;
  }

  /** Stop every process of the deployment by its pid and remove the directories. */
  async stop(): Promise<void> {
    const all = [...this.sentinels, ...this.nodes].filter((n) => !n.gone);
    await Promise.all(
      all.map(
        (n) =>
          new Promise<void>((resolve) => {
            n.process.once('exit', () => resolve());
            n.process.kill('SIGCONT'); // a node a test left stopped must be able to exit
            n.process.kill('SIGKILL');
          }),
      ),
    );
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
