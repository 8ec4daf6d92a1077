/**
 * A job's own output (console.log, process.stdout.write, stderr) goes
 * through the child's logger, as lines tagged with the job's jid, instead
 * of landing raw on the worker's stdout between its log lines (and never in
 * the `--logger` file).
 *
 * The child replaces `process.stdout.write` and `process.stderr.write`
 * once. Which job wrote is found with an AsyncLocalStorage entered around
 * the job's code, so that with `--concurrency` several jobs' outputs are
 * told apart. Text is cut into whole lines per job and stream: a line
 * written in pieces is logged once, when its end comes (or when the job's
 * code is over), never half of it between other lines. Output from outside
 * any job (a module's top level, a timer left behind) is logged without a
 * jid. The logger itself writes to the file descriptors directly, not
 * through these methods, so it cannot loop back here.
 *
 * What escapes: writes straight to file descriptor 1 or 2 (fs.writeSync(1)),
 * and the output of processes the job spawns with inherited stdio.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from './logger.js';

type StreamName = 'stdout' | 'stderr';

/** Where one job's (or the child's own) output goes. */
export interface OutputSink {
  /** The logger whose lines carry the job's fields (made only when the job prints). */
  readonly log: () => Logger;
  /** The unfinished line of each stream. */
  partial: { stdout: string; stderr: string };
}

/** Longest line kept whole; longer ones are logged in pieces of this size. */
const MAX_LINE = 64 * 1024;

export class OutputCapture {
  readonly #storage = new AsyncLocalStorage<OutputSink>();
  readonly #outside: OutputSink;
  #installed = false;
  #writing = false;

  constructor(log: Logger) {
    this.#outside = { log: () => log, partial: { stdout: '', stderr: '' } };
  }

  /** A sink for one job's output. */
  static sink(log: () => Logger): OutputSink {
    return { log, partial: { stdout: '', stderr: '' } };
  }

  /** Replace the process's stdout and stderr writers (once). */
  install(): void {
    if (this.#installed) return;
    this.#installed = true;
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name];
      const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
      const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
        const done = typeof encoding === 'function' ? encoding : callback;
        if (this.#writing) return original(chunk, encoding, callback);
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : String(chunk);
        this.#take(this.#storage.getStore() ?? this.#outside, name, text);
        if (typeof done === 'function') queueMicrotask(() => (done as (error?: Error | null) => void)(null));
        return true;
      };
      stream.write = capture as typeof stream.write;
    }
  }

  /** Run `code` with its output going to `sink`. */
  run<T>(sink: OutputSink, code: () => Promise<T>): Promise<T> {
    return this.#storage.run(sink, code);
  }

  /** Log what is left of a sink's unfinished lines (the job's code is over). */
  flush(sink: OutputSink): void {
    for (const name of ['stdout', 'stderr'] as const) {
      const rest = sink.partial[name];
      sink.partial[name] = '';
      if (rest !== '') this.#line(sink, name, rest);
    }
  }

  #take(sink: OutputSink, name: StreamName, text: string): void {
    let buffered = sink.partial[name] + text;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      this.#line(sink, name, buffered.slice(0, newline).replace(/\r$/, ''));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
    while (buffered.length > MAX_LINE) {
      this.#line(sink, name, buffered.slice(0, MAX_LINE));
      buffered = buffered.slice(MAX_LINE);
    }
    sink.partial[name] = buffered;
  }

  #line(sink: OutputSink, name: StreamName, line: string): void {
    this.#writing = true;
    try {
      // stderr is what programs use for trouble: a warning, not news.
      if (name === 'stderr') sink.log().warn({ stream: name }, line);
      else sink.log().info({ stream: name }, line);
    } finally {
      this.#writing = false;
    }
  }
}
