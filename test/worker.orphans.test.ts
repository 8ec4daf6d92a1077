/**
 * Orphans: when the supervisor is killed with `kill -9`, its children stop
 * their jobs and exit within a few seconds, even a child whose job blocks
 * its event loop (its watchdog thread kills it); and a new daemon started
 * with the same `--name --resume` meanwhile does not take a job whose holder
 * is still alive, but takes it once the holder is gone.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { alive, FIXTURES, sleep, state, until, useWorkers, type WorkerProcess } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

/** The children's pids from the runs they recorded (`<jid> <pid> <queue>` in fixture:runs). */
async function runs(client: qless.Client): Promise<Array<{ jid: string; pid: number }>> {
  return (await client.redis.lrange('fixture:runs', 0, -1)).map((line) => {
    const [jid, pid] = line.split(' ');
    return { jid: jid!, pid: Number(pid) };
  });
}

/** Kill the supervisor with SIGKILL; resolve with when each of `pids` was first seen gone (ms after the kill). */
async function killSupervisor(worker: WorkerProcess, pids: readonly number[], ms = 20_000): Promise<Map<number, number>> {
  const killed = Date.now();
  worker.signal('SIGKILL');
  const gone = new Map<number, number>();
  await until(() => {
    for (const pid of pids) if (!gone.has(pid) && !alive(pid)) gone.set(pid, Date.now() - killed);
    return gone.size === pids.length;
  }, ms, () => `the orphans ${pids.filter((pid) => !gone.has(pid)).join(', ')} to exit`);
  return gone;
}

describe('qless-ts-worker orphans', { timeout: 60_000 }, () => {
  it('children of a supervisor killed with SIGKILL stop within seconds, also one whose job blocks its event loop', async () => {
    const client = qless.client(ctx.url);
    const busy = await client.queue('orphan').put('timing.Busy', { ms: 60_000 });
    const sleepy = await client.queue('orphan').put('timing.Sleep', { ms: 60_000 });
    // --grace 30: an orphan must not wait for it.
    const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'orphan', '-w', '2', '-i', '0.2', '-n', 'orphan', '--grace', '30']);
    await until(async () => (await runs(client)).length === 2, 30_000, 'both jobs to start');
    const byJid = new Map((await runs(client)).map((run) => [run.jid, run.pid]));
    const busyPid = byJid.get(busy)!;
    const sleepyPid = byJid.get(sleepy)!;
    const gone = await killSupervisor(worker, [busyPid, sleepyPid]);
    console.log(`orphans survived their supervisor by: CPU-bound job ${gone.get(busyPid)} ms, I/O-bound job ${gone.get(sleepyPid)} ms`);
    // A few seconds at most (the watchdog kills after 2 s; room for a loaded machine).
    expect(gone.get(busyPid)).toBeLessThan(6000);
    expect(gone.get(sleepyPid)).toBeLessThan(6000);
    expect(worker.lines('the supervisor is gone and this child did not stop (a job blocks its event loop): killing it').map((line) => line.pid)).toEqual([busyPid]);
    expect(worker.lines("the supervisor is gone: stopping this child's jobs and exiting").map((line) => line.pid)).toContain(sleepyPid);
    // Neither job was completed: both stay locked, for their lock's expiry or a --resume.
    for (const jid of [busy, sleepy]) expect((await state(client, jid)).state).toBe('running');
    await client.close();
  });

  it('--resume waits for a live orphan holding a job to exit, then takes the job; the two runs never overlap', async () => {
    const client = qless.client(ctx.url);
    const jid = await client.queue('again').put('timing.Busy', { ms: 60_000 });
    const first = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'again', '-w', '1', '-i', '0.2', '-n', 'again']);
    await until(async () => (await runs(client)).length === 1, 30_000, 'the job to start');
    const orphan = (await runs(client))[0]!.pid;
    await client.queue('again').put('timing.WhoAmI', {}); // something for the new daemon's children meanwhile
    // Kill the supervisor and start the new daemon at once, while the orphan still runs the job.
    first.signal('SIGKILL');
    const started = Date.now();
    const second = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'again', '-w', '1', '-i', '0.2', '-n', 'again', '--resume']);
    const waiting = await second.waitFor('jobs to resume are held by processes of this worker name that are still alive (orphans of a killed daemon?); waiting for them to exit');
    expect(waiting['holders']).toEqual([`again-${orphan}`]);
    let orphanGone = 0;
    await until(() => {
      if (!alive(orphan)) orphanGone = Date.now();
      return orphanGone > 0;
    }, 20_000, 'the orphan to exit');
    await second.waitFor('resuming job', (line) => line.jid === jid);
    await until(async () => (await runs(client)).length === 2, 30_000, 'the job to run again');
    // The second run started only after the orphan was gone (the run is recorded when it starts).
    const [, again] = await runs(client);
    expect(again!.pid).not.toBe(orphan);
    const resumedAt = Number(second.lines('resuming job', (line) => line.jid === jid)[0]!.time);
    expect(resumedAt).toBeGreaterThanOrEqual(orphanGone - 100);
    console.log(`--resume waited ${orphanGone - started} ms for the orphan; took its job ${resumedAt - started} ms after starting`);
    await client.close();
  });

  it('--resume leaves alone a job whose holder process of this name is still alive', async () => {
    const client = qless.client(ctx.url);
    // A process that passes for a child of a daemon named "live" (its environment says so).
    const holder = spawn('sleep', ['60'], { env: { ...process.env, QLESS_TS_WORKER_NAME: 'live' }, stdio: 'ignore' });
    try {
      const popper = qless.client(ctx.url, { workerName: `live-${holder.pid}` });
      const jid = await popper.queue('kept').put('timing.WhoAmI', {});
      await popper.queue('kept').pop();
      await popper.close();
      const worker = workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'kept', '-w', '1', '-i', '0.2', '-n', 'live', '--resume']);
      const left = await worker.waitFor('not resuming jobs whose holder is still alive; they come back when their locks expire', () => true, 30_000);
      expect(left).toMatchObject({ holders: [`live-${holder.pid}`], jids: [jid] });
      await worker.started(1);
      await sleep(500);
      const job = await state(client, jid);
      expect([job.state, job.worker]).toEqual(['running', `live-${holder.pid}`]);
      expect(worker.lines('resuming job')).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
    await client.close();
  });
});
