/**
 * A measurement window: what Redis spent (lib/redis-stats.ts) and what the
 * client spent over the same span: this Node process's own CPU and, for the
 * worker daemons of W5, the CPU of the daemon processes. Every window starts
 * on a freshly collected heap, so garbage left by the previous measurement
 * (often the other system's) is not collected, and billed, inside this one.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Redis } from 'ioredis';
import { ownCpuSeconds, treeCpuSeconds } from './process-cpu.js';
import { RedisWindow, type RedisWindowResult } from './redis-stats.js';

export interface WindowResult extends RedisWindowResult {
  /** CPU seconds (user + system) of this Node process inside the window. */
  clientCpuSeconds: number;
  /** CPU seconds of the daemon processes named at open, with their descendants; absent when none. */
  daemonCpuSeconds?: number;
}

export interface WindowOptions {
  /** Pids of worker daemons whose process trees are measured too. */
  daemons?: readonly number[];
}

export interface MeasureWindow {
  /** The harness itself sent `command` inside the window (not counted as the system's). */
  note(command: string, times?: number): void;
  close(): Promise<WindowResult>;
}

/** How a workload opens its window; the harness hands one to every workload. */
export type WindowOpener = (options?: WindowOptions) => Promise<MeasureWindow>;

/** Called at the window's edges, with nothing of the harness's own in between (the client profiler marks them). */
export interface WindowHooks {
  opened?(): void;
  closing?(): void;
}

let gc: (() => void) | undefined;

/** A full garbage collection, when Node lets us ask for one (it does unless flags forbid it). */
export function collectGarbage(): void {
  if (gc === undefined) {
    // Exposes `gc` to contexts created from now on; the main context was
    // created before, so the function is taken from a fresh one.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

export function windowOpener(stats: Redis, hooks: WindowHooks = {}): WindowOpener {
  return async (options = {}) => {
    collectGarbage();
    const daemons = options.daemons ?? [];
    const redis = await RedisWindow.open(stats);
    const daemonStart = daemons.length > 0 ? treeCpuSeconds(daemons) : 0;
    const clientStart = ownCpuSeconds();
    hooks.opened?.();
    return {
      note: (command, times) => redis.note(command, times),
      close: async () => {
        hooks.closing?.();
        const clientCpuSeconds = ownCpuSeconds() - clientStart;
        const daemonEnd = daemons.length > 0 ? treeCpuSeconds(daemons) : 0;
        const result: WindowResult = { ...(await redis.close()), clientCpuSeconds };
        if (daemons.length > 0) result.daemonCpuSeconds = daemonEnd - daemonStart;
        return result;
      },
    };
  };
}
