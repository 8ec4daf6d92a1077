/**
 * The child's side of the IPC channel to its supervisor: sending a message,
 * and batching the reports about runs.
 *
 * A child reports each run twice — `claim` once it holds it, `release` once
 * the child is done with it — and with `--timeout` also when its code ended
 * (`done`, see src/worker/protocol.ts). For short jobs that would be several
 * messages per job, so:
 *
 * - A claim the child marks lazy (see ChildWorker#launch for when that is
 *   safe) is not written before the job's code starts but from a
 *   `setImmediate` once the runs started, together with the other lazy
 *   claims of that tick: the pipe write would otherwise wake the supervisor
 *   just as the job starts, and on a busy machine preempt the child. A run
 *   released before its lazy claim went out needs neither message. A
 *   synchronous claim, `started`, `aborted` and the release timer first
 *   send the lazy claims waiting, so the supervisor never hears of a run
 *   before its claim.
 * - Releases and `done`s wait a moment (RELEASE_DELAY_MS) for the next claim
 *   (or `started`) to carry them, and go on their own only when none comes.
 *   Heartbeating a finished job in the meantime is harmless: the core
 *   refuses it as complete, and the supervisor checks that this child's
 *   worker completed it before taking the refusal for a lost lock (a
 *   release can wait long behind a next job that blocks the event loop).
 */
import type { ChildMessage, ClaimedRun } from './protocol.js';

/** How long a release may wait for the next claim to carry it. */
const RELEASE_DELAY_MS = 20;

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

/** Claims, releases and code-done reports waiting for a message to ride with. */
export class RunReports {
  readonly #timed: boolean;
  #released: number[] = [];
  #codeDone: number[] = [];
  /** Lazy claims not written yet, by run id (in claim order). */
  readonly #unclaimed = new Map<number, ClaimedRun>();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  /** `timed`: `--timeout` is set, so the supervisor wants to hear when a run's code ends. */
  constructor(timed: boolean) {
    this.#timed = timed;
  }

  /**
   * Claim runs. `lazy`: written from a `setImmediate` (after the runs'
   * code started), and undefined is returned; otherwise written now, and
   * the promise resolves once it is — the caller waits for it before
   * starting any job code.
   *
   * A claim is never lazy while releases are waiting: were the new job's
   * code to block the event loop, the supervisor would go on heartbeating a
   * finished job, take its refusal for a lost lock, and kill the child as
   * one whose aborted job will not stop. So lazy claims are those of a
   * child that was idle (it sends its releases before it sleeps); a busy
   * child's claim carries the releases before the next job starts, as
   * before.
   */
  claim(runs: ClaimedRun[], lazy: boolean): Promise<void> | undefined {
    if (lazy && this.#released.length === 0 && this.#codeDone.length === 0) {
      for (const run of runs) this.#unclaimed.set(run.runId, run);
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        void this.sendClaims();
      });
      return undefined;
    }
    return this.#sendClaim(runs);
  }

  /** Write the lazy claims waiting (with the releases and `done`s waiting); resolves once written. */
  sendClaims(): Promise<void> {
    return this.#unclaimed.size === 0 ? Promise.resolve() : this.#sendClaim([]);
  }

  /** Send a message about runs: the lazy claims waiting go first. */
  send(message: ChildMessage): Promise<void> {
    void this.sendClaims();
    return sendToParent(message);
  }

  #sendClaim(runs: ClaimedRun[]): Promise<void> {
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    const claimed = [...this.#unclaimed.values(), ...runs];
    this.#unclaimed.clear();
    return sendToParent({ type: 'claim', runs: claimed, released: this.takeReleased(), ...this.takeCodeDone() });
  }

  /** The child is done with run `runId`: the supervisor may stop heartbeating it. */
  release(runId: number): void {
    // Never claimed: the supervisor does not know it (nothing to release).
    if (this.#unclaimed.delete(runId)) return;
    this.#released.push(runId);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#unclaimed.size > 0) return void this.sendClaims();
      const runs = this.takeReleased();
      if (runs.length > 0) void sendToParent({ type: 'release', runs });
    }, RELEASE_DELAY_MS);
  }

  /** Run `runId`'s code is over (only reported with `--timeout`). */
  codeDone(runId: number): void {
    if (this.#timed) this.#codeDone.push(runId);
  }

  /** The releases waiting, for a message about to be sent (a claim). */
  takeReleased(): number[] {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#released.splice(0);
  }

  /** The code-done reports waiting, as the `done` field of a claim or `started`. */
  takeCodeDone(): { done?: number[] } {
    return this.#codeDone.length > 0 ? { done: this.#codeDone.splice(0) } : {};
  }

  /** Send the claims and releases waiting now (the child is about to exit). */
  async flush(): Promise<void> {
    await this.sendClaims();
    const released = this.takeReleased();
    if (released.length > 0) await sendToParent({ type: 'release', runs: released });
  }
}
