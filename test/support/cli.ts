/**
 * Running the real `qless-ts` binary (bin/qless-ts.js → dist/cli, so
 * `npm run build` first) as a child process, the way an operator does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'qless-ts.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment (merged over the test's, whose QLESS_REDIS_URL is a closed port). */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (stdin is never a terminal here). */
  input?: string;
  timeoutMs?: number;
}

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'qless.js'))) throw new Error('dist/cli/qless.js is missing: run `npm run build` first');
}

/** Start the binary; the caller collects output and waits. */
export function start(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Run the binary to completion. */
export function run(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = start(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.input ?? '');
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`qless-ts ${args.join(' ')} did not finish within ${options.timeoutMs ?? 15_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A runner bound to one Redis: `cli('queues')` runs `qless-ts --host <url>
 * queues`. Passing the URL with --host on every call is what proves nothing
 * falls back to the default URL.
 */
export function bindCli(url: () => string): (...args: string[]) => Promise<CliResult> {
  return (...args: string[]) => run([...args, '--host', url()]);
}

/** Run and parse stdout as JSON, insisting on exit 0. */
export async function runJson<T = unknown>(cli: (...args: string[]) => Promise<CliResult>, ...args: string[]): Promise<T> {
  const result = await cli(...args, '--json');
  if (result.code !== 0) throw new Error(`qless-ts ${args.join(' ')} --json exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Whether util-linux `script` is there to give the binary a terminal. */
export const PTY = ((): boolean => {
  try {
    return existsSync('/usr/bin/script') || existsSync('/bin/script');
  } catch {
    return false;
  }
})();

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run the binary with a pseudo-terminal as stdin/stdout/stderr (through
 * `script`), typing `input`. The terminal merges both streams into stdout.
 */
export function runInTerminal(args: readonly string[], input: string, options: CliOptions = {}): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Type only once the prompt is up, as a person would.
  let typed = input === '';
  child.stdout.on('data', () => {
    if (!typed && /\[y\/N\]/.test(stdout)) {
      typed = true;
      child.stdin.write(input);
    }
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`qless-ts ${args.join(' ')} (in a terminal) did not finish\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}
