/**
 * A child heartbeats its own jobs while its supervisor is not heard from.
 *
 * The supervisor heartbeats every job its children hold (src/worker/
 * heartbeats.ts). A supervisor stopped by a signal (SIGSTOP, a debugger) or
 * whose event loop is blocked renews nothing, while its children go on
 * running jobs, completing them and popping more: their locks would expire
 * after the queue's `heartbeat`, and the core would hand the jobs to other
 * workers while they still run here — the same job run twice.
 *
 * The supervisor pings each child every PING_EVERY_MS. When a child whose
 * own event loop is free has heard no ping for SILENT_MS, it heartbeats the
 * jobs it holds itself, with a Heartbeater of its own, until a ping comes
 * again. A lock refused meanwhile aborts its run as the supervisor's
 * refusal would. Both may renew the same lock for a moment: a heartbeat
 * from the lock's holder only moves its expiry, so that is harmless.
 *
 * A check that comes late (this child's own event loop was blocked, by a
 * CPU-bound job) says nothing about the supervisor: the pings may be
 * waiting unread behind it, so the silence is counted from then on.
 */
import type { Client } from '../client.js';
import { Heartbeater } from './heartbeats.js';
import type { Logger } from './logger.js';
import { PING_EVERY_MS } from './protocol.js';
import type { Run } from './runner.js';

/** No ping for this long: the child heartbeats its jobs itself. */
export const SILENT_MS = 3 * PING_EVERY_MS;
/** How often the child looks. */
const CHECK_MS = PING_EVERY_MS;

export interface StandInDeps {
  client: Client;
  log: Logger;
  /** The runs this child holds now (running or popped ahead). */
  runs: () => Iterable<Run>;
  /** The core refused a heartbeat: the run's lock is gone. */
  lost: (run: Run, error: Error) => void;
}

export class StandInHeartbeats {
  readonly #deps: StandInDeps;
  #timer: NodeJS.Timeout | undefined;
  #lastPing = Date.now();
  #lastCheck = Date.now();
  /** Set while this child heartbeats its own jobs. */
  #beating: { heartbeats: Heartbeater; runs: Map<string, Run>; since: number } | undefined;

  constructor(deps: StandInDeps) {
    this.#deps = deps;
  }

  /** Whether this child heartbeats its own jobs now. */
  get active(): boolean {
    return this.#beating !== undefined;
  }

  start(): void {
    this.#lastPing = this.#lastCheck = Date.now();
    this.#timer ??= setInterval(() => this.#check(), CHECK_MS);
    this.#timer.unref();
  }

  /** The supervisor pinged: it heartbeats this child's jobs. */
  pinged(): void {
    this.#lastPing = Date.now();
    const beating = this.#beating;
    if (beating === undefined) return;
    this.#beating = undefined;
    beating.heartbeats.close();
    this.#deps.log.info({ standInMs: this.#lastPing - beating.since }, 'the supervisor answers again; it heartbeats this child\'s jobs again');
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#beating?.heartbeats.close();
    this.#beating = undefined;
  }

  #check(): void {
    const now = Date.now();
    const late = now - this.#lastCheck > 2 * CHECK_MS;
    this.#lastCheck = now;
    if (late) this.#lastPing = Math.max(this.#lastPing, now);
    if (this.#beating === undefined) {
      if (now - this.#lastPing < SILENT_MS) return;
      this.#beating = { heartbeats: this.#heartbeater(), runs: new Map(), since: now };
      this.#deps.log.warn({ silentMs: now - this.#lastPing }, 'the supervisor has not pinged this child for a while (stopped or blocked): the child heartbeats its own jobs meanwhile');
    }
    this.#sync(this.#beating);
  }

  /** Track the runs held now, and only those. */
  #sync(beating: { heartbeats: Heartbeater; runs: Map<string, Run> }): void {
    const held = new Map<string, Run>();
    for (const run of this.#deps.runs()) if (!run.finished && !run.released) held.set(String(run.id), run);
    for (const key of beating.runs.keys()) {
      if (!held.has(key)) {
        beating.heartbeats.untrack(key);
        beating.runs.delete(key);
      }
    }
    for (const [key, run] of held) {
      if (beating.runs.has(key)) continue;
      beating.runs.set(key, run);
      beating.heartbeats.track({ key, jid: run.job.jid, worker: run.worker, queue: run.job.queue, expires: run.job.expires });
    }
  }

  #heartbeater(): Heartbeater {
    return new Heartbeater(this.#deps.client, this.#deps.log, {
      lost: (key, error) => {
        const run = this.#beating?.runs.get(key);
        this.#beating?.runs.delete(key);
        if (run && !run.finished) this.#deps.lost(run, error);
      },
      renewed: (key, expires) => {
        const run = this.#beating?.runs.get(key);
        if (run) run.job.expires = expires;
      },
    });
  }
}
