/**
 * A child: the job loop of one worker process.
 *
 * It reports to the core as `<name>-<pid>`, pops from its queues in the
 * given order as many jobs as it has free slots (`--concurrency`), keeps
 * popping while there is work, and otherwise sleeps `--interval` seconds —
 * but wakes at once when `ql:log` announces a job put (or advanced) into one
 * of its queues, or when a slot frees up.
 *
 * It listens on its own channel `ql:w:<name>-<pid>`: a lost lock or a
 * cancellation aborts that job's AbortSignal (after checking, with a
 * heartbeat, that the event is not stale). A job that ignores its abort for
 * ABORT_GRACE_MS makes the child stop popping and ask to be replaced once
 * its other jobs are done; if the job blocks the event loop, the supervisor
 * kills the child.
 *
 * It stops on the supervisor's instruction (or on SIGTERM/SIGQUIT, or when
 * the supervisor disappears): no more pops, running jobs finish, exit.
 * SIGINT is ignored: a Ctrl-C reaches the whole process group, and the
 * supervisor passes it on as an instruction.
 */
import * as qless from '../index.js';
import type { Client } from '../client.js';
import type { Job } from '../job.js';
import type { LogEvent, WorkerEvent } from '../events.js';
import { ScriptError } from '../errors.js';
import { Loader, importPreload, registerTypeScript } from './loader.js';
import { redactUrl } from './options.js';
import { createLogger, errorFields, setTitle, type Logger } from './logger.js';
import { ABORT_GRACE_MS, type ChildInit, type ChildMessage, type ClaimedRun, type ParentMessage, isParentMessage } from './protocol.js';
import { WAITING_REDIS_OPTIONS, watchRedis, type RedisHealth } from './redis-health.js';
import { Run, runJob } from './runner.js';
import { Sandbox, sandboxDir } from './sandbox.js';
import { EXIT } from './signals.js';
import { Wake } from './wake.js';

type DrainReason = { exit: typeof EXIT.OK | typeof EXIT.RECYCLE; why: string };

/** How long a release may wait for the next claim to carry it. */
const RELEASE_DELAY_MS = 20;

/** Send a message to the supervisor; resolves once it is written (or at once without a channel). */
export function sendToParent(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    try {
      process.send(message, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

export class ChildWorker {
  readonly #init: ChildInit;
  readonly #log: Logger;
  readonly #index: number;
  readonly #name: string;
  readonly #queues: ReadonlySet<string>;
  readonly #runs = new Map<number, Run>();
  readonly #wake = new Wake();
  readonly #sandbox: Sandbox;
  readonly #loader: Loader;
  #client!: Client;
  #health: RedisHealth | undefined;
  #holders = new Map<string, Client>();
  #resumeQueue: Array<{ job: Job; worker: string }> = [];
  #nextRunId = 1;
  #started = 0;
  #drain: DrainReason | undefined;
  #stopNow = false;
  #popping: Promise<unknown> | undefined;
  #exiting = false;
  #released: number[] = [];
  #releaseTimer: NodeJS.Timeout | undefined;

  constructor(init: ChildInit) {
    this.#init = init;
    this.#index = init.index;
    this.#name = `${init.options.name}-${process.pid}`;
    this.#queues = new Set(init.options.queues);
    this.#log = createLogger(init.options, { role: 'child', child: init.index, worker: this.#name });
    this.#sandbox = new Sandbox(sandboxDir(init.options.workdir, init.index), init.options.concurrency);
    this.#loader = new Loader({
      roots: init.options.paths,
      reload: init.options.reload,
      onLoaded: (files) => void sendToParent({ type: 'loaded', files }),
      onStale: (file) => this.drain({ exit: EXIT.RECYCLE, why: `${file} changed` }),
    });
  }

  get log(): Logger {
    return this.#log;
  }

  /** Set up (sandbox, preloads, Redis, events) and run the loop; exits the process at the end. */
  async run(): Promise<void> {
    const { options } = this.#init;
    setTitle(`child ${this.#index} starting`);
    const typescript = registerTypeScript();
    typescript.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    try {
      await this.#sandbox.prepare();
      process.chdir(this.#sandbox.root);
      for (const specifier of options.imports) await importPreload(specifier, options.launchDir);
    } catch (error) {
      this.#log.error({ ...errorFields(error) }, 'child could not start');
      await this.#exit(EXIT.CHILD_STARTUP);
      return;
    }

    this.#client = qless.client(options.url, { workerName: this.#name, ...WAITING_REDIS_OPTIONS });
    this.#health = watchRedis(this.#client.redis, this.#log, redactUrl(options.url));
    const events = this.#client.events;
    events.on('error', (error) => this.#log.warn({ ...errorFields(error) }, 'could not handle an event'));
    events.on('log', (event) => this.#onLogEvent(event));
    events.onWorker(this.#name, (event) => void this.#onWorkerEvent(event));
    await events.listen();
    await this.#prepareResume();
    try {
      await typescript;
    } catch (error) {
      this.#log.error({ ...errorFields(error) }, 'child could not start: TypeScript support failed to load');
      await this.#exit(EXIT.CHILD_STARTUP);
      return;
    }
    this.#loader.reportLoaded();
    this.#log.info({ queues: options.queues, concurrency: options.concurrency, sandbox: this.#sandbox.root }, 'child started');
    await sendToParent({ type: 'ready', worker: this.#name });
    await this.#loop();
  }

  /** Handle a supervisor message. */
  onParentMessage(message: unknown): void {
    if (!isParentMessage(message)) return;
    const m: ParentMessage = message;
    switch (m.type) {
      case 'abort': {
        const run = this.#runs.get(m.runId);
        if (run && run.job.jid === m.jid) this.#abort(run, m.kind, m.reason, false);
        break;
      }
      case 'expires': {
        const run = this.#runs.get(m.runId);
        if (run) run.job.expires = m.expires;
        break;
      }
      case 'stop':
        if (m.now) this.stopNow();
        else this.drain({ exit: EXIT.OK, why: 'asked to stop' });
        break;
      case 'recycle':
        this.drain({ exit: EXIT.RECYCLE, why: m.reason });
        break;
      case 'ping': {
        const memory = process.memoryUsage();
        void sendToParent({ type: 'pong', seq: m.seq, rss: memory.rss, heapUsed: memory.heapUsed });
        break;
      }
      case 'status':
        this.logStatus();
        break;
      case 'init':
        break;
    }
  }

  /** Log what this child is doing (SIGUSR2). */
  logStatus(): void {
    const now = Date.now();
    this.#log.info(
      {
        draining: this.#drain?.why,
        running: [...this.#runs.values()].map((run) => ({ jid: run.job.jid, klass: run.job.klass, queue: run.job.queue, seconds: (now - run.startedAt) / 1000, aborted: run.aborted })),
      },
      'child status',
    );
  }

  /** Stop popping; exit once running jobs are done. The first reason wins (a stop beats a recycle). */
  drain(reason: DrainReason): void {
    if (this.#drain && !(this.#drain.exit === EXIT.RECYCLE && reason.exit === EXIT.OK)) return;
    const first = this.#drain === undefined;
    this.#drain = reason;
    if (first) {
      this.#log.info({ reason: reason.why, running: this.#runs.size }, reason.exit === EXIT.RECYCLE ? 'child recycling: finishing its jobs, then a fresh child takes over' : 'child stopping: finishing its jobs');
      if (reason.exit === EXIT.RECYCLE) void sendToParent({ type: 'recycling', reason: reason.why });
    }
    setTitle(`child ${this.#index} ${reason.exit === EXIT.RECYCLE ? 'recycling' : 'stopping'}, ${this.#runs.size} job(s) to finish`);
    this.#wake.wake();
    void this.#maybeExit();
  }

  /** Abort every job and exit at once (second signal, or the grace period is over). */
  stopNow(): void {
    if (this.#stopNow) return;
    this.#stopNow = true;
    this.#drain ??= { exit: EXIT.OK, why: 'asked to stop now' };
    this.#log.warn({ running: this.#runs.size }, 'child stopping now: running jobs are abandoned and will be handed out again when their locks expire');
    for (const run of this.#runs.values()) run.abort('shutdown', 'the worker is shutting down');
    this.#wake.wake();
    // A moment for job code to react to the abort, then go.
    setTimeout(() => void this.#exit(EXIT.OK), 100).unref();
  }

  #free(): number {
    let free = this.#init.options.concurrency - this.#runs.size;
    const { maxJobs } = this.#init.options;
    if (maxJobs > 0) free = Math.min(free, maxJobs - this.#started);
    return free;
  }

  async #loop(): Promise<void> {
    const { interval } = this.#init.options;
    while (this.#drain === undefined) {
      const free = this.#free();
      if (free <= 0) {
        await this.#wake.wait();
        continue;
      }
      let jobs: Array<{ job: Job; worker: string }>;
      if (this.#resumeQueue.length > 0) {
        jobs = this.#resumeQueue.splice(0, free);
      } else {
        try {
          const popping = this.#pop(free);
          this.#popping = popping;
          jobs = (await popping).map((job) => ({ job, worker: this.#name }));
        } catch (error) {
          this.#log.error({ ...errorFields(error) }, 'could not pop');
          await this.#wake.wait(interval * 1000);
          continue;
        } finally {
          this.#popping = undefined;
        }
      }
      if (jobs.length === 0) {
        this.#title();
        await this.#wake.wait(interval * 1000);
        continue;
      }
      await this.#launch(jobs);
    }
    await this.#maybeExit();
  }

  /** Pop up to `count` jobs, earlier queues first. */
  async #pop(count: number): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const name of this.#init.options.queues) {
      if (jobs.length >= count) break;
      jobs.push(...(await this.#client.queue(name).pop(count - jobs.length)));
    }
    return jobs;
  }

  async #launch(jobs: Array<{ job: Job; worker: string }>): Promise<void> {
    const runs = jobs.map(({ job, worker }) => new Run(this.#nextRunId++, job, worker));
    for (const run of runs) this.#runs.set(run.id, run);
    this.#started += runs.length;
    // The supervisor heartbeats these from now on. Its message is written
    // before any job code runs, in case that code blocks the event loop.
    const claimed: ClaimedRun[] = runs.map((run) => ({
      runId: run.id, jid: run.job.jid, queue: run.job.queue, klass: run.job.klass, worker: run.worker, expires: run.job.expires,
    }));
    await sendToParent({ type: 'claim', runs: claimed, released: this.#takeReleased() });
    this.#title();
    for (const run of runs) {
      void runJob(run, {
        loader: this.#loader,
        sandbox: this.#sandbox,
        log: this.#log,
        cwd: this.#sandbox.root,
        stoppingNow: () => this.#stopNow,
      }).then(() => this.#finish(run), (error: unknown) => {
        this.#log.error({ ...errorFields(error), jid: run.job.jid }, 'job runner failed');
        this.#finish(run);
      });
    }
    const { maxJobs } = this.#init.options;
    if (maxJobs > 0 && this.#started >= maxJobs) this.drain({ exit: EXIT.RECYCLE, why: `ran --max-jobs ${maxJobs} jobs` });
  }

  #finish(run: Run): void {
    run.finished = true;
    this.#runs.delete(run.id);
    this.#release(run.id);
    const { maxMemory } = this.#init.options;
    if (maxMemory > 0 && this.#drain === undefined) {
      const rss = process.memoryUsage.rss();
      if (rss > maxMemory * 1024 * 1024) this.drain({ exit: EXIT.RECYCLE, why: `memory ${Math.round(rss / 1048576)} MB is above --max-memory ${maxMemory} MB` });
    }
    this.#title();
    this.#wake.wake();
    void this.#maybeExit();
  }

  /**
   * Tell the supervisor a run is over. The message waits a moment for the
   * next claim to carry it; heartbeating a finished job meanwhile is
   * harmless (the refusal names a run that no longer exists).
   */
  #release(runId: number): void {
    this.#released.push(runId);
    this.#releaseTimer ??= setTimeout(() => {
      this.#releaseTimer = undefined;
      const runs = this.#takeReleased();
      if (runs.length > 0) void sendToParent({ type: 'release', runs });
    }, RELEASE_DELAY_MS);
  }

  #takeReleased(): number[] {
    if (this.#releaseTimer) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    return this.#released.splice(0);
  }

  #abort(run: Run, kind: Parameters<Run['abort']>[0], reason: string, tellParent: boolean): void {
    if (run.job.settled || !run.abort(kind, reason)) return;
    this.#log.info({ jid: run.job.jid, kind, reason }, 'job aborted');
    // The lock is gone: the supervisor must stop heartbeating it.
    if (tellParent) void sendToParent({ type: 'aborted', runId: run.id, jid: run.job.jid });
    setTimeout(() => {
      if (run.finished || this.#stopNow) return;
      run.abandoned = true;
      this.#log.warn({ jid: run.job.jid, klass: run.job.klass, graceMs: ABORT_GRACE_MS }, 'job ignores its AbortSignal; this child takes no more jobs and is replaced once its other jobs are done');
      this.drain({ exit: EXIT.RECYCLE, why: `job ${run.job.jid} ignored its abort` });
    }, ABORT_GRACE_MS).unref();
  }

  #onLogEvent(event: LogEvent): void {
    if (this.#drain) return;
    if ((event.event === 'put' && this.#queues.has(event.queue)) || (event.event === 'advanced' && this.#queues.has(event.to))) {
      this.#wake.wake();
    }
  }

  /**
   * A lost lock or a cancellation for one of our jobs. Events travel on
   * another connection than our calls, so one about an earlier run of the
   * same jid (or a grace-period warning for a lock we still hold) could
   * arrive late: a heartbeat tells whether the lock is really gone.
   */
  async #onWorkerEvent(event: WorkerEvent): Promise<void> {
    for (const run of this.#runs.values()) {
      if (run.job.jid !== event.jid || run.aborted !== undefined || run.job.settled) continue;
      try {
        await this.#client.call('heartbeat', run.job.jid, run.worker);
        this.#log.debug({ jid: run.job.jid, event: event.event }, 'ignored a worker event: the lock is still ours');
      } catch (error) {
        if (!(error instanceof ScriptError) && this.#health?.up) continue;
        const kind = event.event === 'canceled' ? 'canceled' : 'lock_lost';
        this.#abort(run, kind, event.event === 'canceled' ? 'the job was canceled' : 'the job was moved, timed out or handed to another worker', true);
      }
    }
  }

  /** Fetch this child's share of `--resume` jobs and check they are still held. */
  async #prepareResume(): Promise<void> {
    const byHolder = new Map<string, string[]>();
    for (const { jid, worker } of this.#init.resume) {
      const list = byHolder.get(worker) ?? [];
      list.push(jid);
      byHolder.set(worker, list);
    }
    for (const [holder, jids] of byHolder) {
      // Jobs are completed and heartbeated under the name that holds them.
      const client = qless.client({ connection: this.#client.redis, workerName: holder });
      this.#holders.set(holder, client);
      this.#client.events.onWorker(holder, (event) => void this.#onWorkerEvent(event));
      for (const job of await client.jobs.multiget(jids)) {
        if (job.state !== 'running' || job.worker !== holder || !this.#queues.has(job.queue)) continue;
        try {
          await client.call('heartbeat', job.jid, holder);
          await job.refresh();
          this.#resumeQueue.push({ job, worker: holder });
          this.#log.info({ jid: job.jid, klass: job.klass, holder }, 'resuming job');
        } catch (error) {
          this.#log.info({ jid: job.jid, holder, error: (error as Error).message }, 'job not resumable');
        }
      }
    }
    if (this.#resumeQueue.length > 0) await this.#client.events.listen();
  }

  #title(): void {
    if (this.#drain) {
      setTitle(`child ${this.#index} ${this.#drain.exit === EXIT.RECYCLE ? 'recycling' : 'stopping'}, ${this.#runs.size} job(s) to finish`);
      return;
    }
    const runs = [...this.#runs.values()];
    if (runs.length === 0) setTitle(`child ${this.#index} idle, polling ${this.#init.options.queues.join(', ')}`);
    else if (runs.length === 1) setTitle(`child ${this.#index} working on ${runs[0]!.job.jid} (${runs[0]!.job.klass})`);
    else setTitle(`child ${this.#index} working on ${runs.length} jobs: ${runs.map((run) => `${run.job.jid} (${run.job.klass})`).join(', ')}`);
  }

  async #maybeExit(): Promise<void> {
    if (!this.#drain || this.#exiting || this.#stopNow) return;
    if ([...this.#runs.values()].some((run) => !run.abandoned)) return;
    // A pop already sent may hand us jobs: wait for it while Redis is up
    // (they would otherwise stay locked until they expire).
    if (this.#popping && this.#health?.up) {
      await this.#popping.catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      if ([...this.#runs.values()].some((run) => !run.abandoned)) return;
    }
    await this.#exit(this.#drain.exit);
  }

  async #exit(code: number): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    const memory = process.memoryUsage();
    this.#log.info({ code, reason: this.#drain?.why, rss: memory.rss, heapUsed: memory.heapUsed, reloads: this.#loader.reloads }, 'child exiting');
    const released = this.#takeReleased();
    if (released.length > 0) await sendToParent({ type: 'release', runs: released });
    this.#health?.stop();
    const closing = Promise.all([this.#client?.close(), ...[...this.#holders.values()].map((c) => c.close())]).catch(() => undefined);
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    process.exit(code);
  }
}
