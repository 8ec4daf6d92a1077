/**
 * Stage marks for L (put → job start), the same way for both systems: what
 * each process did between a put and its job's first line, on the machine's
 * monotonic clock (the one `sentAt` is read from).
 *
 * Only with QLESS_TS_STAGE_MARKS=1 (the benchmark's figures are taken
 * without). Then, in every process of the path:
 * - ioredis's `sendCommand` marks each command written (`w:<what>`) and its
 *   reply (`r:<what>`), `<what>` being the command, the BullMQ script or
 *   the qless core command; each socket read is marked `read:<what>` after
 *   the last command written on that connection (`read:sub` on a
 *   subscriber);
 * - `process.send` marks each IPC message (`ipc:<type>`) once written;
 * - qless-ts's own code adds its marks (src/stage-marks.ts).
 * The job's first line takes the marks made since the put (takeStageMarks)
 * and pushes them to `bench:marks`; the harness prints, per stage, the
 * median time since the put (stageTable).
 */
import { Redis, type Command } from 'ioredis';
import type { Socket } from 'node:net';

interface StageMarkList {
  names: string[];
  at: bigint[];
}

const KEY = Symbol.for('qless-ts.stage-marks');

/** Whether marks are on in this process. */
export const STAGE_MARKS_ON = process.env['QLESS_TS_STAGE_MARKS'] === '1';

function list(): StageMarkList {
  const holder = globalThis as unknown as Record<symbol, StageMarkList | undefined>;
  holder[KEY] ??= { names: [], at: [] };
  return holder[KEY];
}

export function mark(name: string): void {
  const marks = list();
  marks.names.push(name);
  marks.at.push(process.hrtime.bigint());
}

/** What a written command is, for its mark. */
function label(redis: Redis, command: Command): string {
  const args = command.args as unknown[];
  if (command.name === 'fcall') return `fcall:${String(args[2 + Number(args[1])])}`;
  if (command.name === 'evalsha') {
    const scripts = (redis as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [name, script] of Object.entries(scripts)) if (script.sha === args[0]) return name;
  }
  return command.name;
}

const INSTALLED = Symbol.for('qless-ts.stage-marks.installed');
const lastWritten = new WeakMap<Redis, string>();
const watched = new WeakSet<object>();

/** Mark ioredis writes, replies and socket reads, and IPC sends, in this process (once). */
export function installStageMarks(): void {
  const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (!STAGE_MARKS_ON || holder[INSTALLED]) return;
  holder[INSTALLED] = true;
  const send = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, command: Command, stream?: unknown) {
    const what = label(this, command);
    const socket = this.stream as Socket | undefined;
    if (socket !== undefined && !watched.has(socket)) {
      watched.add(socket);
      // prependListener, like ioredis's own: it does not change how the socket is read.
      socket.prependListener('data', () => mark(`read:${this.condition?.subscriber ? 'sub' : (lastWritten.get(this) ?? '?')}`));
    }
    lastWritten.set(this, what);
    const resolve = command.resolve;
    command.resolve = (value) => {
      mark(`r:${what}`);
      resolve(value);
    };
    const result = send.call(this, command, stream as never);
    mark(`w:${what}`);
    return result;
  } as typeof Redis.prototype.sendCommand;
  const ipc = process.send?.bind(process);
  if (ipc !== undefined) {
    process.send = ((message: unknown, ...rest: unknown[]) => {
      const result = (ipc as (...args: unknown[]) => boolean)(message, ...rest);
      const type = typeof message === 'object' && message !== null ? String((message as { type?: unknown }).type) : 'message';
      mark(`ipc:${type}`);
      return result;
    }) as typeof process.send;
  }
}

/** One job's marks: milliseconds since its put, in order. */
export interface StageRecord {
  sentAt: number;
  marks: Array<[string, number]>;
}

/** The marks made since `sentAt` (ms of the monotonic clock), and forget all marks. */
export function takeStageMarks(sentAt: number): StageRecord {
  const marks = list();
  const record: StageRecord = { sentAt, marks: [] };
  marks.names.forEach((name, i) => {
    const ms = Number(marks.at[i]!) / 1e6 - sentAt;
    if (ms >= 0) record.marks.push([name, Math.round(ms * 1000) / 1000]);
  });
  marks.names.length = 0;
  marks.at.length = 0;
  return record;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * The table of a run's records: per stage (its first mark in each record),
 * in order of median, how many records have it and its median time since
 * the put in µs, with the step from the stage before.
 */
export function stageTable(who: string, records: readonly StageRecord[]): string {
  const times = new Map<string, number[]>();
  for (const record of records) {
    const seen = new Set<string>();
    for (const [name, ms] of record.marks) {
      if (seen.has(name)) continue;
      seen.add(name);
      let list = times.get(name);
      if (!list) times.set(name, (list = []));
      list.push(ms * 1000);
    }
  }
  const rows = [...times].map(([name, us]) => ({ name, n: us.length, p50: median(us) })).sort((a, b) => a.p50 - b.p50);
  const lines = [`stage marks · ${who} · ${records.length} samples · median µs since the put`];
  let before = 0;
  for (const row of rows) {
    lines.push(`  ${row.name.padEnd(28)} ${String(row.n).padStart(4)}  ${row.p50.toFixed(0).padStart(6)}  (+${(row.p50 - before).toFixed(0)})`);
    before = row.p50;
  }
  return lines.join('\n');
}
