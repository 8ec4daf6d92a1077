/**
 * What Redis spent in a measurement window: CPU (INFO cpu, used_cpu_sys +
 * used_cpu_user of the server process) and commands (INFO commandstats,
 * reset with CONFIG RESETSTAT when the window opens). The harness's own
 * commands inside the window (the RESETSTAT itself, any polling it notes
 * with {@link RedisWindow.note}) are subtracted, so only the system under
 * test is counted. Commands run by scripts and functions are counted by
 * Redis under their own names, as well as the EVALSHA/FCALL that ran them.
 */
import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';

/** Calls and total µs of one command over a window. */
export interface CommandStat {
  calls: number;
  usec: number;
}

/** The outcome of a closed window. */
export interface RedisWindowResult {
  /** Wall-clock seconds the window was open. */
  seconds: number;
  /** Redis CPU seconds (system + user) spent in the window. */
  cpuSeconds: number;
  /** Commands executed by the system under test (script calls included). */
  commands: number;
  /** Per-command calls and µs, harness calls removed. */
  stats: Map<string, CommandStat>;
}

function cpuOf(info: string): number {
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  if (!sys || !user) throw new Error('INFO cpu did not report used_cpu_sys/used_cpu_user');
  return Number(sys[1]) + Number(user[1]);
}

function commandStatsOf(info: string): Map<string, CommandStat> {
  const stats = new Map<string, CommandStat>();
  const line = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm;
  for (let match = line.exec(info); match !== null; match = line.exec(info)) {
    stats.set(match[1]!.toLowerCase(), { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** A measurement window on one Redis server, read through `stats` (a connection of the harness's own). */
export class RedisWindow {
  readonly #stats: Redis;
  readonly #cpuStart: number;
  readonly #started: number;
  // Harness commands issued inside the window, by lower-case name.
  readonly #harness = new Map<string, number>();

  private constructor(stats: Redis, cpuStart: number) {
    this.#stats = stats;
    this.#cpuStart = cpuStart;
    this.#started = performance.now();
    this.note('config');
  }

  /** Open a window: read the CPU counters, then reset the command statistics. */
  static async open(stats: Redis): Promise<RedisWindow> {
    const cpu = cpuOf(await stats.info('cpu'));
    await stats.config('RESETSTAT');
    return new RedisWindow(stats, cpu);
  }

  /** Record that the harness itself sent `command` inside the window (it is then not counted). */
  note(command: string, times = 1): void {
    const name = command.toLowerCase();
    this.#harness.set(name, (this.#harness.get(name) ?? 0) + times);
  }

  /** Close the window: one INFO for CPU and command statistics (not counted by Redis in its own reply). */
  async close(): Promise<RedisWindowResult> {
    const info = String(await this.#stats.call('INFO', 'cpu', 'commandstats'));
    const seconds = (performance.now() - this.#started) / 1000;
    const stats = commandStatsOf(info);
    for (const [name, times] of this.#harness) {
      const stat = stats.get(name);
      if (!stat) continue;
      // The harness's commands are cheap reads; their µs share is removed pro rata.
      const left = Math.max(0, stat.calls - times);
      stats.set(name, { calls: left, usec: stat.calls === 0 ? 0 : (stat.usec * left) / stat.calls });
      if (left === 0) stats.delete(name);
    }
    let commands = 0;
    for (const stat of stats.values()) commands += stat.calls;
    return { seconds, cpuSeconds: cpuOf(info) - this.#cpuStart, commands, stats };
  }
}

/** Exit with a clear message when redis-server is not installed. */
export function requireRedisServer(): string {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'redis-server was not found on PATH. The benchmark starts a private Redis of its own ' +
        '(it never uses port 6379): install Redis 7 (e.g. `apt-get install redis-server`) and run it again.',
    );
  }
}
