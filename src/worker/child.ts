/**
 * A child: the job loop of one worker process.
 *
 * It reports to the core as `<name>-<pid>`, pops from its queues in the
 * given order as many jobs as it has free slots (`--concurrency`), keeps
 * popping while there is work, and otherwise sleeps `--interval` seconds —
 * but wakes at once when `ql:log` announces a job put (or advanced) into one
 * of its queues, or a lost lock (a job back at the head of a queue), or when
 * a slot frees up.
 *
 * Round trips: a slot is free as soon as its job's code is over and its
 * sandbox emptied, and the job's completion goes out at once — together with
 * the pop that refills the slot when one is due (src/worker/fetch.ts), so a
 * busy child makes one round trip per job rather than two, else on its own.
 * Either way it is written before any other job's code runs. While its jobs
 * are short, a child also pops ahead of its free slots (src/worker/ahead.ts):
 * one pop, and one claim to the supervisor, then serve many jobs.
 *
 * The `ql:log` subscription is only needed to wake a sleeping child, and
 * every put, completion and failure of every worker is published on it, so
 * a child that keeps finding work drops it (after BUSY_UNSUBSCRIBE_MS) and
 * takes it again before it next sleeps: subscribe, then pop once more, so
 * that a put between the empty pop and the subscription is not missed.
 *
 * It listens on its own channel `ql:w:<name>-<pid>`: a lost lock or a
 * cancellation aborts that job's AbortSignal (after checking, with a
 * heartbeat, that the event is not stale). A job that ignores its abort for
 * ABORT_GRACE_MS makes the child stop popping and ask to be replaced once
 * its other jobs are done; if the job blocks the event loop, the supervisor
 * kills the child.
 *
 * It stops on the supervisor's instruction (or on SIGTERM/SIGQUIT, or when
 * the supervisor disappears): no more pops, running jobs finish (and their
 * completions are sent), exit. SIGINT is ignored: a Ctrl-C reaches the
 * whole process group, and the supervisor passes it on as an instruction.
 */
import * as qless from '../index.js';
import type { Client } from '../client.js';
import type { Job } from '../job.js';
import type { LogEvent, WorkerEvent } from '../events.js';
import { ScriptError } from '../errors.js';
import { AHEAD, PopAhead } from './ahead.js';
import { completeAndPop, type Completion } from './fetch.js';
import { Loader, importPreload, registerTypeScript } from './loader.js';
import { redactUrl } from './options.js';
import { createLogger, errorFields, setTitle, type Logger } from './logger.js';
import { ABORT_GRACE_MS, type ChildInit, type ChildMessage, type ClaimedRun, type ParentMessage, isParentMessage } from './protocol.js';
import { WAITING_REDIS_OPTIONS, watchRedis, type RedisHealth } from './redis-health.js';
import { Run, runJob, type RunnerDeps } from './runner.js';
import { Sandbox, sandboxDir } from './sandbox.js';
import { EXIT } from './signals.js';
import { Wake } from './wake.js';

type DrainReason = { exit: typeof EXIT.OK | typeof EXIT.RECYCLE; why: string };

/** A timer this late (ms) means the process was stalled, not that a job is. */
const STALL_MS = 50;
/** How long a release may wait for the next claim to carry it. */
const RELEASE_DELAY_MS = 20;
/** A child that has found work on every pop for this long drops its `ql:log` subscription. */
const BUSY_UNSUBSCRIBE_MS = 250;

/** Send a message to the supervisor; resolves once it is written (or at once without a channel). */
export function sendToParent(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    try {
      // The callback comes on the next tick when the message went straight
      // into the pipe (the usual case), later only when the pipe was full.
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
  readonly #deps: RunnerDeps;
  readonly #ahead: PopAhead;
  #client!: Client;
  #health: RedisHealth | undefined;
  #holders = new Map<string, Client>();
  #resumeQueue: Array<{ job: Job; worker: string }> = [];
  #nextRunId = 1;
  #started = 0;
  /** Runs whose code is running (they hold a slot). */
  readonly #running = new Set<Run>();
  /** Runs popped ahead, waiting for a slot, oldest first. */
  #waiting: Run[] = [];
  #strandTimer: NodeJS.Timeout | undefined;
  #strandDueAt = 0;
  /** When a job of this child last finished its code. */
  #progressAt = 0;
  /** Finished jobs whose completion is about to be sent. */
  #completing: Completion[] = [];
  /** The round trip in flight that pops, and how many jobs it asked for. */
  #fetching: { room: number; jobs: Promise<Job[]> } | undefined;
  #looping = false;
  #drain: DrainReason | undefined;
  #stopNow = false;
  #exiting = false;
  #released: number[] = [];
  #codeDone: number[] = [];
  #releaseTimer: NodeJS.Timeout | undefined;
  #logSubscribed = false;
  /** Since when every pop found work (undefined after an empty one). */
  #findingWorkSince: number | undefined;
  readonly #onLog = (event: LogEvent): void => this.#onLogEvent(event);

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
    this.#ahead = new PopAhead(init.options.concurrency);
    this.#deps = {
      loader: this.#loader,
      sandbox: this.#sandbox,
      log: this.#log,
      cwd: this.#sandbox.root,
      stoppingNow: () => this.#stopNow,
      slotFree: (run) => this.#slotFree(run),
      complete: (run) => this.#complete(run),
    };
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

    this.#client = qless.client(options.url, { workerName: this.#name, durability: options.durability, ...WAITING_REDIS_OPTIONS });
    this.#health = watchRedis(this.#client.redis, this.#log, redactUrl(options.url));
    const events = this.#client.events;
    events.on('error', (error) => this.#log.warn({ ...errorFields(error) }, 'could not handle an event'));
    events.onWorker(this.#name, (event) => void this.#onWorkerEvent(event));
    await this.#subscribeLog();
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
        running: [...this.#runs.values()].map((run) => ({
          jid: run.job.jid, klass: run.job.klass, queue: run.job.queue, seconds: (now - run.startedAt) / 1000, aborted: run.aborted,
          ...(run.started ? {} : { waiting: true }),
        })),
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
    // Jobs popped ahead never started: hand them back at once rather than
    // leave them locked until their locks expire.
    this.#handBack(this.#waiting.splice(0), 'the worker is stopping now');
    for (const run of this.#runs.values()) run.abort('shutdown', 'the worker is shutting down');
    this.#wake.wake();
    // A moment for job code to react to the abort, then go.
    setTimeout(() => void this.#exit(EXIT.OK), 100).unref();
  }

  /** Free slots (within --max-jobs). */
  #free(): number {
    const { concurrency, maxJobs } = this.#init.options;
    let free = concurrency - this.#running.size - this.#waiting.length;
    if (maxJobs > 0) free = Math.min(free, maxJobs - this.#started);
    return free;
  }

  /**
   * How many jobs to pop now (0: none). A free slot asks for a pop at once;
   * while jobs popped ahead are waiting, the child pops again (to refill its
   * allowance) only once half of them have started.
   */
  #room(): number {
    const { concurrency, maxJobs } = this.#init.options;
    const held = this.#running.size + this.#waiting.length;
    const ahead = this.#drain === undefined ? this.#ahead.allowance(this.#longestRunningMs()) : 0;
    let room = 0;
    if (held < concurrency || (ahead > 0 && this.#waiting.length <= ahead / 2)) room = concurrency + ahead - held;
    if (maxJobs > 0) room = Math.min(room, maxJobs - this.#started);
    return room;
  }

  /** How long the oldest job running now has been running (ms). */
  #longestRunningMs(): number {
    let first = Number.POSITIVE_INFINITY;
    for (const run of this.#running) first = Math.min(first, run.startedTick);
    return first === Number.POSITIVE_INFINITY ? 0 : performance.now() - first;
  }

  async #loop(): Promise<void> {
    const { interval } = this.#init.options;
    this.#looping = true;
    try {
      while (this.#drain === undefined) {
        if (this.#resumeQueue.length > 0) {
          const free = this.#free();
          if (free > 0) await this.#launch(this.#resumeQueue.splice(0, free));
          else await this.#wake.wait();
          continue;
        }
        if (this.#fetching === undefined) this.#trip();
        const fetching = this.#fetching;
        if (fetching === undefined) {
          // Nothing to pop now: a job finishing (or a stop) wakes the loop.
          await this.#wake.wait();
          continue;
        }
        const jobs = await this.#collect(fetching);
        if (jobs === undefined) {
          // Asleep, the child must hear of puts again (not awaited: Redis may be away).
          if (!this.#logSubscribed) void this.#subscribeLog().catch(() => undefined);
          await this.#wake.wait(interval * 1000);
          continue;
        }
        if (jobs.length === 0) {
          this.#findingWorkSince = undefined;
          if (!this.#logSubscribed) {
            // Listen again before sleeping, then pop once more: a put made
            // before the subscription took effect is found by that pop.
            await this.#subscribeLog();
            continue;
          }
          this.#title();
          await this.#wake.wait(interval * 1000);
          continue;
        }
        this.#noteBusy();
        await this.#launch(jobs.map((job) => ({ job, worker: this.#name })));
      }
    } finally {
      this.#looping = false;
    }
    // A trip in flight as the child began to stop may bring jobs: they are
    // this worker's now, so they run (otherwise they would stay locked
    // until their locks expire).
    const fetching = this.#fetching;
    if (fetching !== undefined) {
      const jobs = await this.#collect(fetching);
      if (jobs !== undefined && jobs.length > 0) await this.#launch(jobs.map((job) => ({ job, worker: this.#name })));
    }
    this.#trip();
    await this.#maybeExit();
  }

  /**
   * Start a round trip: the completions waiting, with a pop when one is due
   * (no trip in flight, the loop running, room for jobs), else on their own.
   * Called by the loop and whenever a job finishes, so a finished job's
   * completion is on its way at once (see #start for why that matters).
   */
  #trip(): void {
    if (this.#fetching === undefined && this.#looping && this.#drain === undefined && this.#resumeQueue.length === 0) {
      const room = this.#room();
      if (room > 0) {
        const jobs = this.#fetch(room);
        jobs.catch(() => undefined); // the loop collects the outcome
        this.#fetching = { room, jobs };
        this.#wake.wake();
        return;
      }
    }
    if (this.#completing.length > 0) void completeAndPop(this.#client, this.#completing.splice(0));
  }

  /** The jobs a trip popped (undefined when its pop failed); the trip is then over. */
  async #collect(fetching: { room: number; jobs: Promise<Job[]> }): Promise<Job[] | undefined> {
    try {
      const jobs = await fetching.jobs;
      this.#ahead.popped(fetching.room, jobs.length);
      return jobs;
    } catch (error) {
      this.#log.error({ ...errorFields(error) }, 'could not pop');
      this.#ahead.popped(fetching.room, 0);
      return undefined;
    } finally {
      if (this.#fetching === fetching) this.#fetching = undefined;
    }
  }

  /**
   * Send the completions waiting, and pop up to `count` jobs, earlier
   * queues first: the first queue's pop rides with the completions, later
   * queues are asked only when the earlier ones had too few.
   */
  async #fetch(count: number): Promise<Job[]> {
    const [first, ...rest] = this.#init.options.queues;
    const jobs: Job[] = await completeAndPop(this.#client, this.#completing.splice(0), { queue: first!, worker: this.#name, count });
    for (const name of rest) {
      if (jobs.length >= count) break;
      jobs.push(...(await completeAndPop(this.#client, this.#completing.splice(0), { queue: name, worker: this.#name, count: count - jobs.length })));
    }
    return jobs;
  }

  /** A finished job's completion: sent at once (see #trip). */
  #complete(run: Run): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#completing.push({
        job: run.job,
        resolve: () => {
          // Done with: the supervisor may stop heartbeating it (this rides
          // with the next claim).
          this.#releaseRun(run);
          resolve();
        },
        reject,
      });
      this.#trip();
    });
  }

  async #subscribeLog(): Promise<void> {
    if (this.#logSubscribed) return;
    this.#logSubscribed = true;
    const events = this.#client.events;
    events.on('log', this.#onLog);
    await events.listen();
  }

  /** A pop found work: after a while of nothing but work, stop listening for puts. */
  #noteBusy(): void {
    const now = Date.now();
    this.#findingWorkSince ??= now;
    if (!this.#logSubscribed || now - this.#findingWorkSince < BUSY_UNSUBSCRIBE_MS) return;
    this.#logSubscribed = false;
    this.#client.events.off('log', this.#onLog);
  }

  /** Take jobs on: claim them all, start as many as there are free slots, keep the rest waiting. */
  async #launch(jobs: Array<{ job: Job; worker: string }>): Promise<void> {
    const runs = jobs.map(({ job, worker }) => new Run(this.#nextRunId++, job, worker));
    for (const run of runs) this.#runs.set(run.id, run);
    this.#started += runs.length;
    // The supervisor heartbeats these from now on. Its message is written
    // before any job code runs, in case that code blocks the event loop.
    // Those beyond the free slots wait (popped ahead); the supervisor times
    // them (--timeout) only once they start.
    const free = this.#init.options.concurrency - this.#running.size - this.#waiting.length;
    const claimed: ClaimedRun[] = runs.map((run, i) => ({
      runId: run.id, jid: run.job.jid, queue: run.job.queue, klass: run.job.klass, worker: run.worker, expires: run.job.expires,
      ...(i < free ? {} : { waiting: true as const }),
    }));
    await sendToParent({ type: 'claim', runs: claimed, released: this.#takeReleased(), ...this.#takeCodeDone() });
    if (this.#stopNow) {
      this.#handBack(runs, 'the worker is stopping now');
      return;
    }
    runs.forEach((run, i) => {
      if (i < free) {
        this.#start(run);
      } else {
        run.heldAhead = true;
        this.#waiting.push(run);
        if (this.#strandTimer === undefined) this.#watchStranded(AHEAD.strandMs);
      }
    });
    this.#title();
    const { maxJobs } = this.#init.options;
    if (maxJobs > 0 && this.#started >= maxJobs) this.drain({ exit: EXIT.RECYCLE, why: `ran --max-jobs ${maxJobs} jobs` });
  }

  /** Start a run's code in a free slot. */
  #start(run: Run): void {
    // Calls made in this tick (the completions of jobs that just finished,
    // a pop) go to Redis before this job's code runs: were that code to
    // block the event loop, or crash the child, they would otherwise wait
    // with it, or be lost (and those jobs run again).
    this.#client.gateway.flushNow();
    for (const holder of this.#holders.values()) holder.gateway.flushNow();
    run.started = true;
    run.startedAt = Date.now();
    run.startedTick = performance.now();
    this.#running.add(run);
    // Popped ahead: with --timeout the supervisor starts timing it now (the
    // message is written before the job's code runs, in case that blocks).
    if (run.heldAhead && this.#init.options.timeout > 0) void sendToParent({ type: 'started', runs: [run.id], ...this.#takeCodeDone() });
    void runJob(run, this.#deps).then(() => this.#finish(run), (error: unknown) => {
      this.#log.error({ ...errorFields(error), jid: run.job.jid }, 'job runner failed');
      this.#finish(run);
    });
  }

  /** The run's code is over and its sandbox emptied: its slot takes the next job. */
  #slotFree(run: Run): void {
    if (run.slotFreed || !run.started) return;
    run.slotFreed = true;
    this.#running.delete(run);
    this.#progressAt = Date.now();
    if (this.#init.options.timeout > 0) this.#codeDone.push(run.id);
    this.#ahead.ran(performance.now() - run.startedTick);
    const { maxMemory } = this.#init.options;
    if (maxMemory > 0 && this.#drain === undefined) {
      const rss = process.memoryUsage.rss();
      if (rss > maxMemory * 1024 * 1024) this.drain({ exit: EXIT.RECYCLE, why: `memory ${Math.round(rss / 1048576)} MB is above --max-memory ${maxMemory} MB` });
    }
    const next = this.#stopNow ? undefined : this.#waiting.shift();
    if (next) this.#start(next);
    this.#wake.wake();
  }

  /** Check on the jobs popped ahead in `ms`. */
  #watchStranded(ms: number): void {
    this.#strandDueAt = Date.now() + ms;
    this.#strandTimer = setTimeout(() => this.#checkStranded(), ms).unref();
  }

  /**
   * Jobs popped ahead that have waited AHEAD.strandMs while no job of this
   * child finished (the ones running are long) go back to the head of their
   * queue for another worker. Not when this check itself comes late: then
   * the whole process was stalled (a job blocking the event loop, or a
   * starved CPU), and its jobs get a moment to make progress first.
   */
  #checkStranded(): void {
    this.#strandTimer = undefined;
    const oldest = this.#waiting[0];
    if (!oldest) return;
    const now = Date.now();
    const late = now - this.#strandDueAt;
    const since = Math.max(this.#progressAt, oldest.claimedAt);
    // While Redis is away the hand-back could only be sent once it is back,
    // possibly after the locks expired and the jobs went to another worker.
    if (late > STALL_MS || now - since < AHEAD.strandMs || !this.#health?.up) {
      this.#watchStranded(Math.max(since + AHEAD.strandMs - now, 50));
      return;
    }
    this.#ahead.stranded();
    this.#handBack(this.#waiting.splice(0), 'jobs popped ahead waited too long for a slot');
  }

  /** Give jobs popped ahead (never started) back to the head of their queues. */
  #handBack(runs: Run[], why: string): void {
    if (runs.length === 0) return;
    for (const run of runs) {
      run.finished = true;
      this.#runs.delete(run.id);
      this.#releaseRun(run);
    }
    this.#log.info({ jids: runs.map((run) => run.job.jid), reason: why }, 'handing jobs popped ahead back to their queues');
    // `timeout` puts them at the head of their queue without using a retry.
    this.#client.call('timeout', ...runs.map((run) => run.job.jid)).catch((error: unknown) => {
      this.#log.warn({ ...errorFields(error) }, 'could not hand jobs back; they are handed out again when their locks expire');
    });
    this.#title();
    this.#wake.wake();
    void this.#maybeExit();
  }

  #finish(run: Run): void {
    run.finished = true;
    this.#slotFree(run);
    this.#runs.delete(run.id);
    this.#releaseRun(run);
    this.#title();
    this.#wake.wake();
    void this.#maybeExit();
  }

  /**
   * Tell the supervisor a run is over. The message waits a moment for the
   * next claim to carry it; heartbeating a finished job meanwhile is
   * harmless (the refusal names a run that no longer exists).
   */
  #releaseRun(run: Run): void {
    if (run.released) return;
    run.released = true;
    this.#released.push(run.id);
    this.#releaseTimer ??= setTimeout(() => {
      this.#releaseTimer = undefined;
      const runs = this.#takeReleased();
      if (runs.length > 0) void sendToParent({ type: 'release', runs });
    }, RELEASE_DELAY_MS);
  }

  /** Runs whose code ended since the last message (with --timeout; see the protocol). */
  #takeCodeDone(): { done?: number[] } {
    return this.#codeDone.length > 0 ? { done: this.#codeDone.splice(0) } : {};
  }

  #takeReleased(): number[] {
    if (this.#releaseTimer) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    return this.#released.splice(0);
  }

  #abort(run: Run, kind: Parameters<Run['abort']>[0], reason: string, tellParent: boolean): void {
    if (run.job.settled || !run.abort(kind, reason)) return;
    this.#log.info({ jid: run.job.jid, kind, reason }, 'job aborted');
    if (!run.started) {
      // Popped ahead and not started: it simply never runs.
      const at = this.#waiting.indexOf(run);
      if (at >= 0) this.#waiting.splice(at, 1);
      this.#finish(run);
      return;
    }
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
    // A lost lock names no queue; it is rare, and the job it names may be
    // back at the head of one of ours (a lock that expired, or jobs another
    // child popped ahead and handed back).
    if ((event.event === 'put' && this.#queues.has(event.queue)) || (event.event === 'advanced' && this.#queues.has(event.to)) || event.event === 'lock_lost') {
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
      const client = qless.client({ connection: this.#client.redis, workerName: holder, durability: this.#init.options.durability });
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
    const runs = [...this.#runs.values()].filter((run) => run.started);
    if (runs.length === 0) setTitle(`child ${this.#index} idle, polling ${this.#init.options.queues.join(', ')}`);
    else if (runs.length === 1) setTitle(`child ${this.#index} working on ${runs[0]!.job.jid} (${runs[0]!.job.klass})`);
    else setTitle(`child ${this.#index} working on ${runs.length} jobs: ${runs.map((run) => `${run.job.jid} (${run.job.klass})`).join(', ')}`);
  }

  async #maybeExit(): Promise<void> {
    if (!this.#drain || this.#exiting || this.#stopNow) return;
    if ([...this.#runs.values()].some((run) => !run.abandoned)) return;
    // A pop already sent may hand us jobs: wait for it while Redis is up
    // (they would otherwise stay locked until they expire).
    if (this.#fetching && this.#health?.up) {
      await this.#fetching.jobs.catch(() => undefined);
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
