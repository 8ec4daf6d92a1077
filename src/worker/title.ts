/**
 * A child's process title (what `ps` shows): idle, the job(s) it works on,
 * or that it is stopping.
 *
 * Setting the title is a system call, and a busy child's title would change
 * twice per job (the job claimed, the job finished). So while the title
 * names jobs, a change that comes less than BUSY_EVERY_MS after the last
 * one waits for that moment (one timer at most), and only the latest state
 * is shown then (so for that long a title may still name a job just
 * finished). Every other change is shown at the end of the event loop's
 * turn (setImmediate): a child going from idle to a job shows that job
 * right away, but after the job's first steps. Stopping is shown at once.
 */
import type { Run } from './runner.js';
import { setTitle } from './logger.js';

/** While the title names jobs, it changes at most this often (ms). */
const BUSY_EVERY_MS = 100;

/** What the title describes. */
export interface TitleState {
  index: number;
  queues: readonly string[];
  /** Set once the child is stopping or being replaced. */
  draining: 'recycling' | 'stopping' | undefined;
  runs: ReadonlyMap<number, Run>;
}

/** The title for a state. */
export function describeChild(state: TitleState): string {
  const { index, draining } = state;
  if (draining) return `child ${index} ${draining}, ${state.runs.size} job(s) to finish`;
  const runs: Run[] = [];
  for (const run of state.runs.values()) if (run.started) runs.push(run);
  if (runs.length === 0) return `child ${index} idle, polling ${state.queues.join(', ')}`;
  if (runs.length === 1) return `child ${index} working on ${runs[0]!.job.jid} (${runs[0]!.job.klass})`;
  return `child ${index} working on ${runs.length} jobs: ${runs.map((run) => `${run.job.jid} (${run.job.klass})`).join(', ')}`;
}

export class ChildTitle {
  readonly #state: () => TitleState;
  #shown = '';
  #shownAt = 0;
  /** The title shown names jobs. */
  #busy = false;
  /** Cancels the update due, if any. */
  #pending: (() => void) | undefined;

  /** `state` is read whenever the title is set. */
  constructor(state: () => TitleState) {
    this.#state = state;
  }

  /** The state changed: show it shortly (see the module comment). */
  update(): void {
    if (this.#pending) return; // the update due reads the state then
    const wait = this.#busy ? BUSY_EVERY_MS - (performance.now() - this.#shownAt) : 0;
    if (wait > 0) {
      const timer = setTimeout(() => this.#show(), wait).unref();
      this.#pending = () => clearTimeout(timer);
      return;
    }
    // Not in this tick: the job that just started runs its first steps
    // first (a system call costs tens of µs in a process that was idle).
    const immediate = setImmediate(() => this.#show());
    immediate.unref();
    this.#pending = () => clearImmediate(immediate);
  }

  /** Show the state now (the child begins to stop). */
  now(): void {
    this.#show();
  }

  /** Set a title of its own (starting up). */
  set(text: string): void {
    this.#pending?.();
    this.#pending = undefined;
    this.#apply(text, false);
  }

  #show(): void {
    this.#pending?.();
    this.#pending = undefined;
    const state = this.#state();
    this.#apply(describeChild(state), !state.draining && hasStarted(state.runs));
  }

  #apply(text: string, busy: boolean): void {
    this.#busy = busy;
    if (text === this.#shown) return;
    this.#shown = text;
    this.#shownAt = performance.now();
    setTitle(text);
  }
}

function hasStarted(runs: ReadonlyMap<number, Run>): boolean {
  for (const run of runs.values()) if (run.started) return true;
  return false;
}
