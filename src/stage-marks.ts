/**
 * Stage marks for the benchmark's L figure (put → job start): where the
 * time goes between a job's put and its method's first line.
 *
 * Off unless the process starts with QLESS_TS_STAGE_MARKS=1; then each mark
 * is a name and the monotonic clock (process.hrtime, the clock the
 * benchmark stamps its puts with) kept on a list shared through globalThis,
 * which the benchmark's job reads and empties (bench/lib/stage-marks.ts).
 * Off, a mark is one test of a constant.
 */

/** The list the marks go on, shared by every module instance in the process (dist, bench code under tsx). */
export interface StageMarkList {
  names: string[];
  at: bigint[];
}

/** The globalThis key of the list. */
export const STAGE_MARKS_KEY = Symbol.for('qless-ts.stage-marks');

/** At most this many marks are kept (nothing reads them while no job runs). */
const MAX_MARKS = 10_000;

function sharedList(): StageMarkList | undefined {
  if (process.env['QLESS_TS_STAGE_MARKS'] !== '1') return undefined;
  const holder = globalThis as unknown as Record<symbol, StageMarkList | undefined>;
  holder[STAGE_MARKS_KEY] ??= { names: [], at: [] };
  return holder[STAGE_MARKS_KEY];
}

const list = sharedList();

/** Note that the stage `name` is reached now (when marks are on). */
export function stageMark(name: string): void {
  if (list === undefined) return;
  if (list.names.length >= MAX_MARKS) {
    list.names.splice(0, MAX_MARKS / 2);
    list.at.splice(0, MAX_MARKS / 2);
  }
  list.names.push(name);
  list.at.push(process.hrtime.bigint());
}
