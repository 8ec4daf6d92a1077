/**
 * Knowing that a directory is still empty without listing it again.
 *
 * A sandbox is emptied before and after every job, and usually it is empty
 * already: listing it costs five system calls each time, a `stat` one.
 * Creating, removing or renaming an entry of a directory changes its
 * modification time (and its change time, which no one can set back), so a
 * directory whose times and inode are those it had when it was last found
 * empty has had no entry added since. Files written deeper down need not be
 * looked for: an emptied directory has no subdirectory, and making one
 * changes it too.
 *
 * Those times come from the kernel's coarse clock: an entry made in the
 * same tick as the last change may leave them as they were. A directory is
 * therefore trusted only once its last change is SETTLED_MS old; until then
 * it is listed as before.
 */
import { statSync, type Stats } from 'node:fs';

/** A directory changed less than this long ago (ms) is listed again rather than trusted. */
const SETTLED_MS = 50;

/** What identifies a directory's contents as they were when found empty. */
interface Snapshot {
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

function stat(dir: string): Stats | undefined {
  try {
    return statSync(dir, { throwIfNoEntry: false });
  } catch {
    return undefined; // listing it says what is wrong
  }
}

export class KnownEmpty {
  readonly #known = new Map<string, Snapshot>();

  /** Whether `dir` is as it was when last reported empty (one `stat`). */
  unchanged(dir: string): boolean {
    const known = this.#known.get(dir);
    if (known === undefined) return false;
    const now = stat(dir);
    if (now !== undefined && now.ino === known.ino && now.dev === known.dev && now.mtimeMs === known.mtimeMs && now.ctimeMs === known.ctimeMs) return true;
    this.#known.delete(dir);
    return false;
  }

  /** `dir` was just found empty, or emptied: remembered once its last change is settled. */
  emptied(dir: string): void {
    const now = stat(dir);
    if (now === undefined || Date.now() - Math.max(now.mtimeMs, now.ctimeMs) < SETTLED_MS) this.#known.delete(dir);
    else this.#known.set(dir, { dev: now.dev, ino: now.ino, mtimeMs: now.mtimeMs, ctimeMs: now.ctimeMs });
  }
}
