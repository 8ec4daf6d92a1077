/**
 * Logging and process titles. Every process (the supervisor and each child)
 * logs to stdout — pino JSON lines, or with `--log-format pretty` (the
 * default on a terminal) the same lines made readable by pino-pretty — and
 * with `--logger FILE` appends the JSON lines to that file, at the same
 * level (`--log-level`, `--verbose` for debug). Writes are synchronous so
 * that nothing is lost when a child exits right after logging, and each line
 * is one write, so lines from several processes sharing stdout or the file
 * never interleave.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './options.js';

export type { Logger };

/** How a process logs. */
export interface LogSettings {
  logLevel: LogLevel;
  logFormat: LogFormat;
  logFile: string | undefined;
}

/** A logger for one process; `bindings` are added to every line (role, child index). */
export function createLogger(settings: LogSettings, bindings: Record<string, string | number>): Logger {
  const level = settings.logLevel;
  const stdout = settings.logFormat === 'pretty'
    ? pretty({ sync: true, destination: 1, colorize: process.stdout.isTTY === true, singleLine: true, ignore: 'hostname', translateTime: 'SYS:HH:MM:ss.l' })
    : pino.destination({ dest: 1, sync: true });
  const streams: pino.StreamEntry<LogLevel>[] = [{ level, stream: stdout }];
  if (settings.logFile !== undefined) {
    streams.push({ level, stream: pino.destination({ dest: settings.logFile, sync: true, append: true, mkdir: true }) });
  }
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.multistream(streams));
}

/** Set the process title (what `ps` shows): `qless-ts-worker: <what>`. */
export function setTitle(what: string): void {
  try {
    process.title = `qless-ts-worker: ${what}`;
  } catch {
    // Some platforms refuse; the title is a convenience only.
  }
}

/** An error as loggable fields. */
export function errorFields(error: unknown): { err: Error } {
  return { err: error instanceof Error ? error : new Error(String(error)) };
}
