/**
 * `client.throttles`: named concurrency limits shared by any jobs, in any
 * queues, that name them (`queue.put(..., { throttles: ['stripe-api'] })`).
 * The core keeps them with reqless-core's commands and keys, so reqless
 * tools read them too; a queue's own limit is the throttle `ql:q:<queue>`
 * (see Queue.setMaxConcurrency).
 */
import * as args from './args.js';
import { InvalidArgumentError } from './errors.js';
import * as wire from './wire.js';
import type { Client } from './client.js';
import { scanTargets, type CoreReply } from './gateway.js';

/** A throttle's limit as the core stores it. */
export interface ThrottleInfo {
  /** The throttle's name (`ql:q:<queue>` for a queue's own). */
  id: string;
  /** At most this many jobs hold it at once; 0 = no limit (also a throttle never set). */
  maximum: number;
  /** Seconds until the limit expires: -1 never, -2 no limit is stored. */
  ttl: number;
}

/** A throttle with the jobs that hold it and those parked until it has room. */
export interface ThrottleSummary extends ThrottleInfo {
  /** Jids holding a slot (running, or stalled and not yet reclaimed). */
  locks: string[];
  /** Jids parked on it, first parked first. */
  pending: string[];
}

/** A rate limit: at most `limit` starts in any `per` seconds. */
export interface RateLimit {
  limit: number;
  per: number;
}

/**
 * A rate limit as people write it (CLI argument, dashboard form):
 * `<limit>/<seconds>` (`5/1`, `100/60`), or `off`. Returns a sentence of
 * what is wrong for anything else (a limit below 1, a window of 0).
 */
export function readRateLimit(text: string): RateLimit | 'off' | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === 'off') return 'off';
  const m = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(trimmed);
  if (!m) return { problem: `a rate limit is written <limit>/<seconds>, such as 5/1, or off; got ${text}` };
  const limit = Number(m[1]);
  const per = Number(m[2]);
  if (limit < 1) return { problem: 'the limit must be at least 1 (off removes it)' };
  if (!(per > 0)) return { problem: 'the window must be more than 0 seconds' };
  return { limit, per };
}

/** Options of {@link Throttles.set}. */
export interface ThrottleSetOptions {
  /** Seconds until the limit expires (it is then unlimited); 0 or none keeps the current expiry. */
  expiration?: number;
}

function info(command: string, reply: CoreReply): ThrottleInfo {
  const value = wire.jsonObject(command, reply);
  const number = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
  return { id: String(value['id']), maximum: number(value['maximum']), ttl: number(value['ttl']) };
}

/** A member list reply: JSON array text (`[]` when empty), or a plain array from older cores. */
function members(command: string, reply: CoreReply): string[] {
  if (Array.isArray(reply)) return wire.strings(command, reply);
  return wire.stringList(command, wire.jsonList(command, reply));
}

export class Throttles {
  readonly #client: Client;

  /** @internal Use `client.throttles`. */
  constructor(client: Client) {
    this.#client = client;
  }

  /**
   * Let at most `maximum` jobs that name the throttle run at once (0: no
   * limit). Jobs parked on it get any room this makes at once.
   */
  async set(name: string, maximum: number, options: ThrottleSetOptions = {}): Promise<void> {
    const id = args.name(name, 'throttle name');
    const max = args.integer(maximum, 'maximum');
    const expiration = options.expiration === undefined ? 0 : args.finite(options.expiration, 'expiration');
    if (expiration < 0) throw new InvalidArgumentError(`expiration must be 0 or more seconds, got ${expiration}`);
    await this.#client.call('throttle.set', id, max, expiration);
  }

  /** The throttle's limit (maximum 0 and ttl -2 when none is stored). */
  async get(name: string): Promise<ThrottleInfo> {
    return info('throttle.get', await this.#client.call('throttle.get', args.name(name, 'throttle name')));
  }

  /** Remove the limit (it becomes unlimited); holders and parked jobs are kept, and parked jobs get the room. */
  async delete(name: string): Promise<void> {
    await this.#client.call('throttle.delete', args.name(name, 'throttle name'));
  }

  /** Jids holding a slot of the throttle. */
  async locks(name: string): Promise<string[]> {
    return members('throttle.locks', await this.#client.call('throttle.locks', args.name(name, 'throttle name')));
  }

  /** Jids parked until the throttle has room. */
  async pending(name: string): Promise<string[]> {
    return members('throttle.pending', await this.#client.call('throttle.pending', args.name(name, 'throttle name')));
  }

  /**
   * Take jobs' slots (or places in line) away by hand, e.g. of a job whose
   * worker vanished; the jobs themselves are not changed.
   */
  async release(name: string, ...jids: string[]): Promise<void> {
    const id = args.name(name, 'throttle name');
    for (const jid of jids) args.name(jid, 'jid');
    await this.#client.call('throttle.release', id, ...jids);
  }

  /**
   * Every throttle that has a limit, holders or parked jobs, by name, with
   * them. Found by scanning the key space (there is no index of throttles),
   * so meant for dashboards and tools, not for hot paths.
   */
  async list(): Promise<ThrottleSummary[]> {
    const ids = new Set<string>();
    const keys = this.#client.keys;
    for (const node of scanTargets(this.#client.redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', keys.throttlePattern, 'COUNT', 1000);
        cursor = next;
        if (found.length === 0) continue;
        const typing = node.pipeline();
        for (const key of found) typing.type(key);
        const types = (await typing.exec()) ?? [];
        found.forEach((key, i) => ids.add(keys.throttleOf(key, String(types[i]?.[1]))));
      } while (cursor !== '0');
    }
    const out: ThrottleSummary[] = [];
    for (const id of [...ids].sort()) {
      const [limit, locks, pending] = await Promise.all([this.get(id), this.locks(id), this.pending(id)]);
      if (limit.ttl === -2 && locks.length === 0 && pending.length === 0) continue;
      out.push({ ...limit, locks, pending });
    }
    return out;
  }
}
