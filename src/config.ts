/**
 * `client.config`: the core's settings (lock length, grace period, history
 * retention, per-queue heartbeats and concurrency caps).
 *
 * Typing rule: the core stores every value as text, and answers built-in
 * defaults as numbers. Values are handed back as numbers when the text is a
 * plain decimal number (`"120"` → 120, `"2.5"` → 2.5, `"-1"` → -1) and as
 * strings otherwise (`"qless"`, `""`, `"0x10"`, `" 7"`), so a number set is a
 * number read and nothing is guessed. Unset options read as `null`.
 *
 * Checks on the way in: an option the core reads as a number (the table
 * below, the one list every surface uses) only takes a value that reads
 * back as a number, since one stored `60s` used to stop every pop. A name
 * the core does not read is stored all the same (other qless clients keep
 * options of their own), with a warning that suggests the nearest known name.
 */
import { closestName } from './suggest.js';
import * as args from './args.js';
import { InvalidArgumentError } from './errors.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { ConfigOption, ConfigValue } from './types.js';

const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** What the number of a numeric option counts, with a value that reads well as an example. */
export interface NumericOption {
  /** `seconds`, `jobs`, … as in "a number of seconds". */
  readonly unit: string;
  /** A typical value, shown in the refusal of a bad one. */
  readonly example: number;
  /** Said after the example, e.g. what 0 means. */
  readonly note?: string;
  /**
   * What the core uses while the option is unset, for the options that
   * `config.get` reads as nil then (their default lives in the core's code,
   * lua/worker.lua, lua/base.lua, lua/queue.lua, not in CONFIG_DEFAULTS):
   * a number, or the name of the global option a per-queue one falls back to.
   */
  readonly fallback?: number | { readonly option: string };
}

/**
 * Every option the core reads as a number. Add an option here when the core
 * starts reading one: the client, the CLI and the dashboard all check
 * values against this table.
 */
export const NUMERIC_OPTIONS: Readonly<Record<string, NumericOption>> = {
  heartbeat: { unit: 'seconds', example: 60 },
  'grace-period': { unit: 'seconds', example: 10 },
  'jobs-history': { unit: 'seconds', example: 604800 },
  'jobs-history-count': { unit: 'jobs', example: 50000 },
  'max-job-history': { unit: 'history entries', example: 100, fallback: 100 },
  'max-worker-age': { unit: 'seconds', example: 86400, fallback: 86400 },
  'stats-history': { unit: 'days', example: 30 },
  'histogram-history': { unit: 'days', example: 7 },
  // How many rounds a pop may make past jobs parked on a full throttle.
  'max-pop-retry': { unit: 'rounds', example: 1 },
};

/** Numeric options of one queue, named `<queue><suffix>` (`emails-heartbeat`). */
export const QUEUE_NUMERIC_OPTIONS: Readonly<Record<string, NumericOption>> = {
  '-heartbeat': { unit: 'seconds', example: 60, fallback: { option: 'heartbeat' } },
  '-max-concurrency': { unit: 'jobs', example: 4, note: '0 for no limit', fallback: 0 },
  '-max-pop-retry': { unit: 'rounds', example: 1 },
  // A rate limit: at most <queue>-rate-limit starts in any <queue>-rate-window seconds.
  '-rate-limit': { unit: 'jobs', example: 5, note: '0 for no limit' },
  '-rate-window': { unit: 'seconds', example: 1 },
};

/** Options the core knows that are not numbers. */
const TEXT_OPTIONS: readonly string[] = ['application', 'job-layout'];

/**
 * The values of `job-layout`, how put stores new jobs: `spec` (the default:
 * the layout qless-core's own script reads) or `compact` (about half the
 * memory per job, readable by this core only; see the README).
 */
export const JOB_LAYOUTS: readonly string[] = ['spec', 'compact'];

/** The numeric option `option` is, per queue or global; `undefined` for any other name. */
export function numericOption(option: string): NumericOption | undefined {
  const global = NUMERIC_OPTIONS[option];
  if (global !== undefined && Object.hasOwn(NUMERIC_OPTIONS, option)) return global;
  for (const [suffix, spec] of Object.entries(QUEUE_NUMERIC_OPTIONS)) {
    if (option.length > suffix.length && option.endsWith(suffix)) return spec;
  }
  return undefined;
}

/** Whether the core reads this option (a built-in or per-queue one). */
export function isKnownOption(option: string): boolean {
  return TEXT_OPTIONS.includes(option) || numericOption(option) !== undefined;
}

/**
 * The text to store for `value`, refusing (before anything is sent) a
 * numeric option's value that would not read back as a finite number.
 */
export function configText(option: string, value: ConfigValue): string {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new InvalidArgumentError(`config value of ${option} must be a string or a number`);
  }
  // The core refuses any other value too: checked here before anything is sent.
  if (option === 'job-layout' && !JOB_LAYOUTS.includes(String(value))) {
    throw new InvalidArgumentError(`job-layout must be ${JOB_LAYOUTS.join(' or ')}; got ${JSON.stringify(String(value)).slice(1, -1)}`);
  }
  const spec = numericOption(option);
  if (spec === undefined) {
    if (typeof value === 'number') args.finite(value, option);
    return String(value);
  }
  const text = String(value);
  if (typeof value === 'number' ? Number.isFinite(value) : DECIMAL.test(text) && Number.isFinite(Number(text))) return text;
  const got = typeof value === 'string' ? (text === '' ? 'an empty value' : JSON.stringify(text).slice(1, -1)) : text;
  const note = spec.note === undefined ? '' : ` (${spec.note})`;
  throw new InvalidArgumentError(`${option} must be a number of ${spec.unit}, such as ${spec.example}${note}; got ${got}`);
}

/**
 * What people setting options by hand (the CLI, the dashboard) may not
 * store, though the core and the library take it: a heartbeat of 0 or less
 * makes every lock expire at once, so the next pop anywhere takes each
 * running job again and it runs twice. (Tests of qless clients set a
 * negative heartbeat on purpose to expire locks, through the library.)
 */
export function checkOperatorValue(option: string, value: ConfigValue): void {
  if (option !== 'heartbeat' && !(option.length > '-heartbeat'.length && option.endsWith('-heartbeat'))) return;
  const seconds = Number(configText(option, value));
  if (seconds > 0) return;
  const got = String(value).trim();
  throw new InvalidArgumentError(`${option} must be more than 0 seconds, got ${got}: every lock would expire at once, and another worker would take each job while it still runs`);
}

/** The known option an unknown name most likely meant, if one is close enough. */
export function suggestOption(option: string): string | undefined {
  const candidates = [...TEXT_OPTIONS, ...Object.keys(NUMERIC_OPTIONS)];
  // `emails-heartbeet` meant `emails-heartbeat`: try each split into queue and suffix.
  for (let i = option.indexOf('-'); i > 0; i = option.indexOf('-', i + 1)) {
    for (const suffix of Object.keys(QUEUE_NUMERIC_OPTIONS)) candidates.push(option.slice(0, i) + suffix);
  }
  return closestName(option, candidates);
}

/**
 * A warning for an option name the core does not read (it is stored all
 * the same), or `undefined` for a known one.
 */
export function configWarning(option: string): string | undefined {
  if (isKnownOption(option)) return undefined;
  const suggestion = suggestOption(option);
  const hint = suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
  return `${option} is not an option the core reads.${hint} It was stored anyway, since other qless clients may keep options of their own.`;
}

/** What {@link Config.set} reports. */
export interface ConfigSetResult {
  /** The text stored. */
  value: string;
  /** Set when the core does not read this option name (likely a typo); the value was stored anyway. */
  warning: string | undefined;
}

/** Apply the typing rule to one stored value. */
export function configValue(value: unknown): ConfigValue {
  if (typeof value === 'number') return value;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  if (DECIMAL.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  return text;
}

/**
 * The lock length the core applies to a queue, from a `config.get` listing:
 * `<queue>-heartbeat`, else `heartbeat`, else 60. `undefined` when the value
 * that applies is not a number (the core would fail on it too).
 */
export function lockSeconds(all: { readonly [option: string]: unknown }, queue: string): number | undefined {
  for (const option of [`${queue}-heartbeat`, 'heartbeat']) {
    const value = all[option];
    if (value === undefined || value === null || value === '') continue;
    const n = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return 60;
}

/** `client.config`: read and change the core's settings (see the typing rule above). */
export class Config {
  readonly #client: Client;

  /** @internal Use `client.config`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /** The option's value (stored, else the built-in default), or `null`. */
  async get(option: ConfigOption): Promise<ConfigValue | null> {
    const reply = await this.#client.call('config.get', args.name(option, 'option'));
    if (reply === null || Array.isArray(reply)) return null;
    return configValue(reply);
  }

  /**
   * Store a value; takes effect on the next call that reads it. A numeric
   * option's value must be a finite number (or text that reads as one):
   * anything else is refused with an InvalidArgumentError and nothing is
   * written. An option name the core does not read is stored with a warning.
   */
  async set(option: ConfigOption, value: ConfigValue): Promise<ConfigSetResult> {
    const name = args.name(option, 'option');
    const text = configText(name, value);
    await this.#client.call('config.set', name, text);
    return { value: text, warning: configWarning(name) };
  }

  /** Remove a stored value; the built-in default (if any) applies again. */
  async unset(option: ConfigOption): Promise<void> {
    await this.#client.call('config.unset', args.name(option, 'option'));
  }

  /** Every built-in default overlaid with every stored option. */
  async all(): Promise<Record<string, ConfigValue>> {
    const value = wire.configAll('config.get', await this.#client.call('config.get'));
    const result: Record<string, ConfigValue> = {};
    for (const [option, raw] of Object.entries(value)) result[option] = configValue(raw);
    return result;
  }
}
