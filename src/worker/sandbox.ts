/**
 * Sandboxes: child k owns `<workdir>/qless-ts-workers/sandbox-<k>/` and runs
 * with it as its working directory, so files a job writes with relative
 * paths land there. A job's sandbox is emptied before and after it runs.
 *
 * With `--concurrency` 1 the job's sandbox is the child's directory itself.
 * With more, each running job gets a slot directory of its own,
 * `sandbox-<k>/slot-<i>/` (its `job.sandbox`), so emptying one job's sandbox
 * never deletes a neighbour's files. Jobs sharing a child also share its
 * working directory: what they write with relative paths lands in
 * `sandbox-<k>/` and is removed whenever no job of that child is running.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KnownEmpty } from './known-empty.js';

/** The directory of a work directory that holds the sandboxes (and the supervisor's claim, see workdir-claim.ts). */
export function workersDir(workdir: string): string {
  return join(workdir, 'qless-ts-workers');
}

/** Where child `index` keeps its sandbox. */
export function sandboxDir(workdir: string, index: number): string {
  return join(workersDir(workdir), `sandbox-${index}`);
}

const SLOT = /^slot-\d+$/;
/** How recently a directory must have been emptied to count as empty before the next job (ms). */
const FRESH_MS = 1;
/**
 * How long a directory emptied ahead, while the pop that may bring its next
 * job is on the way, counts as empty (ms): about a pop's round trip with
 * room to spare, so that the job it brings need not list it again.
 */
const AHEAD_FRESH_MS = 5;

/** Create `dir` if missing (an existing non-directory is an error), then empty it, keeping `keep` entries. */
export async function emptyDir(dir: string, keep: (name: string) => boolean = () => false): Promise<void> {
  // Synchronous, and one listing in the usual case (the directory exists and
  // is empty): a trip through the thread pool, or a mkdir and a stat before
  // every listing, would cost more than the listing itself.
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new Error(`sandbox ${dir} exists and is not a directory`);
    if (code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error(`sandbox ${dir} exists and is not a directory`);
    names = readdirSync(dir);
  }
  const entries = names.filter((name) => !keep(name));
  if (entries.length === 0) return;
  await Promise.all(entries.map((name) => rm(join(dir, name), { recursive: true, force: true, maxRetries: 2 })));
}

/** One child's sandbox and its slots. */
export class Sandbox {
  readonly root: string;
  readonly #slots: boolean;
  readonly #free: number[];
  #busy = 0;
  // Taking a slot and tidying the shared directory never interleave, so a
  // tidy-up cannot delete what a job that just started wrote.
  #gate: Promise<void> = Promise.resolve();
  /** Operations queued on the gate and not over yet. */
  #queued = 0;
  /** Directories emptied, with nothing running in them since: until when (performance.now()) they count as empty. */
  readonly #emptied = new Map<string, number>();
  /** Directories known to be empty still, checked with a `stat` rather than listed (src/worker/known-empty.ts). */
  readonly #known = new KnownEmpty();

  constructor(root: string, concurrency: number) {
    this.root = root;
    this.#slots = concurrency > 1;
    this.#free = Array.from({ length: concurrency }, (_, i) => concurrency - 1 - i);
  }

  /** Create and empty the whole sandbox (at child start). */
  async prepare(): Promise<void> {
    await emptyDir(this.root);
    this.#known.emptied(this.root);
  }

  /** Empty `dir` (keeping `keep` entries), unless it is known to be empty still. */
  async #clean(dir: string, keep?: (name: string) => boolean): Promise<void> {
    if (this.#known.unchanged(dir)) return;
    await emptyDir(dir, keep);
    this.#known.emptied(dir);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#queued++;
    const result = this.#gate.then(fn);
    this.#gate = result.then(() => void this.#queued--, () => void this.#queued--);
    return result;
  }

  /**
   * Take a free slot at once, without waiting, when {@link acquire} would
   * have nothing to do: no other operation on the gate, and the directories
   * it would empty still fresh from being emptied (ahead, or after the last
   * job). Undefined otherwise: then call `acquire`. An idle child's job
   * starts so, its sandbox emptied while its pop was on the way.
   */
  acquireNow(): { slot: number; dir: string } | undefined {
    if (this.#queued > 0) return undefined;
    const slot = this.#free.at(-1);
    if (slot === undefined) return undefined;
    const dir = this.#slots ? join(this.root, `slot-${slot}`) : this.root;
    const now = performance.now();
    const fresh = (path: string): boolean => (this.#emptied.get(path) ?? -Infinity) > now;
    if (!fresh(dir) || (this.#slots && this.#busy === 0 && !fresh(this.root))) return undefined;
    this.#free.pop();
    this.#busy++;
    this.#emptied.delete(dir);
    if (this.#slots && this.#busy === 1) this.#emptied.delete(this.root);
    return { slot, dir };
  }

  /** Take a free slot; its directory is created and emptied. */
  acquire(): Promise<{ slot: number; dir: string }> {
    return this.#exclusive(async () => {
      const slot = this.#free.pop();
      if (slot === undefined) throw new Error('no free sandbox slot (more jobs than --concurrency)');
      this.#busy++;
      const dir = this.#slots ? join(this.root, `slot-${slot}`) : this.root;
      try {
        if (this.#slots && this.#busy === 1) await this.#emptyBefore(this.root, (name) => SLOT.test(name));
        await this.#emptyBefore(dir);
      } catch (error) {
        this.#busy--;
        this.#free.push(slot);
        throw error;
      }
      return { slot, dir };
    });
  }

  /**
   * Empty now what the next `acquire` would empty, so that a job arriving
   * within AHEAD_FRESH_MS starts without listing its directory: for an idle child,
   * called as its pop goes out, the listing then overlaps that round trip
   * instead of lying between the pop's reply and the job's start. Nothing is
   * done while a job runs (the next job's directory is then emptied when
   * that job ends, or by acquire).
   */
  emptyAhead(): void {
    if (this.#busy > 0) return;
    void this.#exclusive(async () => {
      const slot = this.#free.at(-1);
      if (this.#busy > 0 || slot === undefined) return;
      const dir = this.#slots ? join(this.root, `slot-${slot}`) : this.root;
      if (this.#slots) {
        await this.#clean(this.root, (name) => SLOT.test(name));
        this.#emptied.set(this.root, performance.now() + AHEAD_FRESH_MS);
      }
      await this.#clean(dir);
      this.#emptied.set(dir, performance.now() + AHEAD_FRESH_MS);
    }).catch(() => undefined); // acquire empties it again, and reports what fails
  }

  /**
   * Empty a directory before a job. One that this sandbox emptied after the
   * previous job a moment ago (FRESH_MS: the next job of a busy child starts
   * right away) is not listed again: a file another process dropped into it
   * in between could as well have come just after a fresh listing.
   */
  async #emptyBefore(dir: string, keep?: (name: string) => boolean): Promise<void> {
    const freshUntil = this.#emptied.get(dir);
    this.#emptied.delete(dir);
    if (freshUntil !== undefined && performance.now() < freshUntil) return;
    await this.#clean(dir, keep);
  }

  /**
   * Empty a slot and give it back; once no job of the child runs, loose
   * files in the child's directory are removed too.
   */
  release(slot: { slot: number; dir: string }): Promise<void> {
    return this.#exclusive(async () => {
      this.#busy--;
      try {
        await this.#clean(slot.dir);
        this.#emptied.set(slot.dir, performance.now() + FRESH_MS);
        if (this.#slots && this.#busy === 0) {
          await this.#clean(this.root, (name) => SLOT.test(name));
          this.#emptied.set(this.root, performance.now() + FRESH_MS);
        }
      } finally {
        this.#free.push(slot.slot);
      }
    });
  }
}
