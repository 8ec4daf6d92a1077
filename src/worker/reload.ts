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
    const fresh = files.map((f) => f.file).filter((file) => !this.#watched.has(file));
    if (fresh.length === 0) return;
    for (const file of fresh) this.#watched.add(file);
    if (!this.#watcher) {
      this.#watcher = watch(fresh, { ignoreInitial: true, persistent: true });
      const changed = (file: string): void => {
        let mtimeMs: number | undefined;
        try {
          mtimeMs = statSync(file).mtimeMs;
        } catch {
          mtimeMs = undefined;
        }
        this.#onChange(file, mtimeMs);
      };
      this.#watcher.on('change', changed);
      this.#watcher.on('add', changed);
      this.#watcher.on('unlink', changed);
      this.#watcher.on('error', (error) => this.#log.warn({ error: (error as Error).message }, 'file watcher error'));
    } else {
      this.#watcher.add(fresh);
    }
    this.#log.debug({ files: fresh }, 'watching job modules for changes');
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
    this.#watcher = undefined;
  }
}
