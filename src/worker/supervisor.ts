/**
 * The supervisor (the parent process of `qless-ts-worker`).
 *
 * It forks `--workers` children (src/worker/child-main.ts), each in its own
 * sandbox directory, and keeps them at that number: a child that dies is
 * replaced after a back-off (src/worker/backoff.ts), its jobs given back to
 * their queues and its name dropped from the worker list
 * (src/worker/leftovers.ts); a child that asks to be recycled (reload,
 * `--max-jobs`, `--max-memory`) is replaced at once. From the children's
 * `claim`/`release` messages it knows which jobs each one runs or holds
 * (popped ahead, see src/worker/ahead.ts), and it:
 *
 * - heartbeats them (src/worker/heartbeats.ts), so locks survive jobs that
 *   block their child's event loop; a refused heartbeat aborts the job. Most
 *   claims go out just after the job started (src/worker/parent.ts), so for
 *   a child silent for 2.5 pings it also heartbeats the jobs Redis lists
 *   under the child's name that it has not claimed yet
 *   (src/worker/listed-jobs.ts);
 * - enforces `--timeout`: the job is failed with group `<queue>-timeout`
 *   and aborted;
 * - kills a child whose job was aborted but keeps its event loop blocked
 *   (no answer to pings), and replaces it;
 * - kills a child that stays stopped by a signal (SIGSTOP) for
 *   STOPPED_KILL_MS, and replaces it: its jobs would otherwise stay locked
 *   and heartbeated while nothing runs them;
 * - recycles children whose job modules changed on disk (src/worker/reload.ts);
 * - with `--resume`, hands the jobs still held under this worker's name to
 *   its first children, once their holders are gone (src/worker/resume.ts);
 * - keeps the zone tables of its queues' cron jobs fresh
 *   (src/worker/zone-tables.ts).
 *
 * With `--metrics-port` it serves Prometheus metrics (src/worker/metrics.ts);
 * with those, or with job event listeners registered in it (src/hooks.ts, by
 * an `--import` module), it asks its children to relay their job events.
 *
 * Shutdown (see src/worker/signals.ts for the whole table): SIGTERM/SIGINT
 * tell the children to stop popping and finish their jobs within `--grace`
 * seconds; a second signal, or the end of the grace period, tells them to
 * stop at once and kills those that do not. The supervisor exits 0 once
 * every child is gone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as qless from '../index.js';
import type { Client } from '../client.js';
import { ScriptError } from '../errors.js';
import { hooks, type JobEventMap } from '../hooks.js';
import { Backoff } from './backoff.js';
import { Heartbeater } from './heartbeats.js';
import { settleDeadChild } from './leftovers.js';
import { completedByHolder } from './lock.js';
import { ListedJobs } from './listed-jobs.js';
import { importPreload } from './loader.js';
import { createLogger, errorFields, setTitle, type Logger } from './logger.js';
import type { WorkerMetrics } from './metrics.js';
import { redactUrl, type WorkerOptions } from './options.js';
import { stoppedBySignal } from './process-state.js';
import {
  PING_EVERY_MS,
  SILENT_CHILD_MS,
  STOPPED_KILL_MS,
  UNRESPONSIVE_KILL_MS,
  isChildMessage,
  type AbortKind,
  type ChildMessage,
  type ClaimedRun,
  type ParentMessage,
  type RelayedEvent,
  type RelaySettings,
  type ResumeJob,
} from './protocol.js';
import { ReloadWatcher } from './reload.js';
import { WAITING_REDIS_OPTIONS, watchEviction, watchRedis, type RedisHealth } from './redis-health.js';
import { NAME_ENV, findResumable, splitAmong, withoutLiveHolders } from './resume.js';
import { sandboxDir } from './sandbox.js';
import { EXIT } from './signals.js';
import { claimWorkdir, releaseWorkdir, WorkdirInUseError } from './workdir-claim.js';
import { warnUnknownQueues } from './queue-check.js';
import { ZoneTableKeeper } from './zone-tables.js';

/** A job a child runs, as the supervisor tracks it. */
interface RunInfo extends ClaimedRun {
  key: string;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** When an abort was sent for it. */
  abortedAt: number | undefined;
}

/** One child position (its sandbox index) and the process holding it. */
interface Slot {
  index: number;
  child: ChildProcess | undefined;
  pid: number | undefined;
  worker: string | undefined;
  startedAt: number;
  runs: Map<number, RunInfo>;
  /** Files the child imported, with their modification time then. */
  loaded: Map<string, number>;
  recycling: string | undefined;
  lastPong: number;
  lastPing: number;
  /** Since when the child has been seen stopped by a signal (undefined: it was not, last time it was silent). */
  stoppedSince: number | undefined;
  rss: number | undefined;
  stopNowAt: number | undefined;
  backoff: Backoff;
  restartTimer: NodeJS.Timeout | undefined;
  /** Resume share for the child about to be forked (first children only). */
  resume: ResumeJob[];
}

/** Stop-now: children still there after this long are killed. */
const STOP_NOW_KILL_MS = 2000;
/** At exit, how long the supervisor waits for the clean-up after dead children (ms). */
const SETTLE_WAIT_MS = 3000;
/** A recycled child that lived less than this is replaced with back-off. */
const YOUNG_RECYCLE_MS = 1000;
/** Room for the process title (Linux limits it to the length of the original command line). */
const TITLE_ROOM = ' '.repeat(120);

function childEntry(): string {
  const self = import.meta.url;
  return fileURLToPath(new URL(self.endsWith('.ts') ? './child-main.ts' : './child-main.js', self));
}

// Children must not inherit a debugger port.
function childExecArgv(): string[] {
  return process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));
}

export class Supervisor {
  readonly #options: WorkerOptions;
  readonly #log: Logger;
  readonly #slots: Slot[];
  /** Every tracked run by its heartbeat key. */
  readonly #byKey = new Map<string, { slot: Slot; run: RunInfo }>();
  #client!: Client;
  #health: RedisHealth | undefined;
  #heartbeats!: Heartbeater;
  /** Heartbeats for jobs silent children have not claimed yet. */
  #listed!: ListedJobs;
  #watcher: ReloadWatcher | undefined;
  #metrics: WorkerMetrics | undefined;
  /** What the children relay (set once the --import modules are loaded). */
  #relay: RelaySettings | undefined;
  #pinger: NodeJS.Timeout | undefined;
  #pingSeq = 0;
  #stopping: 'graceful' | 'now' | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #done!: () => void;
  readonly #finished: Promise<void>;
  readonly #signalHandlers = new Map<NodeJS.Signals, () => void>();
  /** Clean-up after dead children still going on. */
  readonly #settling = new Set<Promise<void>>();
  readonly #cleanups: Array<() => void> = [];

  constructor(options: WorkerOptions, log?: Logger) {
    this.#options = options;
    this.#log = log ?? createLogger(options, { role: 'supervisor' });
    this.#slots = Array.from({ length: options.workers }, (_, index) => ({
      index,
      child: undefined,
      pid: undefined,
      worker: undefined,
      startedAt: 0,
      runs: new Map(),
      loaded: new Map(),
      recycling: undefined,
      lastPong: 0,
      lastPing: 0,
      stoppedSince: undefined,
      rss: undefined,
      stopNowAt: undefined,
      backoff: new Backoff(),
      restartTimer: undefined,
      resume: [],
    }));
    this.#finished = new Promise((resolve) => {
      this.#done = resolve;
    });
  }

  get log(): Logger {
    return this.#log;
  }

  /** Run until shut down; resolves with the exit status. */
  async run(): Promise<number> {
    const options = this.#options;
    this.#title();
    this.#installSignals();
    for (const specifier of options.imports) {
      try {
        await importPreload(specifier, options.launchDir);
        this.#log.debug({ module: specifier }, 'preloaded');
      } catch (error) {
        this.#log.fatal({ module: specifier, ...errorFields(error) }, `--import ${specifier} failed`);
        this.#removeSignals();
        return EXIT.FAILURE;
      }
    }
    try {
      mkdirSync(options.workdir, { recursive: true });
    } catch (error) {
      this.#log.fatal({ workdir: options.workdir, ...errorFields(error) }, 'cannot create the work directory');
      this.#removeSignals();
      return EXIT.FAILURE;
    }
    try {
      const claim = claimWorkdir(options.workdir);
      if (claim.replaced !== undefined) {
        const fields = { file: claim.file, earlier: claim.replaced };
        if (claim.unverified) this.#log.warn(fields, 'took over the work directory from a supervisor on another host that could not be checked; two supervisors must not share one --workdir');
        else this.#log.debug(fields, 'took over the work directory from a supervisor that is gone');
      }
    } catch (error) {
      const message = error instanceof WorkdirInUseError ? error.message : `cannot claim the work directory: ${error instanceof Error ? error.message : String(error)}`;
      this.#log.fatal({ workdir: options.workdir, ...errorFields(error) }, message);
      this.#removeSignals();
      return EXIT.FAILURE;
    }

    this.#client = qless.client(options.url, { workerName: `${options.name}-${process.pid}`, namespace: options.namespace, ...WAITING_REDIS_OPTIONS });
    this.#health = watchRedis(this.#client.redis, this.#log, redactUrl(options.url));
    const stopEvictionWatch = watchEviction(this.#client.redis, this.#log);
    this.#heartbeats = new Heartbeater(this.#client, this.#log, {
      lost: (key, error) => this.#onLost(key, error),
      renewed: (key, expires) => this.#onRenewed(key, expires),
    });
    this.#listed = new ListedJobs(this.#client, this.#log, this.#heartbeats);
    if (options.metricsPort !== undefined) {
      // prom-client is loaded only by a supervisor that serves metrics.
      const { WorkerMetrics } = await import('./metrics.js');
      const metrics = new WorkerMetrics({ children: () => this.#slots.filter((slot) => slot.child).length, redisUp: () => this.#health?.up ?? false });
      try {
        const port = await metrics.listen(options.metricsPort, options.metricsBind, this.#log);
        const host = options.metricsBind.includes(':') ? `[${options.metricsBind}]` : options.metricsBind;
        this.#log.info({ url: `http://${host}:${port}/metrics`, port }, 'serving metrics');
        this.#metrics = metrics;
      } catch (error) {
        this.#log.fatal({ ...errorFields(error), port: options.metricsPort, bind: options.metricsBind }, `cannot serve metrics on ${options.metricsBind}:${options.metricsPort}`);
        this.#health.stop();
        stopEvictionWatch();
        await this.#client.close().catch(() => undefined);
        releaseWorkdir(options.workdir);
        this.#removeSignals();
        return EXIT.FAILURE;
      }
    }
    // Children relay their job events only to a supervisor that uses them.
    if (this.#metrics || hooks.listening()) this.#relay = { start: hooks.listening('job:start') };
    if (options.reload) this.#watcher = new ReloadWatcher(this.#log, (file, mtimeMs) => this.#onFileChanged(file, mtimeMs));

    this.#log.info(
      {
        queues: options.queues, workers: options.workers, concurrency: options.concurrency, name: options.name,
        url: redactUrl(options.url), paths: options.paths, workdir: options.workdir, interval: options.interval,
        timeout: options.timeout || undefined, grace: options.grace, maxJobs: options.maxJobs || undefined,
        maxMemory: options.maxMemory || undefined, reload: options.reload, resume: options.resume,
      },
      'supervisor started',
    );

    if (options.resume) {
      try {
        // Waits for Redis if it is away; a shutdown meanwhile wins.
        const resumable = findResumable(this.#client, options.name, options.queues, new Set()).then((found) => withoutLiveHolders(found, options.name, this.#log));
        const jobs = await Promise.race([resumable, this.#finished.then(() => [])]);
        splitAmong(jobs, this.#slots.length).forEach((share, k) => {
          this.#slots[k]!.resume = share;
        });
        if (!this.#stopping) this.#log.info({ jobs: jobs.length }, jobs.length > 0 ? 'resuming jobs still held under this worker name' : 'nothing to resume');
      } catch (error) {
        this.#log.error({ ...errorFields(error) }, 'could not look for jobs to resume');
      }
    }

    for (const slot of this.#slots) if (!this.#stopping) this.#fork(slot);
    void warnUnknownQueues(this.#client, options.queues, this.#log);
    this.#pinger = setInterval(() => this.#tick(), PING_EVERY_MS);
    const zoneTables = new ZoneTableKeeper(this.#client, options.queues, this.#log);
    zoneTables.start();
    this.#checkDone();
    await this.#finished;

    clearInterval(this.#pinger);
    await Promise.race([zoneTables.stop(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    if (this.#killTimer) clearTimeout(this.#killTimer);
    this.#heartbeats.close();
    await Promise.race([Promise.all(this.#settling), new Promise((resolve) => setTimeout(resolve, SETTLE_WAIT_MS).unref())]);
    await this.#watcher?.close();
    await this.#metrics?.close();
    this.#health.stop();
    stopEvictionWatch();
    await Promise.race([this.#client.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    releaseWorkdir(options.workdir);
    this.#removeSignals();
    this.#log.info('supervisor exiting');
    return EXIT.OK;
  }

  /** Graceful stop: `deadline` seconds for running jobs (undefined: no deadline). */
  stop(deadline: number | undefined, why: string): void {
    if (this.#stopping) {
      this.stopNow(`${why} again`);
      return;
    }
    this.#stopping = 'graceful';
    const running = this.#slots.reduce((n, slot) => n + slot.runs.size, 0);
    this.#log.info({ reason: why, running, grace: deadline }, deadline === undefined ? 'shutting down: waiting for running jobs to finish' : `shutting down: running jobs have ${deadline} s to finish`);
    for (const slot of this.#slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      this.#send(slot, { type: 'stop', now: false });
    }
    if (deadline !== undefined) {
      this.#graceTimer = setTimeout(() => this.stopNow(`the --grace period of ${deadline} s is over`), deadline * 1000);
    }
    this.#title();
    this.#checkDone();
  }

  /** Stop at once: children abort their jobs and exit; those that cannot are killed. */
  stopNow(why: string): void {
    if (this.#stopping === 'now') return;
    this.#stopping = 'now';
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    const left = this.#slots.filter((slot) => slot.child).flatMap((slot) => [...slot.runs.values()].map((run) => run.jid));
    this.#log.warn({ reason: why, abandoned: left }, 'stopping now: unfinished jobs are handed out again when their locks expire');
    const now = Date.now();
    for (const slot of this.#slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      slot.stopNowAt = now;
      this.#send(slot, { type: 'stop', now: true });
    }
    this.#killTimer = setTimeout(() => {
      for (const slot of this.#slots) this.#kill(slot, 'did not stop in time');
    }, STOP_NOW_KILL_MS);
    this.#title();
    this.#checkDone();
  }

  /** Replace every child once its running jobs are done (SIGHUP). */
  recycleAll(why: string): void {
    if (this.#stopping) return;
    this.#log.info({ reason: why }, 'recycling every child');
    for (const slot of this.#slots) this.#recycle(slot, why);
  }

  /** Log each child and its jobs (SIGUSR2). */
  logStatus(): void {
    const now = Date.now();
    this.#log.info(
      {
        stopping: this.#stopping,
        heartbeating: this.#heartbeats?.size ?? 0,
        heartbeatingUnclaimed: this.#listed?.size ?? 0,
        watching: this.#watcher?.size ?? 0,
        children: this.#slots.map((slot) => ({
          index: slot.index,
          pid: slot.pid,
          worker: slot.worker,
          recycling: slot.recycling,
          rss: slot.rss,
          running: [...slot.runs.values()].map((run) => ({ jid: run.jid, klass: run.klass, queue: run.queue, seconds: (now - run.startedAt) / 1000 })),
        })),
      },
      'supervisor status',
    );
    for (const slot of this.#slots) this.#send(slot, { type: 'status' });
  }

  #installSignals(): void {
    const on = (signal: NodeJS.Signals, handler: () => void): void => {
      this.#signalHandlers.set(signal, handler);
      process.on(signal, handler);
    };
    on('SIGTERM', () => this.stop(this.#options.grace, 'SIGTERM'));
    on('SIGINT', () => this.stop(this.#options.grace, 'SIGINT'));
    on('SIGQUIT', () => this.stop(undefined, 'SIGQUIT'));
    on('SIGHUP', () => this.recycleAll('SIGHUP'));
    on('SIGUSR2', () => this.logStatus());
    // A bug in the supervisor: say so and go. The children notice that
    // their supervisor is gone and stop by themselves within --grace.
    const fatal = (error: unknown): void => {
      this.#log.fatal({ ...errorFields(error) }, 'supervisor failed');
      process.exit(EXIT.FAILURE);
    };
    process.on('uncaughtException', fatal);
    this.#cleanups.push(() => process.off('uncaughtException', fatal));
  }

  #removeSignals(): void {
    for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    this.#signalHandlers.clear();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }

  #title(): void {
    const alive = this.#slots.filter((slot) => slot.child).length;
    if (this.#stopping) setTitle(`supervisor stopping${this.#stopping === 'now' ? ' now' : ''}, ${alive} child(ren) left`);
    else setTitle(`supervisor of ${this.#slots.length} child(ren) (${this.#options.name}), queues ${this.#options.queues.join(', ')}`);
  }

  #send(slot: Slot, message: ParentMessage): void {
    const child = slot.child;
    if (!child || !child.connected) return;
    try {
      child.send(message, (error) => {
        if (error) this.#log.debug({ child: slot.index, error: error.message }, 'could not message a child');
      });
    } catch (error) {
      this.#log.debug({ child: slot.index, error: (error as Error).message }, 'could not message a child');
    }
  }

  #fork(slot: Slot): void {
    slot.restartTimer = undefined;
    if (this.#stopping) return;
    const dir = sandboxDir(this.#options.workdir, slot.index);
    let child: ChildProcess;
    try {
      mkdirSync(dir, { recursive: true });
      child = fork(childEntry(), ['qless-ts-worker-child', String(slot.index), TITLE_ROOM], {
        cwd: dir,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: childExecArgv(),
        env: { ...process.env, QLESS_TS_WORKER_CHILD: String(slot.index), [NAME_ENV]: this.#options.name },
        serialization: 'json',
      });
    } catch (error) {
      this.#log.error({ child: slot.index, ...errorFields(error) }, 'could not start a child');
      this.#scheduleRestart(slot, slot.backoff.delay(0));
      return;
    }
    const resume = slot.resume;
    slot.resume = [];
    slot.child = child;
    slot.pid = child.pid;
    slot.worker = undefined;
    slot.startedAt = Date.now();
    slot.runs = new Map();
    slot.loaded = new Map();
    slot.recycling = undefined;
    slot.lastPong = Date.now();
    slot.lastPing = 0;
    slot.stoppedSince = undefined;
    slot.rss = undefined;
    slot.stopNowAt = undefined;
    this.#log.info({ child: slot.index, childPid: child.pid }, 'child forked');
    child.on('message', (message: unknown) => {
      if (isChildMessage(message)) this.#onMessage(slot, child, message, resume);
    });
    child.once('exit', (code, signal) => this.#onExit(slot, child, code, signal));
    child.on('error', (error) => this.#log.warn({ child: slot.index, ...errorFields(error) }, 'child process error'));
    this.#title();
  }

  #onMessage(slot: Slot, child: ChildProcess, message: ChildMessage, resume: ResumeJob[]): void {
    if (slot.child !== child) return;
    switch (message.type) {
      case 'hello':
        this.#send(slot, { type: 'init', init: { index: slot.index, options: this.#options, resume, ...(this.#relay ? { relay: this.#relay } : {}) } });
        if (this.#stopping) this.#send(slot, { type: 'stop', now: this.#stopping === 'now' });
        break;
      case 'ready':
        slot.worker = message.worker;
        break;
      case 'claim':
        for (const runId of message.released) this.#untrack(slot, runId);
        for (const runId of message.done ?? []) this.#codeDone(slot, runId);
        for (const claimed of message.runs) {
          this.#listed.claimed(slot.pid, claimed.jid);
          this.#track(slot, claimed);
        }
        break;
      case 'release':
        for (const runId of message.runs) this.#untrack(slot, runId);
        break;
      case 'started':
        for (const runId of message.done ?? []) this.#codeDone(slot, runId);
        for (const runId of message.runs) this.#started(slot, runId);
        break;
      case 'aborted': {
        const run = slot.runs.get(message.runId);
        if (!run) break;
        if (run.timer) clearTimeout(run.timer);
        run.timer = undefined;
        this.#heartbeats.untrack(run.key);
        run.abortedAt ??= Date.now();
        break;
      }
      case 'loaded':
        for (const { file, mtimeMs } of message.files) slot.loaded.set(file, mtimeMs);
        this.#watcher?.add(message.files);
        break;
      case 'recycling':
        slot.recycling = message.reason;
        break;
      case 'pong':
        slot.lastPong = Date.now();
        slot.rss = message.rss;
        this.#listed.answered(slot.pid);
        break;
      case 'jobs':
        for (const event of message.events) this.#onJobEvent(event);
        break;
    }
  }

  /** A child's job event: count it, and tell the listeners registered here. */
  #onJobEvent(relayed: RelayedEvent): void {
    this.#metrics?.observe(relayed);
    if (!hooks.listening(relayed.event)) return;
    const job = relayed.job;
    const finished = { job, queue: job.queue, attempt: job.attempt, durationMs: relayed.durationMs ?? 0 };
    const error = (): Error => {
      const rebuilt = new Error(relayed.error?.message ?? '');
      rebuilt.name = relayed.error?.name ?? 'Error';
      if (relayed.error?.stack !== undefined) rebuilt.stack = relayed.error.stack;
      return rebuilt;
    };
    const onError = (failure: unknown, event: string): void => this.#log.warn({ event, jid: job.jid, ...errorFields(failure) }, 'a job event listener failed');
    const emit = <E extends keyof JobEventMap>(event: E, payload: JobEventMap[E]): void => hooks.emit(event, payload, onError);
    switch (relayed.event) {
      case 'job:start':
        return emit('job:start', { job });
      case 'job:complete':
        return emit('job:complete', finished);
      case 'job:fail':
        return emit('job:fail', { ...finished, group: relayed.group ?? '', error: error() });
      case 'job:retry':
        return emit('job:retry', { ...finished, group: relayed.group ?? '', delay: relayed.delay ?? 0, error: error() });
      case 'job:lost':
        return emit('job:lost', { ...finished, reason: relayed.reason ?? '' });
      case 'job:timeout':
        return emit('job:timeout', finished);
      case 'job:canceled':
        return emit('job:canceled', finished);
    }
  }

  #track(slot: Slot, claimed: ClaimedRun): void {
    const key = `${slot.pid}:${claimed.runId}`;
    const run: RunInfo = { ...claimed, key, startedAt: Date.now(), timer: undefined, abortedAt: undefined };
    slot.runs.set(claimed.runId, run);
    this.#byKey.set(key, { slot, run });
    this.#heartbeats.track({ key, jid: run.jid, worker: run.worker, queue: run.queue, expires: run.expires });
    // A job popped ahead is not timed before it starts.
    if (!claimed.waiting) this.#armTimeout(slot, run);
  }

  #armTimeout(slot: Slot, run: RunInfo): void {
    const { timeout } = this.#options;
    if (timeout > 0) run.timer = setTimeout(() => void this.#onTimeout(slot, run), timeout * 1000);
  }

  /** A job popped ahead started: its --timeout counts from now. */
  #started(slot: Slot, runId: number): void {
    const run = slot.runs.get(runId);
    if (!run || run.abortedAt !== undefined || run.timer) return;
    run.startedAt = Date.now();
    this.#armTimeout(slot, run);
  }

  /** A run's code is over (its completion is on its way): no more --timeout for it. */
  #codeDone(slot: Slot, runId: number): void {
    const run = slot.runs.get(runId);
    if (!run?.timer) return;
    clearTimeout(run.timer);
    run.timer = undefined;
  }

  #untrack(slot: Slot, runId: number): void {
    const run = slot.runs.get(runId);
    if (!run) return;
    if (run.timer) clearTimeout(run.timer);
    this.#heartbeats.untrack(run.key);
    this.#byKey.delete(run.key);
    slot.runs.delete(runId);
  }

  #find(key: string): { slot: Slot; run: RunInfo } | undefined {
    const found = this.#byKey.get(key);
    return found && found.slot.runs.get(found.run.runId) === found.run ? found : undefined;
  }

  #abort(slot: Slot, run: RunInfo, kind: AbortKind, reason: string): void {
    if (run.timer) clearTimeout(run.timer);
    run.timer = undefined;
    this.#heartbeats.untrack(run.key);
    run.abortedAt ??= Date.now();
    this.#send(slot, { type: 'abort', runId: run.runId, jid: run.jid, kind, reason });
  }

  #onLost(key: string, error: Error): void {
    if (this.#listed.lost(key, error)) return;
    const found = this.#find(key);
    if (!found) return;
    const { slot, run } = found;
    const message = error instanceof ScriptError ? error.scriptMessage : error.message;
    if (/ not currently running: complete$/.test(message)) {
      // Most likely the child completed it and its release waits behind a
      // job that blocks the child's event loop: aborting would get the
      // child killed (#tick) under that job. Asked first.
      this.#heartbeats.untrack(run.key);
      void completedByHolder(this.#client, run.jid, run.worker).then((ours) => {
        if (slot.runs.get(run.runId) !== run) return;
        if (ours) this.#log.info({ child: slot.index, jid: run.jid }, 'heartbeat refused for a job this child completed; its release is on its way');
        else this.#lockLost(slot, run, message);
      });
      return;
    }
    this.#lockLost(slot, run, message);
  }

  #lockLost(slot: Slot, run: RunInfo, message: string): void {
    this.#log.info({ child: slot.index, jid: run.jid, klass: run.klass, error: message }, 'heartbeat refused: the job is not this worker\'s any more; aborting it');
    this.#abort(slot, run, 'lock_lost', message);
  }

  #onRenewed(key: string, expires: number): void {
    const found = this.#find(key);
    if (found) this.#send(found.slot, { type: 'expires', runId: found.run.runId, expires });
  }

  async #onTimeout(slot: Slot, run: RunInfo): Promise<void> {
    run.timer = undefined;
    if (slot.runs.get(run.runId) !== run) return;
    const { timeout } = this.#options;
    const group = `${run.queue}-timeout`;
    const message = `Job ${run.jid} (${run.klass}) ran longer than the worker's --timeout of ${timeout} s and was stopped (worker ${run.worker}, child ${slot.index})`;
    this.#log.warn({ child: slot.index, jid: run.jid, klass: run.klass, timeout, group }, 'job timed out; failing and aborting it');
    this.#heartbeats.untrack(run.key);
    try {
      await this.#client.call('fail', run.jid, run.worker, group, message);
    } catch (error) {
      this.#log.info({ jid: run.jid, error: (error as Error).message }, 'could not fail the timed-out job (it finished or moved meanwhile)');
    }
    if (slot.runs.get(run.runId) === run) this.#abort(slot, run, 'timeout', `ran longer than --timeout ${timeout} s`);
  }

  #onFileChanged(file: string, mtimeMs: number | undefined): void {
    for (const slot of this.#slots) {
      const loadedAt = slot.loaded.get(file);
      if (loadedAt === undefined || loadedAt === mtimeMs) continue;
      if (slot.child && !slot.recycling && !this.#stopping) this.#metrics?.reloaded();
      this.#recycle(slot, `${file} changed`);
    }
  }

  #recycle(slot: Slot, why: string): void {
    if (!slot.child || slot.recycling || this.#stopping) return;
    slot.recycling = why;
    this.#log.info({ child: slot.index, childPid: slot.pid, reason: why }, 'recycling child');
    this.#send(slot, { type: 'recycle', reason: why });
  }

  /** Ping children; kill those blocked by a job that will not stop. */
  #tick(): void {
    const now = Date.now();
    const seq = ++this.#pingSeq;
    for (const slot of this.#slots) {
      if (!slot.child) continue;
      // A child whose event loop is blocked cannot answer: do not pile up
      // pings in its channel meanwhile.
      if (slot.lastPong >= slot.lastPing || now - slot.lastPing > 10 * PING_EVERY_MS) {
        slot.lastPing = now;
        this.#send(slot, { type: 'ping', seq });
      }
      const silent = now - slot.lastPong;
      if (this.#stoppedTooLong(slot, now, silent)) continue;
      if (silent > SILENT_CHILD_MS && slot.worker !== undefined && slot.pid !== undefined) {
        const runs = slot.runs;
        this.#listed.silent({
          index: slot.index, pid: slot.pid, worker: slot.worker, silentMs: silent,
          tracked: (jid) => [...runs.values()].some((run) => run.jid === jid && run.abortedAt === undefined),
        });
        const refused = this.#listed.refused(slot.pid);
        if (refused !== undefined && now - refused.at > UNRESPONSIVE_KILL_MS) {
          this.#kill(slot, `job ${refused.jid} lost its lock ${Math.round((now - refused.at) / 1000)} s ago, before its child claimed it, and the child has not answered for ${Math.round(silent / 1000)} s (event loop blocked)`);
          continue;
        }
      }
      for (const run of slot.runs.values()) {
        if (run.abortedAt !== undefined && now - run.abortedAt > UNRESPONSIVE_KILL_MS && silent > SILENT_CHILD_MS) {
          this.#kill(slot, `job ${run.jid} was aborted ${Math.round((now - run.abortedAt) / 1000)} s ago but its child has not answered for ${Math.round(silent / 1000)} s (event loop blocked)`);
          break;
        }
      }
    }
  }

  /**
   * A child that has not answered pings is either busy (a job blocks its
   * event loop: it keeps its jobs, heartbeated) or stopped by a signal: then
   * nothing runs its jobs, so after STOPPED_KILL_MS it is killed, and its jobs
   * go back to their queues like those of any child that died. /proc is read
   * only for a silent child, at most once a tick. When the whole process
   * group is stopped (Ctrl-Z), the supervisor is stopped too and sees nothing.
   */
  #stoppedTooLong(slot: Slot, now: number, silent: number): boolean {
    if (silent <= SILENT_CHILD_MS || slot.pid === undefined || !stoppedBySignal(slot.pid)) {
      slot.stoppedSince = undefined;
      return false;
    }
    slot.stoppedSince ??= now;
    const stopped = now - slot.stoppedSince;
    if (stopped < STOPPED_KILL_MS) return false;
    this.#kill(slot, `it has been stopped by a signal (SIGSTOP or SIGTSTP) for ${Math.round(stopped / 1000)} s while holding ${slot.runs.size} job(s) that nothing runs`);
    return true;
  }

  #kill(slot: Slot, why: string): void {
    const child = slot.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.#log.warn({ child: slot.index, childPid: child.pid, reason: why }, 'killing child');
    child.kill('SIGKILL');
  }

  #onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    const lived = Date.now() - slot.startedAt;
    const left = [...slot.runs.values()];
    // Jobs it had not claimed yet, heartbeated while it was silent: a dead
    // child's are given back below with those Redis lists under its name.
    const unclaimed = this.#listed.exited(child.pid);
    for (const run of left) {
      if (run.timer) clearTimeout(run.timer);
      this.#heartbeats.untrack(run.key);
      this.#byKey.delete(run.key);
    }
    slot.runs = new Map();
    const fields = { child: slot.index, childPid: child.pid, code, signal, livedMs: lived };
    // A child that exits cleanly has dropped its own worker name; one that
    // died leaves its jobs (and name) to the supervisor, unless the daemon
    // is stopping: then they stay locked for a --resume (see src/worker/leftovers.ts).
    const died = code !== EXIT.OK && code !== EXIT.RECYCLE && code !== EXIT.CHILD_STARTUP;
    // Its jobs will never be reported: count them as lost (those popped
    // ahead too: the supervisor hears of their start only with --timeout).
    if (died) for (const run of [...left, ...unclaimed]) this.#metrics?.lost(run.queue, run.klass);
    if (died && !this.#stopping && child.pid !== undefined) {
      this.#settle(settleDeadChild(this.#client, this.#log, {
        worker: `${this.#options.name}-${child.pid}`,
        why: signal ? `killed by ${signal}` : `exit status ${code}`,
        known: left.map((run) => ({ jid: run.jid, worker: run.worker })),
      }));
    } else if (left.length > 0) {
      this.#log.warn({ ...fields, jobs: left.map((run) => run.jid) }, 'child left jobs unfinished; they are handed out again when their locks expire');
    }
    this.#title();
    if (this.#stopping) {
      this.#log.info(fields, 'child exited');
      this.#checkDone();
      return;
    }
    this.#metrics?.restarted(code === EXIT.RECYCLE ? 'recycled' : code === EXIT.OK ? 'stopped' : 'died');
    let delay: number;
    if (code === EXIT.RECYCLE) {
      this.#log.info({ ...fields, reason: slot.recycling }, 'child recycled; starting a fresh one');
      delay = lived < YOUNG_RECYCLE_MS ? slot.backoff.delay(lived) : 0;
    } else {
      const level = code === EXIT.OK ? 'info' : 'error';
      delay = slot.backoff.delay(lived);
      this.#log[level]({ ...fields, restartInMs: delay }, code === EXIT.OK ? 'child stopped; replacing it' : 'child died; replacing it');
    }
    this.#scheduleRestart(slot, delay);
  }

  /** Keep track of clean-up after a dead child, so that the supervisor does not exit halfway through it. */
  #settle(work: Promise<void>): void {
    this.#settling.add(work);
    void work.finally(() => this.#settling.delete(work));
  }

  #scheduleRestart(slot: Slot, delay: number): void {
    if (this.#stopping) return;
    slot.restartTimer = setTimeout(() => this.#fork(slot), delay);
  }

  #checkDone(): void {
    if (!this.#stopping) return;
    if (this.#slots.some((slot) => slot.child)) return;
    this.#done();
  }
}

/** Start a supervisor with these options and run it until it shuts down. */
export function runWorker(options: WorkerOptions): Promise<number> {
  return new Supervisor(options).run();
}
