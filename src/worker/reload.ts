/**
 * Hot reload, supervisor side: one chokidar watcher over the files the
 * children imported (their job modules and everything those import, outside
 * node_modules). When one changes, every child that loaded an older version
 * of it is recycled — it finishes its running jobs and a fresh child, which
 * imports the new code, takes its place. Watching what was loaded (rather
 * than whole `--path` trees) keeps the watcher small and ignores files jobs
 * write.
 */
import { statSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from './logger.js';
import type { LoadedFile } from './protocol.js';

/** A file's modification time, `undefined` once it is gone. */
function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

export class ReloadWatcher {
  readonly #log: Logger;
  readonly #onChange: (file: string, mtimeMs: number | undefined) => void;
  readonly #watched = new Set<string>();
  #watcher: FSWatcher | undefined;

  /** `onChange` gets the file and its new modification time (`undefined` once deleted). */
  constructor(log: Logger, onChange: (file: string, mtimeMs: number | undefined) => void) {
    this.#log = log;
    this.#onChange = onChange;
  }

  /** Number of files watched. */
  get size(): number {
    return this.#watched.size;
  }

  add(files: readonly LoadedFile[]): void {
    const fresh = files.filter((f) => !this.#watched.has(f.file));
    if (fresh.length === 0) return;
    for (const { file } of fresh) this.#watched.add(file);
    // A file edited after the child imported it but before the watcher
    // covers it raises no event (the child's report and chokidar's set-up
    // both take a moment): compare modification times now, and again once
    // the watch is surely in place, so such an edit still recycles the child.
    const missed = (): void => {
      for (const { file, mtimeMs } of fresh) if (mtimeOf(file) !== mtimeMs) this.#changed(file);
    };
    missed();
    if (!this.#watcher) {
      this.#watcher = watch(fresh.map((f) => f.file), { ignoreInitial: true, persistent: true });
      const changed = (file: string): void => this.#changed(file);
      this.#watcher.once('ready', missed);
      this.#watcher.on('change', changed);
      this.#watcher.on('add', changed);
      this.#watcher.on('unlink', changed);
      this.#watcher.on('error', (error) => this.#log.warn({ error: (error as Error).message }, 'file watcher error'));
    } else {
      this.#watcher.add(fresh.map((f) => f.file));
      // chokidar says when it is ready only once, for its first files.
      setTimeout(missed, 1000).unref();
    }
    this.#log.debug({ files: fresh.map((f) => f.file) }, 'watching job modules for changes');
  }

  #changed(file: string): void {
    this.#onChange(file, mtimeOf(file));
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
    this.#watcher = undefined;
  }
}
