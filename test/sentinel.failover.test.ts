/**
 * The failover test of issue 15: a worker daemon drains 2,000 jobs from a
 * Sentinel deployment (primary + replica + 3 Sentinels, started here) while
 * the test kills the primary with SIGKILL; the run finishes on the promoted
 * replica.
 *
 * To make the asynchronous-replication window visible rather than a matter
 * of luck, the replica is cut off for a moment just before the kill (it is
 * stopped with SIGSTOP and the primary drops its replication connection, as
 * in a network partition): writes acknowledged in that moment exist only on
 * the primary that dies. The run is made twice:
 *
 * - without durability, it prints what that window cost (puts acknowledged
 *   and lost, jobs completed twice because their completion was lost);
 * - with `--wait-replicas 1` on the worker and `durability` on the producer,
 *   it asserts what the setting guarantees: every job whose put returned is
 *   complete on the new primary, completed once there, and no completion the
 *   worker acknowledged was lost (so none was acknowledged twice). Writes made
 *   while no replica could confirm them are refused with a DurabilityError
 *   instead of being acknowledged.
 *
 * The crashed primary is started again after the failover, as its host would
 * come back, as a replica of the new primary. Until then
 * the new primary has no replica, so durable writes are refused (applied,
 * but not confirmed): `replicas: 1` needs two replicas to stay writable
 * through a failover.
 *
 * "Completed" is what the worker acknowledged: its `job completed` log line,
 * written after the core (and, when durable, WAIT) answered.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { SentinelDeployment } from './support/sentinel.js';
import { ROOT, sleep, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const JOBS = 2000;
const KILL_AFTER = 800; // puts acknowledged before the primary dies
const STALL_MS = 400; // how long the replica is cut off just before the kill
const QUEUE = 'failover';
const JOBS_DIR = join(ROOT, 'test', 'support', 'sentinel-jobs');
const DURABILITY = { replicas: 1, timeoutMs: 200 };

const workers = useWorkers();
const deployments: SentinelDeployment[] = [];
const clients: qless.Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(deployments.splice(0).map((d) => d.stop()));
});
afterAll(async () => {
  await Promise.all(deployments.splice(0).map((d) => d.stop()));
});

interface Figures {
  jobs: number;
  acknowledged: number;
  refused: number;
  putsLost: number;
  completedTwice: number;
  notCompleted: number;
  /** From the kill until the Sentinels named the new primary. */
  failoverMs: number;
  /** From the kill until the producer's first put made after it was acknowledged (null: none was). */
  producerRecoverMs: number | null;
  /** From the kill until the worker, reconnected, completed its first job (null: none). */
  workerRecoverMs: number | null;
  /** Completions the worker could not confirm (with durability: not confirmed by a replica in time). */
  completionsRefused: number;
}

interface Run {
  figures: Figures;
  acked: Set<string>;
  states: Map<string, string>;
  /** `done` entries in each job's history on the new primary. */
  doneEntries: Map<string, number>;
  completions: Map<string, number>;
  oldPrimary: number;
  newPrimary: number;
}

/** Put, kill, drain, and read back what happened. */
async function failoverRun(durable: boolean): Promise<Run> {
  const deployment = await SentinelDeployment.start({ downAfterMs: 1000, failoverTimeoutMs: 4000 });
  deployments.push(deployment);
  const producer = qless.client(deployment.url, {
    workerName: 'producer',
    maxRetriesPerRequest: null, // wait out the failover instead of failing
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    ...(durable ? { durability: DURABILITY } : {}),
  });
  clients.push(producer);
  // Locks that a lost completion leaves behind expire in 3 s instead of 60.
  await producer.config.set('heartbeat', 3);
  const queue = producer.queue(QUEUE);

  const waitArgs = durable ? ['--wait-replicas', String(DURABILITY.replicas), '--wait-timeout', String(DURABILITY.timeoutMs)] : [];
  const worker: WorkerProcess = workers.start([
    '--host', deployment.url, '-p', JOBS_DIR, '-q', QUEUE, '-w', '2', '-c', '4', '-i', '0.2', '-n', `failover-${durable ? 'durable' : 'plain'}`,
    '--grace', '2', '--verbose', ...waitArgs,
  ]);
  await worker.started(2);

  const oldPrimary = await deployment.primaryPort();
  const replica = deployment.nodes.find((n) => n.port !== oldPrimary)!;
  const acked = new Set<string>();
  let refused = 0;
  let killedAt = 0;
  let promotedAt = 0;
  let crash: Promise<number> | undefined;
  let producerBackAt = 0;

  for (let n = 0; n < JOBS; n += 25) {
    const startedAfterKill = killedAt > 0;
    const jids = Array.from({ length: Math.min(25, JOBS - n) }, (_, k) => `job-${n + k}`);
    const outcomes = await Promise.allSettled(jids.map((jid) => queue.put('ticket.Ticket', {}, { jid })));
    outcomes.forEach((outcome, k) => {
      if (outcome.status === 'fulfilled') acked.add(jids[k]!);
      else if (outcome.reason instanceof qless.DurabilityError) refused++;
      else throw outcome.reason;
    });
    if (startedAfterKill && !producerBackAt && outcomes.some((o) => o.status === 'fulfilled')) producerBackAt = Date.now();
    if (!crash && acked.size >= KILL_AFTER) {
      crash = (async () => {
        await deployment.signal(replica, 'SIGSTOP');
        await deployment.cutReplication(oldPrimary);
        await sleep(STALL_MS);
        killedAt = Date.now();
        await deployment.signal(deployment.nodeAt(oldPrimary), 'SIGKILL');
        await deployment.signal(replica, 'SIGCONT');
        const port = await deployment.waitForNewPrimary(oldPrimary, 60_000);
        promotedAt = Date.now();
        // The crashed primary's host comes back, as a replica of the new
        // primary, so that a replica can confirm writes again.
        await deployment.restart(deployment.nodeAt(oldPrimary), port);
        return port;
      })();
    }
    await sleep(10);
  }
  const newPrimary = await crash!;

  // Drained: nothing waiting, running or scheduled on the new primary for a while.
  let quietSince = 0;
  let lastCounts = '';
  await until(async () => {
    const counts = await queue.counts();
    lastCounts = JSON.stringify(counts);
    const busy = counts.waiting + counts.running + counts.scheduled + counts.stalled;
    if (busy > 0) quietSince = 0;
    else quietSince ||= Date.now();
    return quietSince > 0 && Date.now() - quietSince > 1000;
  }, 90_000, () => `the queue to drain on the new primary (still ${lastCounts})`);

  const all = Array.from({ length: JOBS }, (_, n) => `job-${n}`);
  const states = new Map<string, string>();
  const doneEntries = new Map<string, number>();
  for (let first = 0; first < all.length; first += 200) {
    for (const job of await producer.jobs.multiget(all.slice(first, first + 200))) {
      states.set(job.jid, job.state);
      doneEntries.set(job.jid, job.history.filter((entry) => entry.what === 'done').length);
    }
  }
  const completions = new Map<string, number>();
  const reconnectedAt = Math.min(...worker.lines('Redis reconnected', (line) => Number(line['time']) > killedAt).map((line) => Number(line['time'])));
  let workerBackAt = Infinity;
  for (const line of worker.lines('job completed')) {
    completions.set(line.jid!, (completions.get(line.jid!) ?? 0) + 1);
    if (Number(line['time']) >= reconnectedAt) workerBackAt = Math.min(workerBackAt, Number(line['time']));
  }
  const ackedList = [...acked];
  const figures: Figures = {
    jobs: JOBS,
    acknowledged: acked.size,
    refused,
    putsLost: ackedList.filter((jid) => !states.has(jid)).length,
    completedTwice: [...completions.values()].filter((count) => count > 1).length,
    notCompleted: ackedList.filter((jid) => states.has(jid) && states.get(jid) !== 'complete').length,
    failoverMs: promotedAt - killedAt,
    producerRecoverMs: producerBackAt ? producerBackAt - killedAt : null,
    workerRecoverMs: Number.isFinite(workerBackAt) ? workerBackAt - killedAt : null,
    completionsRefused: worker.lines('could not complete the job').length,
  };
  console.log(`sentinel failover (${durable ? `durable: WAIT ${DURABILITY.replicas} replica, ${DURABILITY.timeoutMs} ms` : 'no durability'}): ${JSON.stringify(figures)}`);
  return { figures, acked, states, doneEntries, completions, oldPrimary, newPrimary };
}

describe('a worker daemon through a Sentinel failover', () => {
  it('without durability: the run finishes on the promoted replica, and what the lag cost is counted', { timeout: 180_000 }, async () => {
    const run = await failoverRun(false);
    expect(run.newPrimary).not.toBe(run.oldPrimary);
    // Every job the new primary has was run to completion there: nothing is stuck.
    expect([...run.states.values()].filter((state) => state !== 'complete')).toEqual([]);
    for (const [jid] of run.states) expect(run.completions.get(jid) ?? 0, jid).toBeGreaterThanOrEqual(1);
    expect(run.figures.refused).toBe(0);
  });

  it('with --wait-replicas 1: every job whose put returned completes exactly once', { timeout: 180_000 }, async () => {
    const run = await failoverRun(true);
    expect(run.newPrimary).not.toBe(run.oldPrimary);
    // The stall was seen: writes in it were refused, not acknowledged.
    expect(run.figures.refused).toBeGreaterThan(0);
    expect(run.figures.putsLost).toBe(0);
    for (const jid of run.acked) {
      expect(run.states.get(jid), jid).toBe('complete');
      expect(run.doneEntries.get(jid), jid).toBe(1);
      // Never acknowledged twice: no completion the worker was told of was lost and redone.
      // (It may be 0: a completion applied but not confirmed in time is reported, not acknowledged.)
      expect(run.completions.get(jid) ?? 0, jid).toBeLessThanOrEqual(1);
    }
    expect(run.figures.completedTwice).toBe(0);
  });
});
