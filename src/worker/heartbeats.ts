/**
 * The supervisor heartbeats every job its children run.
 *
 * Why the parent: a job whose code is CPU-bound never yields its child's
 * event loop, so a child cannot be trusted to heartbeat its own jobs. The
 * core only checks that the heartbeat names the lock's holder, so the
 * supervisor heartbeats as the child (`<name>-<pid>`, or a resumed job's
 * recorded holder), without the data argument so the job's data is left as
 * the job's code keeps it. All jobs due are sent in one pipeline, together
 * with `config.get` to compute each new expiry exactly (the core's reply is
 * truncated to whole seconds). Each job is renewed after a third of its
 * lock length. The jobs are those the children claim (some claims go out
 * only once the job started, see src/worker/parent.ts), and, while a child
 * is silent, those Redis lists under its name that it has not claimed yet
 * (src/worker/listed-jobs.ts). While the supervisor is silent (stopped,
 * blocked), each child heartbeats its own jobs with this same class
 * (src/worker/stand-in.ts).
 *
 * A refusal means the lock is gone (moved, canceled, timed out, given to
 * another worker): `lost` is called and the job is no longer tracked. A
 * Redis outage is not a refusal, nor is Redis refusing writes for a while
 * (out of memory at `maxmemory`, say): the heartbeat is tried again.
 */
import type { Client } from '../client.js';
import { lockSeconds } from '../config.js';
import type { CoreCall } from '../gateway.js';
import * as wire from '../wire.js';
import type { Logger } from './logger.js';
import { lockRefused } from './lock.js';

/** A job to keep alive. */
export interface Beat {
  key: string;
  jid: string;
  /** The lock holder's name. */
  worker: string;
  queue: string;
  /** Current expiry (seconds since the epoch). */
  expires: number;
}

interface Entry extends Beat {
  /** Lock length in seconds. */
  length: number;
  /** When to heartbeat next (ms since the epoch). */
  due: number;
}

export interface HeartbeatHandlers {
  /** The core refused the heartbeat: the lock is gone. */
  lost(key: string, error: Error): void;
  /** The lock now runs until `expires`. */
  renewed(key: string, expires: number): void;
}

/** Renew a job after this fraction of its lock length. */
const FRACTION = 1 / 3;
/** Jobs due within this many ms join the current pipeline. */
const BATCH_SLACK_MS = 250;
/** Retry after a failed round trip. */
const RETRY_MS = 500;

export class Heartbeater {
  readonly #client: Client;
  readonly #log: Logger;
  readonly #handlers: HeartbeatHandlers;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since the epoch). */
  #timerAt = 0;
  #inFlight = false;
  #closed = false;
  /** Since when Redis refuses heartbeats for a while (OOM and the like). */
  #refusing: number | undefined;

  constructor(client: Client, log: Logger, handlers: HeartbeatHandlers) {
    this.#client = client;
    this.#log = log;
    this.#handlers = handlers;
  }

  /** Jobs currently kept alive. */
  get size(): number {
    return this.#entries.size;
  }

  /** Keep a job alive: renewed after a third of what is left of its lock, or at once with `now`. */
  track(beat: Beat, now = false): void {
    const length = Math.max(1, beat.expires - this.#client.now());
    const entry: Entry = { ...beat, length, due: Date.now() + (now ? 0 : length * 1000 * FRACTION) };
    this.#entries.set(beat.key, entry);
    // Jobs come and go by the thousand per second while the timer is set
    // for seconds ahead: only a job due sooner than that moves it.
    if (this.#timer === undefined || entry.due < this.#timerAt) this.#schedule();
  }

  untrack(key: string): void {
    this.#entries.delete(key);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#entries.clear();
  }

  /** Redis refusing heartbeats for a while (not the core refusing a lock): said once per spell. */
  #noteRefusals(refused: string | undefined, renewed: boolean): void {
    if (refused !== undefined && this.#refusing === undefined) {
      this.#refusing = Date.now();
      this.#log.warn({ error: refused }, 'Redis refuses heartbeats for now; retrying (locks expire if this lasts)');
    } else if (refused === undefined && renewed && this.#refusing !== undefined) {
      this.#log.info({ refusedMs: Date.now() - this.#refusing }, 'heartbeats work again');
      this.#refusing = undefined;
    }
  }

  #schedule(): void {
    if (this.#closed || this.#inFlight) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) next = Math.min(next, entry.due);
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timerAt = next;
    this.#timer = setTimeout(() => void this.#beat(), Math.max(0, next - Date.now()));
  }

  async #beat(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed || this.#inFlight) return;
    const cutoff = Date.now() + BATCH_SLACK_MS;
    const due = [...this.#entries.values()].filter((entry) => entry.due <= cutoff);
    if (due.length === 0) return this.#schedule();
    this.#inFlight = true;
    try {
      const calls: CoreCall[] = due.map((entry) => ({ command: 'heartbeat', args: [entry.jid, entry.worker] }));
      calls.push({ command: 'config.get', args: [] });
      const now = this.#client.now();
      let results;
      try {
        results = await this.#client.callMany(calls, now);
      } catch (error) {
        this.#log.debug({ error: (error as Error).message, jobs: due.length }, 'heartbeat round trip failed; retrying');
        for (const entry of due) entry.due = Date.now() + RETRY_MS;
        return;
      }
      const configResult = results[results.length - 1];
      let config: { [key: string]: unknown } | undefined;
      if (configResult?.ok) {
        try {
          config = wire.configAll('config.get', configResult.reply);
        } catch {
          config = undefined;
        }
      }
      let refusedNow: string | undefined;
      let renewed = false;
      due.forEach((entry, i) => {
        const result = results[i]!;
        if (this.#entries.get(entry.key) !== entry) return;
        if (!result.ok) {
          if (lockRefused(result.error)) {
            this.#entries.delete(entry.key);
            this.#handlers.lost(entry.key, result.error);
          } else {
            refusedNow ??= result.error.message;
            entry.due = Date.now() + RETRY_MS;
          }
          return;
        }
        renewed = true;
        const truncated = Number(result.reply);
        const length = config === undefined ? undefined : lockSeconds(config, entry.queue);
        const exact = length === undefined ? undefined : now + length;
        entry.expires = exact !== undefined && Math.trunc(exact) === truncated ? exact : truncated + (now - Math.trunc(now));
        entry.length = Math.max(1, entry.expires - now);
        entry.due = Date.now() + entry.length * 1000 * FRACTION;
        this.#handlers.renewed(entry.key, entry.expires);
      });
      this.#noteRefusals(refusedNow, renewed);
    } finally {
      this.#inFlight = false;
      this.#schedule();
    }
  }
}
