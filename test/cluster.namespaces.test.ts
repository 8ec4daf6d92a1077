/**
 * Redis Cluster namespaces (issue 15): a cluster of 3 primaries and 3
 * replicas, started and stopped here on loopback ports; three namespaces
 * whose hash tags land on three different primaries; one worker daemon per
 * namespace, all draining at once, while the test kills (SIGKILL) the
 * primary of the first namespace. The cluster promotes its replica, the
 * clients and workers follow the new slot map, and the run finishes.
 *
 * Replication is asynchronous, so writes the dead primary acknowledged in
 * its last moment may be missing on the promoted replica; what that cost is
 * counted and printed. A second producer of that namespace puts with the
 * durability setting (WAIT for the replica) across the kill: none of the
 * puts it was told succeeded may be missing.
 * The two other namespaces, on primaries that never failed, must lose
 * nothing.
 *
 * On the same cluster, before that: where a namespace's keys live, the core
 * on every primary and its reload, the refusals (no namespace, a job of
 * another namespace), durability, the CLI and the dashboard.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { isCluster } from '../src/gateway.js';
import { createDashboard } from '../src/web/index.js';
import { KeySpace } from '../src/keys.js';
import { coreLibrary } from '../src/script.js';
import { namespacesOnDistinctPrimaries, RedisCluster } from './support/cluster.js';
import { run as runCli } from './support/cli.js';
import { ROOT, sleep, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const QUEUE = 'work';
const BEFORE_KILL = 300; // jobs put into each namespace before the kill
const AFTER_KILL = 200; // and after it
const JOBS_DIR = join(ROOT, 'test', 'support', 'sentinel-jobs');

const workers = useWorkers();
let cluster: RedisCluster;
let namespaces: string[];
const clients: qless.Client[] = [];

/** What every key of a namespace starts with (its hash tag decides its slot). */
const prefixOf = (namespace: string): string => new KeySpace(namespace).prefix;

/**
 * A client of `namespace` that waits out a failover instead of failing;
 * with `durability`, each write also waits for the slot's replica.
 */
function open(namespace: string, workerName = 'producer', durability?: qless.DurabilityOptions): qless.Client {
  const client = qless.client(cluster.url, {
    namespace,
    workerName,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 500),
    ...(durability ? { durability } : {}),
  });
  clients.push(client);
  return client;
}

/** A direct connection to one node (for checks; never retries). */
async function onNode<T>(port: number, question: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    return await question(redis);
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  cluster = await RedisCluster.start({ primaries: 3, replicas: 1, nodeTimeoutMs: 1000 });
  namespaces = await namespacesOnDistinctPrimaries(cluster, 3, 'shop');
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cluster?.stop();
});

describe('qless-ts on a Redis Cluster', () => {
  it('keeps each namespace on the primary of its hash slot, with the core on every primary', { timeout: 60_000 }, async () => {
    const primaries = await Promise.all(namespaces.map(async (ns) => cluster.primaryOf(await cluster.slotOf(prefixOf(ns)))));
    expect(new Set(primaries).size).toBe(3);
    for (const [i, ns] of namespaces.entries()) {
      const client = open(ns);
      expect(isCluster(client.redis)).toBe(true);
      const jid = await client.queue('placement').put('ticket.Ticket', {});
      // Every key of the namespace is on its primary, none elsewhere.
      for (const port of new Set(primaries)) {
        const keys = await onNode(port, (r) => r.keys(`${prefixOf(ns)}*`));
        if (port === primaries[i]) expect(keys).toEqual(expect.arrayContaining([...new KeySpace(ns).jobKeys(jid).slice(0, 2), new KeySpace(ns).queues]));
        else expect(keys).toEqual([]);
      }
      await client.jobs.cancel(jid);
    }
    // The function library was loaded on every primary, not only the one a call went to.
    for (const port of new Set(primaries)) {
      const libraries = (await onNode(port, (r) => r.function('LIST', 'LIBRARYNAME', coreLibrary().name))) as unknown[];
      expect(libraries.length, `library on ${port}`).toBe(1);
    }
  });

  it('loads the core again when a primary has lost it (Function not found)', { timeout: 60_000 }, async () => {
    const ns = namespaces[1]!;
    const client = open(ns);
    await client.queue('reload').put('ticket.Ticket', {});
    const primary = await cluster.primaryOf(await cluster.slotOf(prefixOf(ns)));
    await onNode(primary, (r) => r.function('FLUSH'));
    expect((await client.queue('reload').counts()).waiting).toBe(1);
  });

  it('refuses a cluster without a namespace, and a batch handed another namespace\'s job', async () => {
    expect(() => qless.client({ cluster: cluster.addresses })).toThrow(/a Redis Cluster needs a namespace/);
    const [a, b] = [open(namespaces[0]!), open(namespaces[1]!)];
    await a.queue('cross').put('ticket.Ticket', {}, { jid: 'cross-1' });
    const job = (await a.queue('cross').pop()) as qless.Job;
    const [outcome] = (await qless.completeJobs(b, [job])).completed;
    expect(outcome!.ok).toBe(false);
    expect(!outcome!.ok && outcome!.error).toBeInstanceOf(qless.CrossNamespaceError);
    expect(!outcome!.ok && outcome!.error.message).toMatch(new RegExp(`job cross-1: the job belongs to namespace ${namespaces[0]}, not to namespace ${namespaces[1]}`));
    // Nothing was sent: the job is still running in its own namespace.
    expect((await a.jobs.get('cross-1'))?.state).toBe('running');
    await a.jobs.cancel('cross-1');
  });

  it('keeps throttles per namespace, and lists them from the primary that holds them', { timeout: 60_000 }, async () => {
    const [a, b] = [open(namespaces[0]!), open(namespaces[2]!)];
    await a.throttles.set('api', 3);
    await b.throttles.set('api', 7);
    await b.queue('limited').put('ticket.Ticket', {}, { throttles: ['api'] });
    expect((await a.throttles.get('api')).maximum).toBe(3);
    expect((await b.throttles.get('api')).maximum).toBe(7);
    // Each namespace's throttles live on its own primary; list() finds them there.
    expect((await b.throttles.list()).map((t) => [t.id, t.maximum])).toEqual([['api', 7]]);
    expect((await a.throttles.list()).map((t) => [t.id, t.maximum])).toEqual([['api', 3]]);
    await b.jobs.cancel(...(await b.queue('limited').jobs.waiting()));
    await a.throttles.delete('api');
    await b.throttles.delete('api');
  });

  it('delivers a namespace\'s events, and only its own, through the cluster', { timeout: 60_000 }, async () => {
    const [mine, other] = [open(namespaces[1]!, 'listener'), open(namespaces[2]!, 'listener')];
    const heard: string[] = [];
    mine.events.onWorker((event) => heard.push(`worker ${event.event}`));
    mine.events.on('log', (event) => heard.push(`log ${event.event}`));
    await mine.events.listen();
    // The same worker name in another namespace is another worker: not heard.
    await other.queue('events').put('ticket.Ticket', {}, { jid: 'elsewhere' });
    await other.queue('events').pop();
    await other.jobs.cancel('elsewhere');
    await mine.queue('events').put('ticket.Ticket', {}, { jid: 'here' });
    await mine.queue('events').pop();
    await mine.jobs.cancel('here');
    await until(() => heard.includes('worker canceled'), 10_000, () => `the cancel event (heard ${heard.join(', ')})`);
    await sleep(200);
    expect(heard).toEqual(['log put', 'log canceled', 'worker canceled']);
    await mine.events.close();
  });

  it('waits for the slot\'s replica with durability', { timeout: 60_000 }, async () => {
    const ns = namespaces[0]!;
    const durable = qless.client({ cluster: cluster.addresses, namespace: ns, durability: { replicas: 1, timeoutMs: 1000 } });
    const greedy = qless.client({ cluster: cluster.addresses, namespace: ns, durability: { replicas: 2, timeoutMs: 100 } });
    clients.push(durable, greedy);
    const jid = await durable.queue('durable').put('ticket.Ticket', {});
    const [job] = await durable.queue('durable').pop(1);
    expect((await durable.jobs.completeMany([job!]))[0]!.ok).toBe(true);
    // Each primary has one replica: asking for two is refused, after the write.
    const refused = await greedy.queue('durable').put('ticket.Ticket', {}, { jid: 'greedy' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(qless.DurabilityError);
    expect((refused as qless.DurabilityError).acknowledged).toBe(1);
    expect((await durable.jobs.get('greedy'))?.state).toBe('waiting');
    expect((await durable.jobs.get(jid))?.state).toBe('complete');
  });

  it('follows a moved slot with durability, as without it', { timeout: 60_000 }, async () => {
    // A pipeline that ends with WAIT is one ioredis does not resend after
    // MOVED: the gateway does. A slot map that points at the wrong primary
    // (as after a failover or a resharding) makes the first trip bounce.
    const ns = namespaces[0]!;
    const durable = qless.client({ cluster: cluster.addresses, namespace: ns, durability: { replicas: 1, timeoutMs: 1000 } });
    clients.push(durable);
    await durable.queue('moved').length();
    const connection = durable.redis as Cluster;
    const slot = await cluster.slotOf(prefixOf(ns));
    const owner = connection.slots[slot]![0]!;
    const other = connection.nodes('master').map((node) => `${node.options.host}:${node.options.port}`).find((key) => key !== owner)!;
    connection.slots[slot] = [other];
    const jid = await durable.queue('moved').put('ticket.Ticket', {});
    expect((await durable.jobs.get(jid))?.state).toBe('waiting');
    expect(connection.slots[slot]![0]).toBe(owner);
  });

  it('lets the qless-ts CLI act in a namespace, and refuses a cluster without one (exit 2)', { timeout: 60_000 }, async () => {
    const ns = namespaces[2]!;
    const put = await runCli(['--host', cluster.url, '--namespace', ns, 'put', 'cli-queue', 'ticket.Ticket', '--jid', 'from-cli']);
    expect(put.stderr).toBe('');
    expect(put.stdout.trim()).toBe('from-cli');
    expect((await open(ns).jobs.get('from-cli'))?.queue).toBe('cli-queue');
    const listed = await runCli(['--host', cluster.url, '--namespace', ns, '--json', 'queues']);
    expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cli-queue', waiting: 1 })]));
    // The same queue name in another namespace is another queue.
    const other = await runCli(['--host', cluster.url, '--namespace', namespaces[1]!, '--json', 'queues']);
    expect(JSON.parse(other.stdout)).not.toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cli-queue' })]));
    const refused = await runCli(['--host', cluster.url, 'queues']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/a Redis Cluster needs a namespace: give --namespace <name>/);
    const unreachable = await runCli(['--host', 'redis+cluster://127.0.0.1:1/', '--namespace', ns, 'queues']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach Redis at redis\+cluster:\/\/127.0.0.1:1\/ \(namespace .*\): none of the cluster nodes given answered/);
    await open(ns).jobs.cancel('from-cli');
  });

  it('serves the dashboard of several namespaces from one cluster connection', { timeout: 60_000 }, async () => {
    const [first, second] = [namespaces[0]!, namespaces[1]!];
    await open(first).queue('web-first').put('ticket.Ticket', {});
    await open(second).queue('web-second').put('ticket.Ticket', {});
    const client = open(first, 'dashboard');
    const dashboard = createDashboard({ client, namespaces: [first, second] });
    const server = createServer((req, res) => dashboard(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const home = await (await fetch(`${origin}/queues`)).text();
      expect(home).toContain('web-first');
      expect(home).not.toContain('web-second');
      const other = await fetch(`${origin}/n/${second}/queues`);
      expect(other.status).toBe(200);
      const text = await other.text();
      expect(text).toContain('web-second');
      expect(text).not.toContain('web-first');
    } finally {
      await dashboard.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('drains three namespaces at once through a primary failover', { timeout: 240_000 }, async () => {
    const producers = namespaces.map((ns) => open(ns));
    // Locks a lost completion leaves behind expire in 3 s instead of 60.
    await Promise.all(producers.map((p) => p.config.set('heartbeat', 3)));
    const daemons: WorkerProcess[] = namespaces.map((ns) =>
      workers.start(['--host', cluster.url, '--namespace', ns, '-p', JOBS_DIR, '-q', QUEUE, '-w', '1', '-c', '4', '-i', '0.2', '-n', `cluster-${ns}`, '--grace', '2', '--verbose']),
    );
    await Promise.all(daemons.map((d) => d.started(1, 60_000)));

    const acked = namespaces.map(() => new Set<string>());
    // Puts that failed (not acknowledged), by error message: the producer's to retry.
    const failed = namespaces.map(() => new Map<string, number>());
    const putBatch = async (i: number, from: number, count: number): Promise<void> => {
      const queue = producers[i]!.queue(QUEUE);
      for (let n = from; n < from + count; n += 25) {
        const jids = Array.from({ length: Math.min(25, from + count - n) }, (_, k) => `${namespaces[i]}-${n + k}`);
        const outcomes = await Promise.allSettled(jids.map((jid) => queue.put('ticket.Ticket', {}, { jid })));
        outcomes.forEach((outcome, k) => {
          if (outcome.status === 'fulfilled') acked[i]!.add(jids[k]!);
          else {
            const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
            failed[i]!.set(message, (failed[i]!.get(message) ?? 0) + 1);
          }
        });
      }
    };
    const started = Date.now();
    await Promise.all(namespaces.map((_, i) => putBatch(i, 0, BEFORE_KILL)));

    // A second producer of the first namespace waits for the replica on
    // every put (durability), putting ten at a time from before the kill
    // until the failover is over: each put it was told succeeded must be on
    // the replica the cluster promotes. (Once the replica is the primary it
    // has no replica of its own, so later durable puts are refused: counted.)
    const durableProducer = open(namespaces[0]!, 'durable-producer', { replicas: 1, timeoutMs: 1000 });
    const durableAcked = new Set<string>();
    const durableRefused = new Map<string, number>();
    let failedOver = false;
    const durablePuts = (async () => {
      const queue = durableProducer.queue(QUEUE);
      for (let n = 0; !failedOver; n += 10) {
        const jids = Array.from({ length: 10 }, (_, k) => `${namespaces[0]}-durable-${n + k}`);
        const outcomes = await Promise.allSettled(jids.map((jid) => queue.put('ticket.Ticket', {}, { jid })));
        outcomes.forEach((outcome, k) => {
          if (outcome.status === 'fulfilled') durableAcked.add(jids[k]!);
          else {
            const message = outcome.reason instanceof Error ? `${outcome.reason.constructor.name}: ${outcome.reason.message.replace(/job \S+/g, 'job <jid>').slice(0, 100)}` : 'unknown';
            durableRefused.set(message, (durableRefused.get(message) ?? 0) + 1);
          }
        });
      }
    })();

    // Kill the first namespace's primary while the workers drain (and once
    // the durable producer is under way).
    const slot = await cluster.slotOf(prefixOf(namespaces[0]!));
    const victim = await cluster.primaryOf(slot);
    await until(async () => durableAcked.size >= 50, 30_000, () => `durable puts to be acknowledged: ${JSON.stringify(Object.fromEntries(durableRefused))}`);
    const killedAt = Date.now();
    await cluster.kill(victim);
    const putsAfter = Promise.all(namespaces.map((_, i) => putBatch(i, BEFORE_KILL, AFTER_KILL)));
    const promoted = await cluster.waitForFailover(slot, victim, 60_000);
    const failoverMs = Date.now() - killedAt;
    failedOver = true;
    await Promise.all([putsAfter, durablePuts]);

    // Drained: nothing waiting, running, scheduled or stalled in any namespace for a while.
    let quietSince = 0;
    await until(async () => {
      const counts = await Promise.all(producers.map((p) => p.queue(QUEUE).counts()));
      const busy = counts.reduce((sum, c) => sum + c.waiting + c.running + c.scheduled + c.stalled, 0);
      if (busy > 0) quietSince = 0;
      else quietSince ||= Date.now();
      return quietSince > 0 && Date.now() - quietSince > 1000;
    }, 150_000, () => `the three namespaces to drain\n${daemons.map((d) => d.tail(15)).join('\n')}`);
    const drainedMs = Date.now() - started;

    const figures = [];
    for (const [i, ns] of namespaces.entries()) {
      const jids = [...acked[i]!];
      const states = new Map<string, string>();
      for (let first = 0; first < jids.length; first += 200) {
        for (const job of await producers[i]!.jobs.multiget(jids.slice(first, first + 200))) states.set(job.jid, job.state);
      }
      const completions = daemons[i]!.lines('job completed').length;
      const lost = jids.filter((jid) => !states.has(jid)).length;
      const notComplete = [...states.values()].filter((s) => s !== 'complete').length;
      figures.push({ namespace: ns, acknowledged: jids.length, putsFailed: Object.fromEntries(failed[i]!), lost, notComplete, completions });
    }
    const durableJids = [...durableAcked];
    const durableFound = new Set<string>();
    for (let first = 0; first < durableJids.length; first += 200) {
      for (const job of await producers[0]!.jobs.multiget(durableJids.slice(first, first + 200))) durableFound.add(job.jid);
    }
    const durable = { acknowledged: durableJids.length, refused: Object.fromEntries(durableRefused), lost: durableJids.length - durableFound.size };
    const recovered = daemons[0]!.lines('job completed').filter((line) => Number(line['time']) > killedAt + failoverMs);
    // From the kill until the first namespace's worker completed a job on the promoted replica.
    const workerRecoverMs = recovered.length > 0 ? Math.min(...recovered.map((line) => Number(line['time']))) - killedAt : null;
    console.log(`cluster failover: ${JSON.stringify({ killedPrimary: victim, promoted, failoverMs, workerRecoverMs, drainedMs, completedAfterFailover: recovered.length, namespaces: figures, durable })}`);
    for (const [i, { namespace: ns, acknowledged, lost, notComplete }] of figures.entries()) {
      // Every job the namespace has now ran to completion: nothing is stuck.
      expect(notComplete, ns).toBe(0);
      if (i > 0) {
        // Namespaces whose primary never failed lose nothing.
        expect(acknowledged, ns).toBe(BEFORE_KILL + AFTER_KILL);
        expect(lost, ns).toBe(0);
      }
    }
    // Every put acknowledged with durability survived the failover.
    expect(durable.acknowledged).toBeGreaterThan(0);
    expect(durable.lost).toBe(0);
    // A refusal says why in qless's words: the replica did not confirm in
    // time. (Redis's raw MOVED or CLUSTERDOWN reached the caller before the
    // gateway resent such trips itself.)
    expect(Object.keys(durable.refused).filter((reason) => !reason.startsWith('DurabilityError:'))).toEqual([]);
    // The failed-over namespace went on taking puts after the kill.
    expect([...acked[0]!].filter((jid) => Number(jid.split('-').pop()) >= BEFORE_KILL).length).toBeGreaterThan(0);
    // The first namespace's worker went on completing jobs on the promoted replica.
    expect(recovered.length).toBeGreaterThan(0);
    expect(promoted).not.toBe(victim);
  });
});
