/**
 * A private Redis Cluster for tests and the benchmark: primaries and their
 * replicas, each a `redis-server` with `cluster-enabled` on free loopback
 * ports (never 6379) and a temporary directory of its own, joined with
 * `redis-cli -p <port> --cluster create … --cluster-yes`. Nodes judge a
 * peer failed after `nodeTimeoutMs`, so a killed primary's replica takes
 * over within a few seconds.
 *
 * Every process is started here and stopped by its pid: by `stop()`, and,
 * should the process end without it, by an exit hook (processes.ts).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KeySpace } from '../keys.js';
import { ask, spawnRedisServer, until as waitUntil } from './processes.js';
import { freePort, FORBIDDEN_PORT } from './redis-server.js';

const run = promisify(execFile);

/** One node of the cluster. */
export interface ClusterNodeProcess {
  port: number;
  process: ChildProcess;
  /** Exited (killed or stopped). */
  readonly gone: boolean;
}

/** A node as the cluster describes it (CLUSTER NODES). */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'slave';
  /** The primary's id, for a replica. */
  primaryId: string | undefined;
  /** Whether the cluster thinks it failed. */
  failed: boolean;
  /** Slot ranges it serves, as [first, last] (primaries only). */
  slots: Array<[number, number]>;
}

export interface RedisClusterOptions {
  /** Primaries (default 3, the fewest Redis Cluster accepts). */
  primaries?: number;
  /** Replicas per primary (default 1). */
  replicas?: number;
  /** cluster-node-timeout: silence before a peer is judged failed (default 1000 ms). */
  nodeTimeoutMs?: number;
  /** More redis-server arguments for every node. */
  args?: readonly string[];
}

/** Poll as the cluster harness does (every 100 ms), naming it in failures. */
function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  return waitUntil('redis cluster', what, timeoutMs, probe, 100);
}

/** CLUSTER NODES, parsed. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, primary, , , , , ...slots] = line.trim().split(' ');
      const flagSet = new Set(flags!.split(','));
      const port = Number(/:(\d+)@/.exec(address!)?.[1] ?? NaN);
      return {
        id: id!,
        port,
        role: flagSet.has('master') ? 'master' : 'slave',
        primaryId: primary === '-' ? undefined : primary,
        failed: flagSet.has('fail') || flagSet.has('fail?'),
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [first, last] = slot.split('-').map(Number);
            return [first!, last ?? first!] as [number, number];
          }),
      } satisfies ClusterNodeInfo;
    });
}

export class RedisCluster {
  readonly nodes: ClusterNodeProcess[] = [];
  readonly #dirs: string[] = [];
  readonly #options: Required<RedisClusterOptions>;

  private constructor(options: RedisClusterOptions) {
    this.#options = {
      primaries: options.primaries ?? 3,
      replicas: options.replicas ?? 1,
      nodeTimeoutMs: options.nodeTimeoutMs ?? 1000,
      args: options.args ?? [],
    };
  }

  /** Start the nodes and create the cluster; resolves once every node sees all slots served. */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const cluster = new RedisCluster(options);
    try {
      await cluster.#start();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `host:port` of every node, for a client's start-up list. */
  get addresses(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  /** A `redis+cluster://` URL naming every node. */
  get url(): string {
    return `redis+cluster://${this.addresses.join(',')}/`;
  }

  async #start(): Promise<void> {
    const { primaries, replicas, nodeTimeoutMs, args } = this.#options;
    const count = primaries * (1 + replicas);
    const ports = new Set<number>();
    // Each node needs two ports: clients' and the cluster bus.
    while (ports.size < count * 2) {
      const port = await freePort();
      if (port !== FORBIDDEN_PORT) ports.add(port);
    }
    const list = [...ports];
    for (let i = 0; i < count; i++) {
      const port = list[i]!;
      const dir = mkdtempSync(join(tmpdir(), 'qless-ts-cluster-'));
      this.#dirs.push(dir);
      const child = spawnRedisServer([
        '--port', String(port), '--cluster-port', String(list[count + i]!), '--bind', '127.0.0.1', '--protected-mode', 'no',
        '--save', '', '--appendonly', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
        // A replica may take over however long it was cut off (tests kill primaries on purpose).
        '--cluster-replica-validity-factor', '0',
        ...args,
      ]);
      this.nodes.push({
        port,
        process: child,
        get gone() {
          return child.exitCode !== null || child.signalCode !== null;
        },
      });
    }
    for (const node of this.nodes) await until(`node ${node.port} answering`, 10_000, () => ask(node.port, (r) => r.ping()));
    const first = this.nodes[0]!.port;
    await run('redis-cli', ['-p', String(first), '--cluster', 'create', ...this.addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 60_000,
    });
    await this.waitHealthy(30_000);
  }

  /**
   * Wait until every live node says the cluster is ok, sees all 16384 slots
   * served by live primaries, and every live replica is in sync with one.
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await until('a healthy cluster', timeoutMs, async () => {
      for (const node of this.nodes) {
        if (node.gone) continue;
        const info = await ask(node.port, (r) => r.cluster('INFO'));
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return undefined;
      }
      const view = await this.describe();
      const livePorts = new Set(this.nodes.filter((n) => !n.gone).map((n) => n.port));
      const served = view.filter((n) => n.role === 'master' && livePorts.has(n.port)).reduce((sum, n) => sum + n.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
      if (served !== 16384) return undefined;
      for (const node of this.nodes) {
        if (node.gone) continue;
        const replication = await ask(node.port, (r) => r.info('replication'));
        if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return undefined;
      }
      return true;
    });
  }

  /** The cluster as a live node describes it. */
  async describe(): Promise<ClusterNodeInfo[]> {
    for (const node of this.nodes) {
      if (node.gone) continue;
      try {
        return parseClusterNodes(String(await ask(node.port, (r) => r.cluster('NODES'))));
      } catch {
        // Try the next node.
      }
    }
    throw new Error('redis cluster: no live node answers');
  }

  /** The hash slot of a key (asked of the cluster, so it is Redis's own reckoning). */
  async slotOf(key: string): Promise<number> {
    const node = this.nodes.find((n) => !n.gone)!;
    return Number(await ask(node.port, (r) => r.cluster('KEYSLOT', key)));
  }

  /** The port of the primary serving a slot now (as a live node sees it). */
  async primaryOf(slot: number): Promise<number> {
    const view = await this.describe();
    const owner = view.find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`redis cluster: no primary serves slot ${slot}`);
    return owner.port;
  }

  /** Kill a node at once (SIGKILL), as a crash would. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node || node.gone) return;
    await new Promise<void>((resolve) => {
      node.process.once('exit', () => resolve());
      node.process.kill('SIGKILL');
    });
  }

  /**
   * Wait until `slot` is served by a live primary other than `formerPort`
   * and the cluster is ok again; resolves with the new primary's port.
   */
  async waitForFailover(slot: number, formerPort: number, timeoutMs = 30_000): Promise<number> {
    const port = await until(`a failover of slot ${slot} away from ${formerPort}`, timeoutMs, async () => {
      const owner = await this.primaryOf(slot).catch(() => undefined);
      return owner !== undefined && owner !== formerPort ? owner : undefined;
    });
    await until('the cluster to be ok again', timeoutMs, async () => {
      for (const node of this.nodes) {
        if (node.gone) continue;
        const info = await ask(node.port, (r) => r.cluster('INFO'));
        if (!/cluster_state:ok/.test(info)) return undefined;
      }
      return true;
    });
    return port;
  }

  /** Stop every node by its pid and remove their directories. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.gone) return resolve();
            node.process.once('exit', () => resolve());
            node.process.kill('SIGKILL');
          }),
      ),
    );
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `count` namespace names whose hash slots are served by `count` different
 * primaries (names `<base>0`, `<base>1`, … tried in order).
 */
export async function namespacesOnDistinctPrimaries(cluster: RedisCluster, count: number, base = 'ns'): Promise<string[]> {
  const chosen: string[] = [];
  const used = new Set<number>();
  for (let i = 0; chosen.length < count && i < 1000; i++) {
    const name = `${base}${i}`;
    const primary = await cluster.primaryOf(await cluster.slotOf(new KeySpace(name).prefix));
    if (used.has(primary)) continue;
    used.add(primary);
    chosen.push(name);
  }
  if (chosen.length < count) throw new Error(`redis cluster: fewer than ${count} primaries serve slots`);
  return chosen;
}
