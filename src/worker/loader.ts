/**
 * The loader: from a job's klass to the function that runs it, by the
 * client library's klass rule (`findKlassFile`), for `.ts`, `.mts`, `.cts`,
 * `.js`, `.mjs` and `.cjs` modules alike (TypeScript through tsx, without a
 * build step).
 *
 * Reloading. Node cannot unload a module, and importing a changed file under
 * a new URL keeps the old copy alive, so a long-lived process that reloads
 * that way grows without end. The loader therefore reports every file it
 * loads (job modules and what they import) to the supervisor, which watches
 * them and replaces a child whose files changed once its running jobs are
 * done: the new child imports the new code. To close the race between a
 * file changing and its child being replaced, the loader also compares the
 * job module's modification time before each job; when it changed, that one
 * job gets a fresh import of the module and the child asks to be recycled
 * (`onStale`). At most one such extra copy is made per change, and it dies
 * with the child.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { klassCandidates, klassExport, parseKlass, type KlassParts } from '../klass.js';
import { isLocalModule } from './options.js';
import type { LoadedFile } from './protocol.js';

/** A job's code, found. */
export interface JobCode {
  ok: true;
  /** The klass's export (usually a class with static methods). */
  target: object;
  /** The method to call with the job. */
  method: (job: never) => unknown;
  methodName: string;
  file: string;
}

/** Why a job's code could not be found: the failure it is recorded with. */
export interface MissingCode {
  ok: false;
  group: string;
  message: string;
}

interface Loaded {
  namespace: Record<string, unknown>;
  mtimeMs: number;
}

const require = createRequire(import.meta.url);
/** How long a located klass file (and its modification time) is reused (ms). */
const LOCATE_REUSE_MS = 1;
/** A klass file located ahead (see locateAhead) is reused for this long (ms): a pop's round trip, with room to spare. */
const LOCATE_AHEAD_REUSE_MS = 5;
/** locateAhead looks up klasses located within this long (ms)… */
const LOCATE_AHEAD_MS = 60 * 60 * 1000;
/** …and at most this many of them. */
const LOCATE_AHEAD_MAX = 4;
let registering: Promise<void> | undefined;
const importedUrls: string[] = [];

/**
 * Make `.ts` (and `.mts`, `.cts`) modules importable in this process, for
 * both ES modules and CommonJS, and record every module imported from now
 * on. Idempotent; a child starts it early so that it overlaps connecting to
 * Redis (the ES module hooks start a thread of their own).
 */
export function registerTypeScript(): Promise<void> {
  registering ??= (async () => {
    const esm = await import('tsx/esm/api');
    const cjs = await import('tsx/cjs/api');
    cjs.register();
    esm.register({ onImport: (url: string) => importedUrls.push(url) });
  })();
  return registering;
}

/** A file name from an import URL (`undefined` for node:, data: and packages in node_modules). */
function sourceFile(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  const file = fileURLToPath(url.replace(/[?#].*$/, ''));
  return file.includes('/node_modules/') || file.includes('\\node_modules\\') ? undefined : file;
}

function mtime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Import a module by file name through the registered loader. `fresh` reads
 * the file again even if it was imported before (a cache-busting URL for ES
 * modules; CommonJS modules are dropped from require's cache first).
 */
export async function importFile(file: string, fresh?: number): Promise<Record<string, unknown>> {
  await registerTypeScript();
  let url = pathToFileURL(file).href;
  if (fresh !== undefined) {
    delete require.cache[file];
    url += `?qless-reload=${fresh}`;
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Import an `--import` module: a file (see {@link isLocalModule}; relative
 * ones against `from`) or a package name resolved from `from`.
 */
export async function importPreload(specifier: string, from: string): Promise<void> {
  await registerTypeScript();
  const { tsImport } = await import('tsx/esm/api');
  const parent = pathToFileURL(from.endsWith('/') ? from : `${from}/`).href;
  await tsImport(isLocalModule(specifier) ? new URL(specifier, parent).href : specifier, parent);
}

/** A job whose code cannot be had: failed in the group `<queue>-import-error`. */
function importError(job: { klass: string; queue: string }, why: string): MissingCode {
  return { ok: false, group: `${job.queue}-import-error`, message: `Failed to import ${job.klass}: ${why}` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}

// Properties every function or object inherits are not job methods: a
// queue called `call` or `toString` must not run Function.prototype.call.
function ownMethod(target: object, name: string): unknown {
  const value = (target as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (value === (Function.prototype as unknown as Record<string, unknown>)[name]) return undefined;
  if (value === (Object.prototype as unknown as Record<string, unknown>)[name]) return undefined;
  return value;
}

/** Finds and loads job code; one per child. */
export class Loader {
  readonly #roots: readonly string[];
  readonly #reload: boolean;
  readonly #onLoaded: (files: LoadedFile[]) => void;
  readonly #onStale: (file: string) => void;
  readonly #modules = new Map<string, Loaded>();
  readonly #pending = new Map<string, Promise<Loaded>>();
  readonly #failed = new Map<string, { mtimeMs: number; error: unknown }>();
  readonly #reported = new Set<string>();
  /** Per klass: its parts and the files that may hold it (pure, so kept). */
  readonly #klasses = new Map<string, { parts: KlassParts; candidates: string[] }>();
  /** Each klass's file as last located: when a job last asked (performance.now()), and until when it is reused. */
  readonly #located = new Map<string, { file: string; mtimeMs: number | undefined; at: number; until: number }>();
  #cacheSize = -1;
  #reloads = 0;

  constructor(options: {
    roots: readonly string[];
    reload: boolean;
    /** New files imported (for the supervisor's watcher). */
    onLoaded: (files: LoadedFile[]) => void;
    /** A loaded job module changed on disk: this child should be replaced. */
    onStale: (file: string) => void;
  }) {
    this.#roots = options.roots;
    this.#reload = options.reload;
    this.#onLoaded = options.onLoaded;
    this.#onStale = options.onStale;
  }

  /** Extra copies of modules imported because they changed (at most one per change). */
  get reloads(): number {
    return this.#reloads;
  }

  /**
   * Report the files imported since the last report (also catches CommonJS
   * requires). Called after each import of a job module and, by the child,
   * about once a second. `imported` is the job module just imported, with
   * the modification time it was imported at: tsx tells of imported URLs
   * from its loader thread, so the module's own URL can arrive after the
   * import finished, and a time read then could already be an edit's (which
   * would never be reloaded).
   */
  reportLoaded(imported?: LoadedFile): void {
    const files: LoadedFile[] = [];
    const add = (file: string | undefined, known?: number): void => {
      if (file === undefined || this.#reported.has(file)) return;
      this.#reported.add(file);
      const mtimeMs = known ?? mtime(file);
      if (mtimeMs !== undefined) files.push({ file, mtimeMs });
    };
    if (imported) add(imported.file, imported.mtimeMs);
    for (const url of importedUrls.splice(0)) add(sourceFile(url));
    // Only look through require's cache when it grew.
    const cached = Object.keys(require.cache);
    if (cached.length !== this.#cacheSize) {
      this.#cacheSize = cached.length;
      for (const file of cached) if (!this.#reported.has(file) && !/[\\/]node_modules[\\/]/.test(file)) add(file);
    }
    if (files.length > 0) this.#onLoaded(files);
  }

  /**
   * The code that runs `job`, or why there is none, at once when its module
   * is loaded already and unchanged (nothing to import): undefined otherwise,
   * then call {@link resolve}. A job of a klass the child has run before
   * starts so, with no step between the loader and its code.
   */
  resolveNow(job: { klass: string; queue: string }): JobCode | MissingCode | undefined {
    const known = this.#klasses.get(job.klass);
    if (!known) return undefined;
    const found = this.#locate(job.klass, known.candidates);
    if (found === undefined) return undefined;
    const loaded = this.#modules.get(found.file);
    if (loaded === undefined || (this.#reload && found.mtimeMs !== undefined && found.mtimeMs !== loaded.mtimeMs)) return undefined;
    return this.#code(job, known.parts, found.file, loaded);
  }

  /** The code that runs `job`, or why there is none. */
  async resolve(job: { klass: string; queue: string }): Promise<JobCode | MissingCode> {
    const { klass } = job;
    let known = this.#klasses.get(klass);
    if (!known) {
      try {
        known = { parts: parseKlass(klass), candidates: klassCandidates(klass, this.#roots) };
      } catch (error) {
        return importError(job, (error as Error).message);
      }
      this.#klasses.set(klass, known);
    }
    const { parts } = known;
    const found = this.#locate(klass, known.candidates);
    if (found === undefined) {
      return importError(job, `no module file for it under --path ${this.#roots.join(', ')} (looked for ${known.candidates.join(', ')})`);
    }
    const { file } = found;
    let loaded: Loaded;
    try {
      loaded = await this.#load(file, found.mtimeMs);
    } catch (error) {
      const text = error instanceof Error ? error.stack ?? error.message : String(error);
      return importError(job, `${file} could not be loaded:\n${text}`);
    }
    return this.#code(job, parts, file, loaded);
  }

  /** The class or object `klass` names in a loaded module, and its method for the job's queue (or why not). */
  #code(job: { klass: string; queue: string }, parts: KlassParts, file: string, loaded: Loaded): JobCode | MissingCode {
    const { klass, queue } = job;
    const exported = klassExport(loaded.namespace, parts.exportName);
    if (!exported.found) {
      return importError(job, `${file} has no export "${parts.exportName}" (it exports: ${exported.exports.length > 0 ? exported.exports.join(', ') : 'nothing'})`);
    }
    const target = exported.value;
    if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
      return { ok: false, group: `${queue}-method-missing`, message: `${klass} is ${describe(target)}, not a class or object with a static "${queue}" or "process" method` };
    }
    for (const name of [queue, 'process']) {
      const method = ownMethod(target, name);
      if (method === undefined) continue;
      if (typeof method !== 'function') {
        return { ok: false, group: `${queue}-method-type`, message: `${klass}.${name} is ${describe(method)}, not a function` };
      }
      return { ok: true, target, method: method as (job: never) => unknown, methodName: name, file };
    }
    const prototype = (target as { prototype?: Record<string, unknown> }).prototype;
    for (const name of [queue, 'process']) {
      if (typeof prototype?.[name] === 'function') {
        return {
          ok: false,
          group: `${queue}-method-type`,
          message: `${klass}.prototype.${name} is an instance method; the worker calls static methods: declare it \`static ${name}(job)\``,
        };
      }
    }
    return { ok: false, group: `${queue}-method-missing`, message: `${klass} is missing a method "${queue}" or "process"` };
  }

  /**
   * Look the klasses located last up again now, while a pop is on its way
   * (the child is idle, so this costs the next job nothing): the job it
   * brings then finds its file fresh (LOCATE_AHEAD_REUSE_MS) instead of
   * making its stat calls between the pop and its start. Only klasses a job
   * asked for within LOCATE_AHEAD_MS are looked up, at most LOCATE_AHEAD_MAX.
   */
  locateAhead(): void {
    const now = performance.now();
    const recent = [...this.#located].slice(-LOCATE_AHEAD_MAX);
    for (const [klass, located] of recent) {
      if (now - located.at > LOCATE_AHEAD_MS) continue;
      const known = this.#klasses.get(klass);
      if (known) this.#locate(klass, known.candidates, true);
    }
  }

  /**
   * The first candidate file that exists (as `findKlassFile` finds it) and
   * its modification time, from one stat each. The answer is reused for
   * LOCATE_REUSE_MS: jobs of a busy child start back to back, and a file
   * changed within that moment could as well have changed just after it.
   */
  #locate(klass: string, candidates: readonly string[], again = false): { file: string; mtimeMs: number | undefined } | undefined {
    const now = performance.now();
    const recent = this.#located.get(klass);
    if (!again && recent && now < recent.until) return recent;
    // Most recently located last, so that locateAhead looks at those first.
    this.#located.delete(klass);
    for (const file of candidates) {
      let stats;
      try {
        stats = statSync(file, { throwIfNoEntry: false });
      } catch {
        stats = undefined; // unreadable, as existsSync says
      }
      if (stats === undefined) continue;
      // `at` is when a job last asked (a look-up ahead keeps it), so that
      // locateAhead stops with klasses no job has asked for a while.
      const found = { file, mtimeMs: stats.mtimeMs, at: again ? recent?.at ?? now : now, until: now + (again ? LOCATE_AHEAD_REUSE_MS : LOCATE_REUSE_MS) };
      this.#located.set(klass, found);
      return found;
    }
    this.#located.delete(klass);
    return undefined;
  }

  async #load(file: string, mtimeMs: number | undefined): Promise<Loaded> {
    const known = this.#modules.get(file);
    if (known) {
      if (!this.#reload) return known;
      const now = mtimeMs;
      if (now === undefined || now === known.mtimeMs) return known;
      // Changed since loaded: this job gets the new code now, and the child
      // asks to be replaced so that no more copies pile up.
      this.#onStale(file);
      return this.#import(file, now, ++this.#reloads);
    }
    // Node remembers a failed import under its URL for good, so a module
    // fixed on disk needs a fresh URL (and this child a replacement).
    const failed = this.#failed.get(file);
    if (failed) {
      const now = mtimeMs;
      if (!this.#reload || now === undefined || now === failed.mtimeMs) throw failed.error;
      this.#failed.delete(file);
      this.#onStale(file);
      return this.#import(file, now, ++this.#reloads);
    }
    let pending = this.#pending.get(file);
    if (!pending) {
      pending = this.#import(file, mtimeMs ?? 0);
      this.#pending.set(file, pending);
    }
    try {
      return await pending;
    } finally {
      this.#pending.delete(file);
    }
  }

  async #import(file: string, mtimeMs: number, fresh?: number): Promise<Loaded> {
    try {
      const loaded: Loaded = { namespace: await importFile(file, fresh), mtimeMs };
      this.#modules.set(file, loaded);
      return loaded;
    } catch (error) {
      this.#modules.delete(file);
      this.#failed.set(file, { mtimeMs, error });
      throw error;
    } finally {
      // What the import brought in (a failed one too: fixing it on disk
      // must replace the child) is watched from now on. Files a job's code
      // imports or requires later on its own are reported by the child's
      // periodic call (see ChildWorker), not before every job: listing
      // require's cache costs more than a short job's own bookkeeping.
      this.reportLoaded(mtimeMs > 0 ? { file, mtimeMs } : undefined);
    }
  }
}
