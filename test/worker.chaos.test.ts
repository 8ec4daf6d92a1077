/**
 * Chaos: a few hundred jobs run while the test kills children and the
 * supervisor with SIGKILL, starts the daemon again (with and without
 * --resume), kills and restarts Redis (AOF on, fsync on every write) and
 * flushes its scripts and functions. Every job records the start and end of
 * each run with its pid in a file; at the end every job must have completed
 * exactly once in the core, and no two runs of one job may have overlapped
 * in time (a run cut short by a SIGKILL ended when its process was seen
 * gone). The figures are printed and asserted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { RedisServer } from './support/redis-server.js';
import { alive, FIXTURES, serverPid, sleep, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const workers = useWorkers();

const JOBS = 300;
/** Lock length (s) and grace period (s) in the core. */
const LOCK_S = 5;
const GRACE_S = 2;
/** What the test does, one step every STEP_MS, while jobs are left. */
const PLAN = ['child', 'redis', 'child', 'flush', 'supervisor --resume', 'child', 'redis', 'child', 'supervisor', 'flush', 'child', 'redis'] as const;
type Action = (typeof PLAN)[number];
const STEP_MS = 1200;

interface Run {
  jid: string;
  pid: number;
  start: number;
  end: number;
}

/** Pair each run's start with its end; a run without an end ended when its process was first seen gone. */
function runsFrom(log: string, deaths: ReadonlyMap<number, number>): Run[] {
  const runs: Run[] = [];
  const open = new Map<string, Run[]>();
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const [kind, jid, pid, at] = line.split(' ');
    const key = `${jid} ${pid}`;
    if (kind === 'S') {
      const run = { jid: jid!, pid: Number(pid), start: Number(at), end: Number.POSITIVE_INFINITY };
      runs.push(run);
      open.set(key, [...(open.get(key) ?? []), run]);
    } else {
      const run = open.get(key)?.shift();
      if (run) run.end = Number(at);
    }
  }
  for (const run of runs) if (run.end === Number.POSITIVE_INFINITY) run.end = deaths.get(run.pid) ?? Number.POSITIVE_INFINITY;
  return runs;
}

/** Runs of one job that overlap in time. */
function overlaps(runs: readonly Run[]): string[] {
  const byJid = new Map<string, Run[]>();
  for (const run of runs) byJid.set(run.jid, [...(byJid.get(run.jid) ?? []), run]);
  const found: string[] = [];
  for (const [jid, list] of byJid) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const [before, after] = [list[i - 1]!, list[i]!];
      if (before.end > after.start) found.push(`${jid}: pid ${before.pid} ran until ${before.end}, pid ${after.pid} started at ${after.start}`);
    }
  }
  return found;
}

describe('qless-ts-worker under chaos', () => {
  it('completes every job exactly once, with no two runs of a job at the same time, through kills, restarts and flushes', async () => {
    const began = Date.now();
    const server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const waiting = { maxRetriesPerRequest: null, retryStrategy: () => 50 };
    const admin = new Redis(server.url, waiting);
    admin.on('error', () => undefined);
    const client = qless.client(server.url, waiting);
    client.redis.on('error', () => undefined);
    const deaths = new Map<number, number>();
    const daemons: WorkerProcess[] = [];
    const done: Record<Action, number> = { child: 0, redis: 0, flush: 0, supervisor: 0, 'supervisor --resume': 0 };
    let orphanSurvivalMs = 0;
    const pidsOf = (daemon: WorkerProcess): number[] => [daemon.pid, ...daemon.lines('child forked').map((line) => Number(line.childPid))];
    // Note when each process of the daemons is first seen gone.
    const watcher = setInterval(() => {
      for (const pid of daemons.flatMap(pidsOf)) if (!deaths.has(pid) && !alive(pid)) deaths.set(pid, Date.now());
    }, 20);
    try {
      await client.config.set(`chaos-heartbeat`, LOCK_S);
      await client.config.set('grace-period', GRACE_S);
      const log = join(workers.tmp(), 'runs.log');
      writeFileSync(log, '');
      const queue = client.queue('chaos');
      const jids: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        // Mostly short sleeps; one in eight keeps the CPU busy. One in 25
        // runs longer than a lock plus the grace period (a third of those
        // CPU-bound), so that killed supervisors leave orphans in the middle
        // of a job: one still running it once the core hands it out again,
        // or once a --resume takes it, would overlap the next run.
        const long = i % 25 === 5;
        const cpu = long ? i % 75 === 5 : i % 8 === 3;
        const ms = long ? (cpu ? 6000 : 8000 + ((i * 71) % 1500)) : cpu ? 150 + ((i * 37) % 300) : 50 + ((i * 53) % 300);
        jids.push(await queue.put('chaos.Record', { log, ms, cpu }, { retries: 20 }));
      }
      const startDaemon = (resume: boolean): WorkerProcess => {
        const daemon = workers.start(['--host', server.url, '-p', FIXTURES, '-q', 'chaos', '-w', '4', '-c', '2', '-i', '0.2', '-n', 'chaos', ...(resume ? ['--resume'] : [])]);
        daemons.push(daemon);
        return daemon;
      };
      let daemon = startDaemon(false);
      await daemon.started(4);

      const left = async (): Promise<number> => {
        try {
          let complete = 0;
          for (let i = 0; i < jids.length; i += 100) complete += (await client.jobs.multiget(jids.slice(i, i + 100))).filter((job) => job.state === 'complete').length;
          return jids.length - complete;
        } catch {
          return jids.length; // Redis is restarting
        }
      };

      for (const action of PLAN) {
        await sleep(STEP_MS);
        if ((await left()) === 0) break;
        if (action === 'child') {
          // A daemon started a moment ago may still be starting its children.
          const current = daemon;
          await until(() => current.liveChildren().some((pid) => alive(pid)), 15_000, 'a child to kill');
          const busy = new Set(readFileSync(log, 'utf8').split('\n').slice(-20).map((line) => Number(line.split(' ')[2])));
          const children = daemon.liveChildren().filter((pid) => alive(pid));
          process.kill(children.find((pid) => busy.has(pid)) ?? children[0]!, 'SIGKILL');
        } else if (action === 'redis') {
          const pid = await serverPid(admin);
          process.kill(pid, 'SIGKILL');
          await until(() => !alive(pid), 10_000, 'redis-server to die');
          await server.start();
        } else if (action === 'flush') {
          await admin.script('FLUSH');
          await admin.function('FLUSH');
        } else {
          const orphans = daemon.liveChildren().filter((pid) => alive(pid));
          const killed = Date.now();
          daemon.signal('SIGKILL');
          daemon = startDaemon(action === 'supervisor --resume');
          void until(() => orphans.every((pid) => deaths.has(pid)), 20_000, 'the orphans to exit').then(() => {
            for (const pid of orphans) orphanSurvivalMs = Math.max(orphanSurvivalMs, deaths.get(pid)! - killed);
          }, () => undefined);
        }
        done[action]++;
      }

      await until(async () => (await left()) === 0, 90_000, () => `every job to complete\n${daemon.tail(30)}`);
      daemon.signal('SIGTERM');
      await daemon.waitExit(20_000);
      await until(() => daemons.flatMap(pidsOf).every((pid) => deaths.has(pid)), 20_000, 'every process of the daemons to be gone');

      const jobs: qless.Job[] = [];
      for (let i = 0; i < jids.length; i += 100) jobs.push(...(await client.jobs.multiget(jids.slice(i, i + 100))));
      const notOnce = jobs.filter((job) => job.state !== 'complete' || job.history.filter((h) => h.what === 'done').length !== 1);
      const runs = runsFrom(log, deaths);
      const unended = runs.filter((run) => run.end === Number.POSITIVE_INFINITY);
      const overlapping = overlaps(runs);
      const ranJobs = new Set(runs.map((run) => run.jid)).size;
      console.log(
        `chaos: ${JOBS} jobs, ${runs.length} runs (${runs.length - ranJobs} re-runs), ${overlapping.length} overlaps; ` +
          `killed ${done.child} children and ${done.supervisor + done['supervisor --resume']} supervisors ` +
          `(daemon restarted ${done['supervisor --resume']}× with --resume, ${done.supervisor}× without), ` +
          `Redis killed and restarted ${done.redis}×, scripts and functions flushed ${done.flush}×; ` +
          `orphans outlived their supervisor by ${orphanSurvivalMs} ms at most; ${((Date.now() - began) / 1000).toFixed(1)} s`,
      );
      expect(notOnce.map((job) => `${job.jid} ${job.state} ${job.history.map((h) => h.what).join(',')}`)).toEqual([]);
      expect(ranJobs).toBe(JOBS);
      expect(unended).toEqual([]);
      expect(overlapping).toEqual([]);
      for (const action of Object.keys(done) as Action[]) expect(done[action], action).toBeGreaterThan(0);
      expect(orphanSurvivalMs).toBeLessThan(6000);
    } finally {
      clearInterval(watcher);
      admin.disconnect();
      await client.close().catch(() => undefined);
      await server.dispose();
    }
  }, 150_000);
});
