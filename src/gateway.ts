/**
 * The one path into the core: every command goes through {@link ScriptGateway}
 * with `now` taken from one injectable clock.
 *
 * Two ways of calling the same core body:
 * - `FCALL qless_<sha> 0 <command> <now> <args...>` — the core loaded once as
 *   a Redis 7 function library. Its chunk runs at load time, so a call pays
 *   only for the command it runs; this is the default when the server has
 *   functions.
 * - `EVALSHA <sha> 0 <command> <now> <args...>` — `dist/qless.lua`, the
 *   contract every qless-core client uses. Redis runs the whole chunk on
 *   every call. Used when functions are unavailable (Redis < 7, ACLs that
 *   forbid FUNCTION, …) or when asked for.
 *
 * A call in a named namespace passes that namespace's one key (`FCALL
 * qless_<sha> 1 ql:{orders}: …`): the core builds every key from it, and
 * Redis Cluster routes the call to the primary that holds its hash slot.
 * On a cluster the core is loaded on every primary.
 *
 * If Redis has forgotten the code (a restart, SCRIPT FLUSH or FUNCTION FLUSH,
 * a replica promoted by Sentinel that never had it, a primary that joined a
 * cluster) it is loaded again and the call retried, so a long-running
 * client survives all of these.
 *
 * With durability settings, the calls that put or settle jobs are followed on
 * the same connection, in the same round trip, by `WAIT <replicas> <timeout>`
 * (see connection/durability.ts); a shortfall turns their outcome into a
 * {@link DurabilityError}.
 */
import { nextTick } from 'node:process';
import type { Cluster, Redis, ChainableCommander } from 'ioredis';
import { coreSender, type CoreSender } from './connection/core-command.js';
import { DURABLE_COMMANDS, durableJid, type Durability } from './connection/durability.js';
import { isReplicaRefusal } from './connection/redis.js';
import { awaitRedirection, maxRedirections, redirectionOf } from './connection/redirect.js';
import { classifyScriptError, ConnectionError, DurabilityError, QlessError } from './errors.js';
import { DEFAULT_KEYS, type KeySpace } from './keys.js';
import { coreLibrary, coreScript } from './script.js';

/** What the gateway talks to: one Redis (direct or through Sentinel) or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/** Whether a connection is a Redis Cluster (the core must then be on every primary). */
export function isCluster(redis: RedisConnection): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/**
 * The servers a SCAN must visit to see a namespace's keys: the one Redis, or
 * every primary of a cluster (SCAN sees one node; only the primary holding
 * the namespace's slot has its keys, the others answer with nothing).
 */
export function scanTargets(redis: RedisConnection): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/** A value the core accepts as an argument. */
export type CoreArg = string | number;

/** Raw reply shapes the core produces. */
export type CoreReply = string | number | null | CoreReply[];

/** Seconds since the epoch, fractional. */
export type Clock = () => number;

/**
 * How the gateway calls the core: `auto` (FCALL when the server allows
 * function libraries, else EVALSHA), `function` (FCALL only) or `script`
 * (EVALSHA only, as other qless clients do).
 */
export type CoreMode = 'auto' | 'function' | 'script';

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

/** At most this many calls go into one `multi` script call of {@link ScriptGateway.callMany}. */
export const MULTI_SIZE = 200;

/** Outcome of one call in a batch: its reply, or the error it raised. */
export type CoreOutcome = { ok: true; reply: CoreReply } | { ok: false; error: QlessError };

interface TimedCall {
  now: number;
  command: string;
  args: readonly CoreArg[];
}

/** Options of a {@link ScriptGateway} beyond its connection, clock and mode. */
export interface GatewayOptions {
  /** Wait for this many replicas after durable writes (see connection/durability.ts). */
  durability?: Durability | undefined;
  /** The namespace every call acts in; default the default namespace (`ql:` keys, no key passed). */
  keys?: KeySpace | undefined;
}

/** What one round trip brought back: each script call's reply (or error), and the WAIT's count (or error) if one was sent. */
interface Trip {
  replies: Array<[Error | null, unknown]>;
  waited: number | Error | undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/** Redis no longer has the code the call named: load it and call again. */
function isMissingCode(error: unknown): boolean {
  const message = messageOf(error);
  return message.startsWith('NOSCRIPT') || message.startsWith('ERR Function not found');
}

/**
 * The server cannot run functions at all: it does not know FCALL/FUNCTION
 * (before Redis 7) or the user may not call them. Matched on the start of
 * Redis's own replies; the core's errors always start `ERR user_…`.
 */
function isFunctionUnsupported(error: unknown): boolean {
  return /^(?:ERR unknown command|NOPERM)/.test(messageOf(error));
}

/** The outcomes of one `multi` script call's reply: each call's reply, or the error it raised. */
function multiOutcomes(calls: readonly { command: string }[], reply: CoreReply): CoreOutcome[] {
  const outcomes: CoreOutcome[] = new Array<CoreOutcome>(calls.length);
  for (let k = 0; k < calls.length; k++) {
    const item = Array.isArray(reply) ? (reply[k] as unknown) : new Error('multi: unexpected reply');
    outcomes[k] = item instanceof Error ? { ok: false, error: toQlessError(calls[k]!.command, item) } : { ok: true, reply: item as CoreReply };
  }
  return outcomes;
}

function unwrap(outcome: CoreOutcome): CoreReply {
  if (outcome.ok) return outcome.reply;
  throw outcome.error;
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
  readonly redis: RedisConnection;
  /** The namespace every call acts in. */
  readonly keys: KeySpace;
  clock: Clock;
  /** The mode asked for at construction. */
  readonly mode: CoreMode;
  private readonly source: string;
  private readonly sha: string;
  private readonly library: { name: string; source: string };
  /** Replicas to wait for after durable writes, or undefined. */
  readonly durability: Durability | undefined;
  // Whether calls go out as FCALL; in `auto` mode this turns false for good
  // once the server shows it cannot load or run the library.
  private functions: boolean;
  private loading: Promise<void> | undefined;
  // The first call, and whether it has been answered (see enqueue).
  private first: Promise<unknown> | undefined;
  private answered = false;
  // Calls made while one is already going out in this tick; sent on the next.
  private gathering: Array<TimedCall & { resolve: (outcome: CoreOutcome) => void }> | undefined;
  // How a script call goes out on this connection (see connection/core-command.ts).
  readonly #sender: CoreSender;

  constructor(redis: RedisConnection, clock: Clock = systemClock, mode: CoreMode = 'auto', options: GatewayOptions = {}) {
    this.redis = redis;
    this.clock = clock;
    this.mode = mode;
    this.durability = options.durability;
    this.keys = options.keys ?? DEFAULT_KEYS;
    const script = coreScript();
    this.source = script.source;
    this.sha = script.sha;
    this.library = coreLibrary();
    this.functions = mode !== 'script';
    this.#sender = coreSender(redis);
  }

  /** How calls currently go out: `function` (FCALL) or `script` (EVALSHA). */
  get via(): 'function' | 'script' {
    return this.functions ? 'function' : 'script';
  }

  /**
   * Set while the clock's first reading of Redis's time is on its way (see
   * redis-clock.ts): calls stamped by the clock wait for it, so that not
   * even a process's first pop locks its job by a skewed clock (at most a
   * couple of seconds, see RedisClock.first). Cleared once it has answered.
   */
  clockPending: Promise<void> | undefined;

  /** Run one core command at the clock's `now`. */
  call(command: string, ...args: CoreArg[]): Promise<CoreReply> {
    const wait = this.clockPending;
    if (wait !== undefined) return wait.then(() => this.#call(this.clock(), command, args));
    return this.#call(this.clock(), command, args);
  }

  /**
   * Run one core command with an explicit `now` (tests, replays).
   *
   * A call made while nothing else is waiting goes out at once. Further
   * calls made in the same tick (50 puts in flight, a worker's completions)
   * are gathered and sent together, as one `multi` script call, on the next
   * tick: each keeps its own `now`, runs exactly as it would alone, and
   * fails alone.
   */
  callAt(now: number, command: string, ...args: CoreArg[]): Promise<CoreReply> {
    return this.#call(now, command, args);
  }

  /**
   * @internal {@link ScriptGateway.call} with the reply read by `read` in
   * the same step (one promise less between the reply and the caller).
   */
  callAndRead<T>(command: string, args: readonly CoreArg[], read: (reply: CoreReply) => T): Promise<T> {
    const wait = this.clockPending;
    if (wait !== undefined) return wait.then(() => this.#call(this.clock(), command, args, read));
    return this.#call(this.clock(), command, args, read);
  }

  #call<T = CoreReply>(now: number, command: string, args: readonly CoreArg[], read?: (reply: CoreReply) => T): Promise<T> {
    if (this.answered && this.gathering === undefined && this.durability === undefined) {
      // The usual case, as enqueue would do it but with no outcome object
      // or async frames between the caller and ioredis: nothing waiting,
      // so send it now and gather what follows in this tick.
      this.gathering = [];
      nextTick(this.#flushTick);
      const functions = this.functions;
      const argv = this.#argv(functions);
      argv.push(command, String(now));
      for (const item of args) argv.push(typeof item === 'string' ? item : String(item));
      return this.#send(functions, argv).then(read, (error: unknown) =>
        this.#afterFailure(functions, { now, command, args }, error).then(read),
      ) as Promise<T>;
    }
    const outcome = this.enqueue({ now, command, args });
    return (read === undefined ? outcome.then(unwrap) : outcome.then((result) => read(unwrap(result)))) as Promise<T>;
  }

  /** A lone call that failed: sent again the long way if the code was reloaded (or FCALL gave way to EVALSHA), else its error. */
  async #afterFailure(functions: boolean, call: TimedCall, error: unknown): Promise<CoreReply> {
    if (await this.recover(functions, error)) return unwrap(await this.sendOne(call, 1));
    throw toQlessError(call.command, error);
  }

  readonly #flushTick = (): void => this.flush();

  /**
   * Send many calls in one round trip, all at the same `now`, as the core's
   * `multi` command (up to {@link MULTI_SIZE} calls per script call, the
   * script calls pipelined): each call runs exactly as it would on its own
   * and has its own outcome, an error in one stops only that one, and Redis
   * pays the cost of entering the core once per batch instead of once per call.
   */
  callMany(calls: readonly CoreCall[], at?: number): Promise<CoreOutcome[]> {
    return this.#callMany(calls, at, undefined) as Promise<CoreOutcome[]>;
  }

  /**
   * @internal {@link ScriptGateway.callMany} with the outcomes read by
   * `read` in the same step (no promise between the reply and the caller's
   * reading of it).
   */
  callManyAndRead<T>(calls: readonly CoreCall[], read: (outcomes: CoreOutcome[]) => T, at?: number): Promise<T> {
    return this.#callMany(calls, at, read) as Promise<T>;
  }

  #callMany<T>(calls: readonly CoreCall[], at: number | undefined, read: ((outcomes: CoreOutcome[]) => T) | undefined): Promise<CoreOutcome[] | T> {
    if (calls.length === 0) {
      const none = Promise.resolve<CoreOutcome[]>([]);
      return read === undefined ? none : none.then(read);
    }
    const wait = at === undefined ? this.clockPending : undefined;
    if (wait !== undefined) return wait.then(() => this.#callMany(calls, undefined, read));
    const now = at ?? this.clock();
    if (this.answered && this.gathering === undefined && this.durability === undefined && calls.length > 1 && calls.length <= MULTI_SIZE) {
      // The usual case (a worker's completions and its next pop), as
      // sendBatch would do it but with the one `multi` argv built straight
      // from the calls, and the reply read in one step.
      this.gathering = [];
      nextTick(this.#flushTick);
      const functions = this.functions;
      const text = String(now);
      const argv = this.#argv(functions);
      argv.push('multi', text);
      for (const call of calls) {
        argv.push(call.command, text, String(call.args.length));
        for (const item of call.args) argv.push(typeof item === 'string' ? item : String(item));
      }
      // (Inline callbacks only: under tsx, the benchmark's loader, a
      // closure bound to a name is also given that name, per call.)
      const sent = this.#send(functions, argv);
      if (read === undefined) {
        return sent.then(
          (reply) => multiOutcomes(calls, reply),
          (error: unknown) => this.#afterBatchFailure(functions, calls, now, error),
        );
      }
      return sent.then(
        (reply) => read(multiOutcomes(calls, reply)),
        (error: unknown) => this.#afterBatchFailure(functions, calls, now, error).then(read),
      );
    }
    const outcomes = this.#callManyOtherwise(calls, now);
    return read === undefined ? outcomes : outcomes.then(read);
  }

  /** A `multi` of the usual case that failed: sent again the long way if the code was reloaded (or FCALL gave way to EVALSHA), else its error for every call. */
  async #afterBatchFailure(functions: boolean, calls: readonly CoreCall[], now: number, error: unknown): Promise<CoreOutcome[]> {
    const timed = calls.map((call) => ({ now, command: call.command, args: call.args }));
    if (await this.recover(functions, error)) return this.sendBatch(timed);
    return timed.map((call): CoreOutcome => ({ ok: false, error: toQlessError(call.command, error) }));
  }

  /** {@link ScriptGateway.callMany} outside the usual case: before the first answer, while calls gather, with durability, one call or many. */
  #callManyOtherwise(calls: readonly CoreCall[], now: number): Promise<CoreOutcome[]> {
    if (!this.answered && this.first) return this.first.then(() => this.callMany(calls, now));
    const timed = calls.map((call) => ({ now, command: call.command, args: call.args }));
    if (!this.answered) {
      const outcomes = this.sendBatch(timed);
      this.first = outcomes.finally(() => (this.answered = true));
      return outcomes;
    }
    const gathering = this.gathering;
    if (gathering) {
      // Calls are already being gathered in this tick: join them, in order.
      return Promise.all(timed.map((call) => new Promise<CoreOutcome>((resolve) => gathering.push({ ...call, resolve }))));
    }
    this.gathering = [];
    nextTick(this.#flushTick);
    return this.sendBatch(timed);
  }

  private enqueue(call: TimedCall): Promise<CoreOutcome> {
    if (!this.answered) {
      // Until a first call has been answered, the core may still have to be
      // loaded (and that call retried): later calls wait, so that none of
      // them can overtake it.
      if (this.first) return this.first.then(() => this.enqueue(call));
      const outcome = this.sendOne(call);
      this.first = outcome.finally(() => (this.answered = true));
      return outcome;
    }
    if (!this.gathering) {
      // Nothing waiting: send it now, and gather what follows in this tick.
      this.gathering = [];
      nextTick(this.#flushTick);
      return this.sendOne(call);
    }
    return new Promise((resolve) => this.gathering!.push({ ...call, resolve }));
  }

  private flush(): void {
    const gathered = this.gathering ?? [];
    this.gathering = undefined;
    this.sendGathered(gathered);
  }

  /**
   * Write the calls gathered in this tick to Redis now instead of on the
   * next tick (later calls of this tick still gather): for a caller about to
   * run code that may block the event loop, such as a worker starting a job.
   */
  flushNow(): void {
    if (this.gathering && this.gathering.length > 0) this.sendGathered(this.gathering.splice(0));
  }

  private sendGathered(gathered: Array<TimedCall & { resolve: (outcome: CoreOutcome) => void }>): void {
    if (gathered.length === 0) return;
    void this.sendBatch(gathered).then(
      (outcomes) => gathered.forEach((call, i) => call.resolve(outcomes[i]!)),
      (error: unknown) => gathered.forEach((call) => call.resolve({ ok: false, error: toQlessError(call.command, error) })),
    );
  }

  private async sendOne(call: TimedCall, firstAttempt = 0): Promise<CoreOutcome> {
    const argv = [call.command, String(call.now), ...call.args.map(String)];
    const wait = this.waitsFor([call]);
    for (let attempt = firstAttempt; ; attempt++) {
      const functions = this.functions;
      const trip = await this.trip(functions, [argv], wait);
      const [error, reply] = trip.replies[0]!;
      if (error && attempt < 2 && (await this.recover(functions, error))) continue;
      const outcome: CoreOutcome = error ? { ok: false, error: toQlessError(call.command, error) } : { ok: true, reply: reply as CoreReply };
      return wait ? this.checkWait([call], [outcome], trip.waited)[0]! : outcome;
    }
  }

  private async sendBatch(calls: readonly TimedCall[]): Promise<CoreOutcome[]> {
    if (calls.length === 1) return [await this.sendOne(calls[0]!)];
    const batches: TimedCall[][] = [];
    for (let first = 0; first < calls.length; first += MULTI_SIZE) batches.push(calls.slice(first, first + MULTI_SIZE));
    const argvs = batches.map((batch) => {
      const argv = ['multi', String(batch[0]!.now)];
      for (const call of batch) {
        argv.push(call.command, String(call.now), String(call.args.length));
        for (const item of call.args) argv.push(typeof item === 'string' ? item : String(item));
      }
      return argv;
    });
    const wait = this.waitsFor(calls);
    let trip: Trip;
    for (let attempt = 0; ; attempt++) {
      const functions = this.functions;
      trip = await this.trip(functions, argvs, wait);
      // A missing script fails every batch before it runs anything.
      const failure = trip.replies.find(([error]) => error !== null)?.[0];
      if (failure && attempt < 2 && (isMissingCode(failure) || (functions && isFunctionUnsupported(failure)))) {
        if (await this.recover(functions, failure)) continue;
      }
      break;
    }
    const outcomes: CoreOutcome[] = [];
    batches.forEach((batch, b) => {
      const [error, reply] = trip.replies[b] ?? [new Error('pipeline returned no result'), null];
      batch.forEach((call, k) => {
        if (error) {
          outcomes.push({ ok: false, error: toQlessError(call.command, error) });
          return;
        }
        const item = Array.isArray(reply) ? (reply[k] as unknown) : new Error('multi: unexpected reply');
        if (item instanceof Error) outcomes.push({ ok: false, error: toQlessError(call.command, item) });
        else outcomes.push({ ok: true, reply: item as CoreReply });
      });
    });
    return wait ? this.checkWait(calls, outcomes, trip.waited) : outcomes;
  }

  /** Whether these calls are followed by a WAIT: durability is on and one of them is a durable write. */
  private waitsFor(calls: readonly TimedCall[]): boolean {
    return this.durability !== undefined && calls.some((call) => DURABLE_COMMANDS.has(call.command));
  }

  /**
   * Send script calls, then (when `wait`) a WAIT, without waiting in
   * between: one round trip. One call without WAIT (the usual case) goes out
   * bare, without the cost of building and running an ioredis pipeline
   * around it; anything more goes as a pipeline. Errors are returned, not
   * thrown.
   */
  private async trip(functions: boolean, argvs: readonly string[][], wait: boolean): Promise<Trip> {
    if (argvs.length === 1 && !wait) {
      try {
        return { replies: [[null, await this.send(functions, argvs[0]!)]], waited: undefined };
      } catch (error) {
        return { replies: [[error as Error, null]], waited: undefined };
      }
    }
    let results = await this.execPipeline(functions, argvs, wait);
    if (!wait) return { replies: results, waited: undefined };
    // ioredis does not resend a pipeline that ends with WAIT after a cluster
    // redirection (see connection/redirect.ts): when none of the calls ran,
    // it goes out again here, as ioredis would resend it.
    if (isCluster(this.redis)) {
      const cluster = this.redis;
      for (let sent = 1; sent < maxRedirections(cluster); sent += 1) {
        const word = redirectionOf(results, argvs.length);
        if (word === undefined) break;
        await awaitRedirection(cluster, word);
        results = await this.execPipeline(functions, argvs, wait);
      }
    }
    const [waitError, count] = results[argvs.length] ?? [new Error('no reply to WAIT'), null];
    return { replies: results.slice(0, argvs.length), waited: waitError ?? Number(count) };
  }

  /** Send script calls (then WAIT) as one pipeline; errors are returned per command, not thrown. */
  private async execPipeline(functions: boolean, argvs: readonly string[][], wait: boolean): Promise<Array<[Error | null, unknown]>> {
    const pipeline: ChainableCommander = this.redis.pipeline();
    const keys = this.keys.callKeys;
    for (const argv of argvs) {
      if (functions) pipeline.fcall(this.library.name, keys.length, ...keys, ...argv);
      else pipeline.evalsha(this.sha, keys.length, ...keys, ...argv);
    }
    if (wait) pipeline.wait(this.durability!.replicas, this.durability!.timeoutMs);
    try {
      return ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
    } catch (error) {
      return [...argvs, ...(wait ? [null] : [])].map(() => [error as Error, null]);
    }
  }

  /**
   * Turn the successful durable writes of a trip whose WAIT fell short (or
   * failed) into {@link DurabilityError}s carrying their reply. Other
   * outcomes are left as they are.
   */
  private checkWait(calls: readonly TimedCall[], outcomes: CoreOutcome[], waited: number | Error | undefined): CoreOutcome[] {
    const { replicas, timeoutMs } = this.durability!;
    if (typeof waited === 'number' && waited >= replicas) return outcomes;
    return outcomes.map((outcome, i) => {
      const call = calls[i]!;
      if (!outcome.ok || !DURABLE_COMMANDS.has(call.command)) return outcome;
      const shortfall = {
        command: call.command,
        jid: durableJid(call.command, call.args),
        required: replicas,
        acknowledged: typeof waited === 'number' ? waited : 0,
        timeoutMs,
        reply: outcome.reply,
        ...(waited instanceof Error ? { reason: waited.message } : {}),
      };
      return { ok: false, error: new DurabilityError(shortfall) };
    });
  }

  /**
   * Make sure Redis has the core in the form this gateway calls it by:
   * FUNCTION LOAD of the library (already loaded is fine), or SCRIPT LOAD.
   */
  async load(): Promise<void> {
    if (this.functions) {
      this.loading ??= this.loadLibrary().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
      if (this.functions) return;
    }
    try {
      await this.onEveryPrimary((node) => node.script('LOAD', this.source));
    } catch (error) {
      throw toQlessError('SCRIPT LOAD', error);
    }
  }

  /**
   * Run `load` on the one server, or on every primary of a cluster: a call
   * may go to any of them, and a replica promoted later has what its
   * primary had. A cluster whose map of primaries is out of date (a
   * failover under way) is asked for a fresh one and tried once more.
   */
  private async onEveryPrimary(load: (node: Redis) => Promise<unknown>): Promise<void> {
    const redis = this.redis;
    if (!isCluster(redis)) {
      await load(redis);
      return;
    }
    const all = async (): Promise<void> => {
      const primaries = redis.nodes('master');
      if (primaries.length === 0) throw new ConnectionError('the cluster lists no primary to load the qless core on');
      await Promise.all(primaries.map(load));
    };
    try {
      await all();
    } catch (error) {
      if (!(error instanceof Error) || !isReplicaRefusal(error)) throw error;
      await new Promise<void>((resolve) => redis.refreshSlotsCache(() => resolve()));
      await all();
    }
  }

  private async loadLibrary(): Promise<void> {
    try {
      await this.onEveryPrimary(async (node) => {
        try {
          await node.function('LOAD', this.library.source);
        } catch (error) {
          // Another client (or an earlier connection of ours) loaded it first.
          if (!/already exists/.test(messageOf(error))) throw error;
        }
      });
    } catch (error) {
      // A replica refuses FUNCTION LOAD like any write: that says nothing
      // about functions, so do not fall back to EVALSHA for good. (Through
      // Sentinel the connection has already moved on to the primary and
      // sent the load again; see connection/redis.ts.)
      if (error instanceof Error && isReplicaRefusal(error)) throw toQlessError('FUNCTION LOAD', error);
      // Nor does a cluster (or a node) that is busy for a moment.
      if (/^(?:CLUSTERDOWN|LOADING|TRYAGAIN|MOVED|ASK)\b/.test(messageOf(error))) throw toQlessError('FUNCTION LOAD', error);
      if (this.mode === 'auto' && error instanceof Error && error.name === 'ReplyError') {
        this.functions = false;
        return;
      }
      throw toQlessError('FUNCTION LOAD', error);
    }
  }

  /**
   * After a failed call: true when it is worth sending again (the code was
   * reloaded, or the gateway fell back from FCALL to EVALSHA).
   */
  private async recover(usedFunctions: boolean, error: unknown): Promise<boolean> {
    if (usedFunctions && isFunctionUnsupported(error) && this.mode === 'auto') {
      this.functions = false;
      return true;
    }
    if (!isMissingCode(error)) return false;
    try {
      await this.load();
    } catch {
      return false; // the call then fails with its own error
    }
    return true;
  }

  private send(functions: boolean, argv: readonly string[]): Promise<CoreReply> {
    const full = this.#argv(functions);
    for (const item of argv) full.push(item);
    return this.#send(functions, full);
  }

  /** The start of an FCALL (or EVALSHA) argument list: the library (or script) and the namespace's keys; the caller adds the rest. */
  #argv(functions: boolean): string[] {
    const keys = this.keys.callKeys;
    const argv: string[] = [functions ? this.library.name : this.sha, String(keys.length)];
    for (const key of keys) argv.push(key);
    return argv;
  }

  /** FCALL (or EVALSHA) of an argument list from {@link #argv}, as the one list ioredis sends. */
  #send(functions: boolean, argv: string[]): Promise<CoreReply> {
    return this.#sender(functions ? 'fcall' : 'evalsha', argv) as Promise<CoreReply>;
  }
}
