/**
 * The child's side of the IPC channel to its supervisor: sending a message,
 * and batching the small reports about runs that are over.
 *
 * A child reports each run twice — `claim` before its code starts, `release`
 * once the child is done with it — and with `--timeout` also when its code
 * ended (`done`, see src/worker/protocol.ts). For short jobs that would be
 * several messages per job, so releases and `done`s wait a moment
 * (RELEASE_DELAY_MS) for the next claim (or `started`) to carry them, and go
 * on their own only when none comes. Heartbeating a finished job in the
 * meantime is harmless: the supervisor's refusal names a run that no longer
 * exists.
 */
import type { ChildMessage } from './protocol.js';

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

/** Releases and code-done reports waiting for a message to ride with. */
export class RunReports {
  readonly #timed: boolean;
  #released: number[] = [];
  #codeDone: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `timed`: `--timeout` is set, so the supervisor wants to hear when a run's code ends. */
  constructor(timed: boolean) {
    this.#timed = timed;
  }

  /** The child is done with run `runId`: the supervisor may stop heartbeating it. */
  release(runId: number): void {
    this.#released.push(runId);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
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

  /** Send the releases waiting now (the child is about to exit). */
  async flush(): Promise<void> {
    const released = this.takeReleased();
    if (released.length > 0) await sendToParent({ type: 'release', runs: released });
  }
}
