/**
 * Helpers for the worker tests: spawn the built `qless-ts-worker` (needs
 * `npm run build`), read its pino log lines, wait for conditions, signal it,
 * and make sure no process outlives its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import * as qless from '../src/index.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'qless-ts-worker.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'jobs');

/** One pino line of the worker's output. */
export interface LogLine {
  level: number;
  msg: string;
  pid: number;
  role: 'supervisor' | 'child';
  child?: number;
  childPid?: number;
  jid?: string;
  code?: number | null;
  signal?: string | null;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Poll `condition` every 25 ms until it holds or `ms` pass; `what` (or what it returns then) names it in the error. */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until every job of `jids` is complete (read 250 at a time); returns them. */
export async function allComplete(client: qless.Client, jids: readonly string[], ms = 60_000): Promise<qless.Job[]> {
  let jobs: qless.Job[] = [];
  const left = (): string => `${jids.length - jobs.filter((job) => job.state === 'complete').length} of ${jids.length} left`;
  await until(async () => {
    jobs = [];
    for (let i = 0; i < jids.length; i += 250) jobs.push(...(await client.jobs.multiget(jids.slice(i, i + 250))));
    return jobs.length === jids.length && jobs.every((job) => job.state === 'complete');
  }, ms, () => `the jobs to complete: ${left()}`);
  return jobs;
}

/** A job as it is now; one that no longer exists fails the test. */
export async function state(client: qless.Client, jid: string): Promise<qless.Job> {
  const job = await client.jobs.get(jid);
  if (!(job instanceof qless.Job)) throw new Error(`job ${jid} is gone`);
  return job;
}

/** A running `qless-ts-worker`. */
export class WorkerProcess {
  readonly proc: ChildProcess;
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;

  constructor(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'worker.js'))) throw new Error('dist/cli/worker.js is missing: run `npm run build` first');
    // Its own process group, so a test can signal the group (a terminal's
    // Ctrl-C) and clean up every child at the end.
    this.proc = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Log lines matching `msg` (and optional field test). */
  lines(msg: string, test: (line: LogLine) => boolean = () => true): LogLine[] {
    return this.logs.filter((line) => line.msg === msg && test(line));
  }

  /** Wait for a log line with this `msg` (and test); the count of earlier matches to skip. */
  async waitFor(msg: string, test: (line: LogLine) => boolean = () => true, ms = 30_000, after = 0): Promise<LogLine> {
    await until(() => this.lines(msg, test).length > after || this.#exit !== undefined, ms, `log "${msg}"\n${this.tail()}`);
    const found = this.lines(msg, test)[after];
    if (!found) throw new Error(`worker exited (${JSON.stringify(this.#exit)}) before logging "${msg}"\n${this.tail()}`);
    return found;
  }

  /** Pids of children that said "child started" and have not exited. */
  liveChildren(): number[] {
    const exited = new Set(this.lines('child exited').concat(this.lines('child died; replacing it'), this.lines('child recycled; starting a fresh one'), this.lines('child stopped; replacing it')).map((l) => l.childPid));
    return this.lines('child started').map((l) => l.pid).filter((pid) => !exited.has(pid));
  }

  /** Wait until `n` children have started (in total since launch). */
  async started(n = 1, ms = 30_000): Promise<number[]> {
    await until(() => this.lines('child started').length >= n || this.#exit !== undefined, ms, `${n} children started\n${this.tail()}`);
    if (this.#exit) throw new Error(`worker exited early: ${JSON.stringify(this.#exit)}\n${this.tail()}`);
    return this.lines('child started').map((l) => l.pid);
  }

  signal(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  /** Signal the whole process group, as a terminal does on Ctrl-C. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  async waitExit(ms = 15_000): Promise<Exit> {
    await until(() => this.#exit !== undefined, ms, `the worker to exit\n${this.tail()}`);
    return this.#exit!;
  }

  /** Kill the worker and every child (end of test). */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The last lines of output, for failure messages. */
  tail(n = 40): string {
    const out = this.stdout.split('\n').slice(-n).join('\n');
    return `--- stdout (last ${n} lines)\n${out}\n--- stderr\n${this.stderr.slice(-3000)}`;
  }
}

/**
 * `start(args)` launches a worker in a fresh temporary work directory
 * (`--workdir` unless given); every worker is killed and every directory
 * removed after each test.
 */
export function useWorkers(): {
  start(args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): WorkerProcess;
  tmp(prefix?: string): string;
} {
  const running: WorkerProcess[] = [];
  const dirs: string[] = [];
  const tmp = (prefix = 'qless-worker-'): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const worker of running.splice(0)) {
      worker.kill();
      await Promise.race([worker.exited, sleep(2000)]);
    }
  });
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    tmp,
    start(args, options = {}) {
      const cwd = options.cwd ?? tmp();
      const full = args.includes('--workdir') || args.includes('-d') ? [...args] : [...args, '--workdir', cwd];
      const worker = new WorkerProcess(full, { cwd, ...(options.env ? { env: options.env } : {}) });
      running.push(worker);
      return worker;
    },
  };
}

/** A process's state letter from /proc (Linux): R, S, T (stopped), Z (zombie)…; '' when unknown. */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

/** Whether a process is alive (a zombie waiting to be reaped is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return processState(pid) !== 'Z';
}

/** The process title as `ps` shows it (Linux). */
export function processTitle(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Resident memory of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The pid of the redis-server behind a connection (to stop it with SIGSTOP, say). */
export async function serverPid(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  const match = /process_id:(\d+)/.exec(info);
  if (!match) throw new Error('INFO server names no process_id');
  return Number(match[1]);
}

/** Core calls Redis was asked to run since the last CONFIG RESETSTAT, refused ones included. */
export async function coreCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:fcall|evalsha):calls=(\d+),.*?rejected_calls=(\d+)/gm)) total += Number(match[1]) + Number(match[2]);
  return total;
}
