/**
 * A child: the job loop of one worker process.
 *
 * It reports to the core as `<name>-<pid>`, pops from its queues in the
 * given order as many jobs as it has free slots (`--concurrency`), keeps
 * popping while there is work, and otherwise sleeps `--interval` seconds —
 * but wakes at once when a job is put into one of its queues
 * (src/worker/put-listener.ts) or when a slot frees up.
 *
 * Round trips: a slot is free as soon as its job's code is over and its
 * sandbox emptied, and the job's completion goes out at once — together with
 * the pop that refills the slot when one is due (src/worker/fetch.ts), so a
 * busy child makes one round trip per job rather than two, else on its own.
 * Either way it is written before any other job's code runs. While its jobs
 * are short, a child also pops ahead of its free slots (src/worker/ahead.ts);
 * those jobs wait in src/worker/held.ts, which hands them back if the jobs
 * ahead of them turn out long. What the supervisor hears about runs is
 * batched in src/worker/parent.ts: a job's claim (the supervisor heartbeats
 * it from then on) goes out after its code started when the child was idle,
 * the lock is long and no --timeout is set (#mayClaimLater), before it
 * otherwise.
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
import { disownJob, type Job } from '../job.js';
import { ScriptError } from '../errors.js';
import type { WorkerEvent } from '../events.js';
import { PopAhead } from './ahead.js';
import { completeAndPop, popQueues, type Completion, type TripResult } from './fetch.js';
import { reserver, type Reserver } from './reserver.js';
import { HeldJobs } from './held.js';
import { JobEvents } from './job-events.js';
import { forgetIdleWorkers } from './leftovers.js';
import { checkLock } from './lock.js';
import { Loader, importPreload, registerTypeScript } from './loader.js';
import { redactUrl } from './options.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import { RunReports, sendToParent } from './parent.js';
import { ABORT_GRACE_MS, type ChildInit, type ClaimedRun, type ParentMessage, isParentMessage } from './protocol.js';
import { OutputCapture } from './output.js';
import { PopFailures } from './pop-failures.js';
import { PutListener } from './put-listener.js';
import { WAITING_REDIS_OPTIONS, watchRedis, type RedisHealth } from './redis-health.js';
import { takeBackShare, type ResumedJob } from './resume.js';
import { prepareRun, Run, runJob, type RunnerDeps } from './runner.js';
import { Sandbox, sandboxDir } from './sandbox.js';
import { stageMark } from '../stage-marks.js';
import { StandInHeartbeats } from './stand-in.js';
import { loadTracing } from './tracing.js';
import { EXIT } from './signals.js';
import { ChildTitle } from './title.js';
import { Wake } from './wake.js';

type DrainReason = { exit: typeof EXIT.OK | typeof EXIT.RECYCLE; why: string };

/**
 * A claim may wait until its runs started only while their locks have this
 * many seconds left: the supervisor's fallback for a child that blocks
 * before its claim goes out (src/worker/listed-jobs.ts) finds the job a few
 * seconds into the silence, well before such a lock expires.
 */
const LAZY_CLAIM_MIN_LOCK_S = 15;

/** A trip in flight, how many jobs it asked for, and the wake-ups for news it answers (Wake.news as it went out). */
interface Fetching { room: number; jobs: Promise<TripResult>; news: number }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ChildWorker {
  readonly #init: ChildInit;
  readonly #log: Logger;
  readonly #index: number;
  readonly #name: string;
  readonly #queues: ReadonlySet<string>;
  /** Each trip's queue order (--reserver). */
  readonly #reserver: Reserver;
  readonly #runs = new Map<number, Run>();
  readonly #wake = new Wake();
  readonly #sandbox: Sandbox;
  readonly #loader: Loader;
  readonly #deps: RunnerDeps;
  readonly #ahead: PopAhead;
  readonly #reports: RunReports;
  readonly #events: JobEvents;
  readonly #output: OutputCapture;
  readonly #titles: ChildTitle;
  #held!: HeldJobs;
  #puts!: PutListener;
  #client!: Client;
  #health: RedisHealth | undefined;
  /** Heartbeats this child sends itself while the supervisor is silent. */
  #standIn: StandInHeartbeats | undefined;
  #holders = new Map<string, Client>();
  #resumeQueue: ResumedJob[] = [];
  #nextRunId = 1;
  #started = 0;
  /** Runs whose code is running (they hold a slot). */
  readonly #running = new Set<Run>();
  /** Runs waiting for an earlier run of the same job in this child to end (see #supersede). */
  readonly #behind = new Map<Run, Run>();
  /** Finished jobs whose completion is about to be sent. */
  readonly #completing: Completion[] = [];
  /** The round trip in flight that pops. */
  #fetching: Fetching | undefined;
  #looping = false;
  #drain: DrainReason | undefined;
  /** Resolves once the child stops popping (a drain or a stop). */
  readonly #draining: Promise<void>;
  #drained!: () => void;
  #popFailures: PopFailures;
  /** A pop failed: the next waits for the loop's back-off, not for a job finishing. */
  #popPaused = false;
  /** Seconds the last trip's rate-limited queues asked the child to wait (undefined: none did). */
  #rateWaitSeconds: number | undefined;
  #stopNow = false;
  #orphaned = false;
  #exiting = false;

  constructor(init: ChildInit) {
    this.#init = init;
    this.#index = init.index;
    this.#name = `${init.options.name}-${process.pid}`;
    this.#queues = new Set(init.options.queues);
    this.#reserver = reserver(init.options.reserver, init.options.queues);
    this.#log = createLogger(init.options, { role: 'child', child: init.index, worker: this.#name });
    this.#sandbox = new Sandbox(sandboxDir(init.options.workdir, init.index), init.options.concurrency);
    this.#loader = new Loader({
      roots: init.options.paths,
      reload: init.options.reload,
      onLoaded: (files) => void sendToParent({ type: 'loaded', files }),
      onStale: (file) => this.drain({ exit: EXIT.RECYCLE, why: `${file} changed` }),
    });
    this.#ahead = new PopAhead(init.options.concurrency);
    this.#reports = new RunReports(init.options.timeout > 0);
    this.#events = new JobEvents(this.#log, init.relay);
    this.#output = new OutputCapture(this.#log);
    this.#popFailures = new PopFailures(this.#log, init.options.interval * 1000);
    this.#titles = new ChildTitle(() => ({
      index: this.#index,
      queues: init.options.queues,
      draining: this.#drain === undefined ? undefined : this.#drain.exit === EXIT.RECYCLE ? 'recycling' : 'stopping',
      runs: this.#runs,
    }));
    this.#draining = new Promise((resolve) => {
      this.#drained = resolve;
    });
    this.#deps = {
      loader: this.#loader,
      sandbox: this.#sandbox,
      log: this.#log,
      name: this.#name,
      retry: init.options.retry,
      events: this.#events,
      output: this.#output,
      tracing: undefined,
      retried: (delay) => this.#lookAgainAfter(delay),
      cwd: this.#sandbox.root,
      stoppingNow: () => this.#stopNow,
      slotFree: (run) => this.#slotFree(run),
      complete: (run) => this.#complete(run),
      confirm: (run) => (run.confirmFirst || this.#held.waitedLong(run) ? this.#confirm(run) : undefined),
    };
  }

  get log(): Logger {
    return this.#log;
  }

  /** The worker name this child reports to the core as. */
  get name(): string {
    return this.#name;
  }

  /** Set up (sandbox, preloads, Redis, events) and run the loop; exits the process at the end. */
  async run(): Promise<void> {
    const { options } = this.#init;
    this.#titles.set(`child ${this.#index} starting`);
    // From here on, what anything in this child prints is a log line (jobs' with their jid).
    this.#output.install();
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

    this.#client = qless.client(options.url, { workerName: this.#name, namespace: options.namespace, durability: options.durability, ...WAITING_REDIS_OPTIONS });
    this.#health = watchRedis(this.#client.redis, this.#log, redactUrl(options.url));
    this.#held = new HeldJobs({
      client: this.#client,
      log: this.#log,
      redisUp: () => this.#health?.up ?? false,
      running: () => this.#running,
      forget: (runs) => this.#forget(runs),
      stranded: () => this.#ahead.stranded(),
    });
    this.#puts = new PutListener(this.#client, this.#queues, () => this.#onPut());
    this.#standIn = new StandInHeartbeats({
      client: this.#client,
      log: this.#log,
      runs: () => this.#runs.values(),
      lost: (run, error) => {
        const message = error instanceof ScriptError ? error.scriptMessage : error.message;
        this.#log.info({ jid: run.job.jid, klass: run.job.klass, error: message }, 'heartbeat refused: the job is not this worker\'s any more; aborting it');
        this.#abort(run, 'lock_lost', message, true);
      },
    });
    const events = this.#client.events;
    events.on('error', (error) => this.#log.warn({ ...errorFields(error) }, 'could not handle an event'));
    events.onWorker(this.#name, (event) => void this.#onWorkerEvent(event));
    await this.#puts.subscribe();
    const taken = await takeBackShare(this.#client, this.#init.resume, {
      queues: this.#queues,
      durability: options.durability,
      log: this.#log,
      onWorkerEvent: (event) => void this.#onWorkerEvent(event),
    });
    this.#resumeQueue = taken.jobs;
    this.#holders = taken.holders;
    try {
      await typescript;
    } catch (error) {
      this.#log.error({ ...errorFields(error) }, 'child could not start: TypeScript support failed to load');
      await this.#exit(EXIT.CHILD_STARTUP);
      return;
    }
    this.#loader.reportLoaded();
    this.#deps.tracing = await loadTracing();
    this.#log.info({ queues: options.queues, concurrency: options.concurrency, sandbox: this.#sandbox.root }, 'child started');
    await sendToParent({ type: 'ready', worker: this.#name });
    this.#standIn.start();
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
        this.#standIn?.pinged();
        // Once a second: files the jobs' code imported on its own since.
        this.#loader.reportLoaded();
        const memory = process.memoryUsage();
        // Lazy claims waiting go first: the supervisor stops heartbeating
        // the jobs it found under this child's name once it hears a pong.
        void this.#reports.send({ type: 'pong', seq: m.seq, rss: memory.rss, heapUsed: memory.heapUsed });
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
    this.#drained();
    this.#puts?.pause();
    if (first) {
      this.#log.info({ reason: reason.why, running: this.#runs.size }, reason.exit === EXIT.RECYCLE ? 'child recycling: finishing its jobs, then a fresh child takes over' : 'child stopping: finishing its jobs');
      if (reason.exit === EXIT.RECYCLE) void sendToParent({ type: 'recycling', reason: reason.why });
    }
    this.#titles.now();
    this.#wake.wake();
    void this.#maybeExit();
  }

  /**
   * The supervisor is gone: nobody heartbeats this child's jobs any more,
   * and the core will hand them to other workers once their locks expire.
   * Stop them and exit at once (the watchdog kills the child if a job keeps
   * its event loop from getting here).
   */
  orphaned(): void {
    if (this.#orphaned) return;
    this.#orphaned = true;
    this.#log.warn({ running: this.#runs.size }, 'the supervisor is gone: stopping this child\'s jobs and exiting');
    this.stopNow();
  }

  /** Abort every job and exit at once (second signal, or the grace period is over). */
  stopNow(): void {
    if (this.#stopNow) return;
    this.#stopNow = true;
    this.#drain ??= { exit: EXIT.OK, why: 'asked to stop now' };
    this.#drained();
    this.#puts?.pause();
    this.#log.warn({ running: this.#runs.size }, 'child stopping now: running jobs are abandoned and will be handed out again when their locks expire');
    // Jobs popped ahead never started: hand them back at once rather than
    // leave them locked until their locks expire.
    this.#held?.handBackAll('the worker is stopping now');
    for (const run of this.#runs.values()) run.abort('shutdown', 'the worker is shutting down');
    this.#wake.wake();
    // A moment for job code to react to the abort, then go.
    setTimeout(() => void this.#exit(EXIT.OK), 100).unref();
  }

  /**
   * A job this child retried is due again in `delay` seconds: pop then,
   * rather than at the next --interval, so that a short retry delay is kept
   * (the core moves a scheduled job to its queue when a pop finds it due).
   */
  #lookAgainAfter(delay: number): void {
    if (delay <= 0 || delay >= this.#init.options.interval) return;
    setTimeout(() => this.#wake.wake(), Math.ceil(delay * 1000) + 10).unref();
  }

  /**
   * A put (or another event that may mean work) in one of this child's
   * queues: the pop goes out now, from the event's own read, when one is due
   * (#trip decides, as for a job finishing); the loop, woken by the trip,
   * collects it, and that trip answers this event. Otherwise (a trip
   * already in flight may have missed the put, or none is due now) the loop
   * is woken to look again.
   */
  #onPut(): void {
    if (this.#fetching === undefined) {
      this.#trip();
      if (this.#fetching !== undefined) return;
    }
    this.#wake.wake();
  }

  /** Free slots (within --max-jobs). */
  #free(): number {
    const { maxJobs } = this.#init.options;
    let free = this.#idleSlots() - this.#held.size;
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
    const waiting = this.#held.size;
    const held = this.#running.size + this.#behind.size + waiting;
    const ahead = this.#drain === undefined ? this.#ahead.allowance(this.#longestRunningMs()) : 0;
    let room = 0;
    if (held < concurrency || (ahead > 0 && waiting <= ahead / 2)) room = concurrency + ahead - held;
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
        if (this.#fetching === undefined) {
          this.#trip();
          // The loop has just looked at its slots and started what is due:
          // earlier wake-ups, and the one its own trip left, are spent (left
          // pending, that one would end the sleep after an empty pop at once,
          // and an idle child would pop without pause).
          this.#wake.clear();
        }
        const fetching = this.#fetching;
        if (fetching === undefined) {
          // Nothing to pop now: a job finishing (or a stop) wakes the loop.
          await this.#wake.wait();
          continue;
        }
        const jobs = await this.#collect(fetching);
        if (jobs === undefined) {
          // The pop failed: wait before the next (only a stop cuts this
          // short; a put or a job finishing must not make it spin).
          if (!this.#puts.subscribed) void this.#puts.subscribe().catch(() => undefined);
          this.#popPaused = true;
          await Promise.race([sleep(this.#popFailures.delayMs), this.#draining]);
          this.#popPaused = false;
          continue;
        }
        if (jobs.length === 0 && this.#rateWaitSeconds !== undefined) {
          // A rate limit holds the jobs back: sleep exactly until the next
          // start is allowed, not woken by puts or by jobs finishing, so
          // that no pop is made before it can succeed. Completions
          // meanwhile go on their own (#popPaused).
          this.#popPaused = true;
          await Promise.race([sleep(Math.max(1, this.#rateWaitSeconds * 1000)), this.#draining]);
          this.#popPaused = false;
          continue;
        }
        if (jobs.length === 0) {
          this.#puts.foundNothing();
          if (!this.#puts.subscribed) {
            // Listen again before sleeping, then pop once more: a put made
            // before the subscription took effect is found by that pop.
            await this.#puts.subscribe();
            continue;
          }
          this.#titles.update();
          // A job that finished meanwhile may have started the next trip.
          if (this.#fetching === undefined) {
            // Going to sleep: the releases waiting go now, while this child
            // is awake anyway, not as the next put arrives (issue 16: a
            // release's timer woke the child and its supervisor just then).
            // Wake-ups from before the trip went out (the job that ended
            // just before it, the trip's own) are answered: an idle child
            // does not pop again at once to find nothing.
            void this.#reports.flush();
            await this.#wake.waitForNews(fetching.news, interval * 1000);
            stageMark('loop woken');
          }
          continue;
        }
        stageMark('jobs collected');
        this.#puts.foundWork();
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
    if (this.#fetching === undefined && this.#looping && !this.#popPaused && this.#drain === undefined && this.#resumeQueue.length === 0) {
      const room = this.#room();
      if (room > 0) {
        const idle = this.#running.size === 0 && this.#held.size === 0;
        const jobs = popQueues(this.#client, this.#reserver(), this.#completing, this.#name, room);
        stageMark('pop written');
        this.#wake.wake(); // the loop collects it: the trip answers this wake-up and those before
        this.#fetching = { room, jobs, news: this.#wake.news };
        // The pop is written: while its reply is on the way, an idle child
        // does now what the job it may bring would otherwise wait for.
        if (idle) {
          this.#sandbox.emptyAhead();
          this.#loader.locateAhead();
          prepareRun();
          stageMark('ahead done');
        }
        return;
      }
    }
    if (this.#completing.length > 0) void completeAndPop(this.#client, this.#completing.splice(0));
  }

  /** The jobs a trip popped (undefined when every pop it made failed); the trip is then over. */
  async #collect(fetching: Fetching): Promise<Job[] | undefined> {
    try {
      const { jobs, failure, answered, askedAll, rateWaitSeconds } = await fetching.jobs;
      // "Popping works again" only once every queue was asked: with the
      // round-robin a trip may be filled before it reaches a queue whose
      // pops keep failing, and that burst is not over.
      if (failure !== undefined) this.#popFailures.failed(failure);
      else if (askedAll) this.#popFailures.succeeded();
      this.#ahead.popped(fetching.room, jobs.length);
      this.#rateWaitSeconds = rateWaitSeconds;
      return answered ? jobs : undefined;
    } finally {
      if (this.#fetching === fetching) this.#fetching = undefined;
    }
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

  /** Take jobs on: claim them all, start as many as there are free slots, keep the rest waiting. */
  async #launch(jobs: ResumedJob[]): Promise<void> {
    const runs = jobs.map(({ job, worker }) => new Run(this.#nextRunId++, job, worker));
    for (const run of runs) this.#runs.set(run.id, run);
    this.#started += runs.length;
    // The supervisor heartbeats these from their claim on. Those beyond the
    // free slots wait (popped ahead); the supervisor times them (--timeout)
    // only once they start.
    const earlier = runs.map((run) => this.#supersede(run));
    let free = this.#idleSlots() - this.#held.size;
    const startNow = runs.map((_, i) => earlier[i] === undefined && free-- > 0);
    const claimed: ClaimedRun[] = runs.map((run, i) => ({
      runId: run.id, jid: run.job.jid, queue: run.job.queue, klass: run.job.klass, worker: run.worker, expires: run.job.expires,
      ...(startNow[i] ? {} : { waiting: true as const }),
    }));
    stageMark('claim sending');
    // A claim sent now is written before any job code runs, in case that
    // code blocks the event loop at once.
    const written = this.#reports.claim(claimed, this.#mayClaimLater(runs));
    if (written) await written;
    stageMark('claim callback');
    if (this.#stopNow) {
      for (const [i, before] of earlier.entries()) if (before) this.#forget([runs[i]!]);
      this.#held.handBack(runs.filter((_, i) => !earlier[i]), 'the worker is stopping now');
      return;
    }
    // Slots only free up while the claim is written (a job finishing then
    // found nothing new to start): #fill starts the rest in them.
    runs.forEach((run, i) => {
      const before = earlier[i];
      // The earlier run may have ended while the claim was written: then
      // nothing would ever hand its slot on, so this run goes on at once.
      if (before?.finished) this.#afterEarlier(run);
      else if (before) this.#behind.set(before, run);
      else if (startNow[i]) this.#start(run);
      else this.#held.hold(run);
    });
    this.#fill();
    this.#titles.update();
    const { maxJobs } = this.#init.options;
    if (maxJobs > 0 && this.#started >= maxJobs) this.drain({ exit: EXIT.RECYCLE, why: `ran --max-jobs ${maxJobs} jobs` });
  }

  /**
   * Whether these runs' claim may go out after their code started (see
   * src/worker/parent.ts). If a job's code then blocks the event loop before
   * the claim is written, the supervisor finds the job anyway: after
   * 2.5 unanswered pings it heartbeats the jobs Redis lists under this
   * child's name (src/worker/listed-jobs.ts), and if the child dies it gives
   * them back (src/worker/leftovers.ts). Both rely on the lock lasting a
   * while and on the child's own name holding it, hence the exceptions:
   * `--timeout` (the supervisor times a run from its claim), a lock with
   * less than LAZY_CLAIM_MIN_LOCK_S left, a job held under another name (a
   * resumed job). And only while the child is idle (no job running or
   * waiting): that is where the claim's pipe write delayed the job's start
   * (a put's latency); a busy child's claim nearly always carries releases
   * (RunReports sends a claim at once while releases wait, see there), and
   * in W5 (`npm run bench`) making the others lazy saved no daemon CPU.
   */
  #mayClaimLater(runs: readonly Run[]): boolean {
    if (this.#init.options.timeout > 0) return false;
    if (this.#running.size > 0 || this.#held.size > 0) return false;
    const now = this.#client.now();
    return runs.every((run) => run.worker === this.#name && run.job.expires - now >= LAZY_CLAIM_MIN_LOCK_S);
  }

  /**
   * A job popped while an earlier run of it is still in this child: the
   * core handed it out anew, so the earlier lock is gone — and as the new
   * lock has the same worker name, the earlier run's calls (its job's own
   * complete(), a completion already on its way) would now pass for the new
   * run's. An earlier run that never started is simply replaced; one that
   * runs is aborted, and returned: the new run waits for it to end, then
   * confirms its lock before starting (it does not run if the earlier one
   * finished the job after all). So two runs of one job never overlap here,
   * and one job is never completed twice.
   */
  #supersede(run: Run): Run | undefined {
    for (const earlier of this.#runs.values()) {
      if (earlier === run || earlier.finished || earlier.job.jid !== run.job.jid) continue;
      if (!earlier.started) {
        // Held ahead, or itself waiting behind a still earlier run: replaced.
        this.#held.remove(earlier);
        this.#forget([earlier]);
        continue;
      }
      this.#abort(earlier, 'lock_lost', 'the job was handed out again and popped anew by this worker', true);
      return earlier;
    }
    return undefined;
  }

  /** A run whose earlier run ended: it waits for a slot like a job popped ahead, and confirms its lock first. */
  #afterEarlier(run: Run): void {
    if (run.finished) return; // replaced by a later pop meanwhile
    run.confirmFirst = true;
    if (this.#stopNow) {
      this.#forget([run]);
      return;
    }
    this.#held.hold(run);
    this.#fill();
  }

  /** Slots whose job could start now (a run waiting behind an earlier one of its job keeps one). */
  #idleSlots(): number {
    return this.#init.options.concurrency - this.#running.size - this.#behind.size;
  }

  /** Start jobs held ahead while slots are idle. */
  #fill(): void {
    while (!this.#stopNow && this.#idleSlots() > 0) {
      const next = this.#held.next();
      if (!next) return;
      this.#start(next);
    }
  }

  /**
   * Confirm, with a heartbeat, that a job is still this worker's before its
   * code starts (a job that waited long for its slot, or one popped anew).
   * A lost lock or a cancellation may have been published meanwhile, and its
   * event may still be unread behind a blocked event loop.
   */
  async #confirm(run: Run): Promise<boolean> {
    // Redis away or refusing writes for a while ('unknown') tells nothing about the lock.
    if ((await checkLock(this.#client, run.job.jid, run.worker)) === 'lost') this.#abort(run, 'lock_lost', 'its lock was lost before it started', true);
    return run.aborted === undefined;
  }

  /** Start a run's code in a free slot. */
  #start(run: Run): void {
    // Calls made in this tick (the completions of jobs that just finished,
    // a pop) go to Redis before this job's code runs: were that code to
    // block the event loop, or crash the child, they would otherwise wait
    // with it, or be lost (and those jobs run again).
    this.#client.gateway.flushNow();
    for (const holder of this.#holders.values()) holder.gateway.flushNow();
    stageMark('start');
    run.started = true;
    run.startedAt = Date.now();
    run.startedTick = performance.now();
    this.#running.add(run);
    // Popped ahead: with --timeout the supervisor starts timing it now (the
    // message is written before the job's code runs, in case that blocks).
    if (run.heldAhead && this.#init.options.timeout > 0) void this.#reports.send({ type: 'started', runs: [run.id], ...this.#reports.takeCodeDone() });
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
    this.#reports.codeDone(run.id);
    this.#ahead.ran(performance.now() - run.startedTick);
    const { maxMemory } = this.#init.options;
    if (maxMemory > 0 && this.#drain === undefined) {
      const rss = process.memoryUsage.rss();
      if (rss > maxMemory * 1024 * 1024) this.drain({ exit: EXIT.RECYCLE, why: `memory ${Math.round(rss / 1048576)} MB is above --max-memory ${maxMemory} MB` });
    }
    this.#fill();
    this.#wake.wake();
  }

  /** Runs popped ahead that were handed back: they never ran, and are not this child's any more. */
  #forget(runs: Run[]): void {
    for (const run of runs) {
      run.finished = true;
      this.#runs.delete(run.id);
      this.#releaseRun(run);
    }
    this.#titles.update();
    this.#wake.wake();
    void this.#maybeExit();
  }

  #finish(run: Run): void {
    run.finished = true;
    this.#slotFree(run);
    this.#runs.delete(run.id);
    this.#releaseRun(run);
    const later = this.#behind.get(run);
    if (later) {
      this.#behind.delete(run);
      this.#afterEarlier(later);
    }
    this.#titles.update();
    this.#wake.nudge(); // nothing new for the loop's pops (#slotFree above tells of the slot)
    void this.#maybeExit();
  }

  /** Tell the supervisor a run is over (batched, see src/worker/parent.ts). */
  #releaseRun(run: Run): void {
    if (run.released) return;
    run.released = true;
    this.#reports.release(run.id);
  }

  #abort(run: Run, kind: Parameters<Run['abort']>[0], reason: string, tellParent: boolean): void {
    if (run.job.settled || !run.abort(kind, reason)) return;
    // The lock is gone: the job's own calls must not pass for a later lock
    // of the same worker name (the job popped anew by this child).
    if (kind === 'lock_lost' || kind === 'timeout') disownJob(run.job, reason);
    this.#log.info({ jid: run.job.jid, kind, reason }, 'job aborted');
    if (!run.started) {
      // Popped ahead and not started: it simply never runs.
      this.#held.remove(run);
      this.#finish(run);
      return;
    }
    // The lock is gone: the supervisor must stop heartbeating it.
    if (tellParent) void this.#reports.send({ type: 'aborted', runId: run.id, jid: run.job.jid });
    setTimeout(() => {
      if (run.finished || this.#stopNow) return;
      run.abandoned = true;
      // A later run of the same job waits for this one: it will not start.
      const later = this.#behind.get(run);
      if (later) later.abandoned = true;
      this.#log.warn({ jid: run.job.jid, klass: run.job.klass, graceMs: ABORT_GRACE_MS }, 'job ignores its AbortSignal; this child takes no more jobs and is replaced once its other jobs are done');
      this.drain({ exit: EXIT.RECYCLE, why: `job ${run.job.jid} ignored its abort` });
    }, ABORT_GRACE_MS).unref();
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
      const lock = await checkLock(this.#client, run.job.jid, run.worker);
      if (lock === 'held') this.#log.debug({ jid: run.job.jid, event: event.event }, 'ignored a worker event: the lock is still ours');
      if (lock !== 'lost') continue;
      const kind = event.event === 'canceled' ? 'canceled' : 'lock_lost';
      this.#abort(run, kind, event.event === 'canceled' ? 'the job was canceled' : 'the job was moved, timed out or handed to another worker', true);
    }
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
    this.#standIn?.close();
    const memory = process.memoryUsage();
    this.#log.info({ code, reason: this.#drain?.why, rss: memory.rss, heapUsed: memory.heapUsed, reloads: this.#loader.reloads }, 'child exiting');
    await this.#events.flush();
    await this.#reports.flush();
    if (code !== EXIT.CHILD_STARTUP && this.#client && this.#health?.up) {
      // Off the worker list, unless a name still holds jobs (see src/worker/leftovers.ts).
      const forgetting = forgetIdleWorkers(this.#client, [this.#name, ...this.#holders.keys()]).catch((error: unknown) => {
        this.#log.debug({ ...errorFields(error) }, 'could not drop this worker from the worker list');
      });
      await Promise.race([forgetting, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    this.#health?.stop();
    const closing = Promise.all([this.#client?.close(), ...[...this.#holders.values()].map((c) => c.close())]).catch(() => undefined);
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    process.exit(code);
  }
}
