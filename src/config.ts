/**
 * `client.config`: the core's settings (lock length, grace period, history
 * retention, per-queue heartbeats and concurrency caps).
 *
 * Typing rule: the core stores every value as text, and answers built-in
 * defaults as numbers. Values are handed back as numbers when the text is a
 * plain decimal number (`"120"` → 120, `"2.5"` → 2.5, `"-1"` → -1) and as
 * strings otherwise (`"qless"`, `""`, `"0x10"`, `" 7"`), so a number set is a
 * number read and nothing is guessed. Unset options read as `null`.
 */
import * as args from './args.js';
import { InvalidArgumentError } from './errors.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import type { ConfigOption, ConfigValue } from './types.js';

const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

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

  /** Store a value; takes effect on the next call that reads it. */
  async set(option: ConfigOption, value: ConfigValue): Promise<void> {
    if (typeof value === 'number') args.finite(value, option);
    else if (typeof value !== 'string') throw new InvalidArgumentError(`config value of ${option} must be a string or a number`);
    await this.#client.call('config.set', args.name(option, 'option'), String(value));
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
