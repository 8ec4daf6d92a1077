/**
 * What every subcommand gets: the connection (opened on first use, closed
 * when the command ends), whether `--json` was asked for, and the streams:
 * data to stdout, everything else (progress, prompts, warnings) to stderr.
 */
import type { Command } from 'commander';
import type { Client } from '../../client.js';
import { isConnectionProblem, plainMessage } from '../../messages.js';
import type { ConnectOptions } from './connect.js';
import { CliError, UnreachableError } from './exit.js';
import { resolveTarget, type ConnectionFlags, type Target } from './target.js';

/** The options defined on the program itself, accepted by every subcommand. */
export interface GlobalFlags extends ConnectionFlags {
  json?: boolean;
}

/** Where a command reads and writes; tests never replace them (they run the binary), but it keeps I/O in one place. */
export interface Streams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** One run of one subcommand. */
export class Context {
  /** `--json`: print one JSON document (or, for `watch`, one JSON object per line) to stdout. */
  readonly json: boolean;
  readonly target: Target;
  readonly streams: Streams;
  #client: Client | undefined;

  constructor(flags: GlobalFlags, streams: Streams) {
    this.json = flags.json === true;
    this.target = resolveTarget(flags);
    this.streams = streams;
  }

  /** The client, connected on first use (exit 3 if Redis does not answer). */
  async client(options?: ConnectOptions): Promise<Client> {
    if (!this.#client) {
      // Loaded on demand: ioredis is most of the start-up, and --help or a usage error needs none of it.
      const { connect } = await import('./connect.js');
      this.#client = await connect(this.target, options);
    }
    return this.#client;
  }

  /** Write lines of data to stdout. */
  out(...lines: string[]): void {
    if (lines.length > 0) this.streams.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Write a line to stderr: progress, notes, warnings. */
  note(line: string): void {
    this.streams.stderr.write(`${line}\n`);
  }

  /** Print `value` as JSON under `--json`, else the text lines `text()` renders. */
  emit(value: unknown, text: () => string[]): void {
    if (this.json) this.out(JSON.stringify(value, null, 2));
    else this.out(...text());
  }

  /** Close the connection (idempotent). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }
}

const defaultStreams: Streams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

/**
 * Wrap a command's implementation as a commander action: commander passes
 * the arguments, then the options, then the command; the wrapper hands the
 * implementation a Context built from the global flags, the command's own
 * options and the arguments, and always closes the connection.
 */
export function action<A extends unknown[], O extends object>(
  fn: (ctx: Context, opts: O, ...args: A) => Promise<void>,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const args = raw.slice(0, -2) as A;
    const ctx = new Context(command.optsWithGlobals<GlobalFlags>(), defaultStreams);
    try {
      await fn(ctx, command.opts<O>(), ...args);
    } catch (error) {
      // Only here is it known which Redis went quiet: say so by name.
      if (!(error instanceof CliError) && isConnectionProblem(error)) throw new UnreachableError(plainMessage(error, ctx.target.label));
      throw error;
    } finally {
      await ctx.close();
    }
  };
}
