/**
 * Calling the core script directly for core tests: `at(now).cmd(args)` style
 * through the same gateway the library uses, plus a pub/sub recorder.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ScriptGateway, type CoreArg, type CoreMode, type CoreReply } from '../../src/gateway.js';
import { nameMap, testKeys } from './namespace.js';
import type { TestRedis } from './redis.js';

export interface CoreHarness {
  gateway: ScriptGateway;
  /** Call the core with an explicit `now`. */
  call(now: number, command: string, ...args: CoreArg[]): Promise<CoreReply>;
  /** Call and JSON-decode the reply. */
  json<T = unknown>(now: number, command: string, ...args: CoreArg[]): Promise<T>;
  close(): void;
}

/**
 * How the core tests call the core: QLESS_CORE_MODE=script runs them through
 * EVALSHA of dist/qless.lua (the form other clients use), otherwise they go
 * through the FCALL library the client uses by default. `npm test` runs the
 * core tests both ways (see vitest.config.ts).
 */
export function coreMode(): CoreMode {
  const mode = process.env['QLESS_CORE_MODE'];
  if (mode === 'script' || mode === 'function') return mode;
  return 'function';
}

export function coreHarness(ctx: TestRedis): CoreHarness {
  const connection = new Redis(ctx.url);
  // In the core-namespace project every call acts in the test namespace.
  const gateway = new ScriptGateway(connection, undefined, coreMode(), { keys: testKeys() });
  return {
    gateway,
    call: (now, command, ...args) => gateway.callAt(now, command, ...args),
    json: async <T>(now: number, command: string, ...args: CoreArg[]) => {
      const reply = await gateway.callAt(now, command, ...args);
      if (typeof reply !== 'string') throw new Error(`expected JSON text from ${command}, got ${JSON.stringify(reply)}`);
      return JSON.parse(reply) as T;
    },
    close: () => connection.disconnect(),
  };
}

/** Records messages published on the given channels or patterns. */
export class EventRecorder {
  readonly messages: Array<{ channel: string; message: string }> = [];
  private readonly subscriber: Redis;

  // Channels of the test namespace are recorded under their default names
  // (see namespace.ts); in the default namespace the map changes nothing.
  private readonly names = nameMap(testKeys());

  private constructor(url: string) {
    this.subscriber = new Redis(url);
    const record = (channel: string, message: string): void => {
      this.messages.push({ channel: this.names.outward(channel), message });
    };
    this.subscriber.on('message', record);
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => record(channel, message));
  }

  /** Subscribe to `ql:*` (every core channel) unless patterns are given. */
  static async start(url: string, patterns: string[] = ['ql:*']): Promise<EventRecorder> {
    const recorder = new EventRecorder(url);
    await recorder.subscriber.psubscribe(...patterns.map((pattern) => recorder.names.inward(pattern)));
    return recorder;
  }

  /** Wait until nothing new has arrived for a moment (pub/sub is asynchronous). */
  async settle(ms = 50): Promise<Array<{ channel: string; message: string }>> {
    let seen = -1;
    while (seen !== this.messages.length) {
      seen = this.messages.length;
      await new Promise((r) => setTimeout(r, ms));
    }
    return this.messages;
  }

  clear(): void {
    this.messages.length = 0;
  }

  close(): void {
    this.subscriber.disconnect();
  }
}

/** What a test reads of the messages an {@link EventRecorder} heard. */
export type RecordedEvents = Pick<EventRecorder, 'messages' | 'settle' | 'clear'>;

/**
 * For a test file: a core harness and a recorder of every `ql:*` message,
 * made once the file's Redis is up (register after `useRedis`) and closed
 * after its tests. The recorder starts every test empty, after the previous
 * test's messages have arrived.
 */
export function useCoreAndEvents(ctx: TestRedis): { core: CoreHarness; events: RecordedEvents } {
  let core: CoreHarness | undefined;
  let recorder: EventRecorder | undefined;
  beforeAll(async () => {
    core = coreHarness(ctx);
    recorder = await EventRecorder.start(ctx.url);
  });
  afterAll(() => {
    recorder?.close();
    core?.close();
  });
  beforeEach(async () => {
    await recorder!.settle(20);
    recorder!.clear();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useCoreAndEvents: used outside a test');
    return value;
  };
  return {
    core: {
      get gateway() { return started(core).gateway; },
      call: (now, command, ...args) => started(core).call(now, command, ...args),
      json: (now, command, ...args) => started(core).json(now, command, ...args),
      close: () => started(core).close(),
    },
    events: {
      get messages() { return started(recorder).messages; },
      settle: (ms) => started(recorder).settle(ms),
      clear: () => started(recorder).clear(),
    },
  };
}
