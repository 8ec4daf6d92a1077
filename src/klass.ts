/**
 * The klass rule: how the `klass` string stored with a job names the code
 * that runs it. Implemented once here so that `queue.put` (which builds the
 * string) and the worker's loader (which resolves it) cannot disagree.
 *
 * A klass is `<module path>.<ExportName>`, split at the **last** dot. The
 * module path's dotted segments are folders below a root directory (the
 * worker's `--path`), the last one being the module file:
 *
 * | klass                  | module files tried under each root                  | export       |
 * |------------------------|-----------------------------------------------------|--------------|
 * | `gnomes.GnomesJob`     | `gnomes.ts` … `gnomes.cjs`, `gnomes/index.ts` …     | `GnomesJob`  |
 * | `pkg.sub.mod.Job`      | `pkg/sub/mod.ts` …, `pkg/sub/mod/index.ts` …       | `Job`        |
 *
 * This is the shape Python and Ruby qless use (`module.Class`). A klass with
 * no dot, or with an empty segment, names no module and cannot be resolved.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError } from './errors.js';

/** A klass split into the module it lives in and the export it names. */
export interface KlassParts {
  /** Folder and file names below a root, e.g. `['pkg', 'sub', 'mod']`. */
  modulePath: string[];
  /** The named export of that module, e.g. `Job` (may be `default`). */
  exportName: string;
}

/** File extensions tried for a module, in this order. */
export const KLASS_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Symbol under which {@link defineKlass} records a class's klass. */
export const KLASS: unique symbol = Symbol.for('qless-ts.klass');

/** Anything `queue.put` and `queue.recur` accept as a klass. */
export type KlassRef = string | KlassCarrier | JobConstructor;

/** An object (often a class with `static klass = '…'`) that carries its klass. */
export interface KlassCarrier {
  readonly klass: string;
}

/** Any class. Whether it carries a klass is checked when it is used. */
export type JobConstructor = abstract new (...args: never[]) => unknown;

const SEGMENT = /^[^/\\\0]+$/;

/**
 * Split a klass into module path and export name. Throws
 * {@link InvalidArgumentError} when the string cannot name a module export.
 *
 * @example parseKlass('pkg.sub.mod.Job') // { modulePath: ['pkg', 'sub', 'mod'], exportName: 'Job' }
 */
export function parseKlass(klass: string): KlassParts {
  if (typeof klass !== 'string' || klass === '') {
    throw new InvalidArgumentError(`klass must be a non-empty string like "module.ExportName", got ${JSON.stringify(klass)}`);
  }
  const cut = klass.lastIndexOf('.');
  if (cut < 0) {
    throw new InvalidArgumentError(`klass "${klass}" names no module: write it as "<module path>.<ExportName>", e.g. "gnomes.${klass}"`);
  }
  const exportName = klass.slice(cut + 1);
  const modulePath = klass.slice(0, cut).split('.');
  if (exportName === '' || modulePath.some((segment) => segment === '')) {
    throw new InvalidArgumentError(`klass "${klass}" has an empty segment; every dotted part must be a name`);
  }
  const bad = [...modulePath, exportName].find((segment) => !SEGMENT.test(segment) || segment === '..');
  if (bad !== undefined) {
    throw new InvalidArgumentError(`klass "${klass}" has the segment "${bad}", which cannot be a file or export name`);
  }
  return { modulePath, exportName };
}

/**
 * Every file that may hold the klass's module, in the order a loader should
 * try them: for each root, `<root>/<a>/<b>/<c>.<ext>` for each extension,
 * then `<root>/<a>/<b>/<c>/index.<ext>`. Relative roots are resolved against
 * `cwd`. Pure: nothing is read from disk.
 */
export function klassCandidates(
  klass: string,
  roots: readonly string[],
  options: { extensions?: readonly string[]; cwd?: string } = {},
): string[] {
  const { modulePath } = parseKlass(klass);
  const extensions = options.extensions ?? KLASS_EXTENSIONS;
  const cwd = options.cwd ?? process.cwd();
  const files: string[] = [];
  for (const root of roots) {
    const base = join(isAbsolute(root) ? root : resolve(cwd, root), ...modulePath);
    for (const ext of extensions) files.push(base + ext);
    for (const ext of extensions) files.push(join(base, `index${ext}`));
  }
  return files;
}

/** The first candidate file that exists, or `undefined`. */
export function findKlassFile(
  klass: string,
  roots: readonly string[],
  options: { extensions?: readonly string[]; cwd?: string } = {},
): string | undefined {
  return klassCandidates(klass, roots, options).find((file) => existsSync(file));
}

/**
 * Record the klass of a class (or any object) without a static `klass`
 * property, and return it. The klass must be resolvable ({@link parseKlass}).
 *
 * @example export const GnomesJob = defineKlass(class { … }, 'gnomes.GnomesJob');
 */
export function defineKlass<T extends object>(target: T, klass: string): T {
  parseKlass(klass);
  Object.defineProperty(target, KLASS, { value: klass, enumerable: false, configurable: true });
  return target;
}

function ownKlass(target: object): string | undefined {
  const tagged = Object.getOwnPropertyDescriptor(target, KLASS);
  if (tagged && typeof tagged.value === 'string') return tagged.value;
  const own = Object.getOwnPropertyDescriptor(target, 'klass');
  if (own && typeof own.value === 'string') return own.value;
  if (own?.get) {
    const value: unknown = own.get.call(target);
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The klass string for what was passed to `put`/`recur`. A string is used
 * as given (so jobs for Python or Ruby workers can be put too); a class or
 * object must carry its own klass (static `klass` property or
 * {@link defineKlass}) that {@link parseKlass} accepts. A klass inherited
 * from a parent class is refused: it would name the parent's code.
 */
export function klassOf(ref: KlassRef): string {
  if (typeof ref === 'string') {
    if (ref === '') throw new InvalidArgumentError('klass must be a non-empty string');
    return ref;
  }
  if ((typeof ref !== 'function' && typeof ref !== 'object') || ref === null) {
    throw new InvalidArgumentError(`klass must be a string or a class carrying its klass, got ${String(ref)}`);
  }
  const label = typeof ref === 'function' && ref.name ? `class ${ref.name}` : 'the given object';
  const own = ownKlass(ref);
  if (own !== undefined) {
    try {
      parseKlass(own);
    } catch (error) {
      throw new InvalidArgumentError(`${label} carries an unresolvable klass: ${(error as Error).message}`);
    }
    return own;
  }
  const inherited = (ref as Partial<KlassCarrier>).klass;
  const hint = `give it \`static klass = '<module path>.${typeof ref === 'function' && ref.name ? ref.name : 'ExportName'}'\` or wrap it with defineKlass()`;
  if (typeof inherited === 'string') {
    throw new InvalidArgumentError(`${label} only inherits the klass "${inherited}" from a parent class, so a worker would run the parent's code; ${hint}`);
  }
  throw new InvalidArgumentError(`${label} does not say which module exports it, so no worker could find it; ${hint}`);
}

/** The export a klass names, found in a module, or the names the module does export. */
export type KlassExport = { found: true; value: unknown } | { found: false; exports: string[] };

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/**
 * The export `exportName` (possibly `default`) of a module, from the
 * namespace `import()` gave for it, the same way for ES modules and
 * CommonJS:
 *
 * - an ES module: its named exports, and `default`;
 * - CommonJS written with ES syntax and compiled (TypeScript in a project
 *   without `"type": "module"`, Babel): Node gives the whole `exports`
 *   object as the namespace's `default`, marked `__esModule`; its
 *   properties are the exports, `default` included;
 * - plain CommonJS: `default` is `module.exports`, and the other names are
 *   those Node found in the source, or else the properties of
 *   `module.exports` (built in a way Node cannot see).
 *
 * When the export is missing, `exports` lists the names the module does
 * export, for the failure message.
 */
export function klassExport(namespace: Readonly<Record<string, unknown>>, exportName: string): KlassExport {
  const whole = namespace['default'];
  const compiled = isObjectLike(whole) && Boolean(whole['__esModule']);
  const table: Readonly<Record<string, unknown>> = compiled ? whole : namespace;
  // Found first: listing a module namespace's names costs more than the rest, and is only needed when it is not there.
  if (Object.hasOwn(table, exportName) && table[exportName] !== undefined) return { found: true, value: table[exportName] };
  const names = Object.keys(table).filter((name) => name !== '__esModule' && name !== 'module.exports');
  // Plain CommonJS whose names Node did not find: the properties of module.exports.
  const hidden = !compiled && names.every((name) => name === 'default') && isObjectLike(whole) ? whole : undefined;
  if (hidden && exportName !== 'default' && hidden[exportName] !== undefined) return { found: true, value: hidden[exportName] };
  const all = hidden ? [...names, ...Object.keys(hidden)] : names;
  return { found: false, exports: [...new Set(all)].sort((a, b) => (a === 'default' ? 1 : b === 'default' ? -1 : a.localeCompare(b))) };
}
