/**
 * The one path into the core: every command goes through {@link ScriptGateway}
 * as `EVALSHA <sha> 0 <command> <now> <args...>`, with `now` taken from one
 * injectable clock. If Redis has forgotten the script (a restart or SCRIPT
 * FLUSH) it is loaded again and the call retried, so a long-running client
 * survives both.
 */
import type { Redis, ChainableCommander } from 'ioredis';
import { classifyScriptError, ConnectionError, QlessError } from './errors.js';
import { coreScript } from './script.js';

/** A value the core accepts as an argument. */
export type CoreArg = string | number;

/** Raw reply shapes the core produces. */
export type CoreReply = string | number | null | CoreReply[];

/** Seconds since the epoch, fractional. */
export type Clock = () => number;

let lastTick = 0;

/**
 * Wall-clock seconds, strictly increasing within this process: two calls in
 * the same millisecond are told apart by a microsecond. The core orders
 * equal-priority jobs by put time, so without this, jobs put in one
 * millisecond would pop in jid order instead of first-in first-out.
 */
export const systemClock: Clock = () => {
  const now = Date.now() / 1000;
  lastTick = now > lastTick ? now : lastTick + 1e-6;
  return lastTick;
};

/** One call of a batch sent with {@link ScriptGateway.callMany}. */
export interface CoreCall {
  command: string;
  args: readonly CoreArg[];
}

/** Outcome of one call in a batch: its reply, or the error it raised. */
export type CoreOutcome = { ok: true; reply: CoreReply } | { ok: false; error: QlessError };

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function toQlessError(command: string, error: unknown): QlessError {
  if (error instanceof QlessError) return error;
  if (error instanceof Error && error.name === 'ReplyError') {
    return classifyScriptError(command, error.message, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${command}: ${message}`, { cause: error });
}

export class ScriptGateway {
  readonly redis: Redis;
  clock: Clock;
  private readonly source: string;
  private readonly sha: string;

  constructor(redis: Redis, clock: Clock = systemClock) {
    this.redis = redis;
    this.clock = clock;
    const script = coreScript();
    this.source = script.source;
    this.sha = script.sha;
  }

  /** Run one core command at the clock's `now`. */
  call(command: string, ...args: CoreArg[]): Promise<CoreReply> {
    return this.callAt(this.clock(), command, ...args);
  }

  /** Run one core command with an explicit `now` (tests, replays). */
  async callAt(now: number, command: string, ...args: CoreArg[]): Promise<CoreReply> {
    const argv = [command, String(now), ...args.map(String)];
    try {
      return await this.evalsha(argv);
    } catch (error) {
      if (!isNoScript(error)) throw toQlessError(command, error);
    }
    await this.load();
    try {
      return await this.evalsha(argv);
    } catch (error) {
      throw toQlessError(command, error);
    }
  }

  /**
   * Send many calls in one round trip (a pipeline, not a transaction: each
   * call is atomic on its own). Every call gets the same `now`.
   */
  async callMany(calls: readonly CoreCall[], now: number = this.clock()): Promise<CoreOutcome[]> {
    const outcomes: CoreOutcome[] = new Array(calls.length);
    let pending = calls.map((_, i) => i);
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      const pipeline: ChainableCommander = this.redis.pipeline();
      for (const i of pending) {
        const call = calls[i]!;
        pipeline.evalsha(this.sha, 0, call.command, String(now), ...call.args.map(String));
      }
      const results = (await pipeline.exec()) ?? [];
      const retry: number[] = [];
      pending.forEach((index, k) => {
        const [error, reply] = results[k] ?? [new Error('pipeline returned no result'), null];
        if (error && isNoScript(error) && attempt === 0) {
          retry.push(index);
        } else if (error) {
          outcomes[index] = { ok: false, error: toQlessError(calls[index]!.command, error) };
        } else {
          outcomes[index] = { ok: true, reply: reply as CoreReply };
        }
      });
      pending = retry;
      if (pending.length > 0) await this.load();
    }
    return outcomes;
  }

  /** Make sure Redis knows the script (SCRIPT LOAD is idempotent). */
  async load(): Promise<void> {
    try {
      await this.redis.script('LOAD', this.source);
    } catch (error) {
      throw toQlessError('SCRIPT LOAD', error);
    }
  }

  private evalsha(argv: string[]): Promise<CoreReply> {
    return this.redis.evalsha(this.sha, 0, ...argv) as Promise<CoreReply>;
  }
}
